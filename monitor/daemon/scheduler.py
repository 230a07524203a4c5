"""The daemon: APScheduler jobs, politeness, health, notifications, shutdown and reload.

Made of small steps, as healthchecks' ``sendalerts``: a main loop that beats, reloads when
asked and sleeps; one APScheduler job per target whose run is :meth:`ProbeRunner.run`; a
dispatch loop that sends due notifications (:mod:`monitor.daemon.notifying`); signal
handlers that only set flags.

Scheduling (times computed by :mod:`monitor.daemon.cadence`): each target gets a job with a
:class:`CadenceTrigger` (its own grid, offset and jitter; ``active_hours``; a ``not_before``
for back-off and ``Retry-After``), ``max_instances=1`` (never two runs of one target at
once), ``coalesce=True`` and a ``misfire_grace_time`` of a quarter interval (at most a
minute, at least a second): after a pause or a suspended machine, the missed runs collapse
into at most one, and none at all if even the latest is later than that (see
:mod:`monitor.daemon.jobs`). Jobs live in memory and are rebuilt from the config at start and on
SIGHUP; what must survive a restart is in the database (back-off times, claims, states).

Shutdown (SIGTERM/SIGINT), within 30 s: the scheduler is paused, probes in flight get
``SHUTDOWN_GRACE`` seconds to finish, the rest are cancelled (a cancelled probe writes no
row; a recording already under way completes, being one transaction), pending
notifications are flushed for a few seconds, the engines (Chromium) are closed.
A second signal skips the grace.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor import __version__
from monitor.config import Config, Target
from monitor.daemon.cadence import Cadence
from monitor.daemon.cluster import FleetSchedule
from monitor.daemon.components import Components, make_dispatcher
from monitor.daemon.health import (
    HealthReporter,
    OwnFaultGuard,
    connectivity_check_for,
    heartbeat_period,
)
from monitor.daemon.housekeeping import Housekeeping
from monitor.daemon.jobs import (
    CadenceTrigger,
    guard_window,
    misfire_grace,
    smallest_interval,
    warn_about_host_budgets,
)
from monitor.daemon.lifecycle import (
    close_within,
    finish,
    install_signals,
    remove_signals,
    wait_for_event,
    wait_or_hurry,
)
from monitor.daemon.notifying import NotificationLoop
from monitor.daemon.overruns import Overruns, apscheduler_logger
from monitor.daemon.politeness import Politeness
from monitor.daemon.runner import ProbeRunner
from monitor.errors import ConfigError
from monitor.store import Repository

__all__ = ["SHUTDOWN_GRACE", "CadenceTrigger", "Daemon"]  # CadenceTrigger: from monitor.daemon.jobs

log = logging.getLogger(__name__)

#: Seconds probes in flight get to finish after SIGTERM before they are cancelled; with the
#: steps after it (cancel, recordings, flush, close) the whole stop stays under 30 s.
SHUTDOWN_GRACE = 12.0
_CANCEL_WAIT = 3.0
_RECORDING_WAIT = 5.0
_FLUSH_WAIT = 4.0
_CLOSE_WAIT = 4.0


class AfterProbes(Protocol):
    """Work the daemon starts after each recorded probe without waiting for it (the status
    page, :class:`monitor.publish.refresh.SiteRefresher`); closed at shutdown."""

    def poke(self) -> None: ...

    async def aclose(self) -> None: ...


class Daemon:
    """``monitor run``: everything between the config and the database, for months."""

    def __init__(
        self,
        config: Config,
        repository: Repository,
        *,
        node: str,
        reload_config: Callable[[], Config],
        once: bool = False,
        components: Components | None = None,
        publisher: AfterProbes | None = None,
        cluster_url: str | None = None,
    ) -> None:
        self.config = config
        self._repository = repository
        self._node = node
        self._reload_config = reload_config
        self._once = once
        parts = components or Components.default(config, repository, node)
        self._engines = parts.engines
        # Given components keep their dispatcher; our own is rebuilt for new channels.
        remake = None if components is not None else lambda c: make_dispatcher(repository, c, node)
        self._notifying = NotificationLoop(parts.dispatcher, remake)
        self._publisher = publisher
        settings = config.settings
        self.politeness = Politeness(
            per_host_concurrency=settings.politeness.per_host_concurrency,
            per_host_min_gap=settings.politeness.per_host_min_gap.total_seconds(),
        )
        self._guard = OwnFaultGuard(
            check=connectivity_check_for(config.settings), window=guard_window(config)
        )
        self._health = HealthReporter(repository, config, node, per_node=cluster_url is not None)
        self.runner = ProbeRunner(
            repository=repository,
            config=config,
            politeness=self.politeness,
            guard=self._guard,
            health=self._health,
            engines=parts.engines,
            node=node,
            observe=parts.observe,
            record=parts.record,
        )
        self._scheduler = AsyncIOScheduler(timezone=UTC, logger=apscheduler_logger())
        self._overruns = Overruns()
        self._overruns.watch(self._scheduler)
        self._targets: dict[str, Target] = {}
        self._triggers: dict[str, CadenceTrigger] = {}
        self._running: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self._hurry = False
        self._reload_requested = False
        self._wake = asyncio.Event()
        self._housekeeping = Housekeeping(repository, node, started_at=datetime.now(UTC))
        self._fleet: FleetSchedule | None = None
        if cluster_url is not None and not once:
            self._fleet = FleetSchedule(self, repository, cluster_url, node)
            self.politeness.fleet = self._fleet.host_locks

    # -- signals: flags only ---------------------------------------------------------------

    def request_stop(self) -> None:
        """SIGTERM/SIGINT: stop (a second one skips the grace period)."""
        if self._stopping:
            self._hurry = True
        self._stopping = True
        self._wake.set()
        self._notifying.stop()

    def request_reload(self) -> None:
        """SIGHUP: reload the config at the next turn of the main loop."""
        self._reload_requested = True
        self._wake.set()

    # -- main ------------------------------------------------------------------------------

    async def run(self) -> int:
        """Run until stopped (or one round with ``once``); returns the exit code."""
        loop = asyncio.get_running_loop()
        install_signals(loop, stop=self.request_stop, reload=self.request_reload)
        dispatching = asyncio.create_task(self._notifying.run(), name="dispatch")
        try:
            self._log_start()
            await self._housekeeping.beat()
            if self._once:
                await self._run_once()
            else:
                self._build_jobs()
                if self._fleet is not None:
                    await self._fleet.start()
                else:
                    self._scheduler.start()
                await self._main_loop()
        finally:
            await self._shutdown(dispatching)
            remove_signals(loop)
        return 0

    async def _main_loop(self) -> None:
        period = heartbeat_period(smallest_interval(self.config)).total_seconds()
        while not self._stopping:
            if self._reload_requested:
                self._reload_requested = False
                await self._reload()
                period = heartbeat_period(smallest_interval(self.config)).total_seconds()
            await self._housekeeping.beat()
            await self._housekeeping.tidy(self.config.settings.evidence_dir)
            await wait_for_event(self._wake, period)

    async def _run_once(self) -> None:
        """``--once``: every target whose turn it could be (active hours, no back-off), now."""
        now = datetime.now(UTC)
        jobs = []
        for target in self.config.targets():
            trigger = self._trigger_for(target)
            hours = target.active_hours
            if hours is not None and not hours.contains(now.astimezone(self.config.settings.tz)):
                log.info("%s: outside its active hours %s, not probed", target.id, hours)
                continue
            if trigger.not_before is not None and trigger.not_before > now:
                log.info("%s: backing off until %s", target.id, trigger.not_before.isoformat())
                continue
            self._targets[target.id] = target
            self._triggers[target.id] = trigger
            jobs.append(self._job(target.id))
        await asyncio.gather(*jobs)
        await self._notifying.once()

    # -- jobs ------------------------------------------------------------------------------

    def _trigger_for(self, target: Target) -> CadenceTrigger:
        cadence = Cadence.of(target.id, target.interval, target.jitter)
        return CadenceTrigger(
            cadence, target.active_hours, self.config.settings.tz, self.runner.not_before(target.id)
        )

    def _build_jobs(self) -> None:
        """One in-memory job per enabled target, replacing whatever was there."""
        self._scheduler.remove_all_jobs()
        self._targets = {target.id: target for target in self.config.targets()}
        self._triggers = {}
        for target in self._targets.values():
            trigger = self._trigger_for(target)
            self._triggers[target.id] = trigger
            if self._fleet is not None:
                continue  # the fleet's tick schedules from self.config
            self._scheduler.add_job(
                self._job,
                trigger=trigger,
                args=[target.id],
                id=target.id,
                name=target.id,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=misfire_grace(target.interval),
                replace_existing=True,
            )
        if not self._targets:
            log.warning("%s has no enabled target: the daemon only beats", self.config.source)
        warn_about_host_budgets(self.config)

    def target(self, target_id: str) -> Target | None:
        """The enabled target with this id in the current config, or None (a dict lookup:
        resolving every target per probe made one fleet node's CPU per probe grow with the
        number of targets)."""
        return self._targets.get(target_id)

    async def run_slot(self, target_id: str, slot: datetime) -> None:
        """One run of one target for a slot given by the fleet (cluster mode's probe job)."""
        await self._job(target_id, slot)

    async def _job(self, target_id: str, slot: datetime | None = None) -> None:
        """One run of one target (an APScheduler job, a --once probe, a fleet job)."""
        target = self._targets.get(target_id)
        trigger = self._triggers.get(target_id)
        if target is None or trigger is None or self._stopping:
            return
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            now = datetime.now(UTC)
            paused = self.politeness.paused_for(target.host)
            if paused > 0:
                log.debug("%s: host %s paused for %.0fs more", target_id, target.host, paused)
                self._set_not_before(target_id, now + timedelta(seconds=paused))
                return
            result = await self.runner.run(target, slot or trigger.cadence.slot_of(now))
            self._notifying.poke()
            if self._publisher is not None and result.outcome is not None:
                self._publisher.poke()
            if result.not_before != trigger.not_before:
                self._set_not_before(target_id, result.not_before)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # The stop cancels runs on purpose (a recording already begun completes,
            # shielded); APScheduler would log the cancellation as a crash with a traceback.
            log.debug("%s: run cancelled by the stop", target_id)
        finally:
            self._running.discard(task)
            self._overruns.ended(target_id)

    def _set_not_before(self, target_id: str, not_before: datetime | None) -> None:
        trigger = self._triggers.get(target_id)
        if trigger is None:
            return
        trigger.not_before = not_before
        # A later not_before moves the already computed next run; an earlier (or none)
        # cannot be earlier than it, so nothing to move then.
        if not_before is not None and self._scheduler.running:
            job = self._scheduler.get_job(target_id)
            if job is not None:
                job.reschedule(trigger=trigger)

    async def _reload(self) -> None:
        """SIGHUP: validate the new config first; on error keep the running one."""
        try:
            config = await asyncio.to_thread(self._reload_config)
        except ConfigError as error:
            log.error("config not reloaded, keeping the running one: %s", error)
            return
        except Exception as error:
            log.error("config not reloaded, keeping the running one: %s", error, exc_info=True)
            return
        old = self.config.settings
        old_channels = self.config.channels
        new = config.settings
        for name in ("database", "cluster", "user_agent", "browser", "evidence_dir"):
            if getattr(old, name) != getattr(new, name):
                log.warning("settings.%s changed: it takes effect at the next restart", name)
        self.config = config
        self.runner.config = config
        self.politeness.configure(
            per_host_concurrency=new.politeness.per_host_concurrency,
            per_host_min_gap=new.politeness.per_host_min_gap.total_seconds(),
        )
        self._guard.reconfigure(
            check=connectivity_check_for(config.settings), window=guard_window(config)
        )
        self._health.configure(config)
        if config.channels != old_channels:
            await self._notifying.reconfigure(config, _CLOSE_WAIT)
        self._build_jobs()
        log.info("config reloaded from %s: %d targets", config.source, len(self._targets))

    # -- stop ------------------------------------------------------------------------------

    async def _shutdown(self, dispatching: asyncio.Task[None]) -> None:
        self._stopping = True
        self._notifying.stop()
        if self._scheduler.running:
            self._scheduler.pause()  # no new runs; shutdown() would cancel the running ones
        if self._fleet is not None:
            self._fleet.stop_taking_jobs()
        running = set(self._running)
        # Runs still waiting for a politeness slot have not touched a site: no grace.
        for task in running - self.runner.in_flight:
            task.cancel()
        talking = running & self.runner.in_flight
        if talking and not self._hurry:
            log.info("stopping: waiting up to %.0fs for %d probes", SHUTDOWN_GRACE, len(talking))
            await wait_or_hurry(talking, SHUTDOWN_GRACE, lambda: self._hurry)
        leftover = {task for task in running if not task.done()}
        for task in leftover:
            task.cancel()
        if leftover:
            log.info("stopping: cancelled %d runs (no row written for them)", len(leftover))
            await asyncio.wait(leftover, timeout=_CANCEL_WAIT)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._fleet is not None:
            await self._fleet.close(_CANCEL_WAIT)
        if self.runner.recordings:
            await asyncio.wait(set(self.runner.recordings), timeout=_RECORDING_WAIT)
        await finish(dispatching)
        try:
            await asyncio.wait_for(self._notifying.once(), timeout=_FLUSH_WAIT)
        except Exception as error:  # TimeoutError included: best effort at exit
            log.warning("pending notifications not all flushed at exit: %r", error)
        for part in (self._notifying, self._engines, self._publisher):
            await close_within(part, _CLOSE_WAIT)
        await self._housekeeping.anchor(self.config.settings.evidence_dir, datetime.now(UTC))
        if self._fleet is not None:
            await self._housekeeping.leave()  # a fleet node gone cleanly is no longer "live"
        log.info("stopped")

    def _log_start(self) -> None:
        log.info(
            "daemon started on %s (pid %d, version %s): %d targets, %s",
            self._node,
            os.getpid(),
            __version__,
            len(self.config.targets()),
            "one round" if self._once else "until SIGTERM",
        )
