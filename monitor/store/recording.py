"""Recording one outcome inside its transaction: the target's state read under a lock, the
chain link, the outcome row, its rollup count, the new state and the events.

Every probe runs these statements, so they are built once and executed with their values
as parameters: SQLAlchemy then neither rebuilds them nor recomputes their cache keys, which
was most of a record's CPU when each call built its INSERT and UPDATE with ``.values()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update
from sqlalchemy.sql.expression import Executable

from monitor.domain import Event, Outcome, TargetState
from monitor.store.evidence import chain_hash
from monitor.store.outbox import ChannelsFor, insert_events
from monitor.store.rollup import count_outcome
from monitor.store.rows import outcome_values, outcomes, state_from_row, state_values, target_states
from monitor.store.transactions import insert_for

#: The new state of a target and the events to send, from its state before an outcome.
Advance = Callable[[TargetState], tuple[TargetState, Sequence[Event]]]


@dataclass(frozen=True)
class Recorded:
    """One stored outcome, its target's state before and after it, and its stored events."""

    outcome: Outcome  #: with ``id`` and ``chain`` set
    before: TargetState
    after: TargetState
    events: list[Event]  #: with ids


#: A target's state row, by the ``target`` parameter (Repository.get_state reads it too).
STATE_OF = select(target_states).where(target_states.c.target == bindparam("target"))
_INSERT_OUTCOME = insert(outcomes).returning(outcomes.c.id)
_LOCK_STATE = STATE_OF.with_for_update()
_UPDATE_STATE = update(target_states).where(target_states.c.target == bindparam("state_of"))


@cache
def _create_state(dialect: str) -> Executable:
    """The INSERT of a target's first state row, a no-op when another writer made it."""
    return insert_for(dialect, target_states).on_conflict_do_nothing(
        index_elements=[target_states.c.target]
    )


def record_in(
    connection: Connection,
    outcome: Outcome,
    advance: Advance,
    channels_for: ChannelsFor,
    now: datetime,
) -> Recorded:
    """Repository.record_probe's work, in the caller's write transaction."""
    row = _lock_state(connection, outcome.target)
    before = state_from_row(row)
    after, events = advance(before)
    if after.target != outcome.target:
        raise ValueError(f"state of {after.target!r} for outcome of {outcome.target!r}")
    chain = chain_hash(row.chain_head, outcome)
    outcome_id: int = connection.execute(
        _INSERT_OUTCOME, outcome_values(outcome, chain=chain)
    ).scalar_one()
    count_outcome(connection, outcome)
    connection.execute(
        _UPDATE_STATE,
        {
            **state_values(after),
            "chain_head": chain,
            "last_outcome_id": outcome_id,
            "state_of": outcome.target,
        },
    )
    stored_events = insert_events(
        connection, [replace(event, outcome_id=outcome_id) for event in events], channels_for, now
    )
    return Recorded(replace(outcome, id=outcome_id, chain=chain), before, after, stored_events)


def _lock_state(connection: Connection, target: str) -> Row[Any]:
    """The target's state row, locked; a target's first outcome creates it."""
    row = connection.execute(_LOCK_STATE, {"target": target}).first()
    if row is None:  # the row must exist to be locked
        connection.execute(
            _create_state(connection.dialect.name),
            {"target": target, **state_values(TargetState(target))},
        )
        row = connection.execute(_LOCK_STATE, {"target": target}).one()
    return row


def storable(outcome: Outcome) -> Outcome:
    """The outcome as it will read back: NULs replaced, timestamps in UTC."""

    def text(value: str) -> str:
        return value.replace("\x00", "\ufffd")

    def utc(value: datetime) -> datetime:
        # Naive values are left for chain_hash to refuse with a clear message.
        return value if value.tzinfo is None else value.astimezone(UTC)

    return replace(
        outcome,
        detail=text(outcome.detail),
        url=text(outcome.url),
        final_url=None if outcome.final_url is None else text(outcome.final_url),
        started_at=utc(outcome.started_at),
        finished_at=utc(outcome.finished_at),
        earliest_slot=None if outcome.earliest_slot is None else utc(outcome.earliest_slot),
    )
