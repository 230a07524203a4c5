"""The daemon SIGKILLed while probes are in flight, again and again, then restarted (issue 12,
item 2).

A killed probe writes nothing (its outcome is one transaction), and its slot stays claimed,
so a restarted daemon neither probes that slot again nor records it twice. What must hold
after three kills and a clean run: one outcome at most per claimed slot, every stored
outcome whole and chained (``monitor verify`` passes), the slots opening announced by
exactly one email.
"""

from __future__ import annotations

import os
import signal as signals
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from daemonrig import rdvsp_path
from notifyrig import ENV, mail_url
from smtp_server import AUTH_WITHOUT_TLS_IS_FINE_HERE, SMTPServer
from sqlalchemy import func, select

from monitor.imitation import ImitationSite
from monitor.store import create_engine_for, upgrade
from monitor.store.rows import events, outcomes, probe_claims

pytestmark = AUTH_WITHOUT_TLS_IS_FINE_HERE

PROJECT = Path(__file__).resolve().parents[2]
KEY = "7701"
TARGET = "92/remise-titre"
#: Each answer takes this long, so that a kill finds probes in flight.
DELAY = 1.5


def config_text(tmp_path: Path, site: ImitationSite, smtp: SMTPServer) -> str:
    return f"""
version: 1
settings:
  database: sqlite:///{tmp_path / "monitor.db"}
  evidence_dir: {tmp_path / "evidence"}
  user_agent: "prefecture-monitor/test (+https://example.invalid)"
  schedule: {{interval: 1s, jitter: 0s}}
  politeness: {{per_host_concurrency: 2, per_host_min_gap: 0s, backoff_max: 2s}}
  probe_timeout: 15s
  connectivity_check: []
  alerts: {{anomaly_after: 3, resolved_after: 2, remind_every: 0}}
channels:
  - id: team-mail
    url: "{mail_url(smtp.port)}"
    events: [slots_opened]
prefectures:
  - id: "92"
    name: Préfecture des Hauts-de-Seine
    targets:
      - id: remise-titre
        name: Remise de titre de séjour
        platform: rdv-service-public
        engine: http
        url: {site.url(rdvsp_path(KEY))}
"""


@pytest.fixture
def site() -> Iterator[ImitationSite]:
    with ImitationSite() as running:
        running.set_scenario(KEY, "slow", delay=DELAY, base="slots")
        yield running


def start_daemon(config_path: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **ENV, "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as stream:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "-v", "--config", str(config_path), "run"],
            cwd=PROJECT,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )


def count(database: str, table: object) -> int:
    engine = create_engine_for(database)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def probe_in_flight(site: ImitationSite) -> Callable[[], bool]:
    """True once a request arrives after this call: with DELAY, a probe is then under way."""
    seen = len(site.requests)

    def check() -> bool:
        return len(site.requests) > seen

    return check


def test_a_daemon_killed_during_probes_records_each_slot_once_and_alerts_once(
    tmp_path: Path, site: ImitationSite, smtp: SMTPServer
) -> None:
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    config_path = tmp_path / "prefectures.yaml"
    config_path.write_text(config_text(tmp_path, site, smtp), encoding="utf-8")
    upgrade(database)
    log = tmp_path / "daemon.log"

    for _ in range(3):
        daemon = start_daemon(config_path, log)
        try:
            wait_until(probe_in_flight(site), 60, "a probe under way")
            time.sleep(DELAY / 3)  # the site is still answering it
            daemon.send_signal(signals.SIGKILL)
            daemon.wait(timeout=10)
        finally:
            if daemon.poll() is None:
                daemon.kill()

    daemon = start_daemon(config_path, log)
    try:
        wait_until(lambda: count(database, outcomes) >= 3, 60, "outcomes after the restarts")
        smtp.wait_for(1, timeout=30)
        time.sleep(2)  # more probes and dispatch rounds: nothing may be sent again
    finally:
        daemon.send_signal(signals.SIGTERM)
        assert daemon.wait(timeout=30) == 0, log.read_text()

    engine = create_engine_for(database)
    with engine.connect() as connection:
        slots = connection.execute(select(outcomes.c.target, outcomes.c.started_at)).all()
        claims = connection.execute(select(probe_claims.c.target, probe_claims.c.slot)).all()
        kinds = connection.execute(select(events.c.kind)).scalars().all()
    engine.dispose()
    # Killed probes left claims without outcomes; no claim has two outcomes.
    assert len(claims) > len(slots) >= 3
    assert len(set(claims)) == len(claims)
    assert Counter(kinds)["slots_opened"] == 1
    assert len(smtp.messages) == 1
    verified = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config_path), "verify", TARGET],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env={**os.environ, **ENV},
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
