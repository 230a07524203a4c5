"""No secret in what the monitor prints, logs, stores or serves (issue 12, item 6).

The SMTP password, the Signal numbers and an API token live in the environment, as
docs/contract.md#finding-the-file-and-secrets says. The real daemon runs with ``-v`` (debug
logs) against the imitation with slots open, an SMTP server that refuses the login (so the
error path, which quotes what went wrong, is taken) and the Signal stand-in, with its
metrics endpoint on; then every command a user runs. None of the secrets may appear in
stdout, stderr, the log, the database file, the evidence files, the dossier or the metrics.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from notifyrig import ENV, SECRETS, mail_url, signal_url
from signal_stub import SignalStub
from smtp_server import AUTH_WITHOUT_TLS_IS_FINE_HERE, SMTPServer

from monitor.imitation import ImitationSite
from monitor.store import upgrade

pytestmark = AUTH_WITHOUT_TLS_IS_FINE_HERE

PROJECT = Path(__file__).resolve().parents[2]
API_TOKEN = "tok_9f2c41d7e8b3a5"  # a webhook token, as a JSON-notification service uses
ALL_SECRETS = (*SECRETS, SIGNAL_DIGITS := ENV["SIGNAL_TO"][1:], API_TOKEN)
KEY = "5601"
MONITOR = (sys.executable, "-m", "monitor")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def refusing_smtp() -> Iterator[SMTPServer]:
    """A real SMTP server that wants a login the monitor does not have."""
    with SMTPServer(credentials=("someone-else", "not-our-password")) as server:
        yield server


def _config(tmp_path: Path, site: ImitationSite, smtp: SMTPServer, signal: SignalStub) -> Path:
    hook = f"json://127.0.0.1:{_free_port()}/hook?token=${{API_TOKEN}}"
    text = f"""
version: 1
settings:
  database: sqlite:///{tmp_path / "monitor.db"}
  evidence_dir: {tmp_path / "evidence"}
  user_agent: "prefecture-monitor/test (+https://example.invalid)"
  schedule: {{interval: 2s, jitter: 0s}}
  politeness: {{per_host_concurrency: 2, per_host_min_gap: 0s, backoff_max: 2s}}
  probe_timeout: 15s
  connectivity_check: []
channels:
  - id: team-mail
    url: "{mail_url(smtp.port)}"
  - id: signal-volunteers
    url: "{signal_url(signal.port)}"
  - id: webhook
    url: "{hook}"
prefectures:
  - id: "92"
    name: Préfecture des Hauts-de-Seine
    targets:
      - id: remise-titre
        name: Remise de titre de séjour
        platform: legacy-booking
        engine: http
        url: {site.url(f"/booking/create/{KEY}")}
"""
    path = tmp_path / "prefectures.yaml"
    path.write_text(text, encoding="utf-8")
    upgrade(f"sqlite:///{tmp_path / 'monitor.db'}")
    return path


def _env() -> dict[str, str]:
    return {**os.environ, **ENV, "API_TOKEN": API_TOKEN, "PYTHONUNBUFFERED": "1"}


def _monitor(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MONITOR, "-v", "--config", str(config), *args],
        cwd=PROJECT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _wait(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _leaks(text: str) -> list[str]:
    return [secret for secret in ALL_SECRETS if secret in text]


def test_no_secret_is_printed_logged_stored_or_served(
    tmp_path: Path, refusing_smtp: SMTPServer
) -> None:
    metrics_port = _free_port()
    log = tmp_path / "daemon.log"
    with ImitationSite() as site, SignalStub() as signal:
        site.set_scenario(KEY, "slots", count=2)
        config = _config(tmp_path, site, refusing_smtp, signal)
        with log.open("ab") as stream:
            daemon = subprocess.Popen(
                [
                    *MONITOR,
                    "-v",
                    "--config",
                    str(config),
                    "run",
                    "--metrics-port",
                    f"{metrics_port}",
                ],
                cwd=PROJECT,
                env=_env(),
                stdout=stream,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait(lambda: refusing_smtp.logins, 30, "the daemon's SMTP login attempt")
            _wait(lambda: signal.received, 30, "the Signal message")
            metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
            metrics = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
        finally:
            daemon.terminate()
            assert daemon.wait(timeout=40) == 0
        commands = [
            ("config", "validate"),
            ("status",),
            ("history", "--format", "json"),
            ("history", "--format", "csv"),
            ("stats",),
            ("verify",),
            ("notify", "test"),
            ("evidence", "92/remise-titre", "--out", str(tmp_path / "dossier")),
        ]
        outputs = {args: _monitor(config, *args) for args in commands}

    assert refusing_smtp.logins and not any(ok for _, ok in refusing_smtp.logins)
    daemon_log = log.read_text(encoding="utf-8", errors="replace")
    assert "slots_opened" in daemon_log and "team-mail" in daemon_log
    assert _leaks(daemon_log) == [], "in the daemon's log"
    assert "prefecture_monitor" in metrics or "monitor_" in metrics
    assert _leaks(metrics) == [], "in the metrics"
    for args, done in outputs.items():
        assert _leaks(done.stdout + done.stderr) == [], f"in `monitor {' '.join(args)}`"
        assert "Traceback" not in done.stderr, args
    assert outputs[("notify", "test")].returncode == 1  # the refused login, named, masked
    assert "team-mail" in outputs[("notify", "test")].stderr
    stored = [tmp_path / "monitor.db", *(tmp_path / "evidence").rglob("*")]
    stored += list((tmp_path / "dossier").rglob("*"))
    for path in stored:
        if path.is_file():
            data = path.read_bytes()
            assert [s for s in ALL_SECRETS if s.encode() in data] == [], path
    assert SIGNAL_DIGITS  # the number without its "+", as logs might write it
