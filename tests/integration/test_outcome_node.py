"""Each outcome's node (issue 29, item 3), stored, read back, chained and verified."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from helpers import Database
from sqlalchemy import update

from monitor.domain import Engine, Outcome, Reason, Status, TargetState
from monitor.evidence.verify import verify_targets
from monitor.reports.stats_query import collect_stats
from monitor.store import create_engine_for
from monitor.store.repository import Repository
from monitor.store.rows import outcomes

T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
TARGET = "92/remise-titre"


def an_outcome(minutes: int, node: str | None) -> Outcome:
    at = T0 + timedelta(minutes=minutes)
    return Outcome(
        target=TARGET,
        prefecture="92",
        started_at=at,
        finished_at=at + timedelta(seconds=2),
        engine=Engine.HTTP,
        status=Status.UNAVAILABLE,
        reason=Reason.NO_SLOT,
        detail="Plus de créneau",
        url="https://example.invalid/booking/create/1",
        node=node,
    )


def record(repository: Repository, outcome: Outcome) -> Outcome:
    state = TargetState(outcome.target, outcome.status, outcome.reason, outcome.started_at)
    stored, _ = repository.record_outcome(outcome, state, [], lambda _event: ())
    return stored


def test_an_outcomes_node_is_stored_chained_and_an_edit_of_it_is_caught(
    database: Database, tmp_path: Path
) -> None:
    repository = Repository(create_engine_for(database.url))
    # A row as recorded before the column existed (or by `check`), then two by daemon nodes.
    made = [
        record(repository, an_outcome(0, None)),
        record(repository, an_outcome(10, "paris-1")),
        record(repository, an_outcome(20, "lyon:41")),
    ]
    read = list(repository.history(newest_first=False))
    assert [outcome.node for outcome in read] == [None, "paris-1", "lyon:41"]
    assert read == made

    (report,) = verify_targets(repository, tmp_path, [TARGET])
    assert report.problems == []

    by_node = collect_stats(repository.engine, by="node", tz=UTC, now=T0 + timedelta(hours=1))
    assert {group.key: group.attempts for group in by_node} == {
        "(none)": 1,
        "lyon:41": 1,
        "paris-1": 1,
    }
    # Every outcome above is no_slot: no network failure anywhere.
    assert [group.network_failures for group in by_node] == [0, 0, 0]

    with repository.engine.begin() as connection:
        connection.execute(
            update(outcomes).where(outcomes.c.id == made[1].id).values(node="elsewhere")
        )
    (report,) = verify_targets(repository, tmp_path, [TARGET])
    assert [problem.outcome_id for problem in report.problems] == [made[1].id]
