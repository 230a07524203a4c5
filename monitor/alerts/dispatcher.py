"""The dispatcher: deliveries claimed from the outbox, sent per channel, every result recorded.

The daemon calls :meth:`Dispatcher.run_once` every few seconds and :meth:`Dispatcher.aclose`
at shutdown. One call claims the due deliveries (one guarded UPDATE per row, see
``monitor.store.outbox``), hands each to its channel's *lane*, and returns once they are
recorded or after ``wait`` seconds, whichever comes first; slower sends finish in the
background.

Lanes (``monitor.alerts.lanes``) keep channels independent: each channel has its own queue, task
and worker thread, so a channel that is slow, failing or hanging holds only its own
messages. Within a lane messages go one at a time, oldest first, which is also the pace a
provider expects.

Exactly once, and where it stops:

* a delivery is claimed (state ``sending``) *before* it is sent and marked ``sent`` as soon
  as the service has accepted it, with nothing awaited in between but that write (retried
  while the database is away); two nodes never claim the same row;
* no send starts unless it can end well within the claim's ``lease`` (``send_timeout`` is
  at most half of it, and a claim that waited in its lane too long is left for a later
  claim), so a live node's claim never expires under it, given node clocks that agree
  within ``send_timeout``;
* a service that has not answered after ``send_timeout`` keeps its claim: its thread cannot
  be stopped and may still succeed, so its answer is awaited in the background (until the
  lease would end) and recorded like any other, while the lane goes on with a new thread;
* a node that dies leaves its claims in ``sending``; they become claimable again once the
  lease has passed, and are sent then. If the node died after the service accepted a
  message but before ``mark_sent`` was written (milliseconds, or a database outage longer
  than the write's retries), or a service answers only after the lease, that message is
  sent again: the remaining at-least-once window;
* a result is written only while this node still holds the claim (``sending``, claimed by
  it): one that comes after another node has reclaimed the row is kept as an attempt
  row, logged at WARNING, and leaves that node's claim alone;
* one channel with several recipients is one delivery: if some accept and another fails
  transiently, the retry goes to all of them again (Apprise sends one request per Signal
  recipient and one message per email address). One recipient per channel avoids it.

Retries: transient failures come back after 30 s, doubling up to 1 h, until 24 h after the
event occurred; then, as for permanent failures, the delivery is ``failed``
(``monitor.alerts.retry``). How each result is written, and the counters, are in
``monitor.alerts.delivery_results``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.alerts import notify
from monitor.alerts.delivery_results import DeliveryResults, ResultHook, in_thread
from monitor.alerts.lanes import Lane, Work
from monitor.alerts.retry import RetryPolicy
from monitor.config import Config
from monitor.domain import Event
from monitor.store.ports import Outbox

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)

#: Frozen, so one instance serves every dispatcher that keeps the default schedule.
_DEFAULT_RETRY = RetryPolicy()


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    """Sends the outbox. Counters ``sent``, ``retried``, ``failed`` are for the metrics."""

    def __init__(
        self,
        repo: Outbox,
        config: Config,
        *,
        node: str,
        clock: Callable[[], datetime] = _utcnow,
        lease: timedelta = timedelta(minutes=5),
        send_timeout: float = 60.0,
        batch: int = 50,
        wait: float = 5.0,
        close_timeout: float = 10.0,
        retry: RetryPolicy = _DEFAULT_RETRY,
        on_result: ResultHook | None = None,
    ) -> None:
        if lease.total_seconds() < 2 * send_timeout:
            raise ValueError(
                f"lease ({lease}) must be at least twice send_timeout ({send_timeout}s), "
                "or a slow send could be claimed by another node"
            )
        self._repo = repo
        self._config = config
        self._channels = {channel.id: channel for channel in config.channels}
        self._node = node
        self._clock = clock
        self._lease = lease
        self._send_timeout = send_timeout
        self._batch = batch
        self._wait = wait
        self._close_timeout = close_timeout
        self._results = DeliveryResults(
            repo, node=node, clock=clock, retry=retry, on_result=on_result
        )
        self._lanes: dict[str, Lane] = {}
        self._claiming: asyncio.Future[list[Work]] | None = None
        self._late: set[asyncio.Task[None]] = set()  #: slow sends whose answer is awaited
        self._closed = False

    @property
    def sent(self) -> int:
        """Deliveries this dispatcher recorded as sent."""
        return self._results.sent

    @property
    def retried(self) -> int:
        """Transient failures recorded with a retry time."""
        return self._results.retried

    @property
    def failed(self) -> int:
        """Deliveries recorded as failed for good."""
        return self._results.failed

    # -- the daemon's side ---------------------------------------------------------------------

    async def run_once(self, now: datetime | None = None) -> int:
        """Claim the due deliveries and send them; returns how many were claimed.

        Returns when they are all recorded or after ``wait`` seconds; the rest goes on in
        the background (:meth:`drain` waits for it). ``now`` is the time of the claim and
        of the attempt rows (default: the clock).
        """
        if self._closed:
            return 0
        # Shielded: a caller cancelled while the claim runs (a daemon stopping) must not
        # strand rows this node has just claimed; they reach their lanes regardless.
        self._claiming = asyncio.ensure_future(self._claim(now))
        works = await asyncio.shield(self._claiming)
        if works:
            await asyncio.wait([work.done for work in works], timeout=self._wait)
        return len(works)

    async def _claim(self, now: datetime | None) -> list[Work]:
        at = now or self._clock()
        claimed = await in_thread(
            self._repo.claim_deliveries, self._node, at, self._batch, self._lease
        )
        loop = asyncio.get_running_loop()
        works = [
            Work(delivery, time.monotonic(), now, loop.create_future()) for delivery in claimed
        ]
        if self._closed:  # aclose() ran meanwhile: hand them straight back
            await self._results.give_back(works)
            return works
        for work in works:
            channel_id = work.delivery.channel_id
            lane = self._lanes.get(channel_id)
            if lane is None:
                lane = self._lanes[channel_id] = Lane(channel_id, self._deliver)
            lane.hold(work)
        return works

    def reconfigure(self, config: Config) -> None:
        """Use a reloaded config: channels, names, languages. Deliveries to a channel that
        is gone fail with that reason; a channel's new URL applies from its next send."""
        self._config = config
        self._channels = {channel.id: channel for channel in config.channels}

    @property
    def backlog(self) -> int:
        """Claimed deliveries not yet recorded (queued or being sent)."""
        # A lane's head stays in its queue while it is being sent.
        return sum(len(lane.queue) for lane in self._lanes.values())

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every claimed delivery is recorded; False if ``timeout`` came first."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        # A claim feeds lanes, a lane may leave a late answer to wait for: until all rest.
        while busy := self._busy():
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return False
            await asyncio.wait(busy, timeout=left)
        return True

    def _busy(self) -> set[asyncio.Future[Any]]:
        lanes = [lane.task for lane in self._lanes.values()]
        busy = [self._claiming, *lanes, *self._late]
        return {future for future in busy if future is not None and not future.done()}

    async def aclose(self) -> None:
        """Stop: finish what is in flight (up to ``close_timeout``), give back the rest.

        Deliveries still queued go back to ``pending``, due at once, so that a restart
        sends them without waiting for the lease. A send still running when time is up
        keeps its claim: its outcome is unknown, and only the lease may hand it out again.
        """
        if self._closed:
            return
        self._closed = True
        await self.drain(self._close_timeout)
        for late in self._late:  # their claims stay: outcome unknown
            late.cancel()
        for lane in self._lanes.values():
            await self._results.give_back(await lane.stop())

    # -- one lane ------------------------------------------------------------------------------

    async def _deliver(self, lane: Lane, work: Work) -> None:
        delivery = work.delivery
        channel = self._channels.get(delivery.channel_id)
        if channel is None:
            await self._results.fail(
                work, f"channel {delivery.channel_id!r} is no longer in the config"
            )
            return
        if not self._time_left(work):
            # Starting now could outlive the claim: leave the row as it is; the lease
            # makes it claimable again (here or on another node) with no double send. If
            # this node claims it again meanwhile, that newer claim is the one sent.
            log.warning(
                "channel %s: delivery %s waited too long behind slower sends; "
                "left for a later claim",
                channel.id,
                delivery.delivery_id,
            )
            return
        try:
            message = notify.compose(channel, delivery.event, self._config)
        except ValueError as exc:
            await self._results.fail(work, f"cannot write the message: {exc}")
            return
        attachment = None
        if notify.takes_attachment(channel):
            attachment = await in_thread(self._screenshot, delivery.event)
        name = None if attachment is None else notify.attachment_name(delivery.event, self._config)
        sending = asyncio.ensure_future(
            notify.send(
                channel,
                message,
                attachment=attachment,
                attachment_name=name,
                executor=lane.executor,
            )
        )
        try:
            answered = (await asyncio.wait([sending], timeout=self._send_timeout))[0]
        except asyncio.CancelledError:  # stopping: the claim stays, outcome unknown
            sending.cancel()
            raise
        if not answered:
            # No answer yet. The thread cannot be stopped and the service may still accept,
            # so the claim stays and the answer, when it comes, is recorded like any other
            # (a retry now could send the message twice). The lane moves on, on a new thread.
            lane.fresh_thread()
            late = asyncio.create_task(self._conclude_late(work, sending))
            self._late.add(late)
            late.add_done_callback(self._late.discard)
            return
        await self._results.conclude(work, sending)

    async def _conclude_late(self, work: Work, sending: asyncio.Future[None]) -> None:
        """Wait for a slow send's answer while the claim is safely ours, then record it."""
        left = self._lease.total_seconds() - self._send_timeout - (time.monotonic() - work.claimed)
        try:
            answered = (await asyncio.wait([sending], timeout=max(0.0, left)))[0]
        finally:
            if not sending.done():
                sending.cancel()  # the thread goes on; only the waiting stops
        if answered:
            await self._results.conclude(work, sending)
            return
        log.warning(
            "channel %s: delivery %s got no answer within the lease; it will be claimed and "
            "sent again (the first send may still arrive)",
            work.delivery.channel_id,
            work.delivery.delivery_id,
        )

    def _time_left(self, work: Work) -> bool:
        waited = time.monotonic() - work.claimed
        # One send_timeout for the send, one as a margin (database writes, clock skew).
        return waited + 2 * self._send_timeout <= self._lease.total_seconds()

    # -- attachments ---------------------------------------------------------------------------

    def _screenshot(self, event: Event) -> Path | None:
        """The screenshot of the outcome behind ``event``, if one was kept and still exists."""
        if event.outcome_id is None:
            return None
        outcome = self._repo.outcome(event.outcome_id)
        if outcome is None:  # deleted from the database since the event
            return None
        for relpath in outcome.evidence:
            path = self._config.settings.evidence_dir / relpath
            if relpath.endswith(".png") and path.is_file():
                return path
        return None
