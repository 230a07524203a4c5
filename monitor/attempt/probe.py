"""One probe: a target's platform flow run through an engine, within the probe timeout.

``observe`` never raises for anything the site or the engine does: every ending becomes an
``Observation``, with the final pages, or with a ``failure`` finding and the last page
reached (evidence of where it stopped):

    the flow returned                     pages: its final pages, and what each means
    the whole probe took too long         anomaly/timeout (time held at the gate not counted),
      (walking the pages or reading them)   recognition included
    ProbeError (timeout, connection,       that reason (its status: the contract's)
      unrecognized element, …)
    MonitorFault (browser crash, …)       monitor_error with its reason
    any other exception (a bug)           monitor_error/internal naming the exception class

Cancellation (daemon shutdown) is not an outcome and goes through.

Recognition is part of the probe: the final pages (or, when a step found no element, the
page it stopped on) are recognised in a worker thread under the same deadline, and the
observation carries the findings (:class:`~monitor.attempt.classify.Recognised`). A page
still being read when the deadline passes makes the probe ``anomaly/timeout`` on time and
its thread is abandoned; :mod:`monitor.platforms.worker` says why a thread and not a
subprocess. Every page a probe meets is parsed once (``parsing_scope``).

``probe_timeout`` measures the site's time, not the politeness gate's: while a request waits
at the gate (``per_host_min_gap``, a host paused by Retry-After) the deadline stands still
(:class:`_GateClock`). With a 15 s gap a four-request flow spends 45 s at the gate alone,
which must not read as the site timing out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from monitor.attempt.classify import Recognised, recognise_all
from monitor.config import Target
from monitor.domain import (
    Detail,
    Engine,
    Finding,
    Observation,
    PageSnapshot,
    Reason,
    Status,
    status_of,
)
from monitor.errors import MonitorError, MonitorFault, ProbeError
from monitor.platforms import ADAPTERS
from monitor.platforms.common import FlowOptions
from monitor.platforms.page import parsing_scope
from monitor.platforms.worker import off_loop
from monitor.probes.base import PageSession, ProbeEngine, RequestGate, no_gate
from monitor.text import one_line

logger = logging.getLogger(__name__)

#: Longest wait for a client-rendered page to draw itself, and its share of the probe
#: timeout: a shell that never renders must end as empty_page well before the deadline.
RENDER_WAIT_MAX = 10.0
RENDER_WAIT_SHARE = 0.4


def _now() -> datetime:
    return datetime.now(UTC)


def failure_finding(exc: BaseException, *, timeout: float, held: float = 0.0) -> Finding:
    """The finding for an exception that ended a probe (see the module docstring).

    ``held``: seconds the politeness gate held the probe's requests back (not counted in
    the timeout), named in a timeout's detail when there were any.
    """
    if isinstance(exc, TimeoutError):
        gate = round(held, 1) if held >= 0.05 else None
        return Finding(
            Status.ANOMALY,
            Reason.TIMEOUT,
            Detail("probe_timeout", {"seconds": timeout, "held": gate}),
        )
    if isinstance(exc, ProbeError):
        try:  # mypy holds our code to a Reason; a word from unchecked code is our fault
            reason = Reason(exc.reason)
            status = status_of(reason)
        except ValueError:
            reason, status = Reason.INTERNAL, Status.MONITOR_ERROR
        if isinstance(exc, MonitorFault) and status is not Status.MONITOR_ERROR:
            reason, status = Reason.INTERNAL, Status.MONITOR_ERROR
        return Finding(status, reason, exc.detail)
    if isinstance(exc, MonitorError):  # e.g. BrowserNotFound: a one-line message already
        return Finding(
            Status.MONITOR_ERROR, Reason.INTERNAL, Detail("fault", {"message": one_line(str(exc))})
        )
    return Finding(
        Status.MONITOR_ERROR,
        Reason.INTERNAL,
        Detail("unexpected", {"kind": type(exc).__name__, "message": one_line(str(exc))}),
    )


def failed(target: Target, engine: Engine, exc: BaseException, *, at: datetime) -> Observation:
    """An observation for a probe that could not even start (e.g. no Chromium)."""
    return Observation(
        target=target.id,
        engine=engine,
        url=target.url,
        started_at=at,
        finished_at=_now(),
        failure=failure_finding(exc, timeout=0),
    )


class _GateClock:
    """The probe's gate, wrapped so that its deadline stands still while requests wait there.

    While at least one request of the probe waits at the gate (the browser engine may pass
    several through it at once, from other tasks), the deadline is suspended; when the last
    one is let through, it is set again with the time that was left. Suspending, rather than
    pushing the deadline back by the wait once it is over, lets a single wait be longer than
    the whole timeout. Outside :meth:`governing` (before the deadline is entered, after it is
    left) the gate is passed through unchanged.
    """

    def __init__(self, gate: RequestGate) -> None:
        self._gate = gate
        self._deadline: asyncio.Timeout | None = None
        self._waiting = 0  #: requests at the gate now
        self._since = 0.0  #: loop time the first of them arrived
        self._left: float | None = None  #: seconds the suspended deadline had left
        self.held = 0.0  #: seconds with at least one request at the gate

    async def __call__(self, url: str) -> None:
        self._arrive()
        try:
            await self._gate(url)
        finally:
            self._leave()

    @contextmanager
    def governing(self, deadline: asyncio.Timeout) -> Iterator[None]:
        """Within this block, gate waits suspend ``deadline`` (an entered asyncio.timeout)."""
        self._deadline = deadline
        if self._waiting:  # a request already waits: the deadline starts suspended
            self._suspend()
        try:
            yield
        finally:
            self._deadline, self._left = None, None

    def _arrive(self) -> None:
        self._waiting += 1
        if self._waiting == 1:
            self._since = asyncio.get_running_loop().time()
            self._suspend()

    def _leave(self) -> None:
        self._waiting -= 1
        if self._waiting:
            return
        loop = asyncio.get_running_loop()
        self.held += loop.time() - self._since
        deadline, left, self._left = self._deadline, self._left, None
        if deadline is not None and left is not None and not deadline.expired():
            deadline.reschedule(loop.time() + max(0.0, left))

    def _suspend(self) -> None:
        deadline = self._deadline
        if deadline is None or deadline.expired():
            return
        when = deadline.when()
        if when is not None:
            self._left = when - asyncio.get_running_loop().time()
            deadline.reschedule(None)


def _last_page(session: PageSession) -> tuple[PageSnapshot, ...]:
    try:
        return (session.current(),)
    except Exception:  # no page was ever loaded
        return ()


async def observe(
    target: Target,
    engine: ProbeEngine,
    *,
    timeout: float,
    gate: RequestGate = no_gate,
    clock: Callable[[], datetime] = _now,
) -> Observation:
    """Probe ``target`` once with ``engine``; the flow runs under ``timeout`` seconds.

    The timeout starts once the engine has given a session, so time spent waiting for a
    free browser context is not counted against the site; nor is time its requests spend
    waiting at ``gate`` (the politeness gate), during which the deadline stands still.
    """
    started = clock()
    pages: tuple[PageSnapshot, ...] = ()
    findings: tuple[Finding, ...] = ()
    failure: Finding | None = None
    gate_clock = _GateClock(gate)
    with parsing_scope():
        try:
            async with engine.session(gate=gate_clock) as session:
                try:
                    async with asyncio.timeout(timeout) as deadline:
                        with gate_clock.governing(deadline):
                            pages, findings, stopped = await _walk_and_read(
                                target, session, timeout
                            )
                    if stopped is not None:  # a step found no element: the page may say why
                        failure = failure_finding(stopped, timeout=timeout)
                        _log_failure(target, failure, stopped)
                except Exception as exc:
                    failure = failure_finding(exc, timeout=timeout, held=gate_clock.held)
                    pages, findings = _last_page(session), ()
                    _log_failure(target, failure, exc)
        except Exception as exc:  # the session itself could not be opened or closed
            if failure is None:
                failure = failure_finding(exc, timeout=timeout)
                _log_failure(target, failure, exc)
    return Recognised(
        target=target.id,
        engine=engine.kind,
        url=target.url,
        started_at=started,
        finished_at=clock(),
        pages=pages,
        failure=failure,
        findings=findings,
    )


async def _walk_and_read(
    target: Target, session: PageSession, timeout: float
) -> tuple[tuple[PageSnapshot, ...], tuple[Finding, ...], ProbeError | None]:
    """The flow's final pages and what they mean, read off the event loop.

    A step that found no element (``unrecognized``) ends the walk on the page it stopped
    on, which is read too and returned with the error; any other exception goes through.
    """
    options = FlowOptions(render_wait=min(RENDER_WAIT_MAX, timeout * RENDER_WAIT_SHARE))
    stopped: ProbeError | None = None
    try:
        pages = await ADAPTERS[target.platform].flow(session, target, options)
    except ProbeError as exc:
        if exc.reason != Reason.UNRECOGNIZED:
            raise
        stopped, pages = exc, _last_page(session)
    findings = await off_loop(lambda: recognise_all(target, pages))
    return pages, findings, stopped


def _log_failure(target: Target, failure: Finding, exc: BaseException) -> None:
    if failure.reason is Reason.INTERNAL:
        logger.error("probe of %s failed on our side: %s", target.id, failure.detail, exc_info=exc)
    else:
        logger.debug("probe of %s ended early: %s/%s", target.id, failure.reason, failure.detail)
