"""End to end: the imitation site, the real probe and recorder, the outbox, the dispatcher,
Apprise, a real SMTP server (aiosmtpd) and a stand-in for signal-cli-rest-api.

Each scenario flips the imitation's answers and checks that exactly the expected messages
arrive, once each, on each channel. The last one runs the real daemon (``monitor run``) as
a subprocess and kills it with SIGKILL in the middle of an SMTP transaction.
"""

from __future__ import annotations

import asyncio
import os
import signal as signals
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from notifyrig import ENV, SECRETS, mail_url, signal_url
from signal_stub import SignalRequest, SignalStub
from smtp_server import AUTH_WITHOUT_TLS_IS_FINE_HERE, ReceivedMail, SMTPServer
from sqlalchemy import select, update

from monitor.alerts.dispatcher import Dispatcher
from monitor.alerts.moments import format_moment
from monitor.alerts.retry import RetryPolicy
from monitor.attempt.probe import observe
from monitor.attempt.record import record
from monitor.config import Config, Target, load_config
from monitor.imitation import ImitationSite
from monitor.imitation.frdates import parse_first_date
from monitor.probes.engines import Engines
from monitor.store import Repository, create_engine_for, upgrade
from monitor.store.rows import deliveries, delivery_attempts, events

pytestmark = AUTH_WITHOUT_TLS_IS_FINE_HERE

HTTP_TARGET, BROWSER_TARGET = "92/remise-titre", "92/titre-navigateur"
HTTP_KEY, BROWSER_KEY = "5501", "5502"
PROJECT = Path(__file__).resolve().parents[2]


def config_text(tmp_path: Path, site: ImitationSite, smtp: SMTPServer, signal: SignalStub) -> str:
    return f"""
version: 1
settings:
  database: sqlite:///{tmp_path / "monitor.db"}
  evidence_dir: {tmp_path / "evidence"}
  user_agent: "prefecture-monitor/test (+https://example.invalid)"
  schedule: {{interval: 2s, jitter: 0s}}
  politeness: {{per_host_concurrency: 2, per_host_min_gap: 0s, backoff_max: 2s}}
  probe_timeout: 15s
  connectivity_check: []
  alerts: {{anomaly_after: 3, resolved_after: 2, remind_every: 0}}
channels:
  - id: team-mail
    url: "{mail_url(smtp.port)}"
  - id: signal-volunteers
    url: "{signal_url(signal.port)}"
    events: [slots_opened, anomaly_started]
    language: en
prefectures:
  - id: "92"
    name: Préfecture des Hauts-de-Seine
    targets:
      - id: remise-titre
        name: Remise de titre de séjour
        platform: legacy-booking
        engine: http
        url: {site.url(f"/booking/create/{HTTP_KEY}")}
      - id: titre-navigateur
        name: Remise de titre (navigateur)
        platform: legacy-booking
        engine: browser
        enabled: false
        url: {site.url(f"/booking/create/{BROWSER_KEY}")}
"""


@pytest.fixture
def site() -> Iterator[ImitationSite]:
    with ImitationSite() as running:
        yield running


@pytest.fixture
def config_path(tmp_path: Path, site: ImitationSite, smtp: SMTPServer, signal: SignalStub) -> Path:
    path = tmp_path / "prefectures.yaml"
    path.write_text(config_text(tmp_path, site, smtp, signal), encoding="utf-8")
    upgrade(f"sqlite:///{tmp_path / 'monitor.db'}")
    return path


@dataclass
class Pipeline:
    """The daemon's path, driven step by step: probe, record, dispatch."""

    config: Config
    repo: Repository
    engines: Engines
    dispatcher: Dispatcher

    def target(self, target_id: str) -> Target:
        return next(t for t in self.config.targets(include_disabled=True) if t.id == target_id)

    async def probe(self, target_id: str = HTTP_TARGET) -> str:
        """One probe, recorded, then one dispatch round; returns the outcome's reason."""
        target = self.target(target_id)
        engine = await self.engines.get(target.engine)
        observation = await observe(target, engine, timeout=15)
        outcome = await asyncio.to_thread(
            record,
            self.repo,
            target,
            observation,
            settings=self.config.settings,
            channels=self.config.channels,
            now=datetime.now(UTC),
        )
        await self.dispatcher.run_once()
        return str(outcome.reason)

    def event_kinds(self) -> list[str]:
        with self.repo.engine.connect() as connection:
            return list(connection.execute(select(events.c.kind).order_by(events.c.id)).scalars())


@pytest.fixture
async def pipeline(config_path: Path) -> AsyncIterator[Pipeline]:
    config = load_config(config_path, env=ENV)
    engine = create_engine_for(config.settings.database)
    repo = Repository(engine)
    engines = Engines(config.settings)
    # Back-off shortened from 30 s so that the outage test does not wait for minutes.
    retry = RetryPolicy(first_delay=timedelta(seconds=0.5), max_delay=timedelta(seconds=1))
    dispatcher = Dispatcher(repo, config, node="e2e", retry=retry, send_timeout=10)
    try:
        yield Pipeline(config, repo, engines, dispatcher)
    finally:
        await dispatcher.aclose()
        await engines.aclose()
        engine.dispose()


def subjects(mails: list[ReceivedMail]) -> list[str]:
    return [mail.subject.split(" — ")[0] for mail in mails]


def first_lines(requests: list[SignalRequest]) -> list[str]:
    return [request.message.split(" — ")[0] for request in requests]


def settle(seconds: float = 0.5) -> None:
    """Give anything sent twice the time to arrive, before counting."""
    time.sleep(seconds)


# -- scenario flips ---------------------------------------------------------------------------


async def test_slots_then_502s_then_recovery_send_each_expected_message_once(
    pipeline: Pipeline, site: ImitationSite, smtp: SMTPServer, signal: SignalStub
) -> None:
    steps = [
        ("no_slot", "no_slot"),  # first probe, nothing found: no alert
        ("slots", "slots"),  # slots_opened
        ("no_slot", "no_slot"),  # held: close_after=2
        ("no_slot", "no_slot"),  # slots_closed
        ("http_502", "overloaded"),
        ("http_502", "overloaded"),
        ("http_502", "overloaded"),  # anomaly_started (anomaly_after=3)
        ("no_slot", "no_slot"),
        ("no_slot", "no_slot"),  # anomaly_resolved (resolved_after=2)
    ]
    for scenario, reason in steps:
        site.set_scenario(HTTP_KEY, scenario)
        assert await pipeline.probe() == reason

    assert await pipeline.dispatcher.drain(10)
    expected = ["slots_opened", "slots_closed", "anomaly_started", "anomaly_resolved"]
    assert pipeline.event_kinds() == expected
    settle()
    assert subjects(smtp.messages) == [
        "Créneaux disponibles",
        "Créneaux disparus",
        "Site en anomalie",
        "Site rétabli",
    ]
    assert all(mail.attachments == [] for mail in smtp.messages)  # HTTP probes: no screenshot
    opened = smtp.messages[0].text
    assert site.url(f"/booking/create/{HTTP_KEY}") in opened  # the booking URL in full
    # Read from the calendar's AJAX weeks: 3 slots on each of the 2 desks, from the next
    # weekday at 09:00 (the imitation's default first date).
    first = format_moment(parse_first_date(None), language="fr", tz=ZoneInfo("Europe/Paris"))
    assert "Créneaux proposés\u00a0: 6" in opened or "Créneaux proposés : 6" in opened, opened
    assert first in opened, opened
    assert "Préfecture des Hauts-de-Seine" in opened and "Remise de titre de séjour" in opened
    assert "HTTP 502" in smtp.messages[2].text
    # Signal follows slots_opened and anomaly_started only, in English, short.
    assert first_lines(signal.received) == ["Slots available", "Site anomaly"]
    assert all(len(r.message.splitlines()) == 3 for r in signal.received)  # title + 2 lines
    assert pipeline.dispatcher.sent == 6 and pipeline.dispatcher.failed == 0


@pytest.mark.browser
async def test_a_browser_probe_emails_its_screenshot(
    pipeline: Pipeline, site: ImitationSite, smtp: SMTPServer, chromium_path: str
) -> None:
    site.set_scenario(BROWSER_KEY, "slots")
    assert await pipeline.probe(BROWSER_TARGET) == "slots"
    assert await pipeline.dispatcher.drain(10)
    [mail] = smtp.wait_for(1)
    assert subjects([mail]) == ["Créneaux disponibles"]
    [screenshot] = mail.attachments
    assert screenshot.content_type == "image/png"
    assert screenshot.content.startswith(b"\x89PNG")
    assert screenshot.filename is not None and screenshot.filename.startswith("92-titre-")


async def test_messages_wait_out_an_smtp_outage_and_arrive_once(
    pipeline: Pipeline, site: ImitationSite, smtp: SMTPServer, signal: SignalStub
) -> None:
    smtp.stop()
    for scenario in ("no_slot", "slots", "no_slot", "no_slot", "slots"):
        site.set_scenario(HTTP_KEY, scenario)
        await pipeline.probe()
    # Signal is not held back by the mail server's outage.
    assert first_lines(signal.wait_for(2)) == ["Slots available", "Slots available"]
    assert smtp.messages == []
    assert pipeline.dispatcher.retried >= 3

    smtp.start()  # same port, as a server coming back
    deadline = time.monotonic() + 20
    while pipeline.repo.outbox_depth() and time.monotonic() < deadline:
        await pipeline.dispatcher.run_once()
        await asyncio.sleep(0.2)
    assert pipeline.repo.outbox_depth() == 0
    settle()
    assert sorted(subjects(smtp.messages)) == sorted(
        ["Créneaux disponibles", "Créneaux disparus", "Créneaux disponibles"]
    )
    assert len(signal.received) == 2
    with pipeline.repo.engine.connect() as connection:
        results = connection.execute(
            select(delivery_attempts.c.result, delivery_attempts.c.error)
        ).all()
    assert sum(1 for result, _ in results if result == "sent") == 5
    errors = [error for result, error in results if result == "transient"]
    assert errors and all("Connection refused" in error for error in errors)


# -- the daemon, killed -----------------------------------------------------------------------


def start_daemon(config_path: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **ENV, "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as stream:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config_path), "run"],
            cwd=PROJECT,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )


def delivery_states(database: str) -> dict[str, str]:
    engine = create_engine_for(database)
    try:
        with engine.connect() as connection:
            found = connection.execute(select(deliveries.c.channel_id, deliveries.c.state)).all()
    finally:
        engine.dispose()
    return dict(found)  # type: ignore[arg-type]


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_daemon_killed_mid_send_loses_and_repeats_nothing_after_a_restart(
    tmp_path: Path, config_path: Path, site: ImitationSite, smtp: SMTPServer, signal: SignalStub
) -> None:
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    log = tmp_path / "daemon.log"
    site.set_scenario(HTTP_KEY, "slots")
    with smtp.holding():  # the mail server takes the connection, then sits on MAIL FROM
        daemon = start_daemon(config_path, log)
        try:
            smtp.wait_for_mail_command(1, timeout=30)
            # Signal, in its own lane, is done already: accepted and recorded. (Killing the
            # daemon between the two is the one window that would send it twice.)
            wait_until(
                lambda: delivery_states(database).get("signal-volunteers") == "sent",
                10,
                "the Signal message recorded as sent",
            )
            daemon.send_signal(signals.SIGKILL)  # mid-transaction: no DATA was ever sent
            daemon.wait(timeout=10)
        finally:
            if daemon.poll() is None:
                daemon.kill()
    assert smtp.messages == []
    assert delivery_states(database) == {"team-mail": "sending", "signal-volunteers": "sent"}

    # The dead node's claim is reclaimable once its lease (5 min) has passed: age it rather
    # than wait for it.
    engine = create_engine_for(database)
    with engine.begin() as connection:
        connection.execute(
            update(deliveries)
            .where(deliveries.c.state == "sending")
            .values(claimed_at=datetime.now(UTC) - timedelta(minutes=10))
        )
    engine.dispose()

    daemon = start_daemon(config_path, log)
    try:
        [mail] = smtp.wait_for(1, timeout=30)
        wait_until(
            lambda: delivery_states(database)["team-mail"] == "sent", 10, "the send recorded"
        )
        time.sleep(3)  # more probes and dispatch rounds: nothing may be sent again
    finally:
        daemon.send_signal(signals.SIGTERM)
        assert daemon.wait(timeout=30) == 0
    assert subjects([mail]) == ["Créneaux disponibles"]
    assert len(smtp.messages) == 1
    assert len(signal.received) == 1
    output = log.read_text(encoding="utf-8", errors="replace")
    assert "channel team-mail: slots_opened of 92/remise-titre" in output
    for secret in SECRETS:
        assert secret not in output
