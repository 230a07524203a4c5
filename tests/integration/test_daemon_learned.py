"""The daemon on a fake clock with ``schedule.focus: learned`` (issue 28, item 2): a learned
target fires more often in the hours its slots appeared and as often over the week as an
even one; its plan is computed from the store at start and again the next day.

Real SQLite, the real recorder and politeness gate, the daemon's own triggers; fake engines
and a fake ``observe`` stamped by the fake clock; a hand-driven schedule that does what
APScheduler does with a trigger (ask it for the next fire time, run the job then), so a
week passes in seconds.
"""

from __future__ import annotations

import asyncio
import heapq
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from daemonrig import load, outcomes_of, rdvsp_path
from fakeclock import FakeClock
from handrig import HandSchedule, NoEngines, until
from helpers import migrated, write_config

from monitor.attempt.record import record_attempt
from monitor.config import Target
from monitor.daemon.components import Components
from monitor.daemon.compose import build_daemon
from monitor.daemon.focus import even_plan, phase_of
from monitor.daemon.jobs import CadenceTrigger
from monitor.daemon.plans import PlanBook
from monitor.daemon.scheduler import Daemon
from monitor.domain import (
    Detail,
    Event,
    EventKind,
    Finding,
    Observation,
    PageSnapshot,
    Reason,
    Status,
)
from monitor.probes.base import RequestGate
from monitor.store import Repository, create_engine_for

PARIS = ZoneInfo("Europe/Paris")
HOST = "h.example"
#: Monday 30 November 2026, 00:00 in Paris.
MONDAY = datetime(2026, 11, 30, tzinfo=PARIS).astimezone(UTC)


class NoSlots:
    """A fake ``observe``: every probe sees a page with no slot, at the fake clock's time."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.probed: list[tuple[str, datetime]] = []

    async def __call__(
        self, target: Target, engine: Any, *, timeout: float, gate: RequestGate
    ) -> Observation:
        await gate(target.url)
        now = self.clock.now()
        self.probed.append((target.id, now))
        page = PageSnapshot(target.url, target.url, 200, "<p>Aucun créneau</p>")
        return Observation(
            target=target.id,
            engine=target.engine,
            url=target.url,
            started_at=now,
            finished_at=now,
            pages=(page,),
            failure=Finding(Status.UNAVAILABLE, Reason.NO_SLOT, Detail("no_slot", {})),
        )


class Rig:
    def __init__(self, tmp_path: Path, start: datetime) -> None:
        self.database = migrated(tmp_path / "db.sqlite")
        self.config_path = write_config(
            tmp_path / "c.yaml",
            targets=[
                {
                    "id": key,
                    "name": key,
                    "platform": "rdv-service-public",
                    "url": f"http://{HOST}{rdvsp_path(key)}",
                    "focus": focus,
                }
                for key, focus in (("learned", "learned"), ("even", "even"))
            ],
            database=self.database,
            schedule={
                "interval": "1h",
                "jitter": "0%",
                "active_hours": "07:00-21:00",
                "min_interval": "10m",
                "max_interval": "2h",
            },
            timezone="Europe/Paris",
            politeness={"per_host_concurrency": 1, "per_host_min_gap": "0s"},
        )
        self.repository = Repository(create_engine_for(self.database))
        self.clock = FakeClock(start)
        self.site = NoSlots(self.clock)
        self.schedule = HandSchedule()

    def daemon(self) -> Daemon:
        parts = Components(
            engines=NoEngines(), observe=self.site, record=record_attempt, dispatcher=None
        )
        return build_daemon(
            load(self.config_path),
            self.repository,
            node="test",
            reload_config=lambda: load(self.config_path),
            components=parts,
            schedule=self.schedule,
            clock=self.clock,
        )

    def slots_opened(self, target: str, times: list[datetime]) -> None:
        events = [Event(EventKind.SLOTS_OPENED, target, occurred_at=t) for t in times]
        self.repository.record_events(events, lambda event: [])

    def trigger(self, target: str) -> CadenceTrigger:
        return self.schedule.rebuilds[-1][target]


async def started(rig: Rig) -> tuple[Daemon, asyncio.Task[int]]:
    daemon = rig.daemon()
    running = asyncio.create_task(daemon.run())
    await until(lambda: rig.schedule.host is not None)
    return daemon, running


async def drive(rig: Rig, daemon: Daemon, until_time: datetime) -> None:
    """What APScheduler does with the triggers, on the fake clock: each target's next fire
    time from its current trigger, the clock moved to the earliest, the job run then."""
    now = rig.clock.now()
    due = [(rig.trigger(t).get_next_fire_time(None, now), t) for t in ("t/learned", "t/even")]
    heapq.heapify(due)
    while due[0][0] < until_time:
        fire, target = heapq.heappop(due)
        await rig.clock.advance((fire - rig.clock.now()).total_seconds())
        await daemon.run_slot(target, None)
        heapq.heappush(due, (rig.trigger(target).get_next_fire_time(fire, rig.clock.now()), target))


def monday_mornings(weeks: int) -> list[datetime]:
    """Slots seen on Monday at 08:10 in Paris, the ``weeks`` weeks before MONDAY."""
    return [MONDAY + timedelta(hours=8, minutes=10) - timedelta(weeks=k) for k in range(1, weeks)]


async def test_a_learned_target_probes_its_hot_hour_more_and_the_week_as_often(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path, MONDAY)
    rig.slots_opened("t/learned", monday_mornings(8))
    daemon, running = await started(rig)
    assert rig.trigger("t/learned").plan is not None
    assert rig.trigger("t/even").plan is None  # today's grid, untouched
    await drive(rig, daemon, MONDAY + timedelta(weeks=1))
    daemon.request_stop()
    assert await asyncio.wait_for(running, timeout=30) == 0

    def probes(target: str, start: datetime, end: datetime) -> int:
        return sum(1 for t, at in rig.site.probed if t == target and start <= at < end)

    hot = (MONDAY + timedelta(hours=8), MONDAY + timedelta(hours=9))
    assert probes("t/learned", *hot) >= 6  # every 10 minutes at most
    assert probes("t/even", *hot) == 1
    week = (MONDAY, MONDAY + timedelta(weeks=1))
    assert probes("t/even", *week) == 7 * 14
    # Each plan holds 98 a week; the plan computed again each midnight restarts its meter
    # where the new plan puts it, which can bring one probe forward (or back) a day.
    assert 7 * 14 - 7 <= probes("t/learned", *week) <= 7 * 14 + 7
    # Every run recorded, each under the slot its trigger gave (its own fire time).
    learned = outcomes_of(rig.repository, "t/learned")
    assert len(learned) == probes("t/learned", *week)
    gaps = [b.started_at - a.started_at for a, b in pairwise(learned)]
    assert min(gaps) >= timedelta(minutes=10)


async def test_the_plan_is_computed_again_the_next_day(tmp_path: Path) -> None:
    start = MONDAY + timedelta(hours=22)  # Monday evening, no history yet
    rig = Rig(tmp_path, start)
    daemon, running = await started(rig)
    zone = load(rig.config_path).settings.tz
    first = rig.trigger("t/learned").plan
    hours = load(rig.config_path).settings.schedule.active_hours
    assert first == even_plan(
        interval=timedelta(hours=1), active_hours=hours, zone=zone, phase=phase_of("t/learned")
    )
    rig.slots_opened("t/learned", [MONDAY + timedelta(hours=8, minutes=10)])
    built = len(rig.schedule.rebuilds)
    await rig.clock.advance(timedelta(hours=3).total_seconds())  # past midnight in Paris
    await until(lambda: len(rig.schedule.rebuilds) > built)
    second = rig.trigger("t/learned").plan
    assert second is not None and second != first
    assert second.gaps[8] is not None and second.gaps[8] < timedelta(hours=1)
    daemon.request_stop()
    assert await asyncio.wait_for(running, timeout=30) == 0


async def test_a_reload_computes_the_plan_again(tmp_path: Path) -> None:
    rig = Rig(tmp_path, MONDAY + timedelta(days=1, hours=10))  # Tuesday morning
    daemon, running = await started(rig)
    first = rig.trigger("t/learned").plan
    rig.slots_opened("t/learned", monday_mornings(4))
    built = len(rig.schedule.rebuilds)
    daemon.request_reload()  # what SIGHUP does
    await until(lambda: len(rig.schedule.rebuilds) > built)
    second = rig.trigger("t/learned").plan
    assert first is not None and second is not None and second != first
    assert second.gaps[8] == min(gap for gap in second.gaps if gap is not None)
    daemon.request_stop()
    assert await asyncio.wait_for(running, timeout=30) == 0


async def test_a_new_day_rebuilds_nothing_without_learned_targets(tmp_path: Path) -> None:
    rig = Rig(tmp_path, MONDAY + timedelta(hours=10))
    loaded = load(rig.config_path)
    even = load(
        write_config(
            tmp_path / "even.yaml",
            targets=[{"id": "a", "name": "a", "platform": "anef", "url": "http://h.example/"}],
            database=rig.database,
        )
    )
    book = PlanBook(rig.repository, clock=rig.clock)
    assert not await book.refresh(even)
    await rig.clock.advance(timedelta(days=1).total_seconds())
    assert not await book.refresh_daily(even)  # a new day, nothing learned: no rebuild
    assert await book.refresh_daily(loaded) is False  # same day: nothing to do
    await rig.clock.advance(timedelta(days=1).total_seconds())
    assert await book.refresh_daily(loaded)  # the learned target's plan appears
    assert book.plan(loaded.targets()[0]) is not None
