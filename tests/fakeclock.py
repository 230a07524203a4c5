"""A clock for the daemon's parts that moves only when a test moves it.

``FakeClock`` has the shape of :class:`monitor.daemon.clock.Clock`: ``now()`` (aware UTC),
``monotonic()`` and ``async sleep()``. Sleepers wait until :meth:`FakeClock.advance` carries
the time past their wake-up; nothing sleeps for real, so hours of back-off pass in
milliseconds.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = START) -> None:
        self._start = start
        self._elapsed = 0.0
        self._order = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return 10_000.0 + self._elapsed

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._elapsed + seconds, next(self._order), woken))
        await woken

    @property
    def sleepers(self) -> int:
        """Sleeps not over yet."""
        return sum(1 for *_, woken in self._sleepers if not woken.done())

    async def advance(self, seconds: float) -> None:
        """Move the time on by ``seconds``, waking each sleeper at its time, in order."""
        until = self._elapsed + seconds
        while self._sleepers and self._sleepers[0][0] <= until:
            at, _, woken = heapq.heappop(self._sleepers)
            self._elapsed = max(self._elapsed, at)
            if not woken.done():
                woken.set_result(None)
            await settle()
        self._elapsed = until
        await settle()


async def settle() -> None:
    """Let every task that can run without waiting for time run (a few loop turns)."""
    for _ in range(10):
        await asyncio.sleep(0)
