"""The daemon's own faults (issue 12, item 2): nothing lost, nothing doubled.

- A second ``monitor run`` on the SQLite file a running daemon uses refuses to start: one
  line naming the database and the first daemon's pid, exit 1; once the first has stopped,
  a daemon starts again (the lock dies with its process).
- An evidence directory that cannot be written any more (here: replaced by a plain file,
  which stops root too) does not lose the attempts: each is still recorded with its status
  and reason, without files, and its detail says the evidence was not kept.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from daemonrig import daemon_config, legacy_path

from monitor.details import render
from monitor.domain import Outcome, Reason, Status
from monitor.imitation import ImitationSite
from monitor.store import Repository, create_engine_for

pytestmark = pytest.mark.timeout(300)
KEY = "8301"


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}


def monitor_args(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "--config", str(config), *args]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not there in time: {what}"
        time.sleep(0.25)


@contextmanager
def daemon(config: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``monitor run --migrate`` in a subprocess, stopped by SIGTERM to its own pid."""
    with log.open("w") as stream:
        process = subprocess.Popen(
            monitor_args(config, "run", "--migrate"),
            stdout=stream,
            stderr=subprocess.STDOUT,
            env=environment(),
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=40)
        assert code == 0, log.read_text()


def outcomes(database: str) -> list[Outcome]:
    try:
        return list(Repository(create_engine_for(database)).history(newest_first=False))
    except Exception:  # the tables are still being created
        return []


def test_a_second_daemon_on_the_same_sqlite_file_refuses_to_start(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    with ImitationSite() as site:
        site.set_scenario(KEY, "no_slot")
        target = {"id": "a", "platform": "legacy-booking", "url": site.url(legacy_path(KEY))}
        config = daemon_config(
            tmp_path / "prefectures.yaml", targets=[target], database=database, interval="5s"
        )
        with daemon(config, tmp_path / "first.log") as first:
            wait_for(lambda: len(outcomes(database)) >= 1, 60, "the first daemon's probe")
            second = subprocess.run(
                monitor_args(config, "run"),
                capture_output=True,
                text=True,
                timeout=60,
                env=environment(),
                check=False,
            )
            assert first.poll() is None  # the first one runs on, undisturbed
        assert second.returncode == 1, second.stderr
        # The config's warning about a short test interval aside, one line.
        lines = [line for line in second.stderr.splitlines() if " WARNING " not in line]
        assert len(lines) == 1, second.stderr
        assert lines[0].startswith(f"monitor: error: another daemon already runs on {database} ")
        assert f"(pid {first.pid}, started " in lines[0]
        assert "Traceback" not in second.stderr

        # The lock went with the first process: a daemon starts again.
        again = subprocess.run(
            monitor_args(config, "run", "--once"),
            capture_output=True,
            text=True,
            timeout=120,
            env=environment(),
            check=False,
        )
        assert again.returncode == 0, again.stderr


def test_attempts_are_recorded_when_the_evidence_directory_cannot_be_written(
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    evidence = tmp_path / "evidence"  # where daemon_config keeps it
    with ImitationSite() as site:
        site.set_scenario(KEY, "no_slot")
        target = {
            "id": "a",
            "platform": "legacy-booking",
            "url": site.url(legacy_path(KEY)),
            "engine": "http",
        }
        config = daemon_config(
            tmp_path / "prefectures.yaml", targets=[target], database=database, interval="1s"
        )
        log = tmp_path / "daemon.log"
        with daemon(config, log):
            wait_for(lambda: any(o.evidence for o in outcomes(database)), 60, "kept evidence")
            shutil.rmtree(evidence)
            evidence.write_text("the disk went read-only\n")  # no directory any more
            wait_for(lambda: any(not o.evidence for o in outcomes(database)), 60, "an unkept probe")
        rows = outcomes(database)

    assert all((o.status, o.reason) == (Status.UNAVAILABLE, Reason.NO_SLOT) for o in rows)
    kept = [o for o in rows if o.evidence]
    unkept = [o for o in rows if not o.evidence]
    assert kept and unkept
    for outcome in unkept:
        assert outcome.structured is not None
        assert outcome.structured.code == "evidence_not_kept"
        assert outcome.detail.endswith("; evidence not kept (Not a directory)")
        assert "preuves non conservées" in render(outcome.structured, "fr")
        assert outcome.sha256 is None
    assert "evidence not kept in" in log.read_text()
