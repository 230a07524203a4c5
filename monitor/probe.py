"""One probe: a target's platform flow run through an engine, within the probe timeout.

``observe`` never raises for anything the site or the engine does: every ending becomes an
``Observation``, with the final pages, or with a ``failure`` finding and the last page
reached (evidence of where it stopped):

    the flow returned                     pages: its final pages
    the whole probe took too long         anomaly/timeout
    ProbeError (timeout, connection,       that reason (status from SPEC's table)
      unrecognized element, …)
    MonitorFault (browser crash, …)       monitor_error with its reason
    any other exception (a bug)           monitor_error/internal naming the exception class

Cancellation (daemon shutdown) is not an outcome and goes through.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from monitor.config import Target
from monitor.domain import Engine, Finding, Observation, PageSnapshot, Reason, Status, status_of
from monitor.errors import MonitorError, MonitorFault, ProbeError
from monitor.platforms import ADAPTERS
from monitor.platforms.common import FlowOptions
from monitor.platforms.text import one_line
from monitor.probes.base import PageSession, ProbeEngine, RequestGate, no_gate

logger = logging.getLogger(__name__)

#: Longest wait for a client-rendered page to draw itself, and its share of the probe
#: timeout: a shell that never renders must end as empty_page well before the deadline.
RENDER_WAIT_MAX = 10.0
RENDER_WAIT_SHARE = 0.4


def _now() -> datetime:
    return datetime.now(UTC)


def failure_finding(exc: BaseException, *, timeout: float) -> Finding:
    """The finding for an exception that ended a probe (see the module docstring)."""
    if isinstance(exc, TimeoutError):
        return Finding(
            Status.ANOMALY,
            Reason.TIMEOUT,
            f"the probe did not finish within {timeout:g}s (settings.probe_timeout)",
        )
    if isinstance(exc, ProbeError):
        try:
            reason = Reason(exc.reason)
            status = status_of(reason)
        except ValueError:
            reason, status = Reason.INTERNAL, Status.MONITOR_ERROR
        if isinstance(exc, MonitorFault) and status is not Status.MONITOR_ERROR:
            reason, status = Reason.INTERNAL, Status.MONITOR_ERROR
        return Finding(status, reason, one_line(exc.detail))
    if isinstance(exc, MonitorError):  # e.g. BrowserNotFound: a one-line message already
        return Finding(Status.MONITOR_ERROR, Reason.INTERNAL, one_line(str(exc)))
    return Finding(
        Status.MONITOR_ERROR,
        Reason.INTERNAL,
        one_line(f"unexpected {type(exc).__name__} in the probe: {exc}"),
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
    free browser context is not counted against the site.
    """
    adapter = ADAPTERS[target.platform]
    options = FlowOptions(render_wait=min(RENDER_WAIT_MAX, timeout * RENDER_WAIT_SHARE))
    started = clock()
    pages: tuple[PageSnapshot, ...] = ()
    failure: Finding | None = None
    try:
        async with engine.session(gate=gate) as session:
            try:
                async with asyncio.timeout(timeout):
                    pages = await adapter.flow(session, target, options)
            except Exception as exc:
                failure = failure_finding(exc, timeout=timeout)
                pages = _last_page(session)
                _log_failure(target, failure, exc)
    except Exception as exc:  # the session itself could not be opened or closed
        if failure is None:
            failure = failure_finding(exc, timeout=timeout)
            _log_failure(target, failure, exc)
    return Observation(
        target=target.id,
        engine=engine.kind,
        url=target.url,
        started_at=started,
        finished_at=clock(),
        pages=pages,
        failure=failure,
    )


def _log_failure(target: Target, failure: Finding, exc: BaseException) -> None:
    if failure.reason is Reason.INTERNAL:
        logger.error("probe of %s failed on our side: %s", target.id, failure.detail, exc_info=exc)
    else:
        logger.debug("probe of %s ended early: %s/%s", target.id, failure.reason, failure.detail)
