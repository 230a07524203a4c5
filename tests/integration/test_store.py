"""The store on real databases: SQLite files in tmp_path and a real PostgreSQL server."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pg import create_database, shared_pg_url
from sqlalchemy import Engine, create_engine, func, insert, select
from sqlalchemy.exc import StatementError
from sqlalchemy.pool import NullPool, QueuePool

from monitor.domain import (
    MONITOR_TARGET,
    Detail,
    Event,
    EventKind,
    Outcome,
    Reason,
    Status,
    TargetState,
)
from monitor.domain import Engine as ProbeEngine
from monitor.errors import DatabaseError
from monitor.reports.output import OUTCOME_FIELDS, outcome_row
from monitor.store import (
    Repository,
    create_engine_for,
    current_revision,
    mask_database_url,
    upgrade,
)
from monitor.store.evidence import chain_hash
from monitor.store.rows import (
    deliveries,
    delivery_attempts,
    events,
    heartbeats,
    outcome_hours,
    outcomes,
    target_states,
)

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
TARGET = "92/remise-titre"


def an_outcome(target: str = TARGET, minute: int = 0, **changes: object) -> Outcome:
    started = T0 + timedelta(minutes=minute)
    outcome = Outcome(
        target=target,
        prefecture=target.split("/")[0],
        started_at=started,
        finished_at=started + timedelta(seconds=2),
        engine=ProbeEngine.HTTP,
        status=Status.UNAVAILABLE,
        reason=Reason.NO_SLOT,
        detail="Il n'existe plus de plage horaire libre",
        url=f"https://prefecture.example/booking/create/{target}",
        http_status=200,
    )
    return replace(outcome, **changes)  # type: ignore[arg-type]


def state_after(outcome: Outcome, streak: int = 1) -> TargetState:
    return TargetState(
        target=outcome.target,
        status=outcome.status,
        reason=outcome.reason,
        since=outcome.started_at,
        last_probe_at=outcome.finished_at,
        streak=streak,
    )


def no_channels(event: Event) -> Sequence[str]:
    return ()


def record(repo: Repository, outcome: Outcome, *, channels: Sequence[str] = ()) -> Outcome:
    event = Event(EventKind.SLOTS_OPENED, outcome.target, outcome.finished_at)
    stored, _ = repo.record_outcome(
        outcome, state_after(outcome), [event] if channels else [], lambda _e: channels
    )
    return stored


def assert_chain_intact(repo: Repository, target: str) -> int:
    previous = None
    count = 0
    for outcome in repo.outcomes_for_target(target):
        assert outcome.chain == chain_hash(previous, outcome), f"chain broken at id {outcome.id}"
        previous = outcome.chain
        count += 1
    assert repo.chain_head(target) == previous
    return count


def open_repository(url: str) -> Iterator[Repository]:
    upgrade(url)
    engine = create_engine_for(url)
    try:
        yield Repository(engine)
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'var' / 'monitor.db'}"


@pytest.fixture
def repo(sqlite_url: str) -> Iterator[Repository]:
    yield from open_repository(sqlite_url)


@pytest.fixture(scope="session")
def pg_server_url(request: pytest.FixtureRequest) -> str:
    return shared_pg_url(request.config)


_databases = itertools.count()


@pytest.fixture
def pg_repo(pg_server_url: str) -> Iterator[Repository]:
    yield from open_repository(create_database(pg_server_url, f"store_{next(_databases)}"))


# -- engines ------------------------------------------------------------------------------


def test_it_turns_on_wal_and_safe_pragmas_for_sqlite(repo: Repository) -> None:
    with repo.engine.connect() as connection:

        def pragma(name: str) -> object:
            return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 1  # NORMAL
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 5000


def test_it_creates_the_directory_of_the_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'monitor.db'}"
    upgrade(url)

    assert (tmp_path / "a" / "b" / "monitor.db").is_file()


def test_it_uses_psycopg_for_plain_postgresql_urls() -> None:
    engine = create_engine_for("postgresql://monitor:secret@db.example/monitor")

    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()


def test_it_masks_passwords_in_database_urls() -> None:
    masked = mask_database_url("postgresql+psycopg://monitor:s3cr%40t@db.example:5432/monitor")

    assert "s3cr" not in masked
    assert masked == "postgresql+psycopg://monitor:***@db.example:5432/monitor"


def test_it_reports_an_unreachable_database_in_one_line_without_the_password() -> None:
    with pytest.raises(DatabaseError) as caught:
        current_revision("postgresql://monitor:s3cret@127.0.0.1:1/monitor")

    message = str(caught.value)
    assert "s3cret" not in message
    assert message.startswith("database postgresql://monitor:***@127.0.0.1:1/monitor: ")
    assert "\n" not in message


def test_it_tells_to_upgrade_when_tables_are_missing(sqlite_url: str) -> None:
    engine = create_engine_for(sqlite_url)
    try:
        with pytest.raises(DatabaseError, match=r"no such table.*monitor db upgrade"):
            Repository(engine).get_state(TARGET)
    finally:
        engine.dispose()


# -- timestamps ---------------------------------------------------------------------------


def test_it_returns_timestamps_as_aware_utc(repo: Repository) -> None:
    paris = timezone(timedelta(hours=2))
    local = an_outcome(
        started_at=datetime(2025, 6, 1, 10, 0, 0, 123456, tzinfo=paris),
        finished_at=datetime(2025, 6, 1, 10, 0, 3, tzinfo=paris),
        earliest_slot=datetime(2025, 7, 14, 9, 30, tzinfo=paris),
    )
    record(repo, local)

    (stored,) = repo.history()
    assert stored.started_at == local.started_at
    assert stored.started_at.tzinfo is UTC
    assert stored.started_at.hour == 8 and stored.started_at.microsecond == 123456
    assert stored.earliest_slot == local.earliest_slot
    assert stored.earliest_slot is not None and stored.earliest_slot.tzinfo is UTC
    assert repo.get_state(TARGET).since == local.started_at
    with repo.engine.connect() as connection:
        raw = connection.exec_driver_sql("SELECT started_at FROM outcomes").scalar()
    assert raw == "2025-06-01 08:00:00.123456"  # UTC, sortable text


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("2025-06-01 08:00:00", datetime(2025, 6, 1, 8, 0, tzinfo=UTC)),
        ("2025-06-01T08:00:00.5", datetime(2025, 6, 1, 8, 0, 0, 500000, tzinfo=UTC)),
        ("2025-06-01", datetime(2025, 6, 1, tzinfo=UTC)),
        ("2025-06-01 10:00:00+02:00", datetime(2025, 6, 1, 8, 0, tzinfo=UTC)),
        ("2025-06-01 08:00:00Z", datetime(2025, 6, 1, 8, 0, tzinfo=UTC)),
    ],
)
def test_it_reads_sqlite_timestamp_text_not_written_by_it_as_utc(
    repo: Repository, text: str, read: datetime
) -> None:
    record(repo, an_outcome())
    with repo.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE outcomes SET earliest_slot = ?", (text,))

    (stored,) = repo.history()
    assert stored.earliest_slot == read and stored.earliest_slot.tzinfo is UTC


def test_it_refuses_naive_datetimes(repo: Repository) -> None:
    with pytest.raises(StatementError, match="naive datetime"), repo.engine.begin() as connection:
        connection.execute(
            insert(heartbeats).values(
                node="n1", beat_at=datetime(2025, 1, 1), pid=1, version="0", started_at=T0
            )
        )
    with pytest.raises(ValueError, match="naive"):
        record(repo, an_outcome(started_at=datetime(2025, 3, 1, 8, 0)))
    assert list(repo.history()) == []


# -- recording outcomes -------------------------------------------------------------------


def test_it_records_an_outcome_with_its_state_events_and_deliveries(repo: Repository) -> None:
    outcome = an_outcome(status=Status.AVAILABLE, reason=Reason.SLOTS, slot_count=3)
    opened = Event(EventKind.SLOTS_OPENED, TARGET, T0, payload={"slot_count": 3, "at": T0})
    state = replace(state_after(outcome), slots_open=True, last_available_at=T0)

    stored, stored_events = repo.record_outcome(
        outcome, state, [opened], lambda event: ["mail", "signal", "mail"], now=T0
    )

    assert stored.id is not None and stored.chain == chain_hash(None, outcome)
    assert stored_events == [replace(opened, id=stored_events[0].id, outcome_id=stored.id)]
    assert repo.get_state(TARGET) == state
    assert repo.chain_head(TARGET) == stored.chain
    (read_back,) = repo.history()
    assert read_back == stored
    claimed = repo.claim_deliveries("node-1", T0, 10, timedelta(minutes=5))
    assert sorted(d.channel_id for d in claimed) == ["mail", "signal"]
    assert claimed[0].event.payload == {"slot_count": 3, "at": "2025-03-01T08:00:00+00:00"}
    assert claimed[0].event.outcome_id == stored.id


def test_it_links_each_outcome_to_the_previous_one_of_its_target(repo: Repository) -> None:
    first = record(repo, an_outcome(minute=0))
    other = record(repo, an_outcome("75/titres", minute=1))
    second = record(repo, an_outcome(minute=2, status=Status.ANOMALY, reason=Reason.CAPTCHA))

    assert first.chain == chain_hash(None, first)
    assert second.chain == chain_hash(first.chain, second)
    assert other.chain == chain_hash(None, other)  # chains are per target
    assert assert_chain_intact(repo, TARGET) == 2


def test_it_records_all_or_nothing(repo: Repository) -> None:
    record(repo, an_outcome(minute=0))
    head = repo.chain_head(TARGET)

    def broken_channels(event: Event) -> Sequence[str]:
        raise RuntimeError("config reloaded mid-way")

    event = Event(EventKind.SLOTS_CLOSED, TARGET, T0)
    with pytest.raises(RuntimeError):
        repo.record_outcome(an_outcome(minute=1), TargetState(TARGET), [event], broken_channels)

    with repo.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(outcomes)) == 1
        assert connection.scalar(select(func.count()).select_from(events)) == 0
    assert repo.chain_head(TARGET) == head
    assert repo.get_state(TARGET).streak == 1


def test_it_leaves_no_state_when_a_first_outcome_fails(repo: Repository) -> None:
    with pytest.raises(ValueError):
        repo.record_outcome(
            an_outcome(finished_at=datetime(2025, 3, 1)), TargetState(TARGET), [], no_channels
        )

    assert repo.states() == []


def test_it_does_not_fork_the_chain_under_concurrent_writers(repo: Repository) -> None:
    run_concurrent_writers(repo)


def in_threads(writers: int, write: Callable[[int], None]) -> None:
    """``write(worker)`` in ``writers`` threads released together; their errors raised here."""
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            barrier.wait()
            write(worker)
        except BaseException as exc:  # surfaced below: threads swallow exceptions
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def run_concurrent_writers(repo: Repository, writers: int = 4, each: int = 15) -> None:
    def write(worker: int) -> None:
        for i in range(each):
            record(repo, an_outcome(minute=worker * 100 + i, detail=f"w{worker} #{i}"))

    in_threads(writers, write)
    assert assert_chain_intact(repo, TARGET) == writers * each


def one_more_probe(state: TargetState) -> tuple[TargetState, list[Event]]:
    """An ``advance`` that counts the probes in ``streak``, from the state as stored."""
    return replace(state, streak=state.streak + 1), []


def test_it_advances_the_state_as_stored_and_returns_it_before_and_after(
    repo: Repository,
) -> None:
    seen: list[TargetState] = []

    def advance(state: TargetState) -> tuple[TargetState, list[Event]]:
        seen.append(state)
        return one_more_probe(state)

    first = repo.record_probe(an_outcome(minute=0), advance, no_channels, now=T0)
    second = repo.record_probe(an_outcome(minute=5), advance, no_channels, now=T0)

    assert seen == [TargetState(TARGET), first.after]
    assert (first.before, first.after) == (
        TargetState(TARGET),
        replace(TargetState(TARGET), streak=1),
    )
    assert second.before == first.after and second.after.streak == 2
    assert repo.get_state(TARGET) == second.after
    assert second.outcome.chain == chain_hash(first.outcome.chain, second.outcome)
    assert [o.id for o in repo.outcomes_for_target(TARGET)] == [first.outcome.id, second.outcome.id]


def test_one_record_writes_its_outcome_its_rollup_count_and_its_state(repo: Repository) -> None:
    first = record(repo, an_outcome(minute=0))
    second = record(repo, an_outcome(minute=30))

    with repo.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(outcomes)) == 2
        hour = connection.execute(select(outcome_hours)).one()
        state = connection.execute(select(target_states)).one()
    assert (hour.target, hour.status, hour.reason) == (TARGET, "unavailable", "no_slot")
    assert (hour.attempts, hour.first_started_at, hour.last_started_at) == (
        2,
        first.started_at,
        second.started_at,
    )
    assert (state.chain_head, state.last_outcome_id) == (second.chain, second.id)
    assert repo.get_state(TARGET) == state_after(second)


def run_concurrent_advances(repo: Repository, writers: int = 4, each: int = 15) -> None:
    """Writers of one target each fold outcomes into its state: no update may be lost."""

    def write(worker: int) -> None:
        for i in range(each):
            outcome = an_outcome(minute=worker * 100 + i)
            repo.record_probe(outcome, one_more_probe, no_channels, now=T0)

    in_threads(writers, write)
    assert repo.get_state(TARGET).streak == writers * each
    assert assert_chain_intact(repo, TARGET) == writers * each


def test_concurrent_writers_of_one_target_lose_no_state_update(repo: Repository) -> None:
    run_concurrent_advances(repo)


def test_it_keeps_text_postgresql_cannot_store_in_a_chainable_form(repo: Repository) -> None:
    stored = record(repo, an_outcome(detail="bad\x00byte"))

    assert stored.detail == "bad\ufffdbyte"
    assert assert_chain_intact(repo, TARGET) == 1


def test_it_records_events_without_an_outcome_and_the_monitor_state(repo: Repository) -> None:
    degraded = Event(EventKind.MONITOR_DEGRADED, MONITOR_TARGET, T0, payload={"why": "offline"})
    state = TargetState(MONITOR_TARGET, status=Status.MONITOR_ERROR, since=T0, streak=3)

    (stored,) = repo.record_events([degraded], lambda e: ["ops"], state=state, now=T0)

    assert stored.id is not None and stored.outcome_id is None
    assert repo.get_state(MONITOR_TARGET) == state
    assert repo.chain_head(MONITOR_TARGET) is None
    assert repo.outbox_depth() == 1


def test_it_gives_an_empty_state_for_an_unknown_target(repo: Repository) -> None:
    assert repo.get_state("13/inconnu") == TargetState("13/inconnu")


def test_it_lists_states_and_back_off_times(repo: Repository) -> None:
    record(repo, an_outcome("92/a"))
    record(repo, an_outcome("75/b"))
    repo.schedule_next_probe("92/a", T0 + timedelta(hours=1))
    repo.schedule_next_probe("13/new", T0 + timedelta(hours=2))
    repo.save_state(replace(repo.get_state("92/a"), backoff_level=3))

    assert [s.target for s in repo.states()] == ["13/new", "75/b", "92/a"]
    assert repo.get_state("92/a").backoff_level == 3
    assert repo.next_probes() == {
        "92/a": T0 + timedelta(hours=1),
        "13/new": T0 + timedelta(hours=2),
    }
    repo.schedule_next_probe("92/a", None)
    assert "92/a" not in repo.next_probes()
    assert repo.chain_head("92/a") is not None  # untouched by the state save


# -- reading ------------------------------------------------------------------------------


@pytest.fixture
def history_repo(repo: Repository) -> Repository:
    rows = [
        ("92/remise-titre", Status.UNAVAILABLE, Reason.NO_SLOT),
        ("92/accueil-etrangers", Status.ANOMALY, Reason.CAPTCHA),
        ("75/titres", Status.AVAILABLE, Reason.SLOTS),
        ("92/remise-titre", Status.ANOMALY, Reason.MAINTENANCE),
        ("93/naturalisation", Status.UNAVAILABLE, Reason.NO_SLOT),
        ("92/Remise-titre", Status.AVAILABLE, Reason.SLOTS),
        ("75/titres", Status.UNAVAILABLE, Reason.CLOSED),
    ]
    for minute, (target, status, reason) in enumerate(rows):
        record(repo, an_outcome(target, minute=minute, status=status, reason=reason))
    return repo


def minutes(found: Iterator[Outcome]) -> list[int]:
    return [int((o.started_at - T0).total_seconds() // 60) for o in found]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [6, 5, 4, 3, 2, 1, 0]),
        ({"newest_first": False}, [0, 1, 2, 3, 4, 5, 6]),
        ({"targets": ["92/*"]}, [5, 3, 1, 0]),
        ({"targets": ["92/remise-titre"]}, [3, 0]),  # exact and case-sensitive
        ({"targets": ["9?/r*"]}, [3, 0]),
        ({"targets": ["92/[Ra]*"]}, [5, 1]),  # a class: matched in Python
        ({"targets": ["75/*", "93/*"]}, [6, 4, 2]),
        ({"targets": ["13/*"]}, []),
        ({"targets": []}, []),
        ({"prefecture": "75"}, [6, 2]),
        ({"status": Status.ANOMALY}, [3, 1]),
        ({"status": "available", "targets": ["92/*"]}, [5]),
        ({"reason": Reason.NO_SLOT}, [4, 0]),
        ({"since": T0 + timedelta(minutes=2)}, [6, 5, 4, 3, 2]),
        ({"until": T0 + timedelta(minutes=2)}, [1, 0]),
        ({"since": T0 + timedelta(minutes=1), "until": T0 + timedelta(minutes=3)}, [2, 1]),
        ({"limit": 2}, [6, 5]),
        ({"limit": 2, "newest_first": False}, [0, 1]),
        ({"limit": 1, "targets": ["92/[r]*"]}, [3]),
        ({"limit": 0}, []),
    ],
)
def test_it_filters_history(
    history_repo: Repository, filters: dict[str, object], expected: list[int]
) -> None:
    assert minutes(history_repo.history(**filters)) == expected  # type: ignore[arg-type]


def test_it_treats_like_wildcards_in_target_ids_literally(repo: Repository) -> None:
    record(repo, an_outcome("92/titre_1"))
    record(repo, an_outcome("92/titreX1"))

    assert [o.target for o in repo.history(targets=["92/titre_*"])] == ["92/titre_1"]


def test_it_streams_history_lazily(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("monitor.store.repository.STREAM_BATCH", 100)
    insert_raw_outcomes(repo.engine, 3000)

    found = repo.history()
    assert iter(found) is found  # an iterator, not a list
    assert checked_out(repo.engine) == 0  # nothing runs before the first next()
    first = next(found)
    assert first.started_at == T0 + timedelta(seconds=2999)
    assert checked_out(repo.engine) == 1  # the cursor is open while we iterate
    assert sum(1 for _ in found) == 2999
    assert checked_out(repo.engine) == 0

    partial = repo.history(newest_first=False)
    assert [o.started_at for o in itertools.islice(partial, 3)][-1] == T0 + timedelta(seconds=2)
    partial.close()  # type: ignore[attr-defined]
    assert checked_out(repo.engine) == 0


def checked_out(engine: Engine) -> int:
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


def insert_raw_outcomes(engine: Engine, count: int) -> None:
    outcome = an_outcome()
    row = {
        "target": TARGET,
        "prefecture": "92",
        "duration_ms": 2000,
        "engine": "http",
        "status": "unavailable",
        "reason": "no_slot",
        "detail": outcome.detail,
        "url": outcome.url,
        "evidence": [],
        "chain": "0" * 64,
    }
    rows = [
        {**row, "started_at": T0 + timedelta(seconds=i), "finished_at": T0 + timedelta(seconds=i)}
        for i in range(count)
    ]
    with engine.begin() as connection:
        connection.execute(insert(outcomes), rows)


def test_it_reads_one_outcome_by_id(repo: Repository) -> None:
    # Same target and start time: only the id tells them apart.
    first = record(repo, an_outcome(evidence=("aa/first.html", "bb/first.png")))
    second = record(repo, an_outcome(status=Status.ANOMALY, reason=Reason.CAPTCHA))
    assert first.id is not None and second.id is not None

    assert repo.outcome(first.id) == first
    assert repo.outcome(second.id) == second
    assert repo.outcome(max(first.id, second.id) + 1) is None


def test_it_refuses_a_row_whose_status_no_version_knows(repo: Repository) -> None:
    first = record(repo, an_outcome())
    assert first.id is not None
    with repo.engine.begin() as connection:
        connection.execute(
            outcomes.update().where(outcomes.c.id == first.id).values(status="maybe")
        )
    with pytest.raises(ValueError, match="'maybe' is not a valid Status"):
        repo.outcome(first.id)


def test_history_records_hold_what_the_outcomes_hold(repo: Repository) -> None:
    nested = Detail("by_desk", {"desks": (Detail("desk", {"label": "1", "finding": None}),)})
    record(repo, an_outcome(evidence=("aa/x.html", "aa/x.png"), sha256="ab" * 32))
    record(repo, an_outcome(minute=1, structured=nested, final_url=None, http_status=None))
    record(repo, an_outcome(minute=2, structured=Detail("no_page"), slot_count=2))

    records = list(repo.history_records(newest_first=False))
    assert records == [outcome_row(o) for o in repo.history(newest_first=False)]
    assert all(tuple(r) == OUTCOME_FIELDS == tuple(outcomes.columns.keys()) for r in records)


def test_history_records_refuse_a_status_no_version_knows(repo: Repository) -> None:
    record(repo, an_outcome())
    with repo.engine.begin() as connection:
        connection.execute(outcomes.update().values(status="maybe"))
    with pytest.raises(ValueError, match="'maybe' is not a valid Status"):
        list(repo.history_records())


def test_it_lists_targets_and_their_outcomes_in_chain_order(history_repo: Repository) -> None:
    assert history_repo.targets_with_outcomes() == [
        "75/titres",
        "92/Remise-titre",
        "92/accueil-etrangers",
        "92/remise-titre",
        "93/naturalisation",
    ]
    ids = [o.id or 0 for o in history_repo.outcomes_for_target("92/remise-titre")]
    assert ids == sorted(ids) and len(ids) == 2
    newest = [o.id for o in history_repo.outcomes_for_target("92/remise-titre", oldest_first=False)]
    assert newest == ids[::-1]


def test_it_lists_evidence_still_referenced(repo: Repository) -> None:
    record(repo, an_outcome(minute=0, evidence=("aa/old.html", "bb/shared.png")))
    record(repo, an_outcome(minute=10, evidence=("bb/shared.png", "cc/new.html")))

    assert repo.evidence_paths(since=T0 + timedelta(minutes=5)) == {"bb/shared.png", "cc/new.html"}
    assert len(repo.evidence_paths()) == 3


# -- cluster coordination -----------------------------------------------------------------


def test_it_lets_only_one_node_claim_a_probe_slot(repo: Repository) -> None:
    assert repo.claim_probe(TARGET, T0, "node-1") is True
    assert repo.claim_probe(TARGET, T0, "node-2") is False
    assert repo.claim_probe(TARGET, T0 + timedelta(minutes=10), "node-2") is True
    assert repo.claim_probe("75/titres", T0, "node-2") is True


def test_it_prunes_old_probe_claims(repo: Repository) -> None:
    repo.claim_probe(TARGET, T0, "node-1")
    repo.claim_probe(TARGET, T0 + timedelta(hours=2), "node-1")

    assert repo.prune_claims(T0 + timedelta(hours=1)) == 1
    assert repo.claim_probe(TARGET, T0, "node-2") is True


def test_it_records_heartbeats(repo: Repository) -> None:
    assert repo.last_beat() is None
    repo.beat("node-1", 100, "0.1.0", T0, now=T0 + timedelta(seconds=30))
    repo.beat("node-2", 200, "0.1.0", T0, now=T0 + timedelta(seconds=10))
    repo.beat("node-1", 100, "0.1.0", T0, now=T0 + timedelta(seconds=60))

    assert repo.last_beat() == T0 + timedelta(seconds=60)
    assert repo.last_beat("node-2") == T0 + timedelta(seconds=10)
    assert repo.last_beat().tzinfo is UTC  # type: ignore[union-attr]


# -- outbox -------------------------------------------------------------------------------

LEASE = timedelta(minutes=5)


def add_events(repo: Repository, count: int, channels: Sequence[str] = ("mail",)) -> None:
    pending = [Event(EventKind.ANOMALY_STARTED, TARGET, T0, payload={"n": n}) for n in range(count)]
    repo.record_events(pending, lambda event: channels, now=T0)


def test_it_claims_each_due_delivery_once(repo: Repository) -> None:
    add_events(repo, 3, channels=("mail", "signal"))

    first = repo.claim_deliveries("node-1", T0, 4, LEASE)
    second = repo.claim_deliveries("node-2", T0, 4, LEASE)
    third = repo.claim_deliveries("node-1", T0 + timedelta(minutes=1), 4, LEASE)

    assert len(first) == 4 and len(second) == 2 and third == []
    assert not {d.delivery_id for d in first} & {d.delivery_id for d in second}
    assert all(d.attempts == 1 for d in first + second)
    assert repo.outbox_depth() == 6


def test_it_does_not_claim_deliveries_before_they_are_due(repo: Repository) -> None:
    add_events(repo, 1)

    assert repo.claim_deliveries("node-1", T0 - timedelta(seconds=1), 10, LEASE) == []


def test_it_reclaims_a_delivery_whose_node_died(repo: Repository) -> None:
    add_events(repo, 1)
    (claimed,) = repo.claim_deliveries("node-1", T0, 10, LEASE)

    assert repo.claim_deliveries("node-2", T0 + LEASE - timedelta(seconds=1), 10, LEASE) == []
    (reclaimed,) = repo.claim_deliveries("node-2", T0 + LEASE + timedelta(seconds=1), 10, LEASE)
    assert reclaimed.delivery_id == claimed.delivery_id
    assert reclaimed.attempts == 2


def test_it_retries_sends_and_fails_deliveries(repo: Repository) -> None:
    add_events(repo, 3)
    a, b, c = repo.claim_deliveries("node-1", T0, 10, LEASE)
    later = T0 + timedelta(minutes=10)

    assert repo.mark_sent(a.delivery_id, T0, node="node-1") is True
    assert repo.mark_retry(
        b.delivery_id, T0, later, "timeout talking to smtp.example.org", node="node-1"
    )
    assert repo.mark_failed(c.delivery_id, T0, "401 unauthorized", node="node-1") is True

    assert repo.outbox_depth() == 1
    assert repo.claim_deliveries("node-1", later - timedelta(seconds=1), 10, LEASE) == []
    (retried,) = repo.claim_deliveries("node-1", later, 10, LEASE)
    assert retried.delivery_id == b.delivery_id and retried.attempts == 2
    with repo.engine.connect() as connection:
        states = dict(connection.execute(select(deliveries.c.id, deliveries.c.state)).all())
        attempts = connection.execute(
            select(delivery_attempts.c.delivery_id, delivery_attempts.c.result)
        ).all()
    assert states == {a.delivery_id: "sent", b.delivery_id: "sending", c.delivery_id: "failed"}
    assert sorted(attempts) == sorted(
        [(a.delivery_id, "sent"), (b.delivery_id, "transient"), (c.delivery_id, "permanent")]
    )


def test_a_late_result_does_not_overwrite_the_node_that_reclaimed_the_delivery(
    repo: Repository,
) -> None:
    check_late_results_are_left_to_the_new_claim(repo)


def check_late_results_are_left_to_the_new_claim(repo: Repository) -> None:
    add_events(repo, 3)
    sent, retried, failed = repo.claim_deliveries("node-a", T0, 10, LEASE)
    # node-a's lease ends before it records anything; node-b takes the three rows over.
    after_lease = T0 + LEASE + timedelta(seconds=1)
    reclaimed = repo.claim_deliveries("node-b", after_lease, 10, LEASE)
    assert len(reclaimed) == 3
    before = delivery_rows(repo)

    late = after_lease + timedelta(seconds=5)
    assert repo.mark_sent(sent.delivery_id, late, node="node-a") is False
    assert repo.mark_retry(retried.delivery_id, late, late, "timeout", node="node-a") is False
    assert repo.mark_failed(failed.delivery_id, late, "401 unauthorized", node="node-a") is False

    assert delivery_rows(repo) == before  # node-b's claims stand, untouched
    assert all(row["state"] == "sending" and row["claimed_by"] == "node-b" for row in before)
    assert all(row["claimed_at"] == after_lease and row["attempts"] == 2 for row in before)
    assert repo.claim_deliveries("node-c", late, 10, LEASE) == []  # still node-b's
    # The attempts did happen: they are in the log all the same.
    assert sorted(attempt_results(repo)) == sorted(
        [
            (sent.delivery_id, "sent"),
            (retried.delivery_id, "transient"),
            (failed.delivery_id, "permanent"),
        ]
    )
    # node-b still holds its claim and finishes the delivery.
    assert repo.mark_sent(sent.delivery_id, late, node="node-b") is True
    assert repo.mark_sent(sent.delivery_id, late, node="node-b") is False  # already final
    assert delivery_rows(repo)[0]["state"] == "sent"


def delivery_rows(repo: Repository) -> list[dict[str, object]]:
    with repo.engine.connect() as connection:
        found = connection.execute(select(deliveries).order_by(deliveries.c.id)).mappings()
        return [dict(row) for row in found]


def attempt_results(repo: Repository) -> list[tuple[int, str]]:
    with repo.engine.connect() as connection:
        found = connection.execute(
            select(delivery_attempts.c.delivery_id, delivery_attempts.c.result)
        )
        return [(row.delivery_id, row.result) for row in found]


def claim_concurrently(repo: Repository, nodes: int = 2) -> list[list[int]]:
    barrier = threading.Barrier(nodes)
    claimed: list[list[int]] = [[] for _ in range(nodes)]
    errors: list[BaseException] = []

    def dispatcher(node: int) -> None:
        try:
            barrier.wait()
            while batch := repo.claim_deliveries(f"node-{node}", T0, 5, LEASE):
                claimed[node].extend(d.delivery_id for d in batch)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher, args=(n,)) for n in range(nodes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return claimed


def assert_disjoint_and_complete(repo: Repository, claimed: list[list[int]]) -> None:
    every = [delivery_id for batch in claimed for delivery_id in batch]
    assert len(every) == len(set(every)), "a delivery was claimed twice"
    with repo.engine.connect() as connection:
        assert set(every) == set(connection.scalars(select(deliveries.c.id)))


def test_it_never_gives_two_dispatchers_the_same_delivery(repo: Repository) -> None:
    add_events(repo, 40, channels=("mail", "signal"))

    assert_disjoint_and_complete(repo, claim_concurrently(repo))


# -- PostgreSQL ---------------------------------------------------------------------------


@pytest.mark.postgres
def test_it_round_trips_outcomes_through_postgresql(pg_repo: Repository) -> None:
    paris = timezone(timedelta(hours=1))
    outcome = an_outcome(
        status=Status.AVAILABLE,
        reason=Reason.SLOTS,
        slot_count=2,
        earliest_slot=datetime(2025, 4, 2, 9, 15, tzinfo=paris),
        evidence=("ab/" + "ab" * 32 + ".html",),
        sha256="cd" * 32,
        detail="2 créneaux",
    )
    stored = record(pg_repo, outcome, channels=("mail",))

    (read_back,) = pg_repo.history(targets=["92/*"], status=Status.AVAILABLE)
    assert read_back == stored
    assert read_back.earliest_slot is not None and read_back.earliest_slot.tzinfo is UTC
    assert pg_repo.get_state(TARGET) == state_after(outcome)
    assert pg_repo.outbox_depth() == 1
    assert minutes(pg_repo.history(targets=["9?/r*"], limit=5)) == [0]


@pytest.mark.postgres
def test_it_reads_utc_from_a_postgresql_database_in_another_time_zone(pg_server_url: str) -> None:
    name = f"store_{next(_databases)}"
    url = create_database(pg_server_url, name)
    plain = create_engine(url, poolclass=NullPool)  # not ours: the database's own zone
    with plain.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"ALTER DATABASE {name} SET timezone = 'Europe/Paris'")
    with plain.connect() as connection:
        assert connection.exec_driver_sql("SHOW TIME ZONE").scalar() == "Europe/Paris"
    plain.dispose()

    for repository in open_repository(url):
        stored = record(repository, an_outcome(earliest_slot=T0 + timedelta(days=3)))
        (read_back,) = repository.history()
        assert read_back == stored and read_back.started_at.tzinfo is UTC
        with repository.engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW TIME ZONE").scalar() == "UTC"


@pytest.mark.postgres
def test_it_computes_the_same_chain_on_sqlite_and_postgresql(
    repo: Repository, pg_repo: Repository
) -> None:
    sequence = [
        an_outcome(minute=0),
        an_outcome(minute=1, status=Status.ANOMALY, reason=Reason.HTTP_ERROR, http_status=502),
        an_outcome(minute=2, status=Status.AVAILABLE, reason=Reason.SLOTS, slot_count=1,
                   earliest_slot=T0 + timedelta(days=9, microseconds=7), detail="créneau « 9h »"),
    ]  # fmt: skip
    on_sqlite = [record(repo, o).chain for o in sequence]
    on_postgresql = [record(pg_repo, o).chain for o in sequence]

    assert on_sqlite == on_postgresql
    assert [o.chain for o in pg_repo.outcomes_for_target(TARGET)] == on_sqlite
    assert assert_chain_intact(pg_repo, TARGET) == 3


@pytest.mark.postgres
def test_it_does_not_fork_the_chain_under_concurrent_postgresql_writers(
    pg_repo: Repository,
) -> None:
    run_concurrent_writers(pg_repo)


@pytest.mark.postgres
def test_concurrent_postgresql_writers_of_one_target_lose_no_state_update(
    pg_repo: Repository,
) -> None:
    run_concurrent_advances(pg_repo)


@pytest.mark.postgres
def test_it_never_gives_two_postgresql_dispatchers_the_same_delivery(
    pg_repo: Repository,
) -> None:
    add_events(pg_repo, 60, channels=("mail", "signal"))

    assert_disjoint_and_complete(pg_repo, claim_concurrently(pg_repo, nodes=3))


@pytest.mark.postgres
def test_a_late_result_does_not_overwrite_a_postgresql_reclaim(pg_repo: Repository) -> None:
    check_late_results_are_left_to_the_new_claim(pg_repo)


@pytest.mark.postgres
def test_it_lets_only_one_postgresql_node_claim_a_probe_slot(pg_repo: Repository) -> None:
    assert pg_repo.claim_probe(TARGET, T0, "node-1") is True
    assert pg_repo.claim_probe(TARGET, T0, "node-2") is False
    pg_repo.beat("node-1", 1, "0.1.0", T0, now=T0)
    assert pg_repo.last_beat() == T0
