"""One scheduled probe, from its claim row to its back-off: the daemon's unit of work.

    claim (target, slot) ──► host slot + global slot ──► observe (through the gate)
        ──► own-fault guard ──► record (one transaction) ──► health, metrics, back-off

* A probe cancelled before recording writes nothing. Once recording has started it runs
  to its end in a worker thread even if the probe is cancelled (it is one transaction, so
  there is never a half-written row either way); shutdown waits for such threads.
* Any exception is contained here: logged at ERROR with its traceback, and recorded as
  ``monitor_error``/``internal`` when the database still works. The daemon goes on.
* The database itself unavailable (a server restarting, an SQLite file locked by another
  program past the busy timeout) is a state, not a bug: one line per run, no traceback. A
  run that could not claim its slot is "not made" (WARNING); a probe whose outcome could not
  be written is "not recorded" (ERROR: that attempt is lost). Runs resume with the database.
* Database calls run in worker threads: SQLite may wait up to its busy timeout for the
  write lock, and evidence files are fsynced; neither may stall the event loop.
* ``probe_timeout`` bounds the probe's own work, not the time the politeness gate holds
  its requests back: :func:`monitor.attempt.probe.observe` stops its deadline while a request waits
  at the gate it is given (the ticket's), so the runner passes the setting as it is.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.alerts.policy import backoff_delay
from monitor.attempt.probe import failed
from monitor.attempt.record import Record
from monitor.config import Config, Target
from monitor.daemon import metrics
from monitor.daemon.clock import SYSTEM_CLOCK, Clock
from monitor.daemon.components import EngineSet, Observe
from monitor.daemon.health import HealthReporter, OwnFaultGuard, is_network_failure
from monitor.daemon.politeness import Politeness, ProbeTicket, parse_retry_after
from monitor.domain import (
    Detail,
    Finding,
    Observation,
    Outcome,
    Reason,
    Status,
    TargetState,
)
from monitor.errors import DatabaseError, MonitorError
from monitor.platforms.common import RETRY_AFTER_STATUSES
from monitor.store import Recorded
from monitor.store.ports import Ledger

__all__ = ["DEFAULT_RETRY_AFTER", "ProbeRunner", "RunResult"]

log = logging.getLogger(__name__)

#: Pause of a host answering 429/503 without a readable Retry-After (see _Refusal).
DEFAULT_RETRY_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class RunResult:
    """What the scheduler needs back from one run."""

    outcome: Outcome | None  #: None: not probed (claimed elsewhere) or not recorded
    not_before: datetime | None = None  #: back-off / Retry-After: no run before this


class ProbeRunner:
    """Runs probes for the daemon, sharing one politeness gate, guard and engine set."""

    def __init__(
        self,
        *,
        repository: Ledger,
        config: Config,
        politeness: Politeness,
        guard: OwnFaultGuard,
        health: HealthReporter,
        engines: EngineSet,
        node: str,
        observe: Observe,
        record: Record,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        """``clock``: the time of the runs, their records and their Retry-After pauses."""
        self._repository = repository
        self.config = config
        self._politeness = politeness
        self._guard = guard
        self._health = health
        self._engines = engines
        self._node = node
        self._observe = observe
        self._record = record
        self._clock = clock
        self._not_before: dict[str, datetime | None] = dict(repository.next_probes())
        self.recordings: set[asyncio.Future[Any]] = set()  #: for shutdown to wait on
        #: Runs that hold a politeness slot (talking to a site): shutdown gives them a grace
        #: period; runs still waiting for a slot are cancelled at once.
        self.in_flight: set[asyncio.Task[Any]] = set()
        self._host_pauses: dict[str, timedelta] = {}  #: target -> pause its last run caused

    def not_before(self, target_id: str) -> datetime | None:
        """The back-off remembered for a target (also across restarts)."""
        return self._not_before.get(target_id)

    async def run(self, target: Target, slot: datetime) -> RunResult:
        """Claim, probe and record one run of ``target``; raises only CancelledError.

        Exactly one outcome per probe: a crash before the recording records an ``internal``
        outcome instead; a crash after it (health, back-off) is only logged.
        """
        try:
            claimed = await asyncio.to_thread(
                self._repository.claim_probe, target.id, slot, self._node
            )
            if not claimed:
                log.debug("%s: slot %s claimed by another node", target.id, slot.isoformat())
                return RunResult(None, self._not_before.get(target.id))
            recorded, observation, verdict = await self._probe(target)
        except asyncio.CancelledError:
            raise
        except _NotRecorded as lost:
            log.error(
                "%s: probe started %s not recorded, the database is unavailable: %s",
                target.id,
                lost.started_at.isoformat(timespec="seconds"),
                lost.error,
            )
            return RunResult(None, self._not_before.get(target.id))
        except DatabaseError as error:
            log.warning(
                "%s: probe of slot %s not made, the database is unavailable: %s",
                target.id,
                slot.isoformat(timespec="seconds"),
                error,
            )
            return RunResult(None, self._not_before.get(target.id))
        except Exception as error:
            log.error("%s: probe crashed: %s", target.id, error, exc_info=True)
            return await self._record_crash(target, error)
        try:
            return await self._after(target, recorded, observation, verdict)
        except asyncio.CancelledError:
            raise
        except DatabaseError as error:
            log.warning("%s: recorded, but its back-off not saved: %s", target.id, error)
            return RunResult(recorded.outcome, self._not_before.get(target.id))
        except Exception as error:
            log.error("%s: after recording: %s", target.id, error, exc_info=True)
            return RunResult(recorded.outcome, self._not_before.get(target.id))

    async def _probe(self, target: Target) -> tuple[Recorded, Observation, Detail | None]:
        """Observe within the politeness limits, judge whose fault a failure is, record."""
        began = self._clock.monotonic()
        task = asyncio.current_task()
        assert task is not None  # always run as a task
        async with self._politeness.probe(target.host) as ticket:
            self.in_flight.add(task)
            try:
                observation = await self._observe_through(target, ticket)
            finally:
                self.in_flight.discard(task)
            # Paused before the host slot is given back, so no probe waiting for it can
            # slip a request in between.
            refused = _refusal(observation, self._clock.now())
            if refused is not None:
                self._pause_host(target, refused)
        verdict = await self._guard.judge(target.host, observation, target.id)
        if verdict is not None:
            observation = _network_down(observation, verdict)
        try:
            recorded = await self._store(target, observation)
        except DatabaseError as error:
            raise _NotRecorded(observation.started_at, error) from error
        outcome = recorded.outcome
        metrics.probe_recorded(outcome)
        log.debug(
            "%s: %s/%s in %.1fs (%d requests, %.1fs held by the gate)",
            target.id,
            outcome.status,
            outcome.reason,
            self._clock.monotonic() - began,
            ticket.requests,
            ticket.waited,
            extra={"target": target.id, "status": str(outcome.status)},
        )
        return recorded, observation, verdict

    async def _after(
        self,
        target: Target,
        recorded: Recorded,
        observation: Observation,
        verdict: Detail | None,
    ) -> RunResult:
        """Log the transition, report the monitor's health, set the back-off."""
        outcome, after = recorded.outcome, recorded.after
        _log_transition(target.id, recorded.before, after)
        if verdict is not None:
            await self._health.report(True, verdict)
        elif _site_answered(observation):
            await self._health.report(False, Detail("host_answered", {"host": target.host}))
        not_before = self._politeness_after(target, outcome, after)
        await self._remember_not_before(target.id, not_before)
        return RunResult(outcome, not_before)

    async def _observe_through(self, target: Target, ticket: ProbeTicket) -> Observation:
        """observe() through the ticket's gate, under ``probe_timeout``.

        observe's deadline starts once it has a session (waiting for a browser context is
        not the site's time) and stands still while the gate holds a request back.
        """
        started = self._clock.now()
        try:
            engine = await self._engines.get(target.engine)
        except MonitorError as error:  # e.g. no Chromium: the monitor's fault, recorded
            return failed(target, target.engine, error, at=started)
        timeout = self.config.settings.probe_timeout.total_seconds()
        return await self._observe(target, engine, timeout=timeout, gate=ticket.gate)

    async def _store(self, target: Target, observation: Observation) -> Recorded:
        """Record in a worker thread, shielded: once started, the transaction completes.

        The target's state before and after the outcome come back with it, as read and
        written in the recording's transaction: no other read of the state is needed.
        """
        future: asyncio.Future[Recorded] = asyncio.ensure_future(
            asyncio.to_thread(
                self._record,
                self._repository,
                target,
                observation,
                settings=self.config.settings,
                channels=self.config.channels,
                now=self._clock.now(),
                node=self._node,
            )
        )
        self.recordings.add(future)
        future.add_done_callback(self.recordings.discard)
        return await asyncio.shield(future)

    def _politeness_after(
        self, target: Target, outcome: Outcome, state: TargetState
    ) -> datetime | None:
        """The earliest next run: exponential back-off after anomalies, and Retry-After."""
        politeness = self.config.settings.politeness
        delay = backoff_delay(state, base=target.interval, maximum=politeness.backoff_max)
        not_before = outcome.finished_at + delay if delay > timedelta(0) else None
        pause = self._host_pauses.pop(target.id, None)
        if pause is not None:
            until = outcome.finished_at + pause
            not_before = until if not_before is None else max(not_before, until)
        return not_before

    def _pause_host(self, target: Target, refused: _Refusal) -> None:
        """Leave the host alone for its Retry-After (a default when unknown), capped."""
        cap = self.config.settings.politeness.backoff_max
        pause = min(refused.pause or DEFAULT_RETRY_AFTER, cap)
        self._politeness.pause(target.host, pause.total_seconds())
        self._host_pauses[target.id] = pause
        log.info(
            "%s: HTTP %s, host %s left alone for %ss%s",
            target.id,
            refused.status,
            target.host,
            int(pause.total_seconds()),
            "" if refused.pause is not None else " (no Retry-After readable: default)",
        )

    async def _remember_not_before(self, target_id: str, not_before: datetime | None) -> None:
        # Written only when it changes: a healthy target costs no write here.
        if self._not_before.get(target_id) != not_before:
            await asyncio.to_thread(self._repository.schedule_next_probe, target_id, not_before)
            self._not_before[target_id] = not_before

    async def _record_crash(self, target: Target, error: Exception) -> RunResult:
        now = self._clock.now()
        observation = Observation(
            target=target.id,
            engine=target.engine,
            url=target.url,
            started_at=now,
            finished_at=now,
            failure=Finding(
                Status.MONITOR_ERROR,
                Reason.INTERNAL,
                Detail("crashed", {"kind": type(error).__name__, "message": str(error)[:300]}),
            ),
        )
        try:
            outcome = (await self._store(target, observation)).outcome
        except asyncio.CancelledError:
            raise
        except Exception:
            log.error("%s: could not record the crash either", target.id, exc_info=True)
            return RunResult(None, self._not_before.get(target.id))
        metrics.probe_recorded(outcome)
        return RunResult(outcome, self._not_before.get(target.id))


class _NotRecorded(Exception):
    """A probe was made but its outcome could not be written: that attempt is lost."""

    def __init__(self, started_at: datetime, error: DatabaseError) -> None:
        super().__init__(str(error))
        self.started_at = started_at
        self.error = error


@dataclass(frozen=True)
class _Refusal:
    """A 429 or 503 answer, and the pause its Retry-After asks for (None: unknown)."""

    status: int
    pause: timedelta | None


def _refusal(observation: Observation, now: datetime | None = None) -> _Refusal | None:
    """The first 429/503 page of a probe, with the pause its Retry-After header asks for
    (an HTTP date counted from ``now``, the machine's time if not given)."""
    for page in observation.pages:
        if page.http_status in RETRY_AFTER_STATUSES:
            header = page.retry_after
            seconds = (
                None if header is None else parse_retry_after(header, now or datetime.now(UTC))
            )
            pause = None if seconds is None else timedelta(seconds=seconds)
            return _Refusal(page.http_status, pause)
    return None


def _site_answered(observation: Observation) -> bool:
    """Whether the probe reached the site (whatever it said): proof our network works."""
    failure = observation.failure
    if failure is None:
        return True
    return failure.status is not Status.MONITOR_ERROR and not is_network_failure(observation)


def _network_down(observation: Observation, detail: Detail) -> Observation:
    """The observation with its failure re-attributed to the monitor (not the site)."""
    failure = observation.failure
    seen = failure.detail if failure is not None else None
    return dataclasses.replace(
        observation,
        failure=Finding(
            Status.MONITOR_ERROR,
            Reason.NETWORK_DOWN,
            Detail("network_down", {"why": detail, "seen": seen}),
        ),
    )


def _log_transition(target_id: str, before: TargetState, after: TargetState) -> None:
    """One INFO line per change of a target's status or reason."""
    if (before.status, before.reason) == (after.status, after.reason):
        return
    old = f"{before.status}/{before.reason}" if before.status is not None else "never probed"
    log.info(
        "%s: %s → %s/%s",
        target_id,
        old,
        after.status,
        after.reason,
        extra={"target": target_id, "status": str(after.status), "reason": str(after.reason)},
    )
