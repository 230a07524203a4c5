"""The dispatcher on a real SQLite database, sending to a real SMTP server and a Signal stub.

The outbox rows are written by the store exactly as the recorder writes them; the tests
read the ``deliveries`` and ``delivery_attempts`` tables and count what the servers got.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import notifyrig
import pytest
from notifyrig import ENV, MAIL, SECRETS, SIGNAL, channels_yaml, signal_url, write_config
from signal_stub import SignalStub
from smtp_server import AUTH_WITHOUT_TLS_IS_FINE_HERE, SMTPServer
from sqlalchemy import select

from monitor.alerts.dispatcher import Dispatcher
from monitor.alerts.retry import RetryPolicy
from monitor.attempt.record import channels_for
from monitor.config import Config, load_config
from monitor.domain import Engine, Event, EventKind, Outcome, Reason, Status, TargetState
from monitor.store import Repository, create_engine_for, upgrade
from monitor.store.evidence import write_evidence
from monitor.store.rows import deliveries, delivery_attempts

pytestmark = AUTH_WITHOUT_TLS_IS_FINE_HERE

T0 = datetime(2026, 3, 2, 13, 5, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n a screenshot"


def config_text(tmp_path: Path, smtp_port: int, signal_port: int, *, channels: str = "") -> str:
    return notifyrig.config_text(
        f"evidence_dir: {tmp_path / 'evidence'}", channels or channels_yaml(smtp_port, signal_port)
    )


def load(tmp_path: Path, text: str, name: str = "prefectures.yaml") -> Config:
    return load_config(write_config(tmp_path, text, name), env=ENV)


@pytest.fixture
def config(tmp_path: Path, smtp: SMTPServer, signal: SignalStub) -> Config:
    return load(tmp_path, config_text(tmp_path, smtp.port, signal.port))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    upgrade(url)
    return url


@pytest.fixture
def repo(database_url: str) -> Iterator[Repository]:
    engine = create_engine_for(database_url)
    yield Repository(engine)
    engine.dispose()


def dispatcher(
    repo: Repository, config: Config, node: str = "node-a", **options: Any
) -> Dispatcher:
    options.setdefault("send_timeout", 10.0)
    options.setdefault("lease", timedelta(seconds=30))
    return Dispatcher(repo, config, node=node, **options)


def record(
    repo: Repository,
    config: Config,
    kind: EventKind = EventKind.SLOTS_OPENED,
    *,
    target: str = "92/remise-titre",
    at: datetime = T0,
    screenshot: bool = False,
) -> Event:
    """Store an outcome and its event with a delivery per interested channel."""
    evidence = write_evidence(
        config.settings.evidence_dir,
        html=f"<html>{target} {at}</html>",
        screenshot=PNG if screenshot else None,
    )
    available = kind is EventKind.SLOTS_OPENED
    outcome = Outcome(
        target=target,
        prefecture=target.split("/")[0],
        started_at=at,
        finished_at=at + timedelta(seconds=2),
        engine=Engine.BROWSER if screenshot else Engine.HTTP,
        status=Status.AVAILABLE if available else Status.ANOMALY,
        reason=Reason.SLOTS if available else Reason.OVERLOADED,
        detail="",
        url=f"https://example.gouv.fr/{target}",
        http_status=200 if available else 502,
        slot_count=2 if available else None,
        evidence=evidence.paths,
        sha256=evidence.sha256,
    )
    payload: dict[str, object] = {
        "status": str(outcome.status),
        "reason": str(outcome.reason),
        "url": outcome.url,
        "http_status": outcome.http_status,
        "slot_count": outcome.slot_count,
        "since": at.isoformat(),
        "outcome_started_at": at.isoformat(),
    }
    event = Event(kind, target, at, payload=payload)
    _, [stored] = repo.record_outcome(
        outcome, TargetState(target), [event], channels_for(config.channels), now=at
    )
    return stored


def rows(repo: Repository) -> list[dict[str, Any]]:
    with repo.engine.connect() as connection:
        found = connection.execute(select(deliveries).order_by(deliveries.c.id)).mappings()
        return [dict(row) for row in found]


def attempts(repo: Repository) -> list[dict[str, Any]]:
    with repo.engine.connect() as connection:
        found = connection.execute(
            select(delivery_attempts).order_by(delivery_attempts.c.id)
        ).mappings()
        return [dict(row) for row in found]


def states(repo: Repository) -> dict[str, str]:
    return {row["channel_id"]: row["state"] for row in rows(repo)}


# -- the happy path ---------------------------------------------------------------------------


async def test_it_sends_a_pending_delivery_once_to_each_channel(
    repo: Repository, config: Config, smtp: SMTPServer, signal: SignalStub
) -> None:
    record(repo, config, screenshot=True)
    sender = dispatcher(repo, config)

    assert await sender.run_once(T0) == 2
    assert await sender.run_once(T0 + timedelta(hours=1)) == 0
    await sender.aclose()

    [mail] = smtp.wait_for(1)
    assert mail.subject.startswith("Créneaux disponibles — Préfecture des Hauts-de-Seine")
    [attached] = mail.attachments
    assert attached.content == PNG
    [message] = signal.wait_for(1)
    assert message.message.startswith("Slots available")  # the channel's language, short
    assert message.attachments == []  # only email gets the screenshot
    assert states(repo) == {MAIL: "sent", SIGNAL: "sent"}
    assert [a["result"] for a in attempts(repo)] == ["sent", "sent"]
    assert all(row["sent_at"] == T0 for row in rows(repo))
    assert (sender.sent, sender.retried, sender.failed) == (2, 0, 0)
    assert repo.outbox_depth() == 0


async def test_it_attaches_nothing_when_the_outcome_has_no_screenshot(
    repo: Repository, config: Config, smtp: SMTPServer
) -> None:
    record(repo, config, EventKind.ANOMALY_STARTED)  # an HTTP probe: HTML only
    await dispatcher(repo, config).run_once(T0)
    [mail] = smtp.wait_for(1)
    assert mail.subject.startswith("Site en anomalie")
    assert mail.attachments == []


async def test_it_routes_events_by_kind_and_target_glob(
    repo: Repository, config: Config, smtp: SMTPServer, signal: SignalStub
) -> None:
    record(repo, config, EventKind.ANOMALY_STARTED)  # signal wants slots_opened only
    record(repo, config, target="75/titres")  # signal follows 92/* only
    record(repo, config, at=T0 + timedelta(minutes=1))  # both
    await dispatcher(repo, config).run_once(T0 + timedelta(minutes=1))
    assert len(smtp.wait_for(3)) == 3
    assert len(signal.wait_for(1)) == 1
    assert [row["channel_id"] for row in rows(repo)] == [MAIL, MAIL, MAIL, SIGNAL]


async def test_it_logs_one_line_per_message_with_the_channel_id_and_never_a_secret(
    repo: Repository,
    config: Config,
    smtp: SMTPServer,
    signal: SignalStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="monitor")
    signal.status = 401
    record(repo, config)
    await dispatcher(repo, config).run_once(T0)
    lines = [r.getMessage() for r in caplog.records if r.name == "monitor.alerts.dispatcher"]
    assert len(lines) == 2
    sent = next(line for line in lines if line.startswith(f"channel {MAIL}:"))
    assert "slots_opened of 92/remise-titre" in sent and sent.endswith("sent")
    failed = next(line for line in lines if line.startswith(f"channel {SIGNAL}:"))
    assert "failed for good" in failed and "error=401" in failed
    for text in [*lines, *(str(a["error"]) for a in attempts(repo))]:
        assert "mailto://" not in text and "signal://" not in text
        for secret in SECRETS:
            assert secret not in text


# -- failures ---------------------------------------------------------------------------------


async def test_it_retries_a_transient_failure_with_back_off_then_sends_once(
    repo: Repository, config: Config, smtp: SMTPServer
) -> None:
    record(repo, config, EventKind.ANOMALY_STARTED)
    sender = dispatcher(repo, config)
    smtp.stop()

    await sender.run_once(T0)  # attempt 1 fails: back in 30 s
    [row] = rows(repo)
    assert (row["state"], row["next_attempt_at"]) == ("pending", T0 + timedelta(seconds=30))
    assert "Connection refused" in row["last_error"]
    assert await sender.run_once(T0 + timedelta(seconds=29)) == 0

    await sender.run_once(T0 + timedelta(seconds=30))  # attempt 2 fails: back in 60 s
    assert rows(repo)[0]["next_attempt_at"] == T0 + timedelta(seconds=90)

    smtp.start()
    assert await sender.run_once(T0 + timedelta(seconds=90)) == 1
    assert len(smtp.wait_for(1)) == 1
    assert [a["result"] for a in attempts(repo)] == ["transient", "transient", "sent"]
    assert rows(repo)[0]["state"] == "sent"
    assert await sender.run_once(T0 + timedelta(days=1)) == 0
    assert (sender.sent, sender.retried, sender.failed) == (1, 2, 0)


def test_back_off_doubles_from_30_seconds_up_to_an_hour_within_24_hours() -> None:
    policy = RetryPolicy()
    delays = [policy.next_attempt(n, T0, T0) for n in (1, 2, 3, 7, 8, 50)]
    assert [d - T0 for d in delays if d] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=32),
        timedelta(hours=1),
        timedelta(hours=1),
    ]
    late = T0 + timedelta(hours=23, minutes=59)
    assert policy.next_attempt(9, late, T0) == T0 + timedelta(hours=24)
    assert policy.next_attempt(10, T0 + timedelta(hours=24), T0) is None


async def test_it_gives_up_24_hours_after_the_event(
    repo: Repository, config: Config, smtp: SMTPServer
) -> None:
    record(repo, config, EventKind.ANOMALY_STARTED)
    smtp.stop()
    sender = dispatcher(repo, config)
    await sender.run_once(T0 + timedelta(hours=23, minutes=59, seconds=45))
    assert rows(repo)[0]["next_attempt_at"] == T0 + timedelta(hours=24)
    await sender.run_once(T0 + timedelta(hours=24))
    [row] = rows(repo)
    assert row["state"] == "failed"
    assert row["last_error"].startswith("gave up after 2 attempt(s); last error: ")
    assert [a["result"] for a in attempts(repo)] == ["transient", "permanent"]
    assert sender.failed == 1


async def test_it_fails_a_permanent_error_at_once(
    repo: Repository, config: Config, signal: SignalStub, smtp: SMTPServer
) -> None:
    signal.status = 401
    record(repo, config)
    sender = dispatcher(repo, config)
    await sender.run_once(T0)
    assert states(repo) == {MAIL: "sent", SIGNAL: "failed"}
    assert [a["result"] for a in attempts(repo)] == ["sent", "permanent"] or [
        a["result"] for a in attempts(repo)
    ] == ["permanent", "sent"]
    signal.status = 201
    assert await sender.run_once(T0 + timedelta(hours=2)) == 0
    assert signal.delivered == []


async def test_it_fails_deliveries_to_a_channel_removed_from_the_config(
    tmp_path: Path, repo: Repository, config: Config, smtp: SMTPServer, signal: SignalStub
) -> None:
    record(repo, config)
    only_mail = load(
        tmp_path,
        config_text(tmp_path, smtp.port, signal.port).replace(f"  - id: {SIGNAL}", "  - id: x"),
        "new.yaml",
    )
    await dispatcher(repo, only_mail).run_once(T0)
    by_channel = {row["channel_id"]: row for row in rows(repo)}
    assert by_channel[MAIL]["state"] == "sent"
    assert by_channel[SIGNAL]["state"] == "failed"
    assert by_channel[SIGNAL]["last_error"] == f"channel '{SIGNAL}' is no longer in the config"
    assert signal.received == []


async def test_a_slow_answer_frees_the_lane_and_is_still_recorded_once(
    repo: Repository, config: Config, signal: SignalStub, smtp: SMTPServer
) -> None:
    signal.delay = 2.0  # each answer comes 2 s after the request
    record(repo, config, at=T0)
    record(repo, config, at=T0 + timedelta(minutes=1))
    sender = dispatcher(repo, config, send_timeout=0.5, lease=timedelta(seconds=10))
    await sender.run_once(T0 + timedelta(minutes=1))
    assert await sender.drain(10)

    first, second = signal.arrivals
    assert second - first < 1.5  # the lane went on without the first answer
    signal_rows = [row for row in rows(repo) if row["channel_id"] == SIGNAL]
    assert [row["state"] for row in signal_rows] == ["sent", "sent"]  # late answers recorded
    assert [a["result"] for a in attempts(repo)].count("transient") == 0
    assert len(signal.delivered) == 2 and sender.retried == 0
    await sender.aclose()


# -- independence -----------------------------------------------------------------------------


async def test_a_slow_channel_does_not_delay_another(
    repo: Repository, config: Config, smtp: SMTPServer, signal: SignalStub
) -> None:
    sender = dispatcher(repo, config, wait=0.5)
    record(repo, config, at=T0)
    record(repo, config, at=T0 + timedelta(minutes=1))
    with signal.holding():  # Signal takes the request and does not answer
        started = time.monotonic()
        assert await sender.run_once(T0 + timedelta(minutes=1)) == 4
        assert time.monotonic() - started < 5  # run_once returns; Signal waits in its lane
        assert len(smtp.wait_for(2)) == 2  # both emails arrive while Signal hangs
        record(repo, config, EventKind.ANOMALY_STARTED, at=T0 + timedelta(minutes=1, seconds=1))
        await sender.run_once(T0 + timedelta(minutes=1, seconds=1))
        assert len(smtp.wait_for(3)) == 3  # a new email is not queued behind Signal either
        assert signal.delivered == []
    assert await sender.drain(10)
    assert len(signal.delivered) == 2
    assert sender.sent == 5
    await sender.aclose()


async def test_two_dispatchers_on_one_database_never_send_a_delivery_twice(
    database_url: str, repo: Repository, config: Config, smtp: SMTPServer, signal: SignalStub
) -> None:
    for minute in range(15):
        record(repo, config, at=T0 + timedelta(minutes=minute))
    # Two nodes, each with its own engine (its own connections), as two daemons would be.
    other_engine = create_engine_for(database_url)
    try:
        first = dispatcher(repo, config, node="node-a", batch=4)
        second = dispatcher(Repository(other_engine), config, node="node-b", batch=4)
        now = T0 + timedelta(hours=1)
        while repo.outbox_depth():
            await asyncio.gather(first.run_once(now), second.run_once(now))
        await asyncio.gather(first.aclose(), second.aclose())
    finally:
        other_engine.dispose()

    assert len(smtp.wait_for(15)) == 15
    assert len(signal.wait_for(15)) == 15
    time.sleep(0.3)  # anything sent twice would have arrived by now
    assert len(smtp.messages) == 15 and len(signal.received) == 15
    assert [a["result"] for a in attempts(repo)] == ["sent"] * 30
    assert first.sent > 0 and second.sent > 0  # both really took part
    assert first.sent + second.sent == 30
    claimed_by = {row["claimed_by"] for row in rows(repo)}
    assert claimed_by == {"node-a", "node-b"}


async def test_a_result_recorded_after_another_node_reclaimed_the_delivery_is_only_logged(
    repo: Repository,
    config: Config,
    smtp: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    record(repo, config, EventKind.ANOMALY_STARTED)  # to the mail channel only
    lease = timedelta(seconds=30)
    taken_over = T0 + lease + timedelta(seconds=1)
    mark_sent = repo.mark_sent

    def after_the_lease(delivery_id: int, now: datetime, *, node: str) -> bool:
        # node-a's answer is recorded only after its lease: node-b has claimed the row.
        assert len(repo.claim_deliveries("node-b", taken_over, 10, lease)) == 1
        return mark_sent(delivery_id, now, node=node)

    monkeypatch.setattr(repo, "mark_sent", after_the_lease)
    caplog.set_level(logging.WARNING, logger="monitor.alerts.dispatcher")
    sender = dispatcher(repo, config, node="node-a", lease=lease)
    assert await sender.run_once(T0) == 1
    await sender.aclose()

    assert len(smtp.wait_for(1)) == 1
    [row] = rows(repo)
    assert (row["state"], row["claimed_by"], row["claimed_at"]) == ("sending", "node-b", taken_over)
    assert [a["result"] for a in attempts(repo)] == ["sent"]  # node-a's attempt, logged
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "lost its claim" in warning.getMessage()
    assert f"delivery {row['id']}" in warning.getMessage()


# -- shutdown ---------------------------------------------------------------------------------


async def test_aclose_hands_queued_deliveries_back_for_the_next_start(
    tmp_path: Path, repo: Repository, smtp: SMTPServer, signal: SignalStub
) -> None:
    only_signal = f"""
  - id: {SIGNAL}
    url: "{signal_url(signal.port)}"
"""
    config = load(tmp_path, config_text(tmp_path, smtp.port, signal.port, channels=only_signal))
    for minute in range(3):
        record(repo, config, at=T0 + timedelta(minutes=minute))
    now = T0 + timedelta(minutes=5)
    with signal.holding():  # the first send hangs until the daemon has stopped
        sender = dispatcher(repo, config, wait=0.2, close_timeout=0.2)
        await sender.run_once(now)
        await sender.aclose()

    # The first was being sent when time ran out: its outcome is unknown, its claim stays.
    assert [row["state"] for row in rows(repo)] == ["sending", "pending", "pending"]
    assert [row["next_attempt_at"] for row in rows(repo)[1:]] == [now, now]
    assert await sender.run_once(now) == 0  # closed

    restarted = dispatcher(repo, config, node="node-a")
    # At once, without waiting for the lease (30 s) that still covers the first one.
    assert await restarted.run_once(now + timedelta(seconds=1)) == 2
    assert await restarted.drain(5)
    await restarted.aclose()
    assert [row["state"] for row in rows(repo)] == ["sending", "sent", "sent"]


async def test_a_cancelled_run_once_does_not_strand_its_claims(
    repo: Repository, config: Config, smtp: SMTPServer, signal: SignalStub
) -> None:
    record(repo, config)
    sender = dispatcher(repo, config)
    running = asyncio.create_task(sender.run_once(T0))
    await asyncio.sleep(0)  # the claim has started in its thread
    running.cancel()
    assert await sender.drain(5)
    assert states(repo) == {MAIL: "sent", SIGNAL: "sent"}
    await sender.aclose()


async def test_it_reports_each_result_to_the_metrics_hook(
    repo: Repository, config: Config, smtp: SMTPServer, signal: SignalStub
) -> None:
    seen: list[tuple[str, str]] = []
    signal.status = 500
    record(repo, config)
    await dispatcher(repo, config, on_result=lambda c, r: seen.append((c, r))).run_once(T0)
    assert sorted(seen) == [(SIGNAL, "retry"), (MAIL, "sent")]


def test_it_refuses_a_lease_shorter_than_two_send_timeouts(
    repo: Repository, config: Config
) -> None:
    with pytest.raises(ValueError, match="twice send_timeout"):
        Dispatcher(repo, config, node="n", send_timeout=60, lease=timedelta(seconds=90))
