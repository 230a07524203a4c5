"""The store ports' contract, held by the in-memory fake and a migrated SQLite Repository alike.

Every test runs twice: on ``fakes.MemoryStore`` and on a Repository over a SQLite database
brought to head by the migrations. A rule the fake breaks fails here, so the fast tier's
tests (tests/unit) can trust it; the last test replays one scenario on both and compares
every answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

import pytest
from fakes import MemoryStore
from sqlalchemy import func, select

from monitor.details import record_line
from monitor.domain import (
    Detail,
    Engine,
    Event,
    EventKind,
    Outcome,
    Reason,
    Status,
    TargetState,
)
from monitor.store import Repository, create_engine_for, upgrade
from monitor.store.evidence import chain_hash
from monitor.store.ports import (
    FleetClaims,
    HealthRecords,
    Ledger,
    NodeUpkeep,
    Outbox,
    SlotHistory,
    WatchedHours,
)
from monitor.store.rows import delivery_attempts

T0 = datetime(2026, 3, 2, 13, 5, tzinfo=UTC)
PARIS_WINTER = timezone(timedelta(hours=1))
LEASE = timedelta(minutes=5)
TARGET = "92/remise-titre"


class Store(
    Outbox, Ledger, HealthRecords, NodeUpkeep, FleetClaims, SlotHistory, WatchedHours, Protocol
):
    """Every port the fake stands in for: what these tests call."""


@dataclass
class Subject:
    """A store under test and the two things its ports do not read back."""

    store: Store
    attempts: Callable[[], int]  #: delivery_attempts rows
    nodes: Callable[[], set[str]]  #: heartbeat rows


def memory() -> Subject:
    store = MemoryStore()
    return Subject(store, lambda: len(store.attempts), lambda: set(store.beats))


@pytest.fixture(params=["memory", "sqlite"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Subject]:
    if request.param == "memory":
        yield memory()
        return
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    upgrade(url)
    engine = create_engine_for(url)
    repository = Repository(engine)

    def attempts() -> int:
        with engine.connect() as connection:
            count: int = connection.execute(
                select(func.count()).select_from(delivery_attempts)
            ).scalar_one()
        return count

    yield Subject(repository, attempts, lambda: {beat.node for beat in repository.nodes()})
    engine.dispose()


def outcome(
    at: datetime = T0, *, target: str = TARGET, status: Status = Status.UNAVAILABLE
) -> Outcome:
    detail = Detail("maintenance", {"text": "Site en maintenance", "seen": 2})
    return Outcome(
        target=target,
        prefecture=target.split("/")[0],
        started_at=at,
        finished_at=at + timedelta(seconds=2),
        engine=Engine.HTTP,
        status=status,
        reason=Reason.NO_SLOT if status is Status.UNAVAILABLE else Reason.SLOTS,
        detail=record_line(detail),
        structured=detail,
        url="https://example.gouv.fr/booking\x00",
        http_status=200,
        evidence=("ab/cd.html",),
        sha256="0" * 64,
    )


def event(kind: EventKind = EventKind.SLOTS_OPENED, at: datetime = T0) -> Event:
    return Event(kind, TARGET, at, payload={"slot_count": 2, "dates": ["lundi"]})


def advancing(*events: Event) -> Callable[[TargetState], tuple[TargetState, list[Event]]]:
    def advance(state: TargetState) -> tuple[TargetState, list[Event]]:
        return replace(state, streak=state.streak + 1, last_probe_at=T0), list(events)

    return advance


def to(*channels: str) -> Callable[[Event], list[str]]:
    return lambda _: list(channels)


def one_delivery(subject: Subject, *channels: str) -> Event:
    """An outcome with one event, sent to ``channels``; returns the stored event."""
    recorded = subject.store.record_probe(outcome(), advancing(event()), to(*channels), now=T0)
    return recorded.events[0]


# -- Recorder, Ledger ----------------------------------------------------------------------


def test_slots_opened_times_are_the_probes_starts_oldest_first_without_reminders(
    subject: Subject,
) -> None:
    store = subject.store
    other = "75/titre"
    plan = [  # (start, target, event)
        (T0 + timedelta(hours=5), TARGET, event()),
        (T0, TARGET, event(at=T0 + timedelta(hours=9))),  # recorded late: its probe's time
        (T0 + timedelta(hours=6), TARGET, replace(event(), reminder=True)),
        (T0 + timedelta(hours=7), TARGET, event(EventKind.SLOTS_CLOSED)),
        (T0 + timedelta(hours=1), other, replace(event(), target=other)),
    ]
    for start, target, happened in plan:
        probe = outcome(start.astimezone(PARIS_WINTER), target=target, status=Status.AVAILABLE)
        store.record_probe(probe, advancing(happened), to("mail"), now=T0)
    every = store.slots_opened_times(None, None)
    assert dict(every) == {other: [T0 + timedelta(hours=1)], TARGET: [T0, T0 + timedelta(hours=5)]}
    assert all(moment.tzinfo is UTC for times in every.values() for moment in times)
    assert store.slots_opened_times([TARGET], T0 + timedelta(hours=1)) == {
        TARGET: [T0 + timedelta(hours=5)]
    }
    assert store.slots_opened_times([], None) == {}
    assert store.slots_opened_times(["13/x"], None) == {}


def test_watched_hours_are_the_utc_hours_in_which_a_target_saw_its_page(
    subject: Subject,
) -> None:
    store = subject.store
    other = "75/titre"
    hour = T0.replace(minute=0)
    plan = [  # (start, target, status)
        (hour + timedelta(minutes=5), TARGET, Status.UNAVAILABLE),
        (hour + timedelta(minutes=50), TARGET, Status.AVAILABLE),  # the same hour: once
        (hour + timedelta(hours=2, minutes=1), TARGET, Status.ANOMALY),  # saw nothing
        (hour + timedelta(hours=3, minutes=59), TARGET, Status.AVAILABLE),
        (hour + timedelta(hours=1), other, Status.UNAVAILABLE),
    ]
    for start, target, status in plan:
        probe = outcome(start.astimezone(PARIS_WINTER), target=target, status=status)
        store.record_probe(probe, advancing(), to("mail"), now=T0)
    later = hour + timedelta(hours=3)
    every = store.watched_hours(None, None)
    assert dict(every) == {other: [hour + timedelta(hours=1)], TARGET: [hour, later]}
    assert all(moment.tzinfo is UTC for hours in every.values() for moment in hours)
    half_past = hour + timedelta(minutes=30)  # from its hour on
    assert store.watched_hours([TARGET], half_past) == {TARGET: [hour, later]}
    assert store.watched_hours([TARGET], hour + timedelta(hours=1)) == {TARGET: [later]}
    assert store.watched_hours([], None) == {}
    assert store.watched_hours(["13/x"], None) == {}


def test_it_records_an_outcome_linked_to_the_previous_one(subject: Subject) -> None:
    store = subject.store
    first = store.record_probe(outcome(), advancing(), to(), now=T0)
    second = store.record_probe(outcome(T0 + timedelta(minutes=15)), advancing(), to(), now=T0)
    assert first.outcome.chain == chain_hash(None, first.outcome)
    assert second.outcome.chain == chain_hash(first.outcome.chain, second.outcome)
    assert second.before == first.after == TargetState(TARGET, streak=1, last_probe_at=T0)
    assert store.get_state(TARGET) == second.after
    assert store.chain_heads_and_counts() == [(TARGET, second.outcome.chain, 2)]


def test_it_reads_back_an_outcome_as_it_was_stored(subject: Subject) -> None:
    local = outcome(T0.astimezone(PARIS_WINTER))
    recorded = subject.store.record_probe(local, advancing(), to(), now=T0)
    assert recorded.outcome.id is not None
    read = subject.store.outcome(recorded.outcome.id)
    assert read == recorded.outcome
    assert read.started_at.tzinfo is UTC and read.url.endswith("\ufffd")
    assert subject.store.outcome(recorded.outcome.id + 1) is None


def test_it_gives_an_event_its_outcome_and_one_delivery_per_channel(subject: Subject) -> None:
    recorded = subject.store.record_probe(
        outcome(), advancing(event()), to("mail", "signal", "mail"), now=T0
    )
    [stored] = recorded.events
    assert stored.id is not None and stored.outcome_id == recorded.outcome.id
    assert subject.store.outbox_depth() == 2


def test_a_state_for_another_target_records_nothing(subject: Subject) -> None:
    def wrong(state: TargetState) -> tuple[TargetState, list[Event]]:
        return TargetState("75/other"), [event()]

    with pytest.raises(ValueError, match="75/other"):
        subject.store.record_probe(outcome(), wrong, to("mail"), now=T0)
    assert subject.store.outbox_depth() == 0
    assert subject.store.chain_heads_and_counts() == []
    assert subject.store.get_state(TARGET) == TargetState(TARGET)


def test_a_slot_is_claimed_once_and_old_claims_are_pruned(subject: Subject) -> None:
    store = subject.store
    assert store.claim_probe(TARGET, T0, "node-a")
    assert not store.claim_probe(TARGET, T0.astimezone(PARIS_WINTER), "node-b")
    assert store.claim_probe(TARGET, T0 + timedelta(minutes=15), "node-b")
    assert store.claimed_since(T0 + timedelta(minutes=1)) == {(TARGET, T0 + timedelta(minutes=15))}
    assert store.prune_claims(T0 + timedelta(minutes=1)) == 1
    assert store.claimed_since(T0 - timedelta(days=1)) == {(TARGET, T0 + timedelta(minutes=15))}


def test_a_back_off_is_kept_through_recordings_until_cleared(subject: Subject) -> None:
    store = subject.store
    later = T0 + timedelta(hours=1)
    store.schedule_next_probe(TARGET, later.astimezone(PARIS_WINTER))
    store.record_probe(outcome(), advancing(), to(), now=T0)
    assert store.next_probes() == {TARGET: later}
    assert store.get_state(TARGET).streak == 1
    store.schedule_next_probe(TARGET, None)
    assert store.next_probes() == {}


# -- HealthRecords -------------------------------------------------------------------------


def test_health_events_are_stored_with_their_state_and_deliveries(subject: Subject) -> None:
    store = subject.store
    degraded = Event(EventKind.MONITOR_DEGRADED, "*monitor*", T0)
    state = TargetState("*monitor*", anomaly_open=True, anomaly_since=T0)
    [stored] = store.record_events([degraded], to("mail"), state=state, now=T0)
    assert stored.id is not None and stored.outcome_id is None
    assert store.get_state("*monitor*") == state
    assert store.outbox_depth() == 1
    assert store.get_state("never-seen") == TargetState("never-seen")


# -- Outbox --------------------------------------------------------------------------------


def test_due_deliveries_are_claimed_once_oldest_first_up_to_the_limit(subject: Subject) -> None:
    store = subject.store
    first = one_delivery(subject, "mail", "signal")
    later = store.record_events([event(at=T0)], to("mail"), now=T0 + timedelta(minutes=1))
    assert store.claim_deliveries("node-a", T0 - timedelta(seconds=1), 10, LEASE) == []
    claimed = store.claim_deliveries("node-a", T0 + timedelta(minutes=1), 2, LEASE)
    assert [(d.channel_id, d.attempts, d.event) for d in claimed] == [
        ("mail", 1, first),
        ("signal", 1, first),
    ]
    assert (
        store.claim_deliveries("node-b", T0 + timedelta(minutes=1), 10, LEASE)[0].event
        == (later[0])
    )
    assert store.claim_deliveries("node-b", T0 + timedelta(minutes=2), 10, LEASE) == []
    assert store.outbox_depth() == 3


def test_a_claim_past_its_lease_goes_to_another_node(subject: Subject) -> None:
    store = subject.store
    one_delivery(subject, "mail")
    [mine] = store.claim_deliveries("node-a", T0, 10, LEASE)
    assert store.claim_deliveries("node-b", T0 + LEASE, 10, LEASE) == []
    [theirs] = store.claim_deliveries("node-b", T0 + LEASE + timedelta(seconds=1), 10, LEASE)
    assert theirs.delivery_id == mine.delivery_id and theirs.attempts == 2
    # node-a's late answer is kept as an attempt; the row stays node-b's.
    assert not store.mark_sent(mine.delivery_id, T0 + LEASE, node="node-a")
    assert subject.attempts() == 1 and store.outbox_depth() == 1
    assert store.mark_sent(theirs.delivery_id, T0 + LEASE, node="node-b")
    assert store.outbox_depth() == 0
    assert not store.mark_failed(theirs.delivery_id, T0 + LEASE, "twice", node="node-b")
    assert subject.attempts() == 3


def test_a_retry_is_due_again_at_its_time_and_a_failure_is_final(subject: Subject) -> None:
    store = subject.store
    one_delivery(subject, "mail")
    [claim] = store.claim_deliveries("node-a", T0, 10, LEASE)
    retry_at = T0 + timedelta(seconds=30)
    assert store.mark_retry(claim.delivery_id, T0, retry_at, "421 busy", node="node-a")
    assert store.claim_deliveries("node-a", retry_at - timedelta(seconds=1), 10, LEASE) == []
    [again] = store.claim_deliveries("node-b", retry_at, 10, LEASE)
    assert again.attempts == 2
    assert store.mark_failed(again.delivery_id, retry_at, "550 no such user", node="node-b")
    assert store.outbox_depth() == 0
    assert store.claim_deliveries("node-a", T0 + timedelta(days=1), 10, LEASE) == []
    assert subject.attempts() == 2


# -- NodeUpkeep ----------------------------------------------------------------------------


def test_a_node_beats_and_leaves(subject: Subject) -> None:
    store = subject.store
    store.beat("node-a", 41, "1.0", T0, now=T0)
    store.beat("node-a", 41, "1.0", T0, now=T0 + timedelta(minutes=1))
    store.beat("node-b", 42, "1.0", T0, now=T0)
    assert subject.nodes() == {"node-a", "node-b"}
    store.forget_node("node-a")
    store.forget_node("never-beat")
    assert subject.nodes() == {"node-b"}


def test_nodes_silent_since_a_moment_are_forgotten_and_returned_once(subject: Subject) -> None:
    store = subject.store
    store.beat("node-a", 41, "1.0", T0, now=T0)
    store.beat("node-b", 42, "1.0", T0, now=T0 + timedelta(hours=2))
    store.beat("node-c", 43, "1.0", T0, now=T0 - timedelta(hours=1))
    forgotten = store.forget_silent_nodes(T0 + timedelta(hours=1))
    assert [(beat.node, beat.beat_at, beat.pid) for beat in forgotten] == [
        ("node-a", T0, 41),
        ("node-c", T0 - timedelta(hours=1), 43),
    ]
    assert subject.nodes() == {"node-b"}
    assert store.forget_silent_nodes(T0 + timedelta(hours=1)) == []


# -- the same answers ----------------------------------------------------------------------


def scenario(store: Store) -> list[object]:
    """One day of a target's life through every port; every answer, in order."""
    answers: list[object] = []
    for minutes in (0, 15, 30):
        at = T0 + timedelta(minutes=minutes)
        # A tuple comes back from the table as a list; the answer to the caller keeps it.
        opened = replace(event(at=at), payload={"dates": ("lundi",)}) if minutes == 15 else None
        recorded = store.record_probe(
            outcome(at), advancing(*([opened] if opened else [])), to("mail", "signal"), now=at
        )
        answers += [recorded, store.claim_probe(TARGET, at, "node-a")]
    answers.append(store.record_events([event(EventKind.SLOTS_CLOSED)], to("mail"), now=T0))
    claimed = store.claim_deliveries("node-a", T0 + timedelta(hours=1), 2, LEASE)
    answers.append(claimed)
    answers.append(store.mark_sent(claimed[0].delivery_id, T0, node="node-a"))
    answers.append(store.mark_retry(claimed[1].delivery_id, T0, T0, "later", node="node-a"))
    answers.append(store.claim_deliveries("node-b", T0 + timedelta(hours=1), 10, LEASE))
    answers += [store.outbox_depth(), store.outcome(2), store.get_state(TARGET)]
    answers += [store.chain_heads_and_counts(), store.claimed_since(T0), store.next_probes()]
    return answers


def test_the_fake_and_the_repository_give_the_same_answers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    upgrade(url)
    engine = create_engine_for(url)
    try:
        assert scenario(MemoryStore()) == scenario(Repository(engine))
    finally:
        engine.dispose()
