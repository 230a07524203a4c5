"""The queries behind ``monitor stats --by hour`` and the status page's hours of the week:
SQL aggregation, then the pure figures of monitor.reports.week_hours.

Probes and probes with slots come from the ``outcome_hours`` rollup (monitor.store.rollup),
grouped in SQL by target and local hour of the week: each UTC hour number is moved by the
time zone's offset at that hour (a ``CASE`` over the offset changes in the period, worked
out in Python as for ``--by day``), then taken modulo a week. A UTC hour lies wholly in
one local hour when the offset is a whole number of hours all through it, as in every
zone of metropolitan and overseas France: then the rollup's counts are exactly those of
:func:`~monitor.reports.week_hours.week_hour` over every outcome
(tests/integration/test_stats_by_hour.py). For a zone with a half-hour offset in the period
(Asia/Kolkata, Pacific/Marquesas) the whole period is read from ``outcomes`` instead, one
row at a time. ``--since``/``--until`` that cut inside an hour are answered, as for the
other groupings, with the partial hours read from ``outcomes``.

Openings are the ``slots_opened`` times of the store's :class:`~monitor.store.ports.SlotHistory`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from sqlalchemy import ColumnElement, Connection, Engine, Integer, case, func, select
from sqlalchemy import literal_column as sql_int

from monitor.domain import Status
from monitor.reports.stats_query import (
    offset_changes,
    offset_sql,
    outcome_filters,
    rollup_filters,
    split_period,
)
from monitor.reports.week_hours import HOURS_IN_WEEK, WeekFigures, WeekTallies
from monitor.store.engine import database_errors
from monitor.store.ports import SlotHistory
from monitor.store.rows import outcome_hours, outcomes

_BATCH = 1_000
#: 1970-01-01 (hour 0) was a Thursday: hour 0 is hour 72 of its week.
_EPOCH_WEEK_HOUR = 72


def week_hour_number(
    hour: ColumnElement[int], changes: list[tuple[int, int]]
) -> ColumnElement[int]:
    """SQL: the local hour of the week of UTC hour number ``hour``, offsets in whole hours
    (``changes`` as :func:`~monitor.reports.stats_query.offset_changes` gives them).

    Literals only, as ``day_number``.
    """
    local = hour + offset_sql(hour, changes, unit=60) + sql_int(str(_EPOCH_WEEK_HOUR))
    return local.op("%", precedence=8, return_type=Integer)(sql_int(str(HOURS_IN_WEEK)))


def _from_rollup(
    connection: Connection,
    tallies: WeekTallies,
    where: list[ColumnElement[bool]],
    hours: list[ColumnElement[bool]],
) -> bool:
    """Counts per target and hour of the week from the rollup rows matching ``where``;
    False (nothing counted) when an offset in the period is not a whole number of hours."""
    hour = outcome_hours.c.hour
    lowest = select(func.min(hour)).where(*hours).scalar_subquery()
    highest = select(func.max(hour)).where(*hours).scalar_subquery()
    first, last = connection.execute(select(lowest, highest)).one()
    if first is None:
        return True
    changes = offset_changes(tallies.tz, first, last)
    if any(offset % 60 for _, offset in changes):
        return False
    week = week_hour_number(hour, changes).label("week")
    attempts = outcome_hours.c.attempts
    available = case(
        (outcome_hours.c.status == str(Status.AVAILABLE), attempts), else_=sql_int("0")
    )
    query = (
        select(
            outcome_hours.c.target,
            outcome_hours.c.prefecture,
            week,
            func.sum(attempts).label("probes"),
            func.sum(available).label("with_slots"),
        )
        .where(*where)
        .group_by(outcome_hours.c.target, outcome_hours.c.prefecture, week)
    )
    for row in connection.execution_options(yield_per=_BATCH).execute(query):
        tallies.add_probes(
            row.target, row.prefecture, int(row.week), int(row.probes), int(row.with_slots)
        )
    return True


def _from_outcomes(
    connection: Connection, tallies: WeekTallies, where: list[ColumnElement[bool]]
) -> None:
    """Outcomes one by one, each placed by its own start."""
    query = select(
        outcomes.c.target, outcomes.c.prefecture, outcomes.c.started_at, outcomes.c.status
    ).where(*where)
    for row in connection.execution_options(yield_per=_BATCH).execute(query):
        tallies.add_probe(
            row.target, row.prefecture, row.started_at, row.status == str(Status.AVAILABLE)
        )


def collect_week_hours(
    engine: Engine,
    history: SlotHistory,
    *,
    targets: Sequence[str] | None = None,
    prefecture: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: tzinfo,
    pool: bool = False,
) -> list[WeekFigures]:
    """Every target's counts per hour of the week in ``tz``, sorted by target; with
    ``pool`` and a ``prefecture``, that prefecture's targets added together come first.

    ``targets`` are exact target ids (resolve globs with ``matching_targets``); ``since``
    is inclusive and ``until`` exclusive on ``started_at``. Only targets with a probe in
    the period have figures (an opening always has its probe).
    """
    tallies = WeekTallies(tz)
    whole, edges = split_period(since, until)
    with database_errors(engine.url), engine.connect() as connection:
        exact = True
        if whole is not None:
            hours = rollup_filters(None, None, *whole)
            exact = _from_rollup(
                connection, tallies, rollup_filters(targets, prefecture, *whole), hours
            )
        if exact:
            for start, end in edges:
                _from_outcomes(
                    connection, tallies, outcome_filters(targets, prefecture, start, end)
                )
        else:
            _from_outcomes(connection, tallies, outcome_filters(targets, prefecture, since, until))
    found = tallies.targets
    if found:
        for target, moments in history.slots_opened_times(found, since).items():
            tallies.add_openings(
                target, [moment for moment in moments if until is None or moment < until]
            )
    return tallies.finish(pool=prefecture if pool else None)
