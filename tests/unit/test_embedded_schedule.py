"""The embedded schedule (APScheduler in the event loop), without running any job.

Its jobs are the triggers it is handed (one per target, replaced whole by a rebuild); a
later ``not_before`` moves a job's next run; a stop is two steps: no new run, then closed.
No file, socket or thread: APScheduler's asyncio scheduler lives in the test's loop.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from monitor.config import Config, Target
from monitor.config.durations import Jitter
from monitor.daemon.cadence import Cadence
from monitor.daemon.jobs import CadenceTrigger
from monitor.daemon.schedule import EmbeddedSchedule

INTERVAL = timedelta(minutes=10)


def trigger(target_id: str) -> CadenceTrigger:
    return CadenceTrigger(Cadence.of(target_id, INTERVAL, Jitter(fraction=0.1)), None, UTC)


class Host:
    config: Config

    def target(self, target_id: str) -> Target | None:
        return None

    async def run_slot(self, target_id: str, slot: datetime | None) -> None:
        raise AssertionError("no job is due within the test")


async def test_a_rebuild_replaces_every_job_by_the_triggers_given() -> None:
    schedule = EmbeddedSchedule()
    schedule.rebuild({"t/a": trigger("t/a"), "t/b": trigger("t/b")})
    schedule.rebuild({"t/b": trigger("t/b"), "t/c": trigger("t/c")})
    await schedule.start(Host())
    try:
        jobs = {job.id: job for job in schedule._scheduler.get_jobs()}
        assert sorted(jobs) == ["t/b", "t/c"]
        assert {job.max_instances for job in jobs.values()} == {1}  # never two runs at once
        assert {job.coalesce for job in jobs.values()} == {True}
        assert {job.misfire_grace_time for job in jobs.values()} == {60}  # a minute at most
    finally:
        schedule.stop_taking_work()
        await schedule.close()


async def test_a_later_not_before_moves_the_next_run_and_a_stop_ends_run() -> None:
    schedule = EmbeddedSchedule()
    moved = trigger("t/a")
    schedule.rebuild({"t/a": moved})
    await schedule.start(Host())
    running = schedule.run()
    try:
        job = schedule._scheduler.get_job("t/a")
        assert job.next_run_time < datetime.now(UTC) + 2 * INTERVAL
        moved.not_before = datetime.now(UTC) + timedelta(hours=5)
        schedule.move("t/a", moved)
        assert job.next_run_time >= moved.not_before
    finally:
        schedule.stop_taking_work()
        await running  # returns once work is no longer taken
        await schedule.close()
    await asyncio.sleep(0)  # APScheduler's shutdown is called soon, in the loop
    assert not schedule._scheduler.running
