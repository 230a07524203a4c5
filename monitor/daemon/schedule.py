"""When each target runs: the one interface the daemon schedules through, and its embedded engine.

The daemon computes each target's trigger (:class:`monitor.daemon.jobs.CadenceTrigger`: its
grid, active hours and ``not_before``) and hands them to a :class:`Schedule`, which calls
the daemon back (:class:`ProbeHost`) for each run. Two implementations:

* :class:`EmbeddedSchedule`: APScheduler in this process, one in-memory job per target
  (``max_instances=1``, ``coalesce=True``, a misfire grace of a quarter interval: see
  :mod:`monitor.daemon.jobs`); turns skipped while a run goes on are told by
  :class:`monitor.daemon.overruns.Overruns`;
* :class:`monitor.daemon.cluster.FleetSchedule`: procrastinate's worker and the fleet-wide
  tick, for N daemons on one PostgreSQL.

The daemon supervises :meth:`Schedule.run`: returning before :meth:`Schedule.stop_taking_work`
or raising means the schedule died, and the daemon stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.config import Config, Target
from monitor.daemon.jobs import CadenceTrigger, misfire_grace
from monitor.daemon.overruns import Overruns, apscheduler_logger

__all__ = ["EmbeddedSchedule", "ProbeHost", "Schedule"]

log = logging.getLogger(__name__)


class ProbeHost(Protocol):
    """What a schedule calls back: the daemon's current config, its enabled targets by id,
    and one run of a target (``slot`` None: the slot of the grid the run falls in)."""

    @property
    def config(self) -> Config: ...

    def target(self, target_id: str) -> Target | None: ...

    async def run_slot(self, target_id: str, slot: datetime | None) -> None: ...


class Schedule(Protocol):
    """Starts the daemon's runs at their times; rebuilt from the config, stopped in two steps."""

    def rebuild(self, triggers: Mapping[str, CadenceTrigger]) -> None:
        """The jobs of the config (target id -> its trigger), replacing all others."""
        ...

    async def start(self, host: ProbeHost) -> None:
        """Begin starting runs, each by ``host.run_slot``."""
        ...

    async def run(self) -> None:
        """Until :meth:`stop_taking_work`: what the daemon supervises."""
        ...

    def move(self, target_id: str, trigger: CadenceTrigger) -> None:
        """The trigger's ``not_before`` moved later: its next run moves with it."""
        ...

    def stop_taking_work(self) -> None:
        """The first step of a stop: no new run; runs going on are the daemon's to end."""
        ...

    async def close(self) -> None:
        """The last step of a stop, once :meth:`run` has returned or been cancelled."""
        ...


class EmbeddedSchedule:
    """APScheduler 3 in this event loop: one in-memory job per target."""

    def __init__(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone=UTC, logger=apscheduler_logger())
        self._overruns = Overruns()
        self._overruns.watch(self._scheduler)
        self._host: ProbeHost | None = None
        self._stopped = asyncio.Event()

    def rebuild(self, triggers: Mapping[str, CadenceTrigger]) -> None:
        self._scheduler.remove_all_jobs()
        for target_id, trigger in triggers.items():
            self._scheduler.add_job(
                self._fire,
                trigger=trigger,
                args=[target_id],
                id=target_id,
                name=target_id,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=misfire_grace(trigger.shortest_gap),
                replace_existing=True,
            )

    async def start(self, host: ProbeHost) -> None:
        self._host = host
        self._scheduler.start()

    async def run(self) -> None:
        await self._stopped.wait()

    async def _fire(self, target_id: str) -> None:
        assert self._host is not None  # jobs run once started
        try:
            await self._host.run_slot(target_id, None)
        finally:
            self._overruns.ended(target_id)

    def move(self, target_id: str, trigger: CadenceTrigger) -> None:
        # A later not_before moves the already computed next run.
        if self._scheduler.running:
            job = self._scheduler.get_job(target_id)
            if job is not None:
                job.reschedule(trigger=trigger)

    def stop_taking_work(self) -> None:
        if self._scheduler.running:
            self._scheduler.pause()  # no new runs; shutdown() would cancel the running ones
        self._stopped.set()

    async def close(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
