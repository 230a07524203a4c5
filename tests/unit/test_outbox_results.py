"""How the dispatcher writes each delivery's result, on the in-memory outbox (tests/fakes.py).

Pure: no database, no file, no socket, no thread (``fakes.run_inline``). The same rules on
the real store are in tests/integration/test_dispatcher.py.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from fakes import MemoryStore, run_inline

from monitor.alerts.delivery_results import DeliveryResults
from monitor.alerts.dispatcher import Dispatcher
from monitor.alerts.lanes import Work
from monitor.alerts.retry import RetryPolicy
from monitor.config import Config
from monitor.domain import Event, EventKind
from monitor.errors import NotificationError

T0 = datetime(2026, 3, 2, 13, 5, tzinfo=UTC)
LEASE = timedelta(minutes=5)
TARGET = "92/remise-titre"


def outbox(*channels: str, occurred_at: datetime = T0) -> MemoryStore:
    """A store holding one event, with a pending delivery per channel."""
    store = MemoryStore()
    opened = Event(EventKind.SLOTS_OPENED, TARGET, occurred_at, payload={"slot_count": 2})
    store.record_events([opened], lambda _: list(channels), now=occurred_at)
    return store


async def claimed(store: MemoryStore, node: str = "node-a", at: datetime = T0) -> Work:
    [delivery] = store.claim_deliveries(node, at, 10, LEASE)
    return Work(delivery, 0.0, at, asyncio.get_running_loop().create_future())


def ended(error: BaseException | None = None) -> asyncio.Future[None]:
    """A send that has finished: accepted, or failed with ``error``."""
    sending: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    if error is None:
        sending.set_result(None)
    else:
        sending.set_exception(error)
    return sending


def results(store: MemoryStore, hooked: list[tuple[str, str]]) -> DeliveryResults:
    return DeliveryResults(
        store,
        node="node-a",
        clock=lambda: T0,
        retry=RetryPolicy(),
        on_result=lambda channel, result: hooked.append((channel, result)),
    )


def test_an_accepted_message_is_recorded_sent_and_counted() -> None:
    store, hooked = outbox("mail"), []

    async def main() -> DeliveryResults:
        writer = results(store, hooked)
        await writer.conclude(await claimed(store), ended())
        return writer

    writer = run_inline(main())
    [row] = store.deliveries.values()
    assert (row.state, row.sent_at, row.last_error) == ("sent", T0, None)
    assert (writer.sent, writer.retried, writer.failed) == (1, 0, 0)
    assert hooked == [("mail", "sent")]
    assert [attempt.result for attempt in store.attempts] == ["sent"]


def test_a_passing_failure_is_due_again_on_the_retry_schedule() -> None:
    store, hooked = outbox("signal"), []

    async def main() -> None:
        await results(store, hooked).conclude(
            await claimed(store), ended(NotificationError("503 from the provider"))
        )

    run_inline(main())
    [row] = store.deliveries.values()
    assert row.state == "pending" and row.claimed_by is None
    assert row.next_attempt_at == T0 + RetryPolicy().first_delay
    assert row.last_error == "503 from the provider"
    assert hooked == [("signal", "retry")]
    assert store.claim_deliveries("node-b", row.next_attempt_at, 10, LEASE)[0].attempts == 2


def test_a_permanent_failure_is_final() -> None:
    store, hooked = outbox("mail"), []

    async def main() -> None:
        await results(store, hooked).conclude(
            await claimed(store), ended(NotificationError("550 no such user", permanent=True))
        )

    run_inline(main())
    [row] = store.deliveries.values()
    assert (row.state, row.last_error) == ("failed", "550 no such user")
    assert store.outbox_depth() == 0 and hooked == [("mail", "failed")]


def test_a_passing_failure_a_day_after_the_event_gives_up() -> None:
    store, hooked = outbox("mail", occurred_at=T0 - timedelta(hours=24)), []

    async def main() -> None:
        await results(store, hooked).conclude(
            await claimed(store), ended(NotificationError("busy"))
        )

    run_inline(main())
    [row] = store.deliveries.values()
    assert row.state == "failed"
    assert row.last_error == "gave up after 1 attempt(s); last error: busy"


def test_a_result_after_the_claim_was_lost_leaves_the_other_nodes_claim(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, hooked = outbox("mail"), []

    async def main() -> None:
        mine = await claimed(store, "node-a")
        await claimed(store, "node-b", T0 + LEASE + timedelta(seconds=1))  # lease passed
        await results(store, hooked).conclude(mine, ended())

    with caplog.at_level(logging.WARNING, logger="monitor.alerts.dispatcher"):
        run_inline(main())
    [row] = store.deliveries.values()
    assert (row.state, row.claimed_by, row.attempts) == ("sending", "node-b", 2)
    assert [attempt.result for attempt in store.attempts] == ["sent"]  # the attempt is kept
    assert "after this node lost its claim" in caplog.text


def test_deliveries_given_back_at_a_stop_are_due_at_once() -> None:
    store = outbox("mail", "signal")

    async def main() -> list[Work]:
        loop = asyncio.get_running_loop()
        works = [
            Work(delivery, 0.0, None, loop.create_future())
            for delivery in store.claim_deliveries("node-a", T0, 10, LEASE)
        ]
        await results(store, []).give_back(works)
        return works

    works = run_inline(main())
    assert all(work.done.done() for work in works)
    assert [(row.state, row.next_attempt_at) for row in store.deliveries.values()] == [
        ("pending", T0),
        ("pending", T0),
    ]
    assert len(store.claim_deliveries("node-b", T0, 10, LEASE)) == 2


def test_the_dispatcher_fails_a_delivery_whose_channel_left_the_config() -> None:
    store = outbox("gone")
    config = Config.model_validate({"version": 1, "prefectures": []})

    async def main() -> int:
        dispatcher = Dispatcher(store, config, node="node-a", clock=lambda: T0)
        claimed = await dispatcher.run_once(T0)
        await dispatcher.aclose()
        return claimed

    assert run_inline(main()) == 1
    [row] = store.deliveries.values()
    assert (row.state, row.last_error) == ("failed", "channel 'gone' is no longer in the config")
