"""The daemon as a container runs it (issue 31, items 2 and 3): a health check that tells
the truth, and restarts under another host name.

- A daemon whose browser cannot launch (``settings.browser.executable_path`` a script that
  exits 1) beats on, but ``status --heartbeat`` exits 1 and says why; a daemon whose probes
  reach their site exits 0.
- A daemon stopped cleanly leaves no heartbeat row: the next one starts at once under
  another name (each container has its own host name), and ``status --heartbeat`` says no
  daemon is running. A daemon killed with SIGKILL blocks the next start while its heartbeat
  is fresh, and the refusal says for how long and what to do.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from daemonrig import daemon_config, legacy_path

from monitor.imitation import ImitationSite
from monitor.reports.probe_health import UNHEALTHY_AFTER
from monitor.store import Repository, create_engine_for

pytestmark = pytest.mark.timeout(300)
KEY = "8401"
#: A local time with its offset, as every time in the heartbeat lines is now written.
LOCAL_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d"


def environment(node: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    return env if node is None else {**env, "MONITOR_NODE": node}


def monitor_args(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "--config", str(config), *args]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not there in time: {what}"
        time.sleep(0.25)


def start(config: Path, log: Path, node: str) -> subprocess.Popen[bytes]:
    with log.open("a") as stream:
        return subprocess.Popen(
            monitor_args(config, "run", "--migrate"),
            stdout=stream,
            stderr=subprocess.STDOUT,
            env=environment(node),
        )


@contextmanager
def daemon(config: Path, log: Path, node: str) -> Iterator[subprocess.Popen[bytes]]:
    """``monitor run --migrate`` as ``node``, stopped by SIGTERM (exit 0 expected)."""
    process = start(config, log, node)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=40)
        assert code == 0, log.read_text()


def status(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        monitor_args(config, "status", *args),
        capture_output=True,
        text=True,
        timeout=60,
        env=environment(),
        check=False,
    )


def beating(database: str) -> set[str]:
    """The nodes with a heartbeat row (none while the tables are being created)."""
    try:
        engine = create_engine_for(database)
        try:
            return {beat.node for beat in Repository(engine).nodes()}
        finally:
            engine.dispose()
    except Exception:
        return set()


def outcome_count(database: str, target: str | None = None) -> int:
    try:
        engine = create_engine_for(database)
        try:
            return len(
                list(Repository(engine).history(targets=None if target is None else [target]))
            )
        finally:
            engine.dispose()
    except Exception:
        return 0


def site_config(tmp_path: Path, site: ImitationSite, interval: str) -> tuple[Path, str]:
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    target = {
        "id": "a",
        "platform": "legacy-booking",
        "url": site.url(legacy_path(KEY)),
        "engine": "http",
    }
    config = daemon_config(
        tmp_path / "prefectures.yaml", targets=[target], database=database, interval=interval
    )
    return config, database


@pytest.fixture
def site() -> Iterator[ImitationSite]:
    with ImitationSite() as running:
        running.set_scenario(KEY, "no_slot")
        yield running


def test_a_daemon_whose_browser_cannot_launch_is_unhealthy_and_says_why(
    tmp_path: Path, site: ImitationSite
) -> None:
    broken = tmp_path / "chromium"
    broken.write_text(
        "#!/bin/sh\necho 'libatomic.so.1: cannot open shared object file' >&2\nexit 1\n"
    )
    broken.chmod(0o755)
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    # One target on each engine: the site answers every HTTP probe, while the browser
    # never starts (issue 31: 4 of the 25 shipped targets use it).
    targets = [
        {"id": "a", "platform": "legacy-booking", "url": site.url(legacy_path(KEY))},
        {"id": "b", "platform": "legacy-booking", "url": site.url(legacy_path(KEY))},
    ]
    targets[0]["engine"], targets[1]["engine"] = "http", "browser"
    config = daemon_config(
        tmp_path / "prefectures.yaml",
        targets=targets,
        database=database,
        interval="1s",
        concurrency=2,
    )
    text = config.read_text().replace(
        "settings:\n", f"settings:\n  browser: {{executable_path: {broken}}}\n", 1
    )
    config.write_text(text)
    with daemon(config, tmp_path / "daemon.log", "box-1"):
        wait_for(lambda: outcome_count(database, "t/b") >= UNHEALTHY_AFTER, 120, "five probes")
        check = status(config, "--heartbeat")
    assert check.returncode == 1, check.stdout + check.stderr
    first = check.stdout.splitlines()[0]
    assert first.startswith(
        f"heartbeat ok but unhealthy: the last {UNHEALTHY_AFTER} browser probes were "
        "monitor_error/browser_crash (the browser cannot launch, or dies on every page); "
        "last beat "
    ), first
    assert re.search(f" at {LOCAL_TIME} \\(stale after 3s\\)$", first), first
    assert re.search(f"up since {LOCAL_TIME}\\), healthy$", check.stdout.splitlines()[1])


def test_a_daemon_whose_probes_reach_the_site_is_healthy(
    tmp_path: Path, site: ImitationSite
) -> None:
    config, database = site_config(tmp_path, site, "1s")
    with daemon(config, tmp_path / "daemon.log", "box-1"):
        wait_for(lambda: outcome_count(database) >= UNHEALTHY_AFTER, 120, "five probes")
        check = status(config, "--heartbeat")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith("heartbeat ok: last beat "), check.stdout


def test_a_cleanly_stopped_daemon_lets_the_next_start_at_once_under_another_name(
    tmp_path: Path, site: ImitationSite
) -> None:
    config, database = site_config(tmp_path, site, "1m")
    with daemon(config, tmp_path / "first.log", "container-1"):
        wait_for(lambda: beating(database) == {"container-1"}, 60, "the first heartbeat")
    assert beating(database) == set()
    after = status(config, "--heartbeat")
    assert after.returncode == 1
    assert after.stdout == "heartbeat missing: no daemon is running on this database\n"

    log = tmp_path / "second.log"
    with daemon(config, log, "container-2") as second:
        wait_for(lambda: beating(database) == {"container-2"}, 60, "the second heartbeat")
        assert second.poll() is None, log.read_text()
        running = status(config, "--heartbeat")
    assert running.returncode == 0, running.stdout
    assert "node container-2: ok" in running.stdout


def test_a_killed_daemon_blocks_the_next_start_while_its_heartbeat_is_fresh(
    tmp_path: Path, site: ImitationSite
) -> None:
    config, database = site_config(tmp_path, site, "1m")
    first = start(config, tmp_path / "first.log", "container-1")
    try:
        wait_for(lambda: beating(database) == {"container-1"}, 60, "the first heartbeat")
    finally:
        first.kill()
        first.wait(timeout=10)
    second = subprocess.run(
        monitor_args(config, "run"),
        capture_output=True,
        text=True,
        timeout=60,
        env=environment("container-2"),
        check=False,
    )
    assert second.returncode == 2, second.stderr
    assert "Traceback" not in second.stderr
    refusal = second.stderr
    assert (
        f"another daemon is running on this database (node container-1, pid {first.pid}, "
        in refusal
    )
    assert re.search(
        r"last heartbeat (\d+s|1m\d*s?) ago; a daemon that died is considered gone after 3m "
        r"\(3× the smallest interval\): wait (2m\d+s|2m|1m\d+s|\d+s) or, if you are sure it "
        r"is gone, start this one with MONITOR_NODE=container-1\)",
        refusal,
    ), refusal

    # Sure it is gone: under its name, the next daemon starts.
    with daemon(config, tmp_path / "third.log", "container-1") as third:
        wait_for(lambda: beat_pid(database) == third.pid, 60, "its heartbeat")
        assert third.poll() is None


def beat_pid(database: str) -> int | None:
    """The pid in the one heartbeat row, None if there is none."""
    engine = create_engine_for(database)
    try:
        nodes = Repository(engine).nodes()
    finally:
        engine.dispose()
    return nodes[0].pid if nodes else None
