"""Migration 0005 (issue 27) on real databases: rows recorded at 0004 still verify after it,
``assisted_by`` and ``assist_sessions`` come and go with upgrade and downgrade."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from pg import create_database, shared_pg_url
from sqlalchemy import Engine, insert, inspect, select

from monitor.domain import Engine as ProbeEngine
from monitor.domain import Outcome, Reason, Status
from monitor.evidence.verify import verify_targets
from monitor.store import Repository, create_engine_for, current_revision, upgrade
from monitor.store.engine import alembic_config
from monitor.store.evidence import chain_hash
from monitor.store.rows import outcome_values, outcomes, target_states

T0 = datetime(2027, 1, 25, 9, 0, tzinfo=UTC)
TARGET = "75/titre-sejour"


def an_outcome(minutes: int) -> Outcome:
    at = T0 + timedelta(minutes=minutes)
    return Outcome(
        target=TARGET,
        prefecture="75",
        started_at=at,
        finished_at=at + timedelta(seconds=2),
        engine=ProbeEngine.BROWSER,
        status=Status.ANOMALY,
        reason=Reason.CAPTCHA,
        detail="captcha",
        url="https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/1/cgu/",
        node="paris-1",
    )


def engine_for(url: str) -> Iterator[Engine]:
    engine = create_engine_for(url)
    try:
        yield engine
    finally:
        engine.dispose()


def columns(engine: Engine) -> tuple[set[str], set[str]]:
    found = inspect(engine)
    return {c["name"] for c in found.get_columns("outcomes")}, set(found.get_table_names())


def rows_at_0004_verify_after_0005_and_both_ways_work(url: str, evidence: Path) -> None:
    command.upgrade(alembic_config(url), "0004")
    head = None
    rows = []
    for minutes in (0, 10, 20):
        outcome = an_outcome(minutes)
        head = chain_hash(head, outcome)
        values = outcome_values(outcome, chain=head)
        rows.append({name: value for name, value in values.items() if name != "assisted_by"})
    for engine in engine_for(url):
        with engine.begin() as connection:
            connection.execute(insert(outcomes), rows)
            ids = list(connection.execute(select(outcomes.c.id).order_by(outcomes.c.id)).scalars())
            connection.execute(
                insert(target_states).values(
                    target=TARGET,
                    streak=3,
                    consecutive_anomalies=0,
                    consecutive_healthy=3,
                    anomaly_open=False,
                    slots_open=False,
                    backoff_level=0,
                    chain_head=head,
                    last_outcome_id=ids[-1],
                )
            )
        assert "assisted_by" not in columns(engine)[0]
        assert "assist_sessions" not in columns(engine)[1]

    upgrade(url)
    assert current_revision(url) == "0005"
    for engine in engine_for(url):
        assert "assisted_by" in columns(engine)[0]
        repository = Repository(engine)
        # Old rows read back with no operator, verify as they are, and chain on.
        assert [o.assisted_by for o in repository.history()] == [None, None, None]
        (report,) = verify_targets(repository, evidence, [TARGET])
        assert report.problems == []
        stored, _ = repository.record_outcome(
            replace(an_outcome(30), assisted_by="Camille"),
            repository.get_state(TARGET),
            [],
            lambda _event: (),
        )
        assert stored.assisted_by == "Camille"
        session = repository.open_assist_session(TARGET, "paris-1", "Camille", T0)
        repository.end_assist_session(session, "reads_used", 6, T0 + timedelta(hours=1))
        (report,) = verify_targets(repository, evidence, [TARGET])
        assert report.problems == []

    command.downgrade(alembic_config(url), "0004")
    for engine in engine_for(url):
        found_columns, tables = columns(engine)
        assert "assisted_by" not in found_columns and "assist_sessions" not in tables
        with engine.connect() as connection:
            assert connection.execute(select(outcomes.c.id)).all() != []
    upgrade(url)
    assert current_revision(url) == "0005"


def test_0005_on_sqlite(tmp_path: Path) -> None:
    rows_at_0004_verify_after_0005_and_both_ways_work(
        f"sqlite:///{tmp_path / 'monitor.db'}", tmp_path / "evidence"
    )


@pytest.mark.postgres
def test_0005_on_postgresql(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = create_database(shared_pg_url(request.config), "assist_migration")
    rows_at_0004_verify_after_0005_and_both_ways_work(url, tmp_path / "evidence")
