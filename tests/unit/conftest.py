"""The unit tier's guard: a test here that does I/O fails, saying what it did.

A unit test is pure: it opens no socket, starts no process or thread, opens no SQLite
database and writes no file outside pytest's temporary directories. The guard replaces
those entry points for the test's duration; each records the attempt and raises, and a
test that passed all the same (the code under test swallowed the exception) fails at
teardown. Hypothesis's own example database (its storage directory) is the framework's,
not the test's: allowed.
Binding a socket is allowed (urllib3 binds one to ``::1`` on import to learn whether the
machine has IPv6); listening on it or connecting it is not.
"""

from __future__ import annotations

import builtins
import io
import os
import socket
import sqlite3
import subprocess
import threading
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis.configuration import storage_directory

_CALL_FAILED = pytest.StashKey[bool]()
_WRITE_MODES = frozenset("wax+")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class UnitTierIO(RuntimeError):
    """A unit test did I/O; it belongs in tests/integration or tests/system."""


def _within(path: object, roots: tuple[Path, ...]) -> bool:
    if isinstance(path, int):  # an already open descriptor
        return True
    resolved = Path(os.fsdecode(path)).resolve()  # type: ignore[arg-type]
    return any(resolved.is_relative_to(root) for root in roots)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether the test itself failed: the guard then adds no second report."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture(autouse=True)
def _no_io(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    done: list[str] = []
    writable = (
        tmp_path_factory.getbasetemp().resolve(),
        storage_directory(intent_to_write=False).path.resolve(),
    )

    def refuse(what: str) -> UnitTierIO:
        done.append(what)
        return UnitTierIO(
            f"a unit test must not {what}: move it to tests/integration or tests/system"
        )

    def refused(what: str) -> Callable[..., Any]:
        def call(*_args: object, **_kwargs: object) -> Any:
            raise refuse(what)

        return call

    real_open = builtins.open
    real_os_open = os.open

    def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if _WRITE_MODES & set(mode) and not _within(file, writable):
            raise refuse(f"write {file}")
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & _WRITE_FLAGS and not _within(path, writable):
            raise refuse(f"write {path}")
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    monkeypatch.setattr(socket.socket, "connect", refused("connect a socket"))
    monkeypatch.setattr(socket.socket, "connect_ex", refused("connect a socket"))
    monkeypatch.setattr(socket.socket, "listen", refused("listen on a socket"))
    monkeypatch.setattr(socket, "create_connection", refused("connect a socket"))
    monkeypatch.setattr(subprocess.Popen, "__init__", refused("start a process"))
    monkeypatch.setattr(os, "fork", refused("fork"))
    monkeypatch.setattr(threading.Thread, "start", refused("start a thread"))
    monkeypatch.setattr(sqlite3, "connect", refused("open a SQLite database"))
    monkeypatch.setattr(sqlite3.dbapi2, "connect", refused("open a SQLite database"))
    yield
    if done and not request.node.stash.get(_CALL_FAILED, False):
        pytest.fail(f"a unit test did I/O: {'; '.join(done)}", pytrace=False)
