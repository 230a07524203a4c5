"""``end_within``: a task that outlives its stop still has its failure logged, never left
as an exception nobody retrieved (seen as "Task exception was never retrieved" from the
fleet's schedule when its database went away during the stop)."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from monitor.daemon.lifecycle import end_within


async def _stubborn(release: asyncio.Event) -> None:
    """Ignores its cancel until released, then fails (a thread's call ending late)."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        await release.wait()
        raise RuntimeError("connection lost") from None


def test_a_task_that_fails_after_the_stop_has_its_failure_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unretrieved: list[dict[str, object]] = []

    async def scenario() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _l, c: unretrieved.append(c))
        release = asyncio.Event()
        task = asyncio.create_task(_stubborn(release), name="schedule")
        await asyncio.sleep(0)
        await end_within(task, 0.0)
        assert not task.done()
        release.set()
        await asyncio.wait({task})
        await asyncio.sleep(0)
        del task
        gc.collect()

    with caplog.at_level(logging.WARNING, logger="monitor.daemon.lifecycle"):
        asyncio.run(scenario())
    messages = [record.getMessage() for record in caplog.records]
    assert "schedule did not end within 1 s of being asked to" in messages
    assert "schedule failed after the stop" in messages
    assert unretrieved == []


def test_a_task_that_ends_in_time_is_finished_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        task = asyncio.create_task(asyncio.sleep(3600), name="schedule")
        await end_within(task, 0.0)
        assert task.cancelled()

    with caplog.at_level(logging.WARNING, logger="monitor.daemon.lifecycle"):
        asyncio.run(scenario())
    assert caplog.records == []
