"""The outcome_hours rollup behind `monitor stats`: the same figures as over every outcome.

Random outcomes recorded through the repository (so the rollup is kept by the record's
upsert), on a real SQLite file and on the real PostgreSQL server; the stats from the rollup
(collect_stats) against the stats of every matching outcome read one by one
(stats_of_outcomes over Repository.history), with --since/--until cutting inside hours,
on whole hours, inside one hour, for every grouping, with target and prefecture filters.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import an_outcome, random_outcomes
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from monitor.domain import Outcome, TargetState
from monitor.errors import DatabaseError
from monitor.reports.stats import stats_of_outcomes
from monitor.reports.stats_query import collect_stats, split_period
from monitor.store import Repository, create_engine_for, upgrade
from monitor.store.rollup import hour_of, rebuild_rollup
from monitor.store.rows import outcome_hours, outcomes

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 4, 2, tzinfo=UTC)
NODES = (None, "paris-1", "lyon:41")  #: None: as `check`, or rows before migration 0004


def record_all(repository: Repository, made: list[Outcome]) -> list[Outcome]:
    stored = []
    for outcome in made:
        state = TargetState(outcome.target, outcome.status, outcome.reason)
        stored.append(repository.record_outcome(outcome, state, [], lambda _event: ())[0])
    return stored


def periods(stored: list[Outcome]) -> list[tuple[datetime | None, datetime | None]]:
    """Whole and cut hours, one hour, a row's own start (inclusive since, exclusive until)."""
    moments = sorted(o.started_at for o in stored)
    mid = datetime(2026, 3, 28, 10, 17, 3, 250_000, tzinfo=UTC)
    return [
        (None, None),
        (mid, None),
        (None, mid),
        (mid, mid + timedelta(days=1, minutes=31)),
        (mid.replace(minute=0, second=0, microsecond=0), datetime(2026, 3, 30, 6, tzinfo=UTC)),
        (mid, mid + timedelta(minutes=20)),  # inside one hour
        (mid, mid + timedelta(minutes=50)),  # across one hour's end, no whole hour
        (moments[40], moments[-40]),
        (moments[10], moments[10]),  # empty
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 2, 30, tzinfo=UTC)),
    ]


def assert_same_stats(engine: Engine, repository: Repository, stored: list[Outcome]) -> int:
    compared = 0
    for since, until in periods(stored):
        for targets, prefecture in ((None, None), (["92/remise-titre", "75/titre"], None)):
            for by in ("target", "prefecture", "day", "node"):
                from_rollup = collect_stats(
                    engine,
                    by=by,
                    targets=targets,
                    prefecture=prefecture,
                    since=since,
                    until=until,
                    tz=PARIS,
                    now=NOW,
                )
                every = repository.history(
                    targets=targets, since=since, until=until, newest_first=False
                )
                expected = stats_of_outcomes(every, by=by, tz=PARIS, now=NOW, until=until)
                assert from_rollup == expected, (by, since, until, targets)
                compared += len(expected)
    for tz in (ZoneInfo("America/Cayenne"), ZoneInfo("Pacific/Noumea")):
        since, until = periods(stored)[3]
        for by in ("target", "day"):
            from_rollup = collect_stats(engine, by=by, since=since, until=until, tz=tz, now=NOW)
            every = repository.history(since=since, until=until, newest_first=False)
            assert from_rollup == stats_of_outcomes(every, by=by, tz=tz, now=NOW, until=until)
    # --prefecture on its own
    for by in ("target", "day"):
        from_rollup = collect_stats(engine, by=by, prefecture="92", tz=PARIS, now=NOW)
        every = repository.history(prefecture="92", newest_first=False)
        assert from_rollup == stats_of_outcomes(every, by=by, tz=PARIS, now=NOW)
    return compared


def rollup_rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        query = select(outcome_hours).order_by(*outcome_hours.primary_key.columns)
        return [tuple(row) for row in connection.execute(query)]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'monitor.db'}"
    else:
        from pg import create_database, shared_pg_url

        url = create_database(shared_pg_url(request.config), "stats_rollup")
    upgrade(url)
    made = create_engine_for(url)
    try:
        yield made
    finally:
        made.dispose()


def test_stats_from_the_rollup_equal_stats_over_every_outcome(engine: Engine) -> None:
    repository = Repository(engine)
    stored = record_all(repository, random_outcomes(seed=13, count=400, nodes=NODES))

    assert assert_same_stats(engine, repository, stored) > 100


def test_the_record_upserts_give_the_rollup_a_rebuild_gives(engine: Engine) -> None:
    stored = record_all(Repository(engine), random_outcomes(seed=5, count=150, nodes=NODES))
    kept = rollup_rows(engine)
    assert sum(int(str(row[5])) for row in kept) == len(stored)

    with engine.begin() as connection:
        assert rebuild_rollup(connection) == len(kept)

    assert rollup_rows(engine) == kept


def test_it_splits_a_period_into_whole_hours_and_edges() -> None:
    at = datetime(2026, 3, 1, 10, tzinfo=UTC)
    minute = timedelta(minutes=1)
    hour = hour_of(at)
    assert split_period(None, None) == ((None, None), [])
    assert split_period(at, at + 3 * 60 * minute) == ((hour, hour + 3), [])
    assert split_period(at + minute, at + 125 * minute) == (
        (hour + 1, hour + 2),
        [(at + minute, at + 60 * minute), (at + 120 * minute, at + 125 * minute)],
    )
    assert split_period(at + minute, at + 59 * minute) == (None, [(at + minute, at + 59 * minute)])
    assert split_period(at + minute, at + 60 * minute) == (None, [(at + minute, at + 60 * minute)])
    assert split_period(at + minute, at) == (None, [])


# -- one transaction ---------------------------------------------------------------------


def sqlite_repository(tmp_path: Path) -> tuple[Path, Repository]:
    path = tmp_path / "monitor.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    return path, Repository(create_engine_for(url))


def counts(path: Path) -> tuple[int, int]:
    connection = sqlite3.connect(path)
    try:
        found = connection.execute(
            "SELECT (SELECT count(*) FROM outcomes), (SELECT count(*) FROM outcome_hours)"
        ).fetchone()
    finally:
        connection.close()
    return int(found[0]), int(found[1])


def fail_on(path: Path, event: str) -> None:
    """A trigger that makes ``event`` (e.g. ``INSERT ON outcome_hours``) fail."""
    connection = sqlite3.connect(path)
    try:
        verb, table = event.split(" ON ")
        connection.execute(
            f"CREATE TRIGGER fail BEFORE {verb} ON {table} BEGIN SELECT RAISE(ABORT, 'x'); END"
        )
        connection.commit()
    finally:
        connection.close()


@pytest.mark.parametrize(
    "event",
    [
        "INSERT ON outcome_hours",  # the rollup's upsert fails after the outcome's insert
        "UPDATE ON target_states",  # a later statement of the record fails
        "INSERT ON outcomes",  # the outcome's insert fails, before the rollup
    ],
)
def test_a_record_and_its_rollup_row_are_written_together_or_not_at_all(
    tmp_path: Path, event: str
) -> None:
    path, repository = sqlite_repository(tmp_path)
    try:
        first = an_outcome()
        record_all(repository, [first])
        assert counts(path) == (1, 1)
        fail_on(path, event)

        with pytest.raises((DatabaseError, DBAPIError)):  # as the trigger's error is mapped
            record_all(repository, [an_outcome(at=first.started_at + timedelta(hours=1))])

        assert counts(path) == (1, 1)
        with repository.engine.connect() as connection:
            assert connection.execute(select(outcomes.c.id)).scalars().all() == [1]
    finally:
        repository.engine.dispose()
