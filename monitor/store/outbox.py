"""The notification outbox: deliveries claimed, sent, retried and failed across nodes.

Events are written with their outcome (see Repository.record_outcome) together with one
``deliveries`` row per interested channel. A dispatcher then claims rows with one guarded
UPDATE per row, as healthchecks' ``sendalerts`` does: the row is claimed only if it is
still claimable when the UPDATE runs (``rowcount == 1``), so two daemons on one database
never claim the same row, and a row left in ``sending`` by a crashed node becomes
claimable again once its lease has expired. That last case is the only way a message can
be sent twice (the node died between sending and recording it).

Results are guarded the same way: ``mark_sent``, ``mark_retry`` and ``mark_failed`` change
a row only while it is still ``sending`` and claimed by the calling node, and return
whether they did. A node that records a result after its lease has ended and another node
has reclaimed the row gets False: its attempt is logged in ``delivery_attempts``, but the
row stays as the other node left it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from monitor.domain import Event
from monitor.store.rows import deliveries, delivery_attempts, event_from_row, event_values, events
from monitor.store.transactions import TransactionalStore

#: Which channel ids get an event; the config's channel filters decide (not the store).
ChannelsFor = Callable[[Event], Sequence[str]]


@dataclass(frozen=True)
class PendingDelivery:
    """One event to send to one channel, claimed by this node."""

    delivery_id: int
    channel_id: str
    attempts: int  #: claims so far, this one included (1 on the first try)
    event: Event


def insert_events(
    connection: Connection, pending: Sequence[Event], channels_for: ChannelsFor, now: datetime
) -> list[Event]:
    """Insert events and a pending delivery per channel; returns the events with ids.

    Runs inside the caller's transaction, so an event is never stored without its
    deliveries (nor an outcome without its events).
    """
    stored = []
    for event in pending:
        event_id: int = connection.execute(
            insert(events).values(event_values(event)).returning(events.c.id)
        ).scalar_one()
        # dict.fromkeys: drop repeated channel ids but keep the order.
        for channel_id in dict.fromkeys(channels_for(event)):
            connection.execute(
                insert(deliveries).values(
                    event_id=event_id,
                    channel_id=channel_id,
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                )
            )
        stored.append(replace(event, id=event_id))
    return stored


class OutboxStore(TransactionalStore):
    """The dispatcher's side of the store."""

    def claim_deliveries(
        self, node: str, now: datetime, limit: int, lease: timedelta
    ) -> list[PendingDelivery]:
        """Claim up to ``limit`` deliveries that are due, oldest first.

        Due: ``pending`` with ``next_attempt_at <= now``, or ``sending`` but claimed
        before ``now - lease`` (its node is presumed dead). Each claim is its own short
        transaction so concurrent dispatchers interleave instead of queueing.
        """
        claimable = or_(
            and_(deliveries.c.state == "pending", deliveries.c.next_attempt_at <= now),
            and_(deliveries.c.state == "sending", deliveries.c.claimed_at < now - lease),
        )
        with self._read() as connection:
            candidates = (
                connection.execute(
                    select(deliveries.c.id)
                    .where(claimable)
                    .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
        claimed = []
        for delivery_id in candidates:
            with self._write() as connection:
                result = connection.execute(
                    update(deliveries)
                    .where(deliveries.c.id == delivery_id, claimable)
                    .values(
                        state="sending",
                        claimed_by=node,
                        claimed_at=now,
                        attempts=deliveries.c.attempts + 1,
                    )
                )
            # 0: another node claimed it between our SELECT and this UPDATE.
            if result.rowcount == 1:
                claimed.append(delivery_id)
        if not claimed:
            return []
        with self._read() as connection:
            rows = connection.execute(
                select(
                    deliveries.c.id.label("delivery_id"),
                    deliveries.c.channel_id,
                    deliveries.c.attempts,
                    events,
                )
                .join(events, events.c.id == deliveries.c.event_id)
                .where(deliveries.c.id.in_(claimed))
                .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            ).all()
        return [
            PendingDelivery(
                delivery_id=row.delivery_id,
                channel_id=row.channel_id,
                attempts=row.attempts,
                event=event_from_row(row),
            )
            for row in rows
        ]

    def mark_sent(self, delivery_id: int, now: datetime, *, node: str) -> bool:
        """The channel accepted the message: final. See :meth:`_finish` for the result."""
        return self._finish(
            delivery_id, node, now, "sent", None, state="sent", sent_at=now, last_error=None
        )

    def mark_retry(
        self, delivery_id: int, now: datetime, next_attempt_at: datetime, error: str, *, node: str
    ) -> bool:
        """A transient failure: back to ``pending`` until ``next_attempt_at``."""
        return self._finish(
            delivery_id,
            node,
            now,
            "transient",
            error,
            state="pending",
            next_attempt_at=next_attempt_at,
            claimed_by=None,
            claimed_at=None,
            last_error=error,
        )

    def mark_failed(self, delivery_id: int, now: datetime, error: str, *, node: str) -> bool:
        """A permanent failure (or retries exhausted): final, never sent."""
        return self._finish(
            delivery_id, node, now, "permanent", error, state="failed", last_error=error
        )

    def _finish(
        self,
        delivery_id: int,
        node: str,
        now: datetime,
        result: str,
        error: str | None,
        **values: object,
    ) -> bool:
        """Record an attempt of ``node``; update the delivery only if ``node`` still holds it.

        Returns True if the delivery was updated: still ``sending`` and claimed by ``node``.
        False means the claim was lost (its lease ended and another node claimed the row,
        or it was already finished): the row is left to its current holder, and only the
        attempt row is written, since the attempt did happen.
        """
        with self._write() as connection:
            updated = connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.state == "sending",
                    deliveries.c.claimed_by == node,
                )
                .values(**values)
            ).rowcount
            connection.execute(
                insert(delivery_attempts).values(
                    delivery_id=delivery_id, attempted_at=now, result=result, error=error
                )
            )
        return updated == 1

    def outbox_depth(self) -> int:
        """Deliveries not yet finished (pending or being sent)."""
        with self._read() as connection:
            return int(
                connection.execute(
                    select(func.count())
                    .select_from(deliveries)
                    .where(deliveries.c.state.in_(("pending", "sending")))
                ).scalar_one()
            )
