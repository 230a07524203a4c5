"""The ``outcome_hours`` rollup: outcomes counted per target, prefecture, UTC hour, status
and reason, with the first and last ``started_at`` of each count.

``monitor stats`` reads its counts, time spans and days from here instead of scanning
every outcome. The rollup is kept exact by three paths, all in this module:

* :func:`count_outcome`, in the transaction of every outcome insert (Repository.record_outcome):
  an upsert that adds one to the count and widens the time span;
* :func:`rebuild_rollup`, one ``INSERT … SELECT … GROUP BY`` over every outcome: migration
  0003 (which creates the table) and ``bench/generate.py`` (which writes rows directly);
* nothing else writes ``outcomes``: rows are never updated, and ``db prune`` deletes
  evidence files only. A database edited by hand is put right with :func:`rebuild_rollup`.

Hours are integers, whole hours since 1970-01-01T00:00Z (:func:`hour_of`), so that a local
day is arithmetic on both databases (monitor.reports.stats_query).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.sql.expression import Executable

from monitor.domain import Outcome
from monitor.store.rows import outcome_hours, outcomes
from monitor.store.transactions import insert_for

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)

#: The rollup's primary key, in order: one row per distinct value of these.
KEY = ("target", "prefecture", "hour", "status", "reason")


def hour_of(moment: datetime) -> int:
    """Whole hours from the epoch to the start of ``moment``'s UTC hour (exact, no float)."""
    return (moment - EPOCH) // HOUR


def moment_of(hour: int) -> datetime:
    """The UTC start of ``hour`` (as numbered by :func:`hour_of`)."""
    return EPOCH + hour * HOUR


def hour_number(dialect: str, started_at: ColumnElement[Any]) -> ColumnElement[int]:
    """SQL for :func:`hour_of` of a ``started_at`` column, on either database."""
    if dialect == "sqlite":
        # UTCDateTime stores 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC) on SQLite; the hour's start
        # is cut from the text, never rounded from the fraction of a second.
        start = func.substr(started_at, 1, 13).concat(":00:00")
        seconds = cast(func.strftime("%s", start), Integer)
    else:
        start = func.date_trunc("hour", func.timezone("UTC", started_at))
        seconds = cast(extract("epoch", start), Integer)
    return seconds.op("/", return_type=Integer)(literal_column("3600"))


def count_outcome(connection: Connection, outcome: Outcome) -> None:
    """Count one stored outcome in its rollup row (in the caller's transaction)."""
    started = outcome.started_at
    connection.execute(
        _count_statement(connection.dialect.name),
        {
            "target": outcome.target,
            "prefecture": outcome.prefecture,
            "hour": hour_of(started),
            "status": str(outcome.status),
            "reason": str(outcome.reason),
            "attempts": 1,
            "first_started_at": started,
            "last_started_at": started,
        },
    )


@cache
def _count_statement(dialect: str) -> Executable:
    """count_outcome's upsert, built once per database: its values come as parameters, so
    SQLAlchemy neither rebuilds it nor recomputes its cache key for every outcome."""
    insert_ = insert_for(dialect, outcome_hours)
    first, last = outcome_hours.c.first_started_at, outcome_hours.c.last_started_at
    new_first, new_last = insert_.excluded.first_started_at, insert_.excluded.last_started_at
    return insert_.on_conflict_do_update(
        index_elements=[outcome_hours.c[name] for name in KEY],
        set_={
            "attempts": outcome_hours.c.attempts + 1,
            "first_started_at": case((new_first < first, new_first), else_=first),
            "last_started_at": case((new_last > last, new_last), else_=last),
        },
    )


def rebuild_statements(dialect: str) -> tuple[Executable, Executable]:
    """Empty the rollup; fill it from every outcome with one ``INSERT … SELECT … GROUP BY``."""
    hour = hour_number(dialect, outcomes.c.started_at).label("hour")
    started = outcomes.c.started_at
    grouped = select(
        outcomes.c.target,
        outcomes.c.prefecture,
        hour,
        outcomes.c.status,
        outcomes.c.reason,
        func.count(),
        func.min(started),
        func.max(started),
    ).group_by(outcomes.c.target, outcomes.c.prefecture, hour, outcomes.c.status, outcomes.c.reason)
    fill = insert(outcome_hours).from_select(
        [*KEY, "attempts", "first_started_at", "last_started_at"], grouped
    )
    return delete(outcome_hours), fill


def rebuild_rollup(connection: Connection) -> int:
    """Empty the rollup and fill it again from every outcome; returns its row count.

    In the caller's transaction; a full scan of ``outcomes``, a minute or more at ten
    million rows.
    """
    for statement in rebuild_statements(connection.dialect.name):
        connection.execute(statement)
    rows: int = connection.execute(select(func.count()).select_from(outcome_hours)).scalar_one()
    return rows
