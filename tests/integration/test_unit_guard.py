"""The unit tier's guard (tests/unit/conftest.py) fails a test that does I/O, and only then.

A pytest session of its own (pytester, in this process) runs under a copy of the guard:
tests that connect a socket, start a process or thread, open SQLite or write outside tmp
fail, one that swallows the refusal fails at teardown, and pure ones pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

GUARD = Path(__file__).resolve().parents[1] / "unit" / "conftest.py"


def test_the_guard_fails_io_and_lets_pure_tests_pass(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(GUARD.read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    outside = pytester.path / "outside.txt"
    pytester.makepyfile(
        test_tier=f"""
        import socket, sqlite3, subprocess, threading
        from pathlib import Path

        def test_connects():
            socket.create_connection(("127.0.0.1", 9), timeout=1)

        def test_starts_a_process():
            subprocess.run(["true"], check=False)

        def test_starts_a_thread():
            threading.Thread(target=lambda: None).start()

        def test_opens_sqlite():
            sqlite3.connect(":memory:")

        def test_writes_outside_tmp():
            Path({str(outside)!r}).write_text("x")

        def test_swallows_the_refusal():
            with socket.socket() as sock:
                try:
                    sock.connect(("127.0.0.1", 9))
                except Exception:
                    pass

        def test_is_pure():
            assert sorted([3, 1, 2]) == [1, 2, 3]

        def test_writes_in_tmp(tmp_path):
            (tmp_path / "kept").write_text("x")
            assert (tmp_path / "kept").read_text() == "x"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=5, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_swallows_the_refusal*"])
    assert not outside.exists()
