"""The store's interface for the rest of the program: domain values in, domain values out.

Every public method is one transaction; no SQLAlchemy object leaves this package.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict, TypeVar, Unpack

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    false,
    func,
    or_,
    select,
    true,
)

from monitor.domain import Event, EventKind, Outcome, Reason, Status, TargetState
from monitor.store.assist import AssistStore
from monitor.store.coordination import CoordinationStore
from monitor.store.outbox import ChannelsFor, OutboxStore, insert_events
from monitor.store.recording import STATE_OF, Advance, Recorded, record_in, storable
from monitor.store.rollup import hour_of, moment_of
from monitor.store.rows import (
    OutcomeRecord,
    events,
    outcome_from_row,
    outcome_hours,
    outcome_record,
    outcomes,
    state_from_row,
    state_values,
    target_states,
)
from monitor.store.transactions import dialect_insert

#: Rows fetched per round trip while streaming history (server-side cursor on PostgreSQL).
STREAM_BATCH = 500

T = TypeVar("T")


class HistoryFilters(TypedDict, total=False):
    """What :meth:`Repository.history` selects; every filter given must match.

    ``targets`` are fnmatch globs (``92/*``), case-sensitive, matched in SQL where possible
    (``[...]`` classes are matched in Python); an empty list matches nothing. ``since`` is
    inclusive, ``until`` exclusive, both on ``started_at``. ``newest_first`` (the default)
    or oldest first; ``limit``: at most that many outcomes.
    """

    targets: Sequence[str] | None
    prefecture: str | None
    status: Status | str | None
    reason: Reason | str | None
    since: datetime | None
    until: datetime | None
    limit: int | None
    newest_first: bool


class Repository(OutboxStore, CoordinationStore, AssistStore):
    """Outcomes, target states and events; the outbox (OutboxStore); probe claims and
    heartbeats (CoordinationStore); assisted sessions and assist_needed (AssistStore)."""

    # -- outcomes and events ---------------------------------------------------------------

    def record_outcome(
        self,
        outcome: Outcome,
        state: TargetState,
        events: Sequence[Event],
        channels_for: ChannelsFor,
        *,
        now: datetime | None = None,
    ) -> tuple[Outcome, list[Event]]:
        """Store an outcome, its target's new ``state`` and its ``events``, all or nothing.

        :meth:`record_probe` with the state and events given rather than worked out from the
        stored state. Returns the outcome with ``id`` and ``chain`` set and the events with ids.
        """
        if state.target != outcome.target:
            raise ValueError(f"state of {state.target!r} given for outcome of {outcome.target!r}")
        recorded = self.record_probe(outcome, lambda _: (state, events), channels_for, now=now)
        return recorded.outcome, recorded.events

    def record_probe(
        self,
        outcome: Outcome,
        advance: Advance,
        channels_for: ChannelsFor,
        *,
        now: datetime | None = None,
    ) -> Recorded:
        """Store an outcome, its target's new state and its events, all or nothing.

        The target's state row is read under a lock (``SELECT ... FOR UPDATE`` on PostgreSQL,
        the database write lock taken by ``BEGIN IMMEDIATE`` on SQLite), so concurrent
        writers for one target can neither fork the chain nor lose a state update:
        ``advance(state)`` gives the new state and the events from the state as read there
        (the alert policy), and the outcome's ``chain`` is computed from the row's chain
        head. The outcome is also counted in the ``outcome_hours`` rollup (monitor.store.rollup)
        in the same transaction. Each event gets the outcome's id and one pending delivery
        (due at ``now``, default the current time) per channel in ``channels_for(event)``.
        NUL characters, which PostgreSQL cannot store, become U+FFFD.
        """
        outcome = storable(outcome)
        now = now or datetime.now(UTC)
        with self._write() as connection:
            return record_in(connection, outcome, advance, channels_for, now)

    def record_events(
        self,
        events: Sequence[Event],
        channels_for: ChannelsFor,
        *,
        state: TargetState | None = None,
        now: datetime | None = None,
    ) -> list[Event]:
        """Store events not tied to an outcome (monitor_degraded, ...) with their deliveries.

        ``state``, when given (typically the monitor's own health state), is saved in the same
        transaction. Returns the events with ids.
        """
        now = now or datetime.now(UTC)
        with self._write() as connection:
            if state is not None:
                self._save_state(connection, state)
            return insert_events(connection, events, channels_for, now)

    def save_state(self, state: TargetState) -> None:
        """Save a target's state on its own (chain head and schedule untouched)."""
        with self._write() as connection:
            self._save_state(connection, state)

    def _save_state(self, connection: Connection, state: TargetState) -> None:
        values = state_values(state)
        connection.execute(
            dialect_insert(connection, target_states)
            .values(target=state.target, **values)
            .on_conflict_do_update(index_elements=[target_states.c.target], set_=values)
        )

    # -- states ----------------------------------------------------------------------------

    def get_state(self, target: str) -> TargetState:
        """The target's state; an empty TargetState for a target never recorded."""
        with self._read() as connection:
            row = connection.execute(STATE_OF, {"target": target}).first()
        return TargetState(target) if row is None else state_from_row(row)

    def states(self) -> list[TargetState]:
        """Every recorded state, by target id (the monitor's own included: see is_monitor_key)."""
        with self._read() as connection:
            rows = connection.execute(select(target_states).order_by(target_states.c.target))
            return [state_from_row(row) for row in rows]

    def chain_head(self, target: str) -> str | None:
        """The ``chain`` of the target's latest outcome, as recorded with it."""
        with self._read() as connection:
            head: str | None = connection.execute(
                select(target_states.c.chain_head).where(target_states.c.target == target)
            ).scalar_one_or_none()
        return head

    def schedule_next_probe(self, target: str, at: datetime | None) -> None:
        """Remember when back-off allows the target's next probe (None: normal schedule)."""
        with self._write() as connection:
            connection.execute(
                dialect_insert(connection, target_states)
                .values(target=target, next_probe_at=at, **state_values(TargetState(target)))
                .on_conflict_do_update(
                    index_elements=[target_states.c.target], set_={"next_probe_at": at}
                )
            )

    def next_probes(self) -> dict[str, datetime]:
        """The back-off times that are set, by target (survive a restart)."""
        with self._read() as connection:
            rows = connection.execute(
                select(target_states.c.target, target_states.c.next_probe_at).where(
                    target_states.c.next_probe_at.is_not(None)
                )
            )
            return {row.target: row.next_probe_at for row in rows}

    # -- reading outcomes ------------------------------------------------------------------

    def history(self, **filters: Unpack[HistoryFilters]) -> Iterator[Outcome]:
        """Stream outcomes matching every given filter (:class:`HistoryFilters`), newest
        first by default. Rows are fetched in batches as the iterator advances (a server-side
        cursor on PostgreSQL); the connection is held until the iterator is exhausted or
        closed.
        """
        return self._history(outcome_from_row, filters)

    def history_records(self, **filters: Unpack[HistoryFilters]) -> Iterator[OutcomeRecord]:
        """:meth:`history` as flat records (:func:`~monitor.store.rows.outcome_record`), the
        fields the output formats print, without an Outcome per row."""
        return self._history(outcome_record, filters)

    def _history(self, convert: Callable[[Row[Any]], T], filters: HistoryFilters) -> Iterator[T]:
        targets = filters.get("targets")
        if targets is not None and not targets:
            return
        query = select(outcomes)
        python_match: Callable[[str], bool] | None = None
        if targets is not None:
            clause, python_match = _glob_filter(self._engine.dialect.name, targets)
            query = query.where(clause)
        if (prefecture := filters.get("prefecture")) is not None:
            query = query.where(outcomes.c.prefecture == prefecture)
        if (status := filters.get("status")) is not None:
            query = query.where(outcomes.c.status == str(status))
        if (reason := filters.get("reason")) is not None:
            query = query.where(outcomes.c.reason == str(reason))
        if (since := filters.get("since")) is not None:
            query = query.where(outcomes.c.started_at >= since)
        if (until := filters.get("until")) is not None:
            query = query.where(outcomes.c.started_at < until)
        if filters.get("newest_first", True):
            query = query.order_by(outcomes.c.started_at.desc(), outcomes.c.id.desc())
        else:
            query = query.order_by(outcomes.c.started_at, outcomes.c.id)
        limit = filters.get("limit")
        if limit is not None and python_match is None:
            query = query.limit(limit)
        yield from self._stream(query, convert, python_match, limit)

    def _stream(
        self,
        query: Select[tuple[object, ...]],
        convert: Callable[[Row[Any]], T],
        match: Callable[[str], bool] | None,
        limit: int | None,
    ) -> Iterator[T]:
        if limit is not None and limit <= 0:
            return
        count = 0
        with self._read() as connection:
            result = connection.execution_options(yield_per=STREAM_BATCH).execute(query)
            for row in result:
                if match is not None and not match(row.target):
                    continue
                yield convert(row)
                count += 1
                if limit is not None and count >= limit:
                    return

    def chain_heads_and_counts(self) -> list[tuple[str, str, int]]:
        """``(target, chain head, row count)`` of every target with rows, for anchoring."""
        counts = (
            select(outcomes.c.target, func.count().label("rows"))
            .group_by(outcomes.c.target)
            .subquery()
        )
        query = select(target_states.c.target, target_states.c.chain_head, counts.c.rows).join(
            counts, counts.c.target == target_states.c.target
        )
        with self._read() as connection:
            rows = connection.execute(query.where(target_states.c.chain_head.is_not(None))).all()
        return [(row.target, row.chain_head, int(row.rows)) for row in rows]

    def latest_outcomes(self, targets: Sequence[str]) -> dict[str, Outcome]:
        """Each of ``targets``' latest outcome (in insertion order), for ``status``."""
        if not targets:
            return {}
        newest = (
            select(func.max(outcomes.c.id))
            .where(outcomes.c.target.in_(list(targets)))
            .group_by(outcomes.c.target)
        )
        with self._read() as connection:
            rows = connection.execute(select(outcomes).where(outcomes.c.id.in_(newest))).all()
        return {row.target: outcome_from_row(row) for row in rows}

    def outcome(self, outcome_id: int) -> Outcome | None:
        """The outcome with this id; None if there is none (never stored, or deleted)."""
        with self._read() as connection:
            row = connection.execute(select(outcomes).where(outcomes.c.id == outcome_id)).first()
        return None if row is None else outcome_from_row(row)

    def outcomes_for_target(self, target: str, oldest_first: bool = True) -> Iterator[Outcome]:
        """Stream one target's outcomes in chain (insertion) order, for ``verify``."""
        order = outcomes.c.id if oldest_first else outcomes.c.id.desc()
        query = select(outcomes).where(outcomes.c.target == target).order_by(order)
        yield from self._stream(query, outcome_from_row, None, None)

    def targets_with_outcomes(self) -> list[str]:
        """Every target id that has at least one outcome, sorted."""
        with self._read() as connection:
            return list(
                connection.execute(
                    select(outcomes.c.target).distinct().order_by(outcomes.c.target)
                ).scalars()
            )

    def watched_hours(
        self, target_ids: Collection[str] | None, since: datetime | None
    ) -> Mapping[str, list[datetime]]:
        """The start of each UTC hour in which a target saw its page (an ``available`` or
        ``unavailable`` outcome), from the ``outcome_hours`` rollup, from ``since``'s hour on
        (None: all), oldest first. ``target_ids`` None: every target; targets without one
        are absent."""
        if target_ids is not None and not target_ids:
            return {}
        seen = (str(Status.AVAILABLE), str(Status.UNAVAILABLE))
        query = (
            select(outcome_hours.c.target, outcome_hours.c.hour)
            .where(outcome_hours.c.status.in_(seen))
            .distinct()
            .order_by(outcome_hours.c.target, outcome_hours.c.hour)
        )
        if target_ids is not None:
            query = query.where(outcome_hours.c.target.in_(sorted(set(target_ids))))
        if since is not None:
            query = query.where(outcome_hours.c.hour >= hour_of(since))
        found: dict[str, list[datetime]] = {}
        with self._read() as connection:
            for target, hour in connection.execution_options(yield_per=STREAM_BATCH).execute(query):
                found.setdefault(target, []).append(moment_of(hour))
        return found

    def slots_opened_times(
        self, target_ids: Collection[str] | None, since: datetime | None
    ) -> Mapping[str, list[datetime]]:
        """When slots first appeared, per target: its ``slots_opened`` events (reminders left
        out), each at the start of the probe that saw the slots (the event's outcome; the
        event's own time if it has none), from ``since`` on (inclusive; None: all), UTC,
        oldest first. ``target_ids`` None: every target; targets without one are absent.
        """
        if target_ids is not None and not target_ids:
            return {}
        moment = func.coalesce(outcomes.c.started_at, events.c.occurred_at).label("at")
        query = (
            select(events.c.target, moment)
            .select_from(events.outerjoin(outcomes, outcomes.c.id == events.c.outcome_id))
            .where(events.c.kind == str(EventKind.SLOTS_OPENED), events.c.reminder == false())
            .order_by(events.c.target, moment, events.c.id)
        )
        if target_ids is not None:
            query = query.where(events.c.target.in_(sorted(set(target_ids))))
        if since is not None:
            query = query.where(moment >= since)
        found: dict[str, list[datetime]] = {}
        with self._read() as connection:
            for target, at in connection.execution_options(yield_per=STREAM_BATCH).execute(query):
                found.setdefault(target, []).append(at.astimezone(UTC))
        return found

    def evidence_paths(self, *, since: datetime | None = None) -> set[str]:
        """Evidence files referenced by outcomes started at or after ``since`` (all: None).

        Files are shared between outcomes (content addressing), so ``db prune`` must keep
        every file still referenced by a newer outcome.
        """
        query = select(outcomes.c.evidence)
        if since is not None:
            query = query.where(outcomes.c.started_at >= since)
        paths: set[str] = set()
        with self._read() as connection:
            for evidence in connection.execution_options(yield_per=STREAM_BATCH).scalars(query):
                paths.update(evidence or ())
        return paths


_LIKE_SPECIAL = re.compile(r"([\\%_])")


def _glob_filter(
    dialect: str, patterns: Sequence[str]
) -> tuple[ColumnElement[bool], Callable[[str], bool] | None]:
    """An SQL condition for fnmatch globs, plus a Python check when SQL cannot be exact.

    ``*`` and ``?`` translate exactly: to SQLite's case-sensitive GLOB, or to LIKE on
    PostgreSQL (case-sensitive there). ``[...]`` classes do not translate to LIKE, so any
    pattern with one disables the SQL condition and every pattern is checked in Python.
    """
    if any("[" in pattern for pattern in patterns):
        return true(), lambda target: any(fnmatch.fnmatchcase(target, p) for p in patterns)
    clauses: list[ColumnElement[bool]] = []
    for pattern in patterns:
        if "*" not in pattern and "?" not in pattern:
            clauses.append(outcomes.c.target == pattern)
        elif dialect == "sqlite":
            clauses.append(outcomes.c.target.op("GLOB", is_comparison=True)(pattern))
        else:
            like = _LIKE_SPECIAL.sub(r"\\\1", pattern).replace("*", "%").replace("?", "_")
            clauses.append(outcomes.c.target.like(like, escape="\\"))
    return or_(*clauses), None
