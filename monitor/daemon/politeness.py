"""The politeness gate: how hard the monitor may press on each public site.

Three limits, all enforced here and nowhere else:

* **Probes in flight per host** (``settings.politeness.per_host_concurrency``): a probe takes
  a slot of its target's host before it starts and holds it for its whole duration, so the
  site never sees more than that many of our sessions at once.
* **Gap between request starts per host** (``per_host_min_gap``): every request a probe
  makes calls the :data:`~monitor.probes.base.RequestGate` first (redirect hops, form posts
  and AJAX calls included; the browser engine at least for navigations and form posts).
  The gate lets a request start only ``per_host_min_gap`` after the previous request to
  the same host started, whichever probe made it. Requests are keyed by the host of their
  own URL, so a redirect to another host waits for that host.
* **Probes in flight in total** (:data:`DEFAULT_MAX_PROBES`, no setting): a ceiling on the
  monitor's own load (sockets, memory, evidence writes). Browser contexts have their own
  ceiling, ``settings.browser.max_contexts``, applied by the browser engine.

In cluster mode (:attr:`Politeness.fleet`), the first two limits also hold for the fleet as
a whole, through PostgreSQL advisory locks (:mod:`monitor.store.host_locks`): a probe holds a
fleet slot of its host besides its local one, and each request takes the host's fleet-wide
turn after its local one.

And a **pause per host** until a time given by ``Retry-After`` (429, 503): the gate holds
requests to that host until then, and the scheduler skips the host's runs meanwhile.

Waiting is FIFO: slots are handed to waiters in arrival order, and waiters for the gap queue
on one lock, so no target starves. Times are ``time.monotonic()`` seconds (a wall-clock jump
neither releases nor freezes a host). Limits can be changed while probes run (SIGHUP).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from monitor.probes.base import RequestGate

if TYPE_CHECKING:
    from monitor.store.host_locks import HostLocks

__all__ = [
    "DEFAULT_MAX_PROBES",
    "Politeness",
    "ProbeTicket",
    "host_of",
    "parse_retry_after",
]

#: Probes in flight at once over all hosts. Not a setting: per-host limits are what
#: politeness is about; this only bounds the monitor's own resources.
DEFAULT_MAX_PROBES = 8


def host_of(url: str) -> str:
    """The politeness key of a URL: its lowercase ``host[:port]`` (as ``Target.host``)."""
    return urlsplit(url).netloc.rsplit("@", 1)[-1].lower()


#: The longest Retry-After read, in seconds (a year; ``backoff_max`` caps the pause anyway).
RETRY_AFTER_LIMIT = 366 * 24 * 3600


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    None when the value is neither; 0 for a date in the past. The site chooses the value:
    only ASCII digits count (``²`` is a digit to ``str.isdigit``, not to ``int``), and it is
    capped at :data:`RETRY_AFTER_LIMIT`, so that no value overflows a ``timedelta``.
    """
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(min(int(text[:20]), RETRY_AFTER_LIMIT))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # RFC 9110 dates are GMT
    return min(max(0.0, (when - now).total_seconds()), float(RETRY_AFTER_LIMIT))


class _Slots:
    """A counter with a resizable limit and FIFO hand-off (an asyncio.Semaphore cannot be
    resized, and its waiters can be overtaken by newcomers)."""

    def __init__(self, limit: Callable[[], int]) -> None:
        self._limit = limit
        self.count = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.count < self._limit() and not self._waiters:
            self.count += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # woken with the slot already counted for us
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed over just as we were cancelled: pass it on
            elif waiter in self._waiters:  # wake() may have dropped it already
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        """Synchronous, so that a ``finally`` of a cancelled probe always runs it whole."""
        self.count -= 1
        self.wake()

    def wake(self) -> None:
        while self._waiters and self.count < self._limit():
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.count += 1
                waiter.set_result(None)

    @property
    def waiting(self) -> int:
        return len(self._waiters)


@dataclass(eq=False)
class _Host:
    slots: _Slots
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_start: float | None = None  #: monotonic start of the latest request let through
    paused_until: float = 0.0  #: monotonic; Retry-After
    requests: int = 0  #: requests let through, for metrics and tests


@dataclass
class ProbeTicket:
    """One probe's pass: its gate, and how long the gate held its requests back."""

    host: str
    gate: RequestGate
    waited: float = 0.0  #: seconds spent waiting at the gate (not the slot wait)
    requests: int = 0


class Politeness:
    """Per-host and global limits shared by every probe of the daemon (one event loop)."""

    def __init__(
        self,
        *,
        per_host_concurrency: int,
        per_host_min_gap: float,
        max_probes: int = DEFAULT_MAX_PROBES,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}
        self.per_host_concurrency = 1
        self.per_host_min_gap = 0.0
        self.max_probes = 1
        self._global = _Slots(lambda: self.max_probes)
        #: Cluster mode: the host limits held fleet-wide too (None: this process only).
        self.fleet: HostLocks | None = None
        self.configure(
            per_host_concurrency=per_host_concurrency,
            per_host_min_gap=per_host_min_gap,
            max_probes=max_probes,
        )

    def configure(
        self, *, per_host_concurrency: int, per_host_min_gap: float, max_probes: int | None = None
    ) -> None:
        """Change the limits (config reload); probes in flight keep their slots."""
        if per_host_concurrency < 1:
            raise ValueError("per_host_concurrency must be at least 1")
        if per_host_min_gap < 0:
            raise ValueError("per_host_min_gap must not be negative")
        self.per_host_concurrency = per_host_concurrency
        self.per_host_min_gap = per_host_min_gap
        if max_probes is not None:
            if max_probes < 1:
                raise ValueError("max_probes must be at least 1")
            self.max_probes = max_probes
        # Raised limits let waiters in at once.
        for host in self._hosts.values():
            host.slots.wake()
        self._global.wake()

    def _host(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host(_Slots(lambda: self.per_host_concurrency))
        return state

    @asynccontextmanager
    async def probe(self, host: str) -> AsyncIterator[ProbeTicket]:
        """Hold a slot of ``host`` and a global slot for one probe; yields its gate.

        The host slot is taken first: a probe waiting for a global slot must not let
        another probe of the same host overtake it. Cancellation while waiting takes
        nothing; leaving the block (however) gives both slots back.
        """
        state = self._host(host)
        await state.slots.acquire()
        try:
            # A host left alone (Retry-After) is waited for before the global slot, so
            # that its probes do not hold the slots the other hosts' probes could use.
            while (left := state.paused_until - self._clock()) > 0:
                await self._sleep(left)
            await self._global.acquire()
            try:
                fleet = self.fleet
                lease = None
                if fleet is not None:
                    lease = await fleet.hold_slot(host, self.per_host_concurrency)
                try:
                    ticket = ProbeTicket(host=host, gate=no_wait)
                    ticket.gate = self._gate_for(ticket)
                    yield ticket
                finally:
                    if fleet is not None and lease is not None:
                        await fleet.release(lease)
            finally:
                self._global.release()
        finally:
            state.slots.release()

    def _gate_for(self, ticket: ProbeTicket) -> RequestGate:
        async def gate(url: str) -> None:
            ticket.waited += await self.wait_turn(host_of(url) or ticket.host)
            ticket.requests += 1

        return gate

    async def wait_turn(self, host: str) -> float:
        """Wait until a request to ``host`` may start, and count it as started.

        Returns the seconds waited. Waiters queue on the host's lock (FIFO), so the gap is
        measured between consecutive starts whatever the number of probes waiting.
        """
        state = self._host(host)
        began = self._clock()
        async with state.lock:
            while True:
                now = self._clock()
                ready = state.paused_until
                if state.last_start is not None:
                    ready = max(ready, state.last_start + self.per_host_min_gap)
                if now >= ready:
                    break
                await self._sleep(ready - now)
            if self.fleet is not None and self.per_host_min_gap > 0:
                await self.fleet.take_turn(host, self.per_host_min_gap)
            state.last_start = self._clock()
            state.requests += 1
        return state.last_start - began

    # -- Retry-After ---------------------------------------------------------------------

    def pause(self, host: str, seconds: float) -> None:
        """Hold every request to ``host`` for ``seconds`` from now (never shortens a pause)."""
        state = self._host(host)
        state.paused_until = max(state.paused_until, self._clock() + max(0.0, seconds))

    def paused_for(self, host: str) -> float:
        """Seconds left on the host's pause; 0 when it is not paused."""
        state = self._hosts.get(host)
        if state is None:
            return 0.0
        return max(0.0, state.paused_until - self._clock())

    # -- observation (metrics, tests, logs) ------------------------------------------------

    def in_flight(self, host: str | None = None) -> int:
        """Probes holding a slot, on ``host`` or in total."""
        if host is None:
            return self._global.count
        state = self._hosts.get(host)
        return 0 if state is None else state.slots.count

    def requests(self, host: str) -> int:
        """Requests the gate let through to ``host`` since the start."""
        state = self._hosts.get(host)
        return 0 if state is None else state.requests


async def no_wait(url: str) -> None:
    """Placeholder gate, replaced before a ticket is handed out."""
