"""The daemon's notification loop: due deliveries are sent at once after each probe, and
at least every :data:`DISPATCH_PERIOD` seconds.

The loop only calls the dispatcher (``monitor.alerts.dispatcher``): what is due, the
retries and the one-send-per-delivery claim are the outbox's business, so a delivery the
loop could not send (database away, channel down) waits there for the next turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from monitor.config import Config
from monitor.daemon.clock import SYSTEM_CLOCK, Clock
from monitor.daemon.lifecycle import close_within, wait_for_event
from monitor.errors import DatabaseError

log = logging.getLogger(__name__)

#: Due notifications are looked for at least this often (and at once after each probe).
DISPATCH_PERIOD = 5.0


class Sender(Protocol):
    """What the loop needs of a dispatcher (:class:`monitor.alerts.dispatcher.Dispatcher`)."""

    async def run_once(self, now: datetime | None = None) -> int: ...

    async def aclose(self) -> None: ...


class NotificationLoop:
    """Runs a dispatcher's ``run_once(now)`` when poked or every :data:`DISPATCH_PERIOD`."""

    def __init__(
        self,
        dispatcher: Sender | None,
        make: Callable[[Config], Sender | None] | None,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        """``make``: builds a dispatcher for a reloaded config's channels (None: the
        dispatcher was given from outside and is kept)."""
        self._dispatcher = dispatcher
        self._make = make
        self._clock = clock
        self._wake = asyncio.Event()
        self._stopping = False

    def poke(self) -> None:
        """A probe was recorded: look for due deliveries now."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            await wait_for_event(self._wake, DISPATCH_PERIOD, self._clock.sleep)
            if self._stopping:
                return
            try:
                await self.once()
            except DatabaseError as error:  # they wait in the outbox for the database
                log.warning("notifications not sent for now: %s", error)
            except Exception:
                log.error("sending notifications failed", exc_info=True)

    async def once(self) -> int:
        """Send the due deliveries through the dispatcher, if there is one; how many."""
        dispatcher = self._dispatcher
        if dispatcher is None:
            return 0
        return await dispatcher.run_once(self._clock.now())

    async def reconfigure(self, config: Config, close_timeout: float) -> None:
        """New channels: a new dispatcher; the old one finishes its sends, if it can."""
        if self._make is None:
            return
        old, self._dispatcher = self._dispatcher, self._make(config)
        await close_within(old, close_timeout)

    async def aclose(self) -> None:
        if self._dispatcher is not None:
            await self._dispatcher.aclose()
