"""Baseline for bench/reports_db.py: ``monitor stats``'s queries before the ``outcome_hours``
rollup (revision 0003), kept as they were: SQL aggregation over every outcome row.

The queries behind ``monitor stats``: SQL aggregation, then the pure figures of reports.stats.

Four queries, none of which brings attempts one by one into Python:

1. ``GROUP BY key, status, reason`` with ``count``: attempts, shares, anomalies by reason;
2. ``GROUP BY key`` with ``min``/``max(started_at)``: first and last attempt;
3. ``DISTINCT key, UTC hour``: the distinct local days (each UTC hour is mapped to its
   local day in Python, which is exact for every time zone whose offset is a whole number
   of hours, as are all of metropolitan and overseas France's);
4. the ``available`` outcomes only (rare, and indexed by status): the boundaries of the
   periods without slot, and La Cimade's dated buckets.

For ``--by day`` the key of the first two is the UTC hour, folded into local days.
Work in Python is per aggregate row or per available outcome, never per attempt.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, tzinfo
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, func, select
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from monitor.domain import Reason, Status
from monitor.errors import NothingMatched
from monitor.reports.stats import GroupStats, GroupTally, period_end
from monitor.store.engine import database_errors
from monitor.store.rows import outcomes

BY = ("target", "prefecture", "day")
_BATCH = 1_000


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


def _scan_hint(dialect: str, key: ColumnElement[Any]) -> ColumnElement[Any]:
    """On SQLite, ``+key``: keeps the planner from walking the (key, started_at) index
    just to save the GROUP BY sort.

    Without ANALYZE statistics it would, and reading a whole table through an index
    costs two to three times a plain scan and sort; the unary ``+`` (SQLite's documented
    way to disqualify a term from index use) changes nothing else, and a selective WHERE
    on the key or the time still uses its index.
    """
    if dialect != "sqlite":
        return key
    return UnaryExpression(key, operator=custom_op("+"), type_=key.type)


def _filters(
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


class _DayOf:
    """Maps UTC hour buckets and moments to local days, remembering the hours seen."""

    def __init__(self, tz: tzinfo) -> None:
        self._tz = tz
        self._hours: dict[str, date] = {}

    def hour(self, bucket: str) -> date:
        day = self._hours.get(bucket)
        if day is None:
            moment = datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=UTC)
            day = self._hours[bucket] = moment.astimezone(self._tz).date()
        return day

    def moment(self, moment: datetime) -> date:
        return moment.astimezone(self._tz).date()


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
    """Every group's figures for ``--by target|prefecture|day``, sorted by group key.

    ``targets`` are exact target ids (resolve globs with :func:`matching_targets`);
    ``since`` is inclusive and ``until`` exclusive on ``started_at``.
    """
    if by not in BY:
        raise ValueError(f"unknown grouping {by!r}")
    where = _filters(targets, prefecture, since, until)
    hour = hour_bucket(engine.dialect.name).label("hour")
    started = outcomes.c.started_at
    # For --by day the SQL key is the UTC hour, folded into local days in Python. Only
    # the key column is grouped on, so that queries 2 and 3 read its index alone.
    group: ColumnElement[Any] = {
        "target": outcomes.c.target,
        "prefecture": outcomes.c.prefecture,
        "day": hour,
    }[by]
    status, reason = outcomes.c.status, outcomes.c.reason
    counts = select(group, status, reason, func.count().label("n"))
    if by == "target":
        counts = counts.add_columns(func.max(outcomes.c.prefecture).label("prefecture"))
    spans = select(group, func.min(started).label("first"), func.max(started).label("last"))
    slots = select(group, started, outcomes.c.slot_count, outcomes.c.earliest_slot)
    day_of = _DayOf(tz)
    tallies: dict[str, GroupTally] = {}

    def tally_for(row: Any) -> GroupTally:
        key = day_of.hour(row.hour).isoformat() if by == "day" else getattr(row, by)
        tally = tallies.get(key)
        if tally is None:
            # Query 1 comes first and names each target's prefecture.
            tally = tallies[key] = GroupTally(key, row.prefecture if by == "target" else None)
        return tally

    with database_errors(engine.url), engine.connect() as connection:

        def rows(query: Select[Any]) -> Iterator[Any]:
            return iter(connection.execution_options(yield_per=_BATCH).execute(query))

        scanned = _scan_hint(engine.dialect.name, group)
        for row in rows(counts.where(*where).group_by(scanned, status, reason)):
            tally_for(row).add_counts(Status(row.status), Reason(row.reason), row.n)
        for row in rows(spans.where(*where).group_by(group)):
            tally_for(row).add_span(row.first, row.last)
        if by == "day":
            for tally in tallies.values():
                tally.add_day(date.fromisoformat(tally.key))
        else:
            # (key, hour) pairs come from the (key, started_at) index without the table.
            for row in rows(select(group, hour).where(*where).distinct()):
                tally_for(row).add_day(day_of.hour(row.hour))
        for row in rows(slots.where(*where, status == str(Status.AVAILABLE))):
            tally_for(row).add_slot(row.started_at, row.slot_count, row.earliest_slot)
    return [
        tallies[key].finish(now=now, end=period_end(by, key, tz=tz, now=now, until=until))
        for key in sorted(tallies)
    ]
