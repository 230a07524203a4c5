"""The daemon: starts, supervises and stops the parts it is handed; reloads; one run's step.

Made of small steps, as healthchecks' ``sendalerts``: a main loop that beats, reloads when
asked and sleeps; a :class:`monitor.daemon.schedule.Schedule` that calls :meth:`Daemon.run_slot`
for each run, whose step is :meth:`ProbeRunner.run`; a dispatch loop that sends due
notifications (:mod:`monitor.daemon.notifying`); signal handlers that only set flags. The
parts are built by :mod:`monitor.daemon.compose`; ``Daemon`` builds none of them.

Scheduling (times computed by :mod:`monitor.daemon.cadence`): each target gets a
:class:`CadenceTrigger` (its own grid, offset and jitter; ``active_hours``; a ``not_before``
for back-off and ``Retry-After``), handed to the schedule at start and on SIGHUP; never two
runs of one target at once, and missed runs collapse into at most one (see
:mod:`monitor.daemon.jobs` and :mod:`monitor.daemon.cluster`). A ``learned`` target's trigger
follows its week plan (:mod:`monitor.daemon.plans`), recomputed at start, after SIGHUP and
once a local day, in a thread. Jobs live in memory; what
must survive a restart is in the database (back-off times, claims, states).

Supervision, as procrastinate's worker: a part's task (the dispatch loop, the schedule)
that ends before the stop, or raises, stops the daemon with one ERROR line naming the part
and its exception, and :meth:`Daemon.run` returns 1, a runtime failure
(docs/contract.md#exit-codes).

Shutdown (SIGTERM/SIGINT), within 30 s: the schedule stops taking work, probes in flight
get ``SHUTDOWN_GRACE`` seconds to finish, the rest are cancelled (a cancelled probe writes
no row; a recording already under way completes, being one transaction), pending
notifications are flushed for a few seconds, the engines (Chromium) are closed.
A second signal skips the grace.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, Protocol

from monitor import __version__
from monitor.assist.desk import AssistDesk
from monitor.config import Config, Target
from monitor.daemon.cadence import Cadence
from monitor.daemon.clock import SYSTEM_CLOCK, Clock
from monitor.daemon.components import CurrentConfig, EngineSet
from monitor.daemon.health import HealthReporter, OwnFaultGuard, connectivity_check_for
from monitor.daemon.heartbeat import heartbeat_period, smallest_interval
from monitor.daemon.housekeeping import Housekeeping
from monitor.daemon.jobs import (
    CadenceTrigger,
    guard_window,
    warn_about_host_budgets,
)
from monitor.daemon.lifecycle import (
    close_within,
    end_within,
    finish,
    install_signals,
    remove_signals,
    wait_for_event,
    wait_or_hurry,
)
from monitor.daemon.notifying import NotificationLoop
from monitor.daemon.plans import PlanBook
from monitor.daemon.politeness import Politeness
from monitor.daemon.runner import ProbeRunner
from monitor.daemon.schedule import Schedule
from monitor.errors import ConfigError

__all__ = ["SHUTDOWN_GRACE", "AfterProbes", "CadenceTrigger", "Daemon"]  # CadenceTrigger: jobs

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
    page, :class:`monitor.publish.refresh.SiteRefresher`); closed at shutdown, and run
    once more at the end of a ``--once`` round."""

    def poke(self) -> None: ...

    def publish_now(self) -> None: ...

    async def aclose(self) -> None: ...


class Served(Protocol):
    """A web application the daemon serves in its loop (the operator console,
    :class:`monitor.console.server.ConsoleServer`): started before the work it acts on,
    stopped before that work closes."""

    @property
    def url(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Daemon:
    """``monitor run``: everything between the config and the database, for months."""

    def __init__(
        self,
        *,
        config: CurrentConfig,
        reload_config: Callable[[], Config],
        node: str,
        runner: ProbeRunner,
        politeness: Politeness,
        guard: OwnFaultGuard,
        health: HealthReporter,
        housekeeping: Housekeeping,
        notifying: NotificationLoop,
        engines: EngineSet,
        schedule: Schedule,
        publisher: AfterProbes | None = None,
        plans: PlanBook | None = None,
        desk: AssistDesk | None = None,
        console: Served | None = None,
        clock: Clock = SYSTEM_CLOCK,
        once: bool = False,
    ) -> None:
        """``config`` is updated on reload; ``once``: one round (``--once``), no schedule;
        ``desk``: the assisted sessions (None: no ``assist: true`` target)."""
        self._current = config
        self._reload_config = reload_config
        self._node = node
        self.runner = runner
        self.politeness = politeness
        self.guard = guard
        self.health = health
        self._housekeeping = housekeeping
        self._notifying = notifying
        self._engines = engines
        self._schedule = schedule
        self.publisher = publisher
        self.plans = plans
        #: The assisted sessions the operator console acts on (docs/contract.md#assisted-sessions).
        self.desk = desk
        #: The operator console over the desk (docs/contract.md#assisted-sessions).
        self.console = console
        self._clock = clock
        self._once = once
        self._targets: dict[str, Target] = {}
        self._triggers: dict[str, CadenceTrigger] = {}
        self._running: set[asyncio.Task[Any]] = set()
        self._parts: dict[str, asyncio.Task[None]] = {}  #: supervised, by name
        self._failed = False
        self._stopping = False
        self._hurry = False
        self._reload_requested = False
        self._wake = asyncio.Event()

    @property
    def config(self) -> Config:
        """The config in force (the latest one reloaded)."""
        return self._current.value

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
        self._start_part("dispatch", self._notifying.run())
        try:
            self._log_start()
            await self._housekeeping.beat()
            if self._once:
                await self._supervise(self._run_once())
            else:
                if self.plans is not None:
                    await self.plans.refresh(self.config)
                self._build_jobs()
                await self._schedule.start(self)
                self._start_part("schedule", self._schedule.run())
                if self.console is not None:  # before the desk: its asks carry the address
                    await self.console.start()
                if self.desk is not None:
                    await self.desk.start()
                await self._supervise(self._main_loop())
        finally:
            await self._shutdown()
            remove_signals(loop)
        return 1 if self._failed else 0

    def _start_part(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        self._parts[name] = asyncio.create_task(work, name=name)

    async def _supervise(self, main: Coroutine[Any, Any, None]) -> None:
        """Run ``main`` while watching the parts: one that ends before the stop, or raises,
        stops the daemon (one ERROR line naming it); ``main``'s own exception propagates."""
        task = asyncio.create_task(main, name="main")
        watched = dict(self._parts)
        try:
            while not task.done():
                done, _ = await asyncio.wait(
                    {task, *watched.values()}, return_when=asyncio.FIRST_COMPLETED
                )
                for name, part in list(watched.items()):
                    if part in done:
                        del watched[name]
                        self._ended(name, part)
        finally:
            if not task.done():
                task.cancel()
        task.result()

    def _ended(self, name: str, part: asyncio.Task[None]) -> None:
        """A supervised part's task ended: fine during the stop, else the daemon dies."""
        error = None if part.cancelled() else part.exception()
        if self._stopping and error is None:
            return
        del self._parts[name]  # said here; the shutdown does not say it again
        if error is not None:
            log.error("%s died, stopping the daemon: %r", name, error, exc_info=error)
        else:
            log.error("%s ended unexpectedly, stopping the daemon", name)
        self._failed = True
        self.request_stop()

    async def _main_loop(self) -> None:
        period = heartbeat_period(smallest_interval(self.config)).total_seconds()
        while not self._stopping:
            if self._reload_requested:
                self._reload_requested = False
                await self._reload()
                period = heartbeat_period(smallest_interval(self.config)).total_seconds()
            await self._housekeeping.beat()
            await self._housekeeping.tidy(self.config.settings.evidence_dir)
            if self.plans is not None and await self.plans.refresh_daily(self.config):
                self._build_jobs()
            await wait_for_event(self._wake, period, self._clock.sleep)

    async def _run_once(self) -> None:
        """``--once``: every target whose turn it could be (active hours, no back-off), now."""
        now = self._clock.now()
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
        plan = None if self.plans is None else self.plans.plan(target)
        floor = None
        old = self._triggers.get(target.id)
        if plan is not None and old is not None and old.last_fire is not None:
            floor = old.last_fire + target.min_interval  # a new plan: min_interval still holds
        return CadenceTrigger(
            cadence,
            target.active_hours,
            self.config.settings.tz,
            self.runner.not_before(target.id),
            plan=plan,
            floor=floor,
        )

    def _build_jobs(self) -> None:
        """One trigger per enabled target, handed to the schedule (replacing its jobs)."""
        self._targets = {target.id: target for target in self.config.targets()}
        self._triggers = {target.id: self._trigger_for(target) for target in self._targets.values()}
        self._schedule.rebuild(self._triggers)
        if not self._targets:
            log.warning("%s has no enabled target: the daemon only beats", self.config.source)
        warn_about_host_budgets(self.config)

    def target(self, target_id: str) -> Target | None:
        """The enabled target with this id in the current config, or None (a dict lookup:
        resolving every target per probe made one fleet node's CPU per probe grow with the
        number of targets)."""
        return self._targets.get(target_id)

    async def run_slot(self, target_id: str, slot: datetime | None) -> None:
        """One run of one target (a scheduled job; ``slot`` None: the one its grid is in)."""
        await self._job(target_id, slot)

    async def _job(self, target_id: str, slot: datetime | None = None) -> None:
        """One run of one target (a scheduled job, a --once probe)."""
        target = self._targets.get(target_id)
        trigger = self._triggers.get(target_id)
        if target is None or trigger is None or self._stopping:
            return
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            if target.assist and self.desk is not None and await self.desk.skips(target_id):
                # A session holds the target: its reads are the target's probes.
                log.debug("%s: in an assisted session, the ordinary probe skipped", target_id)
                return
            now = self._clock.now()
            paused = self.politeness.paused_for(target.host)
            if paused > 0:
                log.debug("%s: host %s paused for %.0fs more", target_id, target.host, paused)
                self._set_not_before(target_id, now + timedelta(seconds=paused))
                return
            result = await self.runner.run(target, slot or trigger.slot_of(now))
            self._notifying.poke()
            if self.publisher is not None and result.outcome is not None:
                self.publisher.poke()
            if result.not_before != trigger.not_before:
                self._set_not_before(target_id, result.not_before)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # The stop cancels runs on purpose (a recording already begun completes,
            # shielded); a schedule would log the cancellation as a crash with a traceback.
            log.debug("%s: run cancelled by the stop", target_id)
        finally:
            self._running.discard(task)

    def _set_not_before(self, target_id: str, not_before: datetime | None) -> None:
        trigger = self._triggers.get(target_id)
        if trigger is None:
            return
        trigger.not_before = not_before
        # A later not_before moves the already computed next run; an earlier (or none)
        # cannot be earlier than it, so nothing to move then.
        if not_before is not None:
            self._schedule.move(target_id, trigger)

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
        for name in ("database", "cluster", "user_agent", "browser", "evidence_dir", "console"):
            if getattr(old, name) != getattr(new, name):
                log.warning("settings.%s changed: it takes effect at the next restart", name)
        self._current.value = config
        self.runner.config = config
        self.politeness.configure(
            per_host_concurrency=new.politeness.per_host_concurrency,
            per_host_min_gap=new.politeness.per_host_min_gap.total_seconds(),
        )
        self.guard.reconfigure(
            check=connectivity_check_for(config.settings), window=guard_window(config)
        )
        self.health.configure(config)
        if config.channels != old_channels:
            await self._notifying.reconfigure(config, _CLOSE_WAIT)
        if self.plans is not None:
            await self.plans.refresh(config)
        self._build_jobs()
        if self.desk is not None:
            await self.desk.reconfigure(config)
        elif any(target.assist for target in config.targets()):
            log.warning("assist: true takes effect at the next restart")
        log.info("config reloaded from %s: %d targets", config.source, len(self._targets))

    # -- stop ------------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        self._stopping = True
        self._notifying.stop()
        self._schedule.stop_taking_work()
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
        scheduling = self._parts.pop("schedule", None)
        if scheduling is not None:
            await end_within(scheduling, _CANCEL_WAIT)
        await self._schedule.close()
        if self.runner.recordings:
            await asyncio.wait(set(self.runner.recordings), timeout=_RECORDING_WAIT)
        if self.console is not None:  # no one acts on the desk any more
            try:
                await asyncio.wait_for(self.console.stop(), timeout=_CLOSE_WAIT)
            except Exception as error:  # TimeoutError included: best effort at exit
                log.warning("stopping the operator console failed: %r", error)
        if self.desk is not None:  # sessions end "stopped", their contexts closed
            await close_within(self.desk, _CLOSE_WAIT)
        for part in self._parts.values():
            await finish(part)
        try:
            await asyncio.wait_for(self._notifying.once(), timeout=_FLUSH_WAIT)
        except Exception as error:  # TimeoutError included: best effort at exit
            log.warning("pending notifications not all flushed at exit: %r", error)
        for closing in (self._notifying, self._engines, self.publisher):
            await close_within(closing, _CLOSE_WAIT)
        await self._housekeeping.anchor(self.config.settings.evidence_dir, self._clock.now())
        # Gone cleanly, so not live: the next daemon starts at once, whatever its host name.
        await self._housekeeping.leave()
        log.info("stopped")
        if self._once and self.publisher is not None:
            # The round's last probes may have come within the publisher's gap.
            await asyncio.to_thread(self.publisher.publish_now)

    def _log_start(self) -> None:
        log.info(
            "daemon started on %s (pid %d, version %s): %d targets, %s",
            self._node,
            os.getpid(),
            __version__,
            len(self.config.targets()),
            "one round" if self._once else "until SIGTERM",
        )
