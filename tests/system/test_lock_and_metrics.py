"""Two of issue 25's smaller items, on the real file system and a real daemon.

- The SQLite daemon lock (``<database>.lock``) is never opened through a symbolic link: a
  link planted at that name is refused with one line saying so, and the file it points to
  is left as it was (before, the daemon truncated and wrote it).
- ``--metrics-port N`` listens on the loopback interface unless ``--metrics-host`` says
  otherwise (before: every interface).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from daemonrig import daemon_config, legacy_path

from monitor.daemon.lock import hold_daemon_lock, lock_path
from monitor.errors import DatabaseError
from monitor.imitation import ImitationSite

pytestmark = pytest.mark.timeout(180)


def test_the_daemon_lock_refuses_a_symbolic_link_and_leaves_its_target_alone(
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    victim = tmp_path / "precious.txt"
    victim.write_text("the user's own file\n", encoding="utf-8")
    link = lock_path(database)
    assert link is not None
    link.symlink_to(victim)

    with pytest.raises(DatabaseError) as raised:
        hold_daemon_lock(database)

    message = str(raised.value)
    assert f"lock file {link} is a symbolic link" in message
    assert "remove the link" in message
    assert victim.read_text(encoding="utf-8") == "the user's own file\n"


def test_the_daemon_lock_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    path = lock_path(database)
    assert path is not None
    os.mkfifo(path)
    with pytest.raises(DatabaseError, match="is not a regular file"):
        hold_daemon_lock(database)


def test_the_daemon_lock_still_works_on_a_plain_file(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    first = hold_daemon_lock(database)
    assert first is not None
    try:
        with pytest.raises(DatabaseError, match="another daemon already runs"):
            hold_daemon_lock(database)
        path = lock_path(database)
        assert path is not None
        assert path.read_text(encoding="utf-8").startswith(f"pid {os.getpid()}, started ")
    finally:
        first.close()
    again = hold_daemon_lock(database)
    assert again is not None
    again.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as /proc writes them) of the TCP sockets listening on port."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                address, hex_port = fields[1].rsplit(":", 1)
                if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                    found.add(address)
    return found


LOOPBACK_V4 = "0100007F"  # 127.0.0.1, little-endian as in /proc/net/tcp


@pytest.mark.parametrize(
    ("extra", "expected"),
    [((), {LOOPBACK_V4}), (("--metrics-host", "0.0.0.0"), {"00000000"})],
    ids=["default-loopback", "every-interface-when-asked"],
)
def test_the_metrics_endpoint_listens_on_loopback_unless_asked(
    tmp_path: Path, extra: tuple[str, ...], expected: set[str]
) -> None:
    port = _free_port()
    with ImitationSite() as site:
        target = {"id": "a", "platform": "legacy-booking", "url": site.url(legacy_path("8311"))}
        config = daemon_config(
            tmp_path / "prefectures.yaml",
            targets=[target],
            database=f"sqlite:///{tmp_path / 'monitor.db'}",
            interval="30s",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
        command = [sys.executable, "-m", "monitor", "--config", str(config), "run", "--migrate"]
        command += ["--metrics-port", str(port), *extra]
        with (tmp_path / "daemon.log").open("w") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, (tmp_path / "daemon.log").read_text()
                try:
                    httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).raise_for_status()
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "no metrics endpoint in time"
                    time.sleep(0.25)
            assert _listening_addresses(port) == expected
            log_text = lambda: (tmp_path / "daemon.log").read_text(encoding="utf-8")  # noqa: E731
            while "daemon started" not in log_text():  # its SIGTERM handler is in place
                assert time.monotonic() < deadline, log_text()
                time.sleep(0.25)
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=40) == 0


def test_a_metrics_address_that_cannot_be_used_is_one_line(tmp_path: Path) -> None:
    from monitor.daemon import metrics
    from monitor.errors import UsageError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        saved = metrics._served_on
        metrics._served_on = None
        try:
            with pytest.raises(UsageError, match=f"--metrics-port {port} .*cannot listen there"):
                metrics.serve(port)
        finally:
            metrics._served_on = saved
