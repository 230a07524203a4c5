"""Alembic migrations: they build exactly the models' schema, both ways, on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pg import create_database, shared_pg_url
from sqlalchemy import Engine, inspect

from monitor.errors import DatabaseError
from monitor.store import (
    Repository,
    create_engine_for,
    current_revision,
    ensure_current,
    head_revision,
    upgrade,
)
from monitor.store.engine import alembic_config
from monitor.store.schema import metadata
from monitor.store.task_queue import is_queue_table, ours_for_alembic, queue_installed

REPO_ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "assist_sessions",
    "alembic_version",
    "deliveries",
    "delivery_attempts",
    "events",
    "heartbeats",
    "outcome_hours",
    "outcomes",
    "probe_claims",
    "target_states",
}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.db'}"


@pytest.fixture(scope="session")
def pg_server_url(request: pytest.FixtureRequest) -> str:
    return shared_pg_url(request.config)


@pytest.fixture
def pg_url(pg_server_url: str, request: pytest.FixtureRequest) -> str:
    return create_database(pg_server_url, f"migrations_{request.node.name[:40]}".lower())


def engine_for(url: str) -> Iterator[Engine]:
    engine = create_engine_for(url)
    try:
        yield engine
    finally:
        engine.dispose()


def differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": ours_for_alembic}
        )
        return list(compare_metadata(context, metadata))


def assert_schema_matches_models(url: str) -> None:
    for engine in engine_for(url):
        assert differences(engine) == []
        names = set(inspect(engine).get_table_names())
        assert {name for name in names if not is_queue_table(name)} == TABLES
        if engine.dialect.name == "postgresql" and queue_installed():
            assert "procrastinate_jobs" in names  # the cluster extra's task queue


def test_it_upgrades_an_empty_sqlite_database_to_head(sqlite_url: str) -> None:
    assert current_revision(sqlite_url) is None

    upgrade(sqlite_url)

    assert current_revision(sqlite_url) == head_revision() == "0005"
    assert_schema_matches_models(sqlite_url)


def test_it_upgrades_twice_without_harm(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    upgrade(sqlite_url)

    assert current_revision(sqlite_url) == head_revision()


def test_it_downgrades_to_base_and_upgrades_again(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    command.downgrade(alembic_config(sqlite_url), "base")

    for engine in engine_for(sqlite_url):
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    assert current_revision(sqlite_url) is None

    upgrade(sqlite_url)
    assert_schema_matches_models(sqlite_url)


def test_it_names_every_constraint_and_index(sqlite_url: str) -> None:
    upgrade(sqlite_url)

    for engine in engine_for(sqlite_url):
        inspector = inspect(engine)
        for table in TABLES - {"alembic_version"}:
            names = [i["name"] for i in inspector.get_indexes(table)]
            names += [u["name"] for u in inspector.get_unique_constraints(table)]
            names += [f["name"] for f in inspector.get_foreign_keys(table)]
            names += [c["name"] for c in inspector.get_check_constraints(table)]
            assert all(names), f"{table} has an unnamed constraint: {names}"
        partial = next(
            i
            for i in inspector.get_indexes("deliveries")
            if i["name"] == "ix_deliveries_unfinished"
        )
        assert "pending" in str(partial.get("dialect_options", {}).get("sqlite_where", ""))


def test_it_refuses_a_database_behind_the_code(sqlite_url: str) -> None:
    for engine in engine_for(sqlite_url):
        with pytest.raises(DatabaseError) as caught:
            ensure_current(engine)
        assert str(caught.value) == (
            "database at revision none (empty), code expects 0005: "
            "run `monitor db upgrade` (or start with --migrate)"
        )
        upgrade(sqlite_url)
        ensure_current(engine)


def test_it_works_with_the_alembic_command_from_the_repository_root(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    alembic = [sys.executable, "-m", "alembic"]
    env = {**os.environ, "MONITOR_DATABASE_URL": url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*alembic, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True
        )

    assert run("upgrade", "head").returncode == 0
    checked = run("check")
    assert checked.returncode == 0, checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr
    current = run("-x", f"url={url}", "current")
    assert "0005 (head)" in current.stdout


@pytest.mark.postgres
def test_it_migrates_a_real_postgresql_database(pg_url: str) -> None:
    assert current_revision(pg_url) is None

    upgrade(pg_url)

    assert current_revision(pg_url) == head_revision()
    assert_schema_matches_models(pg_url)
    for engine in engine_for(pg_url):
        ensure_current(engine)
        assert Repository(engine).states() == []


@pytest.mark.postgres
def test_it_downgrades_and_upgrades_postgresql_again(pg_url: str) -> None:
    upgrade(pg_url)
    command.downgrade(alembic_config(pg_url), "base")
    assert current_revision(pg_url) is None

    upgrade(pg_url)
    assert_schema_matches_models(pg_url)


def test_it_does_not_create_a_sqlite_file_to_report_its_revision(tmp_path: Path) -> None:
    assert current_revision(f"sqlite:///{tmp_path / 'absent' / 'monitor.db'}") is None
    assert not (tmp_path / "absent").exists()


def test_it_recognises_a_database_migrated_by_newer_code(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    for engine in engine_for(sqlite_url):
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")

        with pytest.raises(DatabaseError, match="9999, unknown to this code"):
            ensure_current(engine)
    with pytest.raises(DatabaseError, match="Can't locate revision identified by '9999'"):
        upgrade(sqlite_url)


def backfilled_rollup_matches_the_rows(url: str) -> None:
    """0002 with rows written straight into outcomes, then 0003: the rollup counts them all,
    and the stats read from it equal those over every outcome."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from helpers import random_outcomes
    from sqlalchemy import insert, select

    from monitor.reports.stats import stats_of_outcomes
    from monitor.reports.stats_query import collect_stats
    from monitor.store.evidence import chain_hash
    from monitor.store.rollup import hour_of
    from monitor.store.rows import outcome_hours, outcome_values, outcomes

    command.upgrade(alembic_config(url), "0002")
    made = random_outcomes(seed=3, count=300)
    heads: dict[str, str | None] = {}
    rows = []
    for outcome in made:
        heads[outcome.target] = chain_hash(heads.get(outcome.target), outcome)
        values = outcome_values(outcome, chain=heads[outcome.target] or "")
        later = ("node", "assisted_by")  # 0004, 0005
        rows.append({name: value for name, value in values.items() if name not in later})
    for engine in engine_for(url):
        with engine.begin() as connection:
            connection.execute(insert(outcomes), rows)

    upgrade(url)

    assert current_revision(url) == head_revision()
    expected: dict[tuple[object, ...], list[object]] = {}
    for outcome in made:
        key = (outcome.target, outcome.prefecture, hour_of(outcome.started_at))
        key += (str(outcome.status), str(outcome.reason))
        before = expected.get(key)
        at = outcome.started_at
        if before is None:
            expected[key] = [1, at, at]
        else:
            count, first, last = before
            assert isinstance(count, int) and isinstance(first, datetime)
            assert isinstance(last, datetime)
            expected[key] = [count + 1, min(first, at), max(last, at)]
    for engine in engine_for(url):
        with engine.connect() as connection:
            stored = {
                tuple(row[:5]): list(row[5:]) for row in connection.execute(select(outcome_hours))
            }
        assert stored == expected
        now = datetime(2026, 4, 2, tzinfo=UTC)
        every = list(Repository(engine).history(newest_first=False))
        for by in ("target", "prefecture", "day"):
            paris = ZoneInfo("Europe/Paris")
            from_rollup = collect_stats(engine, by=by, tz=paris, now=now)
            assert from_rollup == stats_of_outcomes(every, by=by, tz=paris, now=now)


def test_0003_backfills_the_rollup_of_a_sqlite_database_with_rows(sqlite_url: str) -> None:
    backfilled_rollup_matches_the_rows(sqlite_url)


@pytest.mark.postgres
def test_0003_backfills_the_rollup_of_a_postgresql_database_with_rows(pg_url: str) -> None:
    backfilled_rollup_matches_the_rows(pg_url)
