"""In-memory stand-ins for the daemon's store ports (monitor.store.ports), for the fast tier.

:class:`MemoryStore` keeps rows in dicts and lists and follows the Repository's rules for
every method it has: an outcome recorded with its state and events, each event with one
pending delivery per channel; deliveries claimed when due or when their lease has passed,
results written only while the caller holds the claim (the attempt is kept either way);
one claim per ``(target, slot)``; values read back as the database gives them (UTC, JSON
payloads, details through their columns). ``tests/integration/test_ports_contract.py``
runs the same assertions on it and on a migrated SQLite Repository, so it cannot drift.

:func:`run_inline` runs a coroutine on an event loop whose ``asyncio.to_thread`` calls run
at once in the calling thread, so the daemon's parts (which call the store off the loop)
are tested without a thread.

SlotHistory's times are read from the events kept here.

The ports that also hand out an Engine (StatusReads, ChainRecord, DossierReads) have no
fake: their consumers run SQL of their own, which only a real database answers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import threading
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from monitor.details import detail_columns, structured_detail
from monitor.domain import Event, EventKind, Outcome, Status, TargetState
from monitor.store import ChannelsFor, PendingDelivery, Recorded
from monitor.store.coordination import NodeBeat
from monitor.store.evidence import chain_hash
from monitor.store.recording import Advance, storable

if TYPE_CHECKING:
    from monitor.store.ports import (
        FleetClaims,
        HealthRecords,
        Ledger,
        NodeUpkeep,
        Outbox,
        SlotHistory,
    )

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass
class Delivery:
    """One ``deliveries`` row."""

    id: int
    event_id: int
    channel_id: str
    state: str  #: pending, sending, sent, failed
    attempts: int
    next_attempt_at: datetime
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class Attempt:
    """One ``delivery_attempts`` row."""

    delivery_id: int
    attempted_at: datetime
    result: str  #: sent, transient, permanent
    error: str | None


@dataclass(frozen=True)
class Beat:
    """One ``heartbeats`` row."""

    beat_at: datetime
    pid: int
    version: str
    started_at: datetime


@dataclass
class _StateRow:
    state: TargetState
    chain_head: str | None = None
    next_probe_at: datetime | None = None


class MemoryStore:
    """The Repository's outbox, ledger, health, upkeep and fleet-claim methods, in memory.

    Its rows are public (``outcomes``, ``events``, ``deliveries``, ``attempts``,
    ``claims``, ``beats``) for tests to read, as integration tests read tables.
    """

    def __init__(self) -> None:
        self.outcomes: dict[int, Outcome] = {}
        self.events: dict[int, Event] = {}
        self.deliveries: dict[int, Delivery] = {}
        self.attempts: list[Attempt] = []
        self.claims: dict[tuple[str, datetime], str] = {}
        self.beats: dict[str, Beat] = {}
        self._states: dict[str, _StateRow] = {}
        # One sequence per table, as the database numbers each table's rows.
        self._outcome_ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        self._delivery_ids = itertools.count(1)

    # -- Recorder, Ledger ------------------------------------------------------------------

    def record_probe(
        self,
        outcome: Outcome,
        advance: Advance,
        channels_for: ChannelsFor,
        *,
        now: datetime | None = None,
    ) -> Recorded:
        """Repository.record_probe: outcome, chain link, state and events, all or nothing."""
        outcome = storable(outcome)
        now = now or datetime.now(UTC)
        row = self._states.get(outcome.target) or _StateRow(TargetState(outcome.target))
        before = row.state
        after, events = advance(before)
        if after.target != outcome.target:
            raise ValueError(f"state of {after.target!r} for outcome of {outcome.target!r}")
        chain = chain_hash(row.chain_head, outcome)
        outcome = replace(outcome, id=next(self._outcome_ids), chain=chain)
        assert outcome.id is not None
        pending = [replace(event, outcome_id=outcome.id) for event in events]
        stored_events = self._insert_events(pending, channels_for, now)
        self.outcomes[outcome.id] = _as_read(outcome)
        self._states[outcome.target] = replace(row, state=_utc_state(after), chain_head=chain)
        return Recorded(outcome, before, after, stored_events)

    def claim_probe(self, target: str, slot: datetime, node: str) -> bool:
        key = (target, slot.astimezone(UTC))
        if key in self.claims:
            return False
        self.claims[key] = node
        return True

    def next_probes(self) -> dict[str, datetime]:
        return {
            target: row.next_probe_at
            for target, row in self._states.items()
            if row.next_probe_at is not None
        }

    def schedule_next_probe(self, target: str, at: datetime | None) -> None:
        row = self._states.setdefault(target, _StateRow(TargetState(target)))
        row.next_probe_at = None if at is None else at.astimezone(UTC)

    # -- HealthRecords ---------------------------------------------------------------------

    def get_state(self, target: str) -> TargetState:
        row = self._states.get(target)
        return TargetState(target) if row is None else row.state

    def record_events(
        self,
        events: Sequence[Event],
        channels_for: ChannelsFor,
        *,
        state: TargetState | None = None,
        now: datetime | None = None,
    ) -> list[Event]:
        now = now or datetime.now(UTC)
        stored = self._insert_events(events, channels_for, now)
        if state is not None:
            row = self._states.setdefault(state.target, _StateRow(state))
            row.state = _utc_state(state)
        return stored

    def _insert_events(
        self, events: Sequence[Event], channels_for: ChannelsFor, now: datetime
    ) -> list[Event]:
        """Events and a pending delivery per channel; kept only once all are made (the
        caller's transaction: an event is never stored without its deliveries)."""
        stored: list[Event] = []  #: as given, with ids (as the Repository returns them)
        read: dict[int, Event] = {}  #: as the table gives them back (claim_deliveries)
        rows: list[Delivery] = []
        for event in events:
            event_id = next(self._event_ids)
            read[event_id] = replace(
                event,
                id=event_id,
                occurred_at=event.occurred_at.astimezone(UTC),
                payload=json.loads(json.dumps(dict(event.payload))),
            )
            for channel_id in dict.fromkeys(channels_for(event)):
                rows.append(
                    Delivery(
                        next(self._delivery_ids),
                        event_id,
                        channel_id,
                        "pending",
                        0,
                        now.astimezone(UTC),
                    )
                )
            stored.append(replace(event, id=event_id))
        self.events.update(read)
        self.deliveries.update((row.id, row) for row in rows)
        return stored

    # -- Outbox, OutboxResults -------------------------------------------------------------

    def claim_deliveries(
        self, node: str, now: datetime, limit: int, lease: timedelta
    ) -> list[PendingDelivery]:
        def claimable(row: Delivery) -> bool:
            if row.state == "pending":
                return row.next_attempt_at <= now
            return (
                row.state == "sending"
                and row.claimed_at is not None
                and row.claimed_at < now - lease
            )

        due = sorted(
            (row for row in self.deliveries.values() if claimable(row)),
            key=lambda row: (row.next_attempt_at, row.id),
        )[: max(limit, 0)]
        for row in due:
            row.state, row.claimed_by, row.claimed_at = "sending", node, now.astimezone(UTC)
            row.attempts += 1
        return [
            PendingDelivery(row.id, row.channel_id, row.attempts, self.events[row.event_id])
            for row in due
        ]

    def mark_sent(self, delivery_id: int, now: datetime, *, node: str) -> bool:
        return self._finish(
            delivery_id,
            node,
            now,
            "sent",
            None,
            state="sent",
            sent_at=now.astimezone(UTC),
            last_error=None,
        )

    def mark_retry(
        self, delivery_id: int, now: datetime, next_attempt_at: datetime, error: str, *, node: str
    ) -> bool:
        return self._finish(
            delivery_id,
            node,
            now,
            "transient",
            error,
            state="pending",
            next_attempt_at=next_attempt_at.astimezone(UTC),
            claimed_by=None,
            claimed_at=None,
            last_error=error,
        )

    def mark_failed(self, delivery_id: int, now: datetime, error: str, *, node: str) -> bool:
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
        """Change the row only while ``node`` holds it; keep the attempt either way."""
        row = self.deliveries.get(delivery_id)
        if row is None:
            # The real table's foreign key refuses an attempt for no delivery.
            raise KeyError(delivery_id)
        held = row.state == "sending" and row.claimed_by == node
        if held:
            for name, value in values.items():
                setattr(row, name, value)
        self.attempts.append(Attempt(delivery_id, now.astimezone(UTC), result, error))
        return held

    def outcome(self, outcome_id: int) -> Outcome | None:
        return self.outcomes.get(outcome_id)

    # -- NodeUpkeep, FleetClaims -----------------------------------------------------------

    def beat(
        self,
        node: str,
        pid: int,
        version: str,
        started_at: datetime,
        *,
        now: datetime | None = None,
    ) -> None:
        at = (now or datetime.now(UTC)).astimezone(UTC)
        self.beats[node] = Beat(at, pid, version, started_at.astimezone(UTC))

    def forget_node(self, node: str) -> None:
        self.beats.pop(node, None)

    def forget_silent_nodes(self, before: datetime) -> list[NodeBeat]:
        silent = sorted(node for node, beat in self.beats.items() if beat.beat_at < before)
        return [
            NodeBeat(node, beat.beat_at, beat.pid, beat.version, beat.started_at)
            for node, beat in ((node, self.beats.pop(node)) for node in silent)
        ]

    def prune_claims(self, before: datetime) -> int:
        old = [key for key in self.claims if key[1] < before]
        for key in old:
            del self.claims[key]
        return len(old)

    def outbox_depth(self) -> int:
        return sum(row.state in ("pending", "sending") for row in self.deliveries.values())

    def chain_heads_and_counts(self) -> list[tuple[str, str, int]]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes.values():
            counts[outcome.target] = counts.get(outcome.target, 0) + 1
        return [
            (target, row.chain_head, counts[target])
            for target, row in self._states.items()
            if row.chain_head is not None and target in counts
        ]

    def claimed_since(self, since: datetime) -> set[tuple[str, datetime]]:
        return {key for key in self.claims if key[1] >= since}

    # -- SlotHistory -----------------------------------------------------------------------

    def slots_opened_times(
        self, target_ids: Collection[str] | None, since: datetime | None
    ) -> Mapping[str, list[datetime]]:
        """Repository.slots_opened_times: non-reminder slots_opened, at their probe's start."""
        found: dict[str, list[datetime]] = {}
        for event in self.events.values():
            if event.kind is not EventKind.SLOTS_OPENED or event.reminder:
                continue
            if target_ids is not None and event.target not in target_ids:
                continue
            probe = None if event.outcome_id is None else self.outcomes.get(event.outcome_id)
            at = (event.occurred_at if probe is None else probe.started_at).astimezone(UTC)
            if since is None or at >= since:
                found.setdefault(event.target, []).append(at)
        return {target: sorted(times) for target, times in sorted(found.items())}

    # -- WatchedHours ----------------------------------------------------------------------

    def watched_hours(
        self, target_ids: Collection[str] | None, since: datetime | None
    ) -> Mapping[str, list[datetime]]:
        """Repository.watched_hours: the UTC hours with an available or unavailable outcome."""
        first = (
            None
            if since is None
            else since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        )
        found: dict[str, set[datetime]] = {}
        for outcome in self.outcomes.values():
            if outcome.status not in (Status.AVAILABLE, Status.UNAVAILABLE):
                continue
            if target_ids is not None and outcome.target not in target_ids:
                continue
            hour = outcome.started_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
            if first is None or hour >= first:
                found.setdefault(outcome.target, set()).add(hour)
        return {target: sorted(hours) for target, hours in sorted(found.items())}


class InlineExecutor(ThreadPoolExecutor):
    """A thread pool that starts no thread: each call runs at once, in the caller's thread.

    asyncio wants its default executor to be a ThreadPoolExecutor; this one only inherits
    the type (a ThreadPoolExecutor starts its threads on ``submit``, never here).
    """

    def submit(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_R]:
        future: Future[_R] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


def run_inline(main: Coroutine[Any, Any, _R]) -> _R:
    """Run ``main`` to its end on a new event loop whose executor is an InlineExecutor.

    Fails if a thread was started meanwhile: a fast-tier test must not start any.
    """
    threads = set(threading.enumerate())
    loop = asyncio.new_event_loop()
    loop.set_default_executor(InlineExecutor())
    try:
        return loop.run_until_complete(main)
    finally:
        # Not asyncio.run: its shutdown_default_executor() would start a thread to join ours.
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        started = set(threading.enumerate()) - threads
        assert not started, f"a fast-tier test started threads: {started}"


def _as_read(outcome: Outcome) -> Outcome:
    """The outcome as the database gives it back: its detail through its two columns."""
    columns = detail_columns(outcome.structured)
    return replace(
        outcome,
        structured=structured_detail(columns["detail_code"], columns["detail_args"]),
        evidence=tuple(outcome.evidence),
    )


def _utc_state(state: TargetState) -> TargetState:
    """The state as read back: every time in UTC."""
    times: dict[str, Any] = {
        field.name: value.astimezone(UTC)
        for field in dataclasses.fields(state)
        if isinstance(value := getattr(state, field.name), datetime)
    }
    return replace(state, **times)


if TYPE_CHECKING:

    def _memory_store_is_every_port(
        store: MemoryStore,
    ) -> tuple[Outbox, Ledger, HealthRecords, NodeUpkeep, FleetClaims, SlotHistory]:
        """Never called: mypy checks that the fake satisfies each port it stands in for."""
        return (store, store, store, store, store, store)
