"""The monitor's own health: the own-fault guard, its events, and the heartbeat.

**Own-fault guard.** A probe that failed at the network level (``connection`` or
``timeout``) is the site's fault unless the monitor's own network is the problem. It is
judged the monitor's (``monitor_error``/``network_down``) when

1. every URL of ``settings.connectivity_check`` fails (plain GETs through no politeness
   gate: these are not prefecture sites; any HTTP answer, even an error status, proves the
   network works). The check runs only when a probe fails at the network level, and its
   result is reused for ``CHECK_TTL`` seconds, so a healthy monitor never calls those
   sites and a broken one calls them at most twice a minute; or
2. there is no connectivity check (``connectivity_check: []``; when the check answers,
   the network works and the failure is the site's), and the latest probe of every target
   probed within the window (the longest interval of the config, and a half) failed at
   the network level, on at least two distinct hosts: with a single host, "the site is
   down" and "we are offline" cannot be told apart. Per target, not per host: many
   targets share a host (every rdv-service-public page), and one of them timing out while
   its neighbours answer is that page's fault; the first soak, judging each host by its
   latest probe, called the monitor offline four times an hour while it was not.

The first failures of an outage may be recorded as site anomalies before the pattern is
clear (rows are never rewritten); one alert needs ``anomaly_after`` of them in a row, so a
short outage does not cry wolf. :class:`HealthReporter` feeds the reports to
:func:`monitor.alerts.policy.apply_monitor_health` and stores the events: degraded for every
``network_down`` outcome, healthy for every probe a site answered. The one daemon of embedded
mode keeps its health under ``MONITOR_TARGET``; each node of a fleet keeps its own, under
:func:`monitor.domain.monitor_key`, so one node's recovery never closes another's
degradation. The events are MONITOR_TARGET's either way, their detail naming the node.

**Heartbeat.** The daemon writes a heartbeat row every :func:`heartbeat_period`;
``monitor status --heartbeat`` calls it stale when older than :func:`stale_after` (both in
monitor.daemon.heartbeat).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from monitor.alerts.policy import apply_monitor_health
from monitor.attempt.record import alert_policy, channels_for
from monitor.config import Config, Settings
from monitor.daemon import metrics
from monitor.daemon.heartbeat import (  # re-exported: the heartbeat's rule lives there
    heartbeat_is_stale,
    heartbeat_period,
    stale_after,
)
from monitor.details import record_line
from monitor.domain import NETWORK_REASONS, Detail, Event, Observation, Status, monitor_key
from monitor.store.ports import HealthRecords

__all__ = [
    "CHECK_TTL",
    "Connectivity",
    "HealthReporter",
    "OwnFaultGuard",
    "check_connectivity",
    "connectivity_check_for",
    "heartbeat_is_stale",
    "heartbeat_period",
    "is_network_failure",
    "stale_after",
]

log = logging.getLogger(__name__)

#: Seconds a connectivity result is reused.
CHECK_TTL = 30.0
#: Timeout of each connectivity GET: a working network answers well within it.
CHECK_TIMEOUT = 5.0


@dataclass(frozen=True)
class Connectivity:
    """The result of one connectivity check."""

    online: bool
    detail: Detail  #: which URL answered, or why each failed


async def check_connectivity(
    urls: Sequence[str], *, user_agent: str, timeout: float = CHECK_TIMEOUT
) -> Connectivity:
    """GET every URL at once; online as soon as one answers with any HTTP status."""
    if not urls:
        return Connectivity(True, Detail("connectivity_off"))
    async with httpx.AsyncClient(
        timeout=timeout, headers={"User-Agent": user_agent}, follow_redirects=False
    ) as client:

        async def one(url: str) -> Detail | None:
            try:
                response = await client.get(url)
            except httpx.HTTPError as exc:
                return Detail("unreachable_url", {"url": url, "kind": type(exc).__name__})
            return None if response.status_code else Detail("unreachable_url", {"url": url})

        failures = await asyncio.gather(*(one(url) for url in urls))
    errors = [failure for failure in failures if failure is not None]
    if len(errors) < len(urls):
        return Connectivity(True, Detail("connectivity_ok"))
    return Connectivity(False, Detail("connectivity_failed", {"failures": tuple(errors)}))


def connectivity_check_for(settings: Settings) -> Callable[[], Awaitable[Connectivity]] | None:
    """The check of ``settings.connectivity_check``; None when the list is empty (off)."""
    urls = tuple(settings.connectivity_check)
    if not urls:
        return None
    user_agent = settings.user_agent

    async def check() -> Connectivity:
        return await check_connectivity(urls, user_agent=user_agent)

    return check


def is_network_failure(observation: Observation) -> bool:
    """A probe that never got an answer from the site (connection or timeout)."""
    failure = observation.failure
    return (
        failure is not None
        and failure.status == Status.ANOMALY
        and failure.reason in NETWORK_REASONS
    )


class OwnFaultGuard:
    """Decides whether a network-level failure is the monitor's own (see module docstring).

    One instance per daemon; called from the event loop only.
    """

    def __init__(
        self,
        *,
        check: Callable[[], Awaitable[Connectivity]] | None,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        ttl: float = CHECK_TTL,
    ) -> None:
        self._check = check
        self.window = window
        self._clock = clock
        self._ttl = ttl
        self._last_check: tuple[float, Connectivity] | None = None
        self._check_lock = asyncio.Lock()
        #: (host, target) -> (monotonic time, failed at the network level)
        self._latest: dict[tuple[str, str], tuple[float, bool]] = {}

    def reconfigure(
        self, *, check: Callable[[], Awaitable[Connectivity]] | None, window: float
    ) -> None:
        """New settings after a reload; forgets the cached connectivity result."""
        self._check = check
        self.window = window
        self._last_check = None

    async def judge(
        self, host: str, observation: Observation, target: str | None = None
    ) -> Detail | None:
        """Note a probe's result; a detail line if its failure is the monitor's own fault.

        ``target`` names the probed target (one result kept per target; without it, per host).
        """
        failed = is_network_failure(observation)
        self._latest[(host, target or host)] = (self._clock(), failed)
        if not failed:
            return None
        if self._check is not None:
            connectivity = await self.connectivity()
            if connectivity.online:
                return None
            return Detail("own_network_down", {"check": connectivity.detail})
        if self.all_hosts_failing():
            return Detail("every_host_failing")
        return None

    async def connectivity(self) -> Connectivity:
        """The cached result of the connectivity check, refreshed when older than the TTL."""
        assert self._check is not None
        async with self._check_lock:  # concurrent failures share one check
            now = self._clock()
            if self._last_check is None or now - self._last_check[0] >= self._ttl:
                result = await self._check()
                self._last_check = (self._clock(), result)
                log.debug("connectivity: %s", record_line(result.detail))
            return self._last_check[1]

    def all_hosts_failing(self) -> bool:
        """Whether the latest probe of every recent target failed, on two hosts or more."""
        horizon = self._clock() - self.window
        recent = [
            (host, failed) for (host, _), (at, failed) in self._latest.items() if at >= horizon
        ]
        return len({host for host, _ in recent}) >= 2 and all(failed for _, failed in recent)


class HealthReporter:
    """Folds own-fault reports into this daemon's health state and stores its events.

    ``node`` is named in the events' detail; ``per_node`` (cluster mode) keeps the state under
    the node's own key instead of the single ``MONITOR_TARGET`` row of embedded mode.
    """

    def __init__(
        self,
        repository: HealthRecords,
        config: Config,
        node: str | None = None,
        *,
        per_node: bool = False,
    ) -> None:
        if per_node and node is None:
            raise ValueError("a per-node health state needs the node's name")
        self._repository = repository
        self._node = node
        self._lock = asyncio.Lock()
        self.key = monitor_key(node if per_node else None)  #: where the state is stored
        self.state = repository.get_state(self.key)
        self.configure(config)
        metrics.set_degraded(self.state.anomaly_open)

    def configure(self, config: Config) -> None:
        self._policy = alert_policy(config.settings)
        self._route = channels_for(config.channels)

    @property
    def degraded(self) -> bool:
        return self.state.anomaly_open

    async def report(self, degraded: bool, detail: Detail) -> list[Event]:
        """One report; healthy reports are skipped while there is nothing to recover from."""
        async with self._lock:
            state = self.state
            if not degraded and not state.anomaly_open and state.status is None:
                return []
            now = datetime.now(UTC)
            if self._node is not None:
                detail = Detail(detail.code, {**detail.args, "node": self._node})
            new, events = apply_monitor_health(
                state, degraded, policy=self._policy, now=now, detail=detail
            )
            stored = await asyncio.to_thread(
                self._repository.record_events, events, self._route, state=new, now=now
            )
            self.state = new
        for event in stored:
            log.log(
                logging.WARNING if degraded else logging.INFO,
                "monitor health: %s (%s)",
                event.kind.value,
                record_line(detail),
                extra={"event": event.kind.value},
            )
        metrics.set_degraded(new.anomaly_open)
        return stored
