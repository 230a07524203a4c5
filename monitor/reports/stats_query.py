"""The queries behind ``monitor stats``: SQL aggregation, then the pure figures of reports.stats.

Counts, time spans and days come from the ``outcome_hours`` rollup (monitor.store.rollup:
one row per target, prefecture, UTC hour, status and reason, kept with every record), so
their cost grows with targets × hours, not with attempts:

1. ``GROUP BY key, status, reason`` with ``sum(attempts)``: attempts, shares, anomalies;
2. ``GROUP BY key`` with ``min(first_started_at)``/``max(last_started_at)``;
3. ``DISTINCT key, local day``: the distinct local days, each UTC hour mapped to its local
   day in SQL by the time zone's offset at the hour's start (a ``CASE`` over the offset
   changes in the period, worked out in Python). Exact for every time zone whose offset
   is a whole number of hours, as are all of metropolitan and overseas France's;
4. the ``available`` outcomes only, from ``outcomes`` (rare, and indexed by status): the
   boundaries of the periods without slot, and La Cimade's dated buckets.

For ``--by day`` the key of the first two is that local day. ``--by node`` has no rollup
(``outcome_hours`` does not keep the node): its counts are read from ``outcomes`` over the
whole period, like the partial hours below; outcomes without a node (``monitor check``,
rows older than migration 0004) form the group ``NO_NODE``. ``--since`` and ``--until``
that cut inside an hour cannot be answered from the hour's rollup rows: the rollup gives
the whole hours between them, and the partial hours at either end are read from
``outcomes`` (a range read on the ``started_at`` index, an hour at most each) and counted
in Python. The figures are the same as over every outcome (tests/integration/test_stats_rollup.py).
Work in Python is per aggregate row, per edge-hour outcome or per available outcome.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, tzinfo
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Integer, Select, case, func, select
from sqlalchemy import literal_column as sql_int

from monitor.domain import Reason, Status
from monitor.errors import NothingMatched
from monitor.reports.stats import NO_NODE, GroupStats, GroupTally, period_end
from monitor.store.engine import database_errors
from monitor.store.rollup import EPOCH, hour_of, moment_of
from monitor.store.rows import outcome_hours, outcomes

BY = ("target", "prefecture", "day", "node")
_BATCH = 1_000
_EPOCH_DAY = EPOCH.date()


def matching_targets(known: Sequence[str], patterns: Sequence[str]) -> list[str]:
    """The known target ids matching any fnmatch glob (case-sensitive); NothingMatched if none."""
    chosen = sorted({target for target in known if any(fnmatchcase(target, p) for p in patterns)})
    if not chosen:
        raise NothingMatched(
            f"no recorded target matches {', '.join(repr(p) for p in patterns)}; "
            f"recorded targets are {', '.join(known[:5]) or '(none)'}"
            + (", …" if len(known) > 5 else "")
        )
    return chosen


def hour_bucket(dialect: str) -> ColumnElement[Any]:
    """``started_at``'s UTC hour as text ``YYYY-MM-DD HH`` on either database."""
    if dialect == "sqlite":
        # UTCDateTime stores 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC) on SQLite.
        return func.substr(outcomes.c.started_at, 1, 13)
    return func.to_char(func.timezone("UTC", outcomes.c.started_at), "YYYY-MM-DD HH24")


def split_period(
    since: datetime | None, until: datetime | None
) -> tuple[tuple[int | None, int | None] | None, list[tuple[datetime, datetime]]]:
    """The whole UTC hours ``[first, end)`` the rollup answers (None: none; a None bound:
    open), and the partial hours at the edges, ``[start, end)``, to read from ``outcomes``.
    """
    first = None if since is None else -(-(since - EPOCH) // timedelta(hours=1))  # ceiling
    end = None if until is None else hour_of(until)
    if (
        since is not None
        and until is not None
        and first is not None
        and end is not None
        and first >= end
    ):
        # No whole hour inside: all of it from outcomes.
        return None, [(since, until)] if since < until else []
    edges = []
    if since is not None and first is not None and moment_of(first) > since:
        edges.append((since, moment_of(first)))
    if until is not None and end is not None and moment_of(end) < until:
        edges.append((moment_of(end), until))
    return (first, end), edges


def offset_changes(tz: tzinfo, first: int, last: int) -> list[tuple[int, int]]:
    """``(from hour, UTC offset in minutes)`` of ``tz`` at the start of each hour from
    ``first`` to ``last``: the first pair's hour is ``first``, then one per change.

    Walks a day at a time, then hour by hour across a day whose offset changed (offsets
    change at most once a day in every real time zone).
    """

    def offset(hour: int) -> int:
        delta = moment_of(hour).astimezone(tz).utcoffset() or timedelta(0)
        return delta // timedelta(minutes=1)

    changes = [(first, offset(first))]
    hour = first
    while hour < last:
        step = min(last, hour + 24)
        if offset(step) != changes[-1][1]:
            for inside in range(hour + 1, step + 1):
                if offset(inside) != changes[-1][1]:
                    changes.append((inside, offset(inside)))
        hour = step
    return changes


def offset_sql(
    hour: ColumnElement[int], changes: list[tuple[int, int]], unit: int = 1
) -> ColumnElement[Any]:
    """SQL: the UTC offset in force at the start of UTC ``hour``, in minutes divided by
    ``unit`` (60: whole hours), from ``changes`` as :func:`offset_changes` gives them.

    Literals only, no bound parameters: PostgreSQL matches the expression in GROUP BY to
    the one selected only when they are written the same.
    """
    offset: ColumnElement[Any] = sql_int(str(changes[-1][1] // unit))
    if len(changes) > 1:
        offset = case(
            *[
                (hour < sql_int(str(start)), sql_int(str(previous // unit)))
                for (start, _), (_, previous) in zip(changes[1:], changes[:-1], strict=True)
            ],
            else_=offset,
        )
    return offset


def day_number(hour: ColumnElement[int], changes: list[tuple[int, int]]) -> ColumnElement[int]:
    """SQL: the local day (days since 1970-01-01) of the start of UTC ``hour``."""
    minutes = hour * sql_int("60") + offset_sql(hour, changes)
    return minutes.op("/", precedence=8, return_type=Integer)(sql_int("1440"))


def rollup_filters(
    targets: Sequence[str] | None, prefecture: str | None, first: int | None, end: int | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if targets is not None:
        conditions.append(outcome_hours.c.target.in_(list(targets)))
    if prefecture is not None:
        conditions.append(outcome_hours.c.prefecture == prefecture)
    if first is not None:
        conditions.append(outcome_hours.c.hour >= first)
    if end is not None:
        conditions.append(outcome_hours.c.hour < end)
    return conditions


def outcome_filters(
    targets: Sequence[str] | None,
    prefecture: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if targets is not None:
        conditions.append(outcomes.c.target.in_(list(targets)))
    if prefecture is not None:
        conditions.append(outcomes.c.prefecture == prefecture)
    if since is not None:
        conditions.append(outcomes.c.started_at >= since)
    if until is not None:
        conditions.append(outcomes.c.started_at < until)
    return conditions


class _Tallies:
    """One GroupTally per group key; a target's prefecture is the greatest seen."""

    def __init__(self, by: str) -> None:
        self.by = by
        self.groups: dict[str, GroupTally] = {}

    def get(self, key: str, prefecture: str | None = None) -> GroupTally:
        tally = self.groups.get(key)
        if tally is None:
            named = prefecture if self.by == "target" else None
            tally = self.groups[key] = GroupTally(key, named)
        elif (
            self.by == "target" and prefecture is not None and prefecture > (tally.prefecture or "")
        ):
            tally.prefecture = prefecture
        return tally


def _day(number: int) -> date:
    return _EPOCH_DAY + timedelta(days=number)


def _from_rollup(
    connection: Connection,
    tallies: _Tallies,
    tz: tzinfo,
    where: list[ColumnElement[bool]],
    hours: list[ColumnElement[bool]],
) -> None:
    """Queries 1 to 3 over the rollup rows matching ``where`` (``hours``: its hour part)."""
    by = tallies.by
    hour = outcome_hours.c.hour
    # The offset changes are worked out over the hours the rollup holds in the period
    # (two index lookups), not over the rows.
    lowest = select(func.min(hour)).where(*hours).scalar_subquery()
    highest = select(func.max(hour)).where(*hours).scalar_subquery()
    first, last = connection.execute(select(lowest, highest)).one()
    if first is None:
        return
    day = day_number(hour, offset_changes(tz, first, last)).label("day")
    group: ColumnElement[Any] = {
        "target": outcome_hours.c.target,
        "prefecture": outcome_hours.c.prefecture,
        "day": day,
    }[by]

    def rows(query: Select[Any]) -> Iterator[Any]:
        return iter(connection.execution_options(yield_per=_BATCH).execute(query.where(*where)))

    def key(row: Any) -> str:
        return _day(row.day).isoformat() if by == "day" else str(getattr(row, by))

    status, reason = outcome_hours.c.status, outcome_hours.c.reason
    counts = select(group, status, reason, func.sum(outcome_hours.c.attempts).label("n"))
    if by == "target":
        counts = counts.add_columns(func.max(outcome_hours.c.prefecture).label("prefecture"))
    for row in rows(counts.group_by(group, status, reason)):
        named = row.prefecture if by == "target" else None
        tallies.get(key(row), named).add_counts(Status(row.status), Reason(row.reason), row.n)
    spans = select(
        group,
        func.min(outcome_hours.c.first_started_at).label("first"),
        func.max(outcome_hours.c.last_started_at).label("last"),
    )
    for row in rows(spans.group_by(group)):
        tallies.get(key(row)).add_span(row.first, row.last)
    if by == "day":
        for tally in tallies.groups.values():
            tally.add_day(date.fromisoformat(tally.key))
    else:
        for row in rows(select(group, day).distinct()):
            tallies.get(key(row)).add_day(_day(row.day))


def _from_outcomes(
    connection: Connection, tallies: _Tallies, tz: tzinfo, where: list[ColumnElement[bool]]
) -> None:
    """The outcomes of a partial hour, one by one, as the rollup would have counted them."""
    query = select(
        outcomes.c.target,
        outcomes.c.prefecture,
        outcomes.c.status,
        outcomes.c.reason,
        outcomes.c.started_at,
        outcomes.c.node,
    ).where(*where)
    for row in connection.execution_options(yield_per=_BATCH).execute(query):
        # The local day of the hour's start, as the rollup's day_number.
        day = moment_of(hour_of(row.started_at)).astimezone(tz).date()
        tally = tallies.get(_key(row, tallies.by, day), row.prefecture)
        tally.add_counts(Status(row.status), Reason(row.reason), 1)
        tally.add_span(row.started_at, row.started_at)
        tally.add_day(day)


def _key(row: Any, by: str, day: date) -> str:
    """The group of an ``outcomes`` row read one by one."""
    if by == "day":
        return day.isoformat()
    if by == "node":
        return str(row.node) if row.node is not None else NO_NODE
    return str(getattr(row, by))


def collect_stats(
    engine: Engine,
    *,
    by: str = "target",
    targets: Sequence[str] | None = None,
    prefecture: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: tzinfo,
    now: datetime,
) -> list[GroupStats]:
    """Every group's figures for ``--by target|prefecture|day|node``, sorted by group key.

    ``targets`` are exact target ids (resolve globs with :func:`matching_targets`);
    ``since`` is inclusive and ``until`` exclusive on ``started_at``.
    """
    if by not in BY:
        raise ValueError(f"unknown grouping {by!r}")
    whole, edges = split_period(since, until)
    if by == "node":  # no rollup per node: every outcome of the period, one by one
        whole, edges = None, []
    tallies = _Tallies(by)
    with database_errors(engine.url), engine.connect() as connection:
        if by == "node":
            _from_outcomes(
                connection, tallies, tz, outcome_filters(targets, prefecture, since, until)
            )
        if whole is not None:
            hours = rollup_filters(None, None, *whole)
            where = rollup_filters(targets, prefecture, *whole)
            _from_rollup(connection, tallies, tz, where, hours)
        for start, end in edges:
            _from_outcomes(
                connection, tallies, tz, outcome_filters(targets, prefecture, start, end)
            )
        # Query 4: the available outcomes of the whole period.
        slots = select(
            outcomes.c.target,
            outcomes.c.prefecture,
            outcomes.c.started_at,
            outcomes.c.slot_count,
            outcomes.c.earliest_slot,
            outcomes.c.node,
        ).where(
            *outcome_filters(targets, prefecture, since, until),
            outcomes.c.status == str(Status.AVAILABLE),
        )
        for row in connection.execution_options(yield_per=_BATCH).execute(slots):
            day = moment_of(hour_of(row.started_at)).astimezone(tz).date()
            tallies.get(_key(row, by, day)).add_slot(
                row.started_at, row.slot_count, row.earliest_slot
            )
    groups = tallies.groups
    return [
        groups[key].finish(now=now, end=period_end(by, key, tz=tz, now=now, until=until))
        for key in sorted(groups)
    ]
