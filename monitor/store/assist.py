"""Assisted sessions in the store: who opened which session, when and why it ended, and the
``assist_needed`` event that asks a person to open one (docs/contract.md#assisted-sessions).

A session row is written when a person opens it and closed once, with its reason (one of
``monitor.assist.views.EndReason``'s values) and its reads: rows are kept, so the records
say who watched when. At most one live session (no ``ended_at``) per target across a
fleet, held by a unique partial index: a second opening raises :class:`SessionTaken`.

The desk (``monitor.assist``) decides when to ask (``monitor.alerts.policy.should_ask``);
:meth:`AssistStore.ask_for_assist` only writes the event and its deliveries, in one
transaction, to the channels that subscribe to it (``events:``, ``targets:``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, insert, select, update

from monitor.config import Channel
from monitor.domain import Event, EventKind
from monitor.store.outbox import insert_events
from monitor.store.rows import assist_sessions, events
from monitor.store.schema import NAME_LENGTH, NODE_LENGTH, OPERATOR_LENGTH, TARGET_LENGTH
from monitor.store.transactions import TransactionalStore

__all__ = ["AssistStore", "SessionTaken"]


class SessionTaken(Exception):
    """A target already has a live session; the message names the node that holds it."""


def _checked(name: str, value: str, limit: int) -> str:
    if not value or not value.strip():
        raise ValueError(f"assist session: {name} is empty; give a {name}")
    if len(value) > limit:
        raise ValueError(
            f"assist session: {name} is {len(value)} characters long; at most {limit} are kept"
        )
    return value


class AssistStore(TransactionalStore):
    """The assisted sessions' rows and the ``assist_needed`` event."""

    def open_assist_session(self, target: str, node: str, operator: str, now: datetime) -> int:
        """Record a session ``operator`` opened on ``target``, held by ``node``; its id.

        Raises :class:`SessionTaken` when the target already has a live session (on this
        node or another), ``ValueError`` for an empty or over-long name.
        """
        values = {
            "target": _checked("target", target, TARGET_LENGTH),
            "node": _checked("node", node, NODE_LENGTH),
            "operator": _checked("operator", operator, OPERATOR_LENGTH),
            "opened_at": now,
            "ended_at": None,
            "end_reason": None,
            "reads": 0,
        }
        try:
            with self._write() as connection:
                session_id: int = connection.execute(
                    insert(assist_sessions).values(values).returning(assist_sessions.c.id)
                ).scalar_one()
        except sa_exc.IntegrityError as error:
            holder = self.live_assist_sessions().get(target, "another node")
            raise SessionTaken(
                f"{target} already has a live assisted session, held by {holder}: "
                "end it before opening another"
            ) from error
        return session_id

    def end_assist_session(self, session_id: int, reason: str, reads: int, now: datetime) -> None:
        """Close a live session: when, why (an ``EndReason`` value) and the reads it made.

        A session already ended keeps its first end; an unknown id raises ``ValueError``.
        """
        _checked("end reason", reason, NAME_LENGTH)
        if reads < 0:
            raise ValueError(f"assist session {session_id}: reads must not be negative ({reads})")
        with self._write() as connection:
            ended = connection.execute(
                update(assist_sessions)
                .where(assist_sessions.c.id == session_id, assist_sessions.c.ended_at.is_(None))
                .values(ended_at=now, end_reason=reason, reads=reads)
            ).rowcount
            if ended == 0:
                known = connection.execute(
                    select(assist_sessions.c.id).where(assist_sessions.c.id == session_id)
                ).first()
                if known is None:
                    raise ValueError(f"no assisted session {session_id}")

    def end_node_assist_sessions(self, node: str, reason: str, now: datetime) -> list[str]:
        """Close every live session ``node`` holds (a daemon starting again after a crash
        left them open: their browser contexts are gone); the targets they were on."""
        _checked("end reason", reason, NAME_LENGTH)
        live = (assist_sessions.c.node == node) & assist_sessions.c.ended_at.is_(None)
        with self._write() as connection:
            targets = list(
                connection.execute(
                    select(assist_sessions.c.target).where(live).order_by(assist_sessions.c.id)
                ).scalars()
            )
            connection.execute(
                update(assist_sessions).where(live).values(ended_at=now, end_reason=reason)
            )
        return targets

    def live_assist_sessions(self) -> Mapping[str, str]:
        """Each target with a live session (not ended), and the node that holds it."""
        query = select(assist_sessions.c.target, assist_sessions.c.node).where(
            assist_sessions.c.ended_at.is_(None)
        )
        with self._read() as connection:
            return {row.target: row.node for row in connection.execute(query)}

    def last_asked_for_assist(self, target: str) -> datetime | None:
        """When ``assist_needed`` was last written for ``target`` (None: never), so that
        the desk asks at most every ``settings.assist.ask_every`` across restarts."""
        query = select(func.max(events.c.occurred_at)).where(
            events.c.kind == EventKind.ASSIST_NEEDED.value, events.c.target == target
        )
        with self._read() as connection:
            last: datetime | None = connection.execute(query).scalar_one_or_none()
        return last

    def ask_for_assist(
        self, target: str, *, console_url: str, channels: Sequence[Channel], now: datetime
    ) -> bool:
        """Write an ``assist_needed`` event for ``target`` and a pending delivery to each of
        ``channels`` that subscribes to it (its ``events`` and ``targets``), in one
        transaction; whether any channel does (False: the event is kept, nobody is told).

        Its payload holds the console's address and, when the target had a session, when
        and why the last one ended; an ask repeated while nobody has opened a session since
        the previous one is a reminder.
        """
        _checked("console_url", console_url, 2000)
        wanted = [c.id for c in channels if c.wants(EventKind.ASSIST_NEEDED) and c.matches(target)]
        with self._write() as connection:
            last = connection.execute(
                select(assist_sessions.c.opened_at, assist_sessions.c.ended_at)
                .add_columns(assist_sessions.c.end_reason)
                .where(assist_sessions.c.target == target)
                .order_by(assist_sessions.c.id.desc())
                .limit(1)
            ).first()
            asked = connection.execute(
                select(func.max(events.c.occurred_at)).where(
                    events.c.kind == EventKind.ASSIST_NEEDED.value, events.c.target == target
                )
            ).scalar_one_or_none()
            payload: dict[str, object] = {"console_url": console_url}
            if last is not None and last.ended_at is not None:
                payload["since"] = last.ended_at.isoformat()
                payload["end_reason"] = last.end_reason
            reminder = asked is not None and (last is None or asked >= last.opened_at)
            event = Event(
                kind=EventKind.ASSIST_NEEDED,
                target=target,
                occurred_at=now,
                reminder=reminder,
                payload=payload,
            )
            insert_events(connection, [event], lambda _event: wanted, now)
        return bool(wanted)
