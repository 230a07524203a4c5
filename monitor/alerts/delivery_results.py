"""How each claimed delivery ended, written to the outbox: sent, retry, failed, given back.

The dispatcher hands every finished send to :meth:`DeliveryResults.conclude`, which tells a
permanent failure from a transient one (``NotificationError.permanent``), asks the
:class:`~monitor.alerts.retry.RetryPolicy` when a transient one comes back, and records the
result. Each write is retried while the database is away, since a sent message that cannot
be recorded would be sent again after the lease; and the store changes the row only while
this node still holds the claim, so a result that comes too late is kept as an attempt row
and logged, leaving another node's claim alone.

Here too are the counters and the per-channel hook the metrics read, and the dispatcher's
log lines about each delivery.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import ParamSpec, TypeVar

from monitor.alerts.lanes import Work
from monitor.alerts.retry import RetryPolicy
from monitor.errors import DatabaseError, NotificationError
from monitor.store.ports import OutboxResults

__all__ = ["RECORD_ATTEMPTS", "RECORD_FIRST_PAUSE", "DeliveryResults", "ResultHook", "in_thread"]

# The dispatcher's own logger: these lines are what it says about each delivery.
log = logging.getLogger("monitor.alerts.dispatcher")

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: How often, and how patiently, a result is written again while the database is away.
RECORD_ATTEMPTS = 6
RECORD_FIRST_PAUSE = 0.5

#: Called after each recorded result with (channel id, "sent" | "retry" | "failed").
ResultHook = Callable[[str, str], None]


async def in_thread(call: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """Call the store off the event loop.

    The store is synchronous; a worker thread keeps the event loop (and every other lane)
    running while SQLite waits for its lock or PostgreSQL answers.
    """
    return await asyncio.to_thread(call, *args, **kwargs)


class DeliveryResults:
    """Records this node's delivery results. Counters ``sent``, ``retried``, ``failed``."""

    def __init__(
        self,
        repo: OutboxResults,
        *,
        node: str,
        clock: Callable[[], datetime],
        retry: RetryPolicy,
        on_result: ResultHook | None,
    ) -> None:
        self._repo = repo
        self._node = node
        self._clock = clock
        self._retry = retry
        self._on_result = on_result
        self.sent = 0
        self.retried = 0
        self.failed = 0

    async def conclude(self, work: Work, sending: asyncio.Future[None]) -> None:
        """Record how a finished send ended."""
        error = sending.exception()
        if isinstance(error, NotificationError):
            if error.permanent:
                await self.fail(work, str(error))
            else:
                await self.transient(work, str(error))
            return
        if error is not None:
            raise error
        # Nothing awaited between the service's answer and this record but the write itself.
        await self._record(
            work,
            "sent",
            self._repo.mark_sent,
            work.delivery.delivery_id,
            self.now(work),
            node=self._node,
        )
        self.sent += 1
        self._log(logging.INFO, work, "sent")
        self._hook(work.delivery.channel_id, "sent")

    async def transient(self, work: Work, error: str) -> None:
        """A failure that may pass: due again on the retry schedule, or failed past it."""
        delivery = work.delivery
        now = self.now(work)
        retry_at = self._retry.next_attempt(delivery.attempts, now, delivery.event.occurred_at)
        if retry_at is None:
            await self.fail(
                work, f"gave up after {delivery.attempts} attempt(s); last error: {error}"
            )
            return
        await self._record(
            work,
            "retry",
            self._repo.mark_retry,
            delivery.delivery_id,
            now,
            retry_at,
            error,
            node=self._node,
        )
        self.retried += 1
        self._log(logging.WARNING, work, "failed, retry at %s: %s", retry_at.isoformat(), error)
        self._hook(delivery.channel_id, "retry")

    async def fail(self, work: Work, error: str) -> None:
        """A failure for good: the delivery is ``failed`` with ``error`` as its reason."""
        delivery = work.delivery
        await self._record(
            work,
            "failed",
            self._repo.mark_failed,
            delivery.delivery_id,
            self.now(work),
            error,
            node=self._node,
        )
        self.failed += 1
        self._log(logging.WARNING, work, "failed for good: %s", error)
        self._hook(delivery.channel_id, "failed")

    async def give_back(self, works: list[Work]) -> None:
        """Return claimed, unsent deliveries to ``pending``, due at once."""
        for work in works:
            now = self.now(work)
            note = "not sent before the daemon stopped; it will be sent after the restart"
            await self._record(
                work,
                "given back",
                self._repo.mark_retry,
                work.delivery.delivery_id,
                now,
                now,
                note,
                node=self._node,
            )
            work.settle()

    def now(self, work: Work) -> datetime:
        """The time of ``work``'s attempt row: run_once's explicit time, else the clock."""
        return work.now or self._clock()

    async def _record(
        self,
        work: Work,
        result: str,
        write: Callable[_P, bool],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> None:
        """Write a result, retrying while the database is unreachable.

        A sent message that cannot be recorded would be sent again after the lease, so the
        write is retried for a while (about half a minute) before giving up with an error.
        The store changes the row only while this node's claim holds; if another node has
        claimed it since (the lease ended first), only the attempt is recorded.
        """
        pause = RECORD_FIRST_PAUSE
        for attempt in range(RECORD_ATTEMPTS):
            try:
                owned = await in_thread(write, *args, **kwargs)
            except DatabaseError as exc:
                if attempt == RECORD_ATTEMPTS - 1:
                    log.error(
                        "delivery %s: result not recorded (%s); its claim stays until the "
                        "lease ends, then it is sent again",
                        work.delivery.delivery_id,
                        exc,
                    )
                    return
                await asyncio.sleep(pause)
                pause *= 2
                continue
            if not owned:
                log.warning(
                    "channel %s: delivery %s (attempt %s): result %r came after this node "
                    "lost its claim (the lease ended and another node claimed it, or it was "
                    "finished); the attempt is recorded, the delivery left as it is",
                    work.delivery.channel_id,
                    work.delivery.delivery_id,
                    work.delivery.attempts,
                    result,
                    extra={"channel": work.delivery.channel_id},
                )
            return

    def _hook(self, channel_id: str, result: str) -> None:
        if self._on_result is not None:
            self._on_result(channel_id, result)

    def _log(self, level: int, work: Work, what: str, *args: object) -> None:
        event = work.delivery.event
        log.log(
            level,
            "channel %s: %s of %s (delivery %s, attempt %s) " + what,
            work.delivery.channel_id,
            event.kind.value,
            event.target,
            work.delivery.delivery_id,
            work.delivery.attempts,
            *args,
            extra={
                "channel": work.delivery.channel_id,
                "event": event.kind.value,
                "target": event.target,
            },
        )
