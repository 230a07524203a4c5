"""Cluster mode: N daemons on one PostgreSQL share the targets through procrastinate.

APScheduler 3 cannot share its jobs between processes, so in cluster mode each daemon runs a
procrastinate worker instead of the in-memory jobs (procrastinate's "dynamic scheduling"):

* one periodic ``tick`` task (every :func:`tick_period` seconds; procrastinate defers each
  tick once for the whole fleet) looks at every target's grid (:mod:`monitor.daemon.cadence`,
  the same offsets, jitter, active hours and back-off as the embedded engine) and defers a
  ``probe`` job for each run firing in the next window (two ticks), with
  ``schedule_at`` = its fire time (a ``learned`` target's from its week plan,
  :mod:`monitor.daemon.plans`, the same on every node: its fire time is its slot),
  ``queueing_lock`` = the target (one waiting job per
  target however often ticks overlap) and ``lock`` = the target (never two runs of one
  target at once, as ``max_instances=1``);
* any worker of the fleet takes the job when due (``FOR UPDATE SKIP LOCKED``) and runs
  :meth:`ProbeRunner.run` for its ``(target, slot)``: the claim row is written first, so a
  slot is probed at most once however the jobs are handed out, retried or duplicated;
* a job that starts a whole interval late or more is skipped (the next run is due): with
  one waiting job per target, late runs coalesce into one, as in APScheduler; a run late
  by less is still made, so that a fleet short of capacity keeps probing at its capacity
  instead of spending it on skipping jobs that waited their turn;
* a worker that stops beating (a node killed) leaves its jobs ``doing``, each holding its
  target's ``lock``: the ``recover`` task (procrastinate's stalled-jobs recipe, with short
  heartbeats) ends them after :data:`STALLED_AFTER` seconds, and the next runs of those
  targets go to the living nodes. The slot a killed node was probing stays claimed and
  unrecorded, as after a crash of the embedded daemon.

Notifications need nothing here: every node runs the outbox dispatcher, which claims each
delivery atomically.

:class:`FleetSchedule` is the fleet's :class:`monitor.daemon.schedule.Schedule`: its jobs
are not rebuilt from the config (each tick reads the daemon's current config and the
back-off times stored in the database), and its worker is what the daemon supervises.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from monitor.config import Config, Target
from monitor.daemon.cadence import Cadence, next_fire
from monitor.daemon.clock import SYSTEM_CLOCK, Clock
from monitor.daemon.focus import WeekPlan
from monitor.daemon.heartbeat import smallest_interval
from monitor.daemon.jobs import CadenceTrigger, misfire_grace
from monitor.daemon.nodes import application_name
from monitor.daemon.plans import PlanBook
from monitor.daemon.schedule import ProbeHost
from monitor.errors import UsageError
from monitor.store.engine import mask_database_url, normalize_database_url
from monitor.store.host_locks import HostLocks
from monitor.store.ports import FleetClaims
from monitor.store.task_queue import libpq_url, queue_installed

__all__ = [
    "QUEUE",
    "STALLED_AFTER",
    "FleetSchedule",
    "next_run_to_queue",
    "require_fleet_database",
    "require_queue",
    "tick_period",
]

log = logging.getLogger(__name__)

QUEUE = "prefecture-monitor"
PROBE_TASK = "monitor.probe"
#: Seconds between a worker's heartbeats in procrastinate's table.
WORKER_BEAT = 1.0
#: A worker silent this long is dead: its running jobs are handed back to the fleet.
STALLED_AFTER = 5.0
#: Seconds between two looks for due jobs (LISTEN/NOTIFY wakes a worker at once for jobs
#: due now; scheduled ones are found by this poll).
POLL = 0.5
#: Probes one worker runs at once (the politeness gate's own overall cap is 8 too).
CONCURRENCY = 8
#: The task queue's pool: its queries are short (fetch a job, mark it done, defer the
#: tick), so three serve eight jobs at once; LISTEN/NOTIFY holds one more of its own.
QUEUE_POOL = 3
_TICK_PERIODS = (1, 2, 3, 5, 10, 15, 30)


def require_queue() -> None:
    """Raise a usage error naming the extra when procrastinate is not installed."""
    if not queue_installed():
        raise UsageError(
            "cluster mode needs the cluster extra: pip install 'prefecture-monitor[cluster]'"
        )


def require_fleet_database(database_url: str) -> None:
    """Raise a usage error unless a fleet can share this database: PostgreSQL, and the
    cluster extra installed."""
    if normalize_database_url(database_url).get_backend_name() != "postgresql":
        raise UsageError(
            f"cluster mode needs PostgreSQL (postgresql+psycopg://…); the database is "
            f"{mask_database_url(database_url)}: several daemons cannot share SQLite"
        )
    require_queue()


def tick_period(config: Config) -> int:
    """Seconds between ticks: at most half the smallest interval, from 1 s to 30 s."""
    half = smallest_interval(config).total_seconds() / 2
    return max([p for p in _TICK_PERIODS if p <= half], default=1)


class FleetSchedule:
    """One daemon's procrastinate worker, and the fleet-wide tick it takes its share of."""

    def __init__(
        self,
        config: Config,
        repository: FleetClaims,
        database_url: str,
        node: str,
        *,
        clock: Clock = SYSTEM_CLOCK,
        plans: PlanBook | None = None,
    ) -> None:
        """``plans``: the learned targets' week plans (the daemon's; None: all even)."""
        from procrastinate import App, PsycopgConnector

        self._host: ProbeHost | None = None
        self._plans = plans
        self._repository = repository
        self._node = node
        self._clock = clock
        self.period = tick_period(config)
        #: The per-host caps held for the fleet (see monitor.daemon.politeness).
        self.host_locks = HostLocks(
            libpq_url(database_url), application_name=application_name(node, "host locks")
        )
        self.app = App(
            connector=PsycopgConnector(
                conninfo=libpq_url(database_url),
                min_size=1,
                max_size=QUEUE_POOL,
                kwargs={"application_name": application_name(node, "task queue")},
            ),
            periodic_defaults={"max_delay": 2 * self.period},
        )
        self._worker: Any = None
        self._register_tasks()

    def _register_tasks(self) -> None:
        app = self.app

        @app.task(name=PROBE_TASK, queue=QUEUE)
        async def probe(target: str, slot: str) -> None:
            await self._probe(target, datetime.fromisoformat(slot))

        @app.periodic(cron=f"* * * * * */{self.period}", periodic_id="tick")
        @app.task(name="monitor.tick", queue=QUEUE, queueing_lock="monitor.tick")
        async def tick(timestamp: int) -> None:
            await self.tick(self._clock.now())

        @app.periodic(cron="* * * * * */5", periodic_id="recover")
        @app.task(name="monitor.recover", queue=QUEUE, queueing_lock="monitor.recover")
        async def recover(timestamp: int) -> None:
            await self.recover()

        self._probe_task: Callable[..., Any] = probe

    def rebuild(self, triggers: Mapping[str, CadenceTrigger]) -> None:
        """Nothing to rebuild: each tick reads the host's current config."""

    async def start(self, host: ProbeHost) -> None:
        """Open the connection pool and make the worker (:meth:`run` runs it)."""
        from procrastinate.worker import Worker

        self._host = host
        await self.app.open_async()
        self._worker = Worker(
            self.app,
            queues=[QUEUE],
            name=self._node,
            concurrency=CONCURRENCY,
            fetch_job_polling_interval=POLL,
            abort_job_polling_interval=POLL * 4,
            listen_notify=True,
            delete_jobs="successful",
            install_signal_handlers=False,
            update_heartbeat_interval=WORKER_BEAT,
            stalled_worker_timeout=STALLED_AFTER,
        )
        log.info(
            "cluster mode: worker %s on queue %s, ticks every %ds", self._node, QUEUE, self.period
        )

    async def run(self) -> None:
        """The worker, until :meth:`stop_taking_work` (its jobs ended by the daemon)."""
        await self._worker.run()

    def move(self, target_id: str, trigger: CadenceTrigger) -> None:
        """Nothing to move: the tick reads the back-off the runner stored."""

    def stop_taking_work(self) -> None:
        """The first step of a stop: no new job; the running ones go on."""
        if self._worker is not None:
            self._worker.stop()

    async def close(self) -> None:
        """Close the pool and the host locks (the daemon's stop then removes this node's
        heartbeat row, as for any daemon stopped cleanly)."""
        await self.app.close_async()
        await self.host_locks.aclose()

    # -- the tasks -------------------------------------------------------------------------

    async def tick(self, now: datetime) -> int:
        """Defer a probe job for every run firing within the next two ticks; how many."""
        assert self._host is not None  # ticks run once started
        config = self._host.config
        window = timedelta(seconds=2 * self.period)
        longest = max((t.interval for t in config.targets()), default=timedelta(0))
        claimed, backoffs = await asyncio.gather(
            asyncio.to_thread(self._repository.claimed_since, now - longest - window),
            asyncio.to_thread(self._repository.next_probes),
        )
        # Targets whose run already waits in the queue: deferring again would only bounce
        # off their queueing lock, one failed INSERT each.
        waiting = {
            job.queueing_lock
            for job in await self.app.job_manager.list_jobs_async(
                queue=QUEUE, task=PROBE_TASK, status="todo"
            )
        }
        deferred = 0
        for target in config.targets():
            if _queueing_lock(target.id) in waiting:
                continue
            slot = next_run_to_queue(
                target,
                config,
                now,
                window,
                claimed,
                backoffs.get(target.id),
                plan=self._plan(target),
            )
            if slot is None:
                continue
            fire, nominal = slot
            if await self._defer(target, fire, nominal):
                deferred += 1
        log.debug("tick at %s: %d probes deferred", now.isoformat(timespec="seconds"), deferred)
        return deferred

    def _plan(self, target: Target) -> WeekPlan | None:
        return None if self._plans is None else self._plans.plan(target)

    async def _defer(self, target: Target, fire: datetime, nominal: datetime) -> bool:
        from procrastinate.exceptions import AlreadyEnqueued

        try:
            await self._probe_task.configure(  # type: ignore[attr-defined]
                schedule_at=fire,
                queueing_lock=_queueing_lock(target.id),
                lock=_queueing_lock(target.id),
            ).defer_async(target=target.id, slot=nominal.isoformat())
        except AlreadyEnqueued:  # its earlier run still waits: the next tick defers this one
            return False
        return True

    async def _probe(self, target_id: str, slot: datetime) -> None:
        assert self._host is not None  # jobs run once started
        target = self._host.target(target_id)
        if target is None:
            log.info("%s: no longer in the config, job for %s dropped", target_id, slot)
            return
        plan = self._plan(target)
        if plan is not None:
            fire, period = slot, plan.cadence_at(slot) or target.interval
        else:
            cadence = Cadence.of(target.id, target.interval, target.jitter)
            fire, period = cadence.fire(cadence.index_at_or_before(slot)), target.interval
        late = self._clock.now() - fire
        if late >= period:
            log.info(
                "%s: run of slot %s skipped, %.1fs late", target_id, slot, late.total_seconds()
            )
            return
        await self._host.run_slot(target_id, slot)

    async def recover(self) -> int:
        """procrastinate's stalled-jobs recipe, ended rather than retried: the jobs of a
        worker silent for :data:`STALLED_AFTER` seconds are marked failed.

        A retry would collide with the target's queueing lock (the tick has deferred its
        next run meanwhile) and could not probe anyway (the slot is claimed, or past its
        grace); what matters is that the job no longer holds the target's ``lock``.
        """
        from procrastinate.jobs import Status

        manager = self.app.job_manager
        stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER))
        for job in stalled:
            log.warning("job %s of a silent worker ended: its node is gone", job.call_string)
            await manager.finish_job(job, Status.FAILED, delete_job=False)
        return len(stalled)


def _queueing_lock(target_id: str) -> str:
    """One waiting job per target (queueing lock), one running run per target (lock)."""
    return f"probe:{target_id}"


def next_run_to_queue(
    target: Target,
    config: Config,
    now: datetime,
    window: timedelta,
    claimed: set[tuple[str, datetime]],
    not_before: datetime | None,
    *,
    plan: WeekPlan | None = None,
) -> tuple[datetime, datetime] | None:
    """The first run of ``target`` not claimed yet that fires before ``now + window``
    (runs that fired up to the misfire grace ago included): (fire time, slot). With a
    ``plan`` (a learned target) the fire times are the plan's, each its own slot."""
    if plan is not None:
        return _next_planned(target, plan, now, window, claimed, not_before)
    cadence = Cadence.of(target.id, target.interval, target.jitter)
    after = now - timedelta(seconds=misfire_grace(target.interval))
    tz = config.settings.tz
    while True:
        found = next_fire(
            cadence, after, not_before=not_before, active_hours=target.active_hours, tz=tz
        )
        if found is None or found[1] > now + window:
            return None
        k, fire = found
        if (target.id, cadence.nominal(k)) not in claimed:
            return fire, cadence.nominal(k)
        after = fire


def _next_planned(
    target: Target,
    plan: WeekPlan,
    now: datetime,
    window: timedelta,
    claimed: set[tuple[str, datetime]],
    not_before: datetime | None,
) -> tuple[datetime, datetime] | None:
    shortest = min(gap for gap in plan.gaps if gap is not None)
    after = now - timedelta(seconds=misfire_grace(shortest))
    if not_before is not None:
        after = max(after, not_before - timedelta(microseconds=1))
    while True:
        fire = plan.next_after(after)
        if fire > now + window:
            return None
        if (target.id, fire) not in claimed:
            return fire, fire
        after = fire
