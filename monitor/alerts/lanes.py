"""Lanes: one per notification channel, so that channels never wait for each other.

A lane is a queue of claimed deliveries, one asyncio task that hands them to the
dispatcher one at a time (claim order, oldest first), and one worker thread for the
blocking Apprise call. A channel that is slow, failing or hanging fills only its own
queue and holds only its own thread; every other lane keeps going.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from monitor.store import PendingDelivery

__all__ = ["Lane", "Work"]

log = logging.getLogger(__name__)


@dataclass
class Work:
    """One claimed delivery on its way through a lane."""

    delivery: PendingDelivery
    claimed: float  #: time.monotonic() of the claim
    now: datetime | None  #: run_once's explicit time; None: read the clock
    done: asyncio.Future[None]  #: set once the lane is finished with it, however it ended

    def settle(self) -> None:
        if not self.done.done():
            self.done.set_result(None)


#: What the lane calls for each delivery, in turn; exceptions are logged, not raised.
Deliver = Callable[["Lane", Work], Awaitable[None]]


class Lane:
    """One channel's queue, task and worker thread."""

    def __init__(self, channel_id: str, deliver: Deliver) -> None:
        self.channel_id = channel_id
        self.queue: deque[Work] = deque()  #: the head stays in it while it is being sent
        self.executor = self._new_executor()
        self._deliver = deliver
        self._task: asyncio.Task[None] | None = None

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The task sending the queue, while there is one."""
        return self._task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def hold(self, work: Work) -> None:
        """Queue ``work`` and make sure the lane is running.

        A delivery this lane already holds (claimed again because the wall clock jumped
        past the lease) is kept once: the newer claim replaces a queued copy; a copy being
        sent (the head) stays and the newer one is dropped.
        """
        for index, held in enumerate(self.queue):
            if held.delivery.delivery_id == work.delivery.delivery_id:
                if index == 0 and self.running:
                    work.settle()
                else:
                    held.settle()
                    self.queue[index] = work
                return
        self.queue.append(work)
        if not self.running:
            self._task = asyncio.create_task(self._run(), name=f"lane-{self.channel_id}")

    def fresh_thread(self) -> None:
        """Give up on a worker thread that does not return; later sends get a new one."""
        self.executor.shutdown(wait=False)
        self.executor = self._new_executor()

    async def stop(self) -> list[Work]:
        """Stop the lane; return the deliveries it had not started to send.

        The one being sent, if any, is neither returned nor settled here: its outcome is
        unknown, so its claim must stay as it is.
        """
        unsent = list(self.queue)[1:] if self.running else list(self.queue)
        self.queue.clear()
        if self._task is not None and self.running:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.executor.shutdown(wait=False, cancel_futures=True)
        return unsent

    async def _run(self) -> None:
        while self.queue:
            work = self.queue[0]
            try:
                await self._deliver(self, work)
            except Exception:  # a bug: the claim stays; the lease hands it out again later
                log.exception(
                    "channel %s: delivery %s could not be handled",
                    self.channel_id,
                    work.delivery.delivery_id,
                )
            finally:
                if self.queue and self.queue[0] is work:
                    self.queue.popleft()
                work.settle()

    def _new_executor(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"notify-{self.channel_id}")
