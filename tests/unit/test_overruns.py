"""A run that outlasts its target's turn: one line when the turns start being skipped, one
with the count when it ends, a counter; not APScheduler's WARNING for every skipped turn."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.daemon import metrics
from monitor.daemon.overruns import Overruns, apscheduler_logger


def skipped_total() -> float:
    return metrics.REGISTRY.get_sample_value("monitor_runs_skipped_total") or 0.0


async def test_a_long_run_skips_turns_with_two_lines_not_one_per_turn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    before = skipped_total()
    overruns = Overruns()
    ended = asyncio.Event()

    async def run() -> None:  # a run held up for many turns (a paused host)
        try:
            await asyncio.sleep(1.2)
        finally:
            overruns.ended("92/remise-titre")
            ended.set()

    scheduler = AsyncIOScheduler(timezone=UTC, logger=apscheduler_logger())
    overruns.watch(scheduler)
    scheduler.add_job(run, "interval", seconds=0.1, id="92/remise-titre", max_instances=1)
    scheduler.start()
    try:
        await asyncio.wait_for(ended.wait(), 10)
    finally:
        scheduler.shutdown(wait=False)

    skipped = skipped_total() - before
    assert skipped >= 5  # a turn every 0.1 s while the run took 1.2 s
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "maximum number of running instances" in m]
    mine = [m for m in messages if m.startswith("92/remise-titre:")]
    assert mine == [
        "92/remise-titre: its run is still going; its next turns are skipped until it ends",
        f"92/remise-titre: run ended; {skipped:.0f} turn(s) skipped while it went on",
    ]


def test_a_run_that_skipped_nothing_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    Overruns().ended("75/aes")
    assert caplog.records == []
