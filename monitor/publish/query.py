"""The status page's reads: SQL aggregates over the window, never attempts one by one.

* per target, UTC hour, status and reason: ``count`` (the chart and the daily figures);
* the ``available`` outcomes (rare, indexed by status): La Cimade's dated buckets per day;
* the changes of status or reason in each target's sequence of site outcomes (a window
  function, ``LAG`` and ``ROW_NUMBER``): the anomaly periods;
* each target's latest outcome that kept a screenshot.

Per-target totals (attempts, shares, La Cimade's buckets, periods without slot) come from
monitor.reports.stats_query, as for ``monitor stats``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, func, or_, select

from monitor.domain import Outcome, Reason, Status
from monitor.publish.figures import Change, HourCount, SlotSeen
from monitor.reports.stats_query import hour_bucket
from monitor.store.engine import database_errors
from monitor.store.rows import outcome_from_row, outcomes

#: How many of a target's latest outcomes are searched for a screenshot.
_SCREENSHOT_LOOKBACK = 50


def hour_counts(engine: Engine, since: datetime) -> list[HourCount]:
    """Attempts per target, UTC hour, status and reason, from ``since`` on."""
    hour = hour_bucket(engine.dialect.name).label("hour")
    query = (
        select(outcomes.c.target, hour, outcomes.c.status, outcomes.c.reason, func.count())
        .where(outcomes.c.started_at >= since)
        .group_by(outcomes.c.target, hour, outcomes.c.status, outcomes.c.reason)
    )
    with database_errors(engine.url), engine.connect() as connection:
        rows = connection.execute(query).all()
    hours: dict[str, datetime] = {}  # a few thousand distinct hours for many more rows

    def moment(text: str) -> datetime:
        found = hours.get(text)
        if found is None:
            found = hours[text] = datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC)
        return found

    return [
        HourCount(row[0], moment(row[1]), Status(row[2]), Reason(row[3]), int(row[4]))
        for row in rows
    ]


def slots_seen(engine: Engine, since: datetime) -> list[SlotSeen]:
    """Every ``available`` outcome from ``since`` on."""
    query = select(
        outcomes.c.target, outcomes.c.started_at, outcomes.c.slot_count, outcomes.c.earliest_slot
    ).where(outcomes.c.started_at >= since, outcomes.c.status == str(Status.AVAILABLE))
    with database_errors(engine.url), engine.connect() as connection:
        rows = connection.execute(query).all()
    return [SlotSeen(row[0], row[1], row[2], row[3]) for row in rows]


def changes(engine: Engine, since: datetime) -> dict[str, list[Change]]:
    """Per target, its site outcomes from ``since`` on where status or reason changes."""
    order = (outcomes.c.started_at, outcomes.c.id)
    ranked = (
        select(
            outcomes.c.target,
            outcomes.c.started_at,
            outcomes.c.status,
            outcomes.c.reason,
            func.row_number()
            .over(partition_by=outcomes.c.target, order_by=order)
            .label("position"),
            func.lag(outcomes.c.status)
            .over(partition_by=outcomes.c.target, order_by=order)
            .label("previous_status"),
            func.lag(outcomes.c.reason)
            .over(partition_by=outcomes.c.target, order_by=order)
            .label("previous_reason"),
        )
        .where(
            outcomes.c.started_at >= since,
            outcomes.c.status != str(Status.MONITOR_ERROR),
        )
        .subquery()
    )
    query = (
        select(ranked.c.target, ranked.c.started_at, ranked.c.status, ranked.c.reason)
        .add_columns(ranked.c.position)
        .where(
            or_(
                ranked.c.previous_status.is_(None),
                ranked.c.previous_status != ranked.c.status,
                ranked.c.previous_reason != ranked.c.reason,
            )
        )
        .order_by(ranked.c.target, ranked.c.position)
    )
    found: dict[str, list[Change]] = {}
    with database_errors(engine.url), engine.connect() as connection:
        for row in connection.execute(query):
            found.setdefault(row.target, []).append(
                Change(
                    target=row.target,
                    started_at=row.started_at,
                    status=Status(row.status),
                    reason=Reason(row.reason),
                    position=int(row.position),
                )
            )
    return found


def latest_with_screenshot(engine: Engine, targets: Sequence[str]) -> dict[str, Outcome]:
    """Each target's latest outcome (among its last few) that kept a PNG screenshot."""
    found: dict[str, Outcome] = {}
    with database_errors(engine.url), engine.connect() as connection:
        for target in targets:
            recent = (
                select(outcomes.c.id, outcomes.c.evidence)
                .where(outcomes.c.target == target)
                .order_by(outcomes.c.id.desc())
                .limit(_SCREENSHOT_LOOKBACK)
            )
            for outcome_id, evidence in connection.execute(recent):
                if any(str(path).endswith(".png") for path in evidence or ()):
                    row = connection.execute(
                        select(outcomes).where(outcomes.c.id == outcome_id)
                    ).one()
                    found[target] = outcome_from_row(row)
                    break
    return found
