"""The status page's figures, pure: aggregate rows in, per-day and per-hour figures out.

What the SQL of :mod:`monitor.publish.query` hands over is already aggregated: attempts
per target, UTC hour, status and reason; the ``available`` outcomes (rare); and the
points where a target's sequence of site outcomes changes status or reason. Everything
here works on those, never on attempts one by one.

Definitions (the README and the data schema say the same):

* the **window** is the last :data:`WINDOW_DAYS` local days, today included;
* an **hour's status** (the chart): ``available`` if any attempt of that hour saw a slot;
  otherwise the more frequent of ``unavailable`` and ``anomaly`` (a tie counts as
  ``anomaly``); ``monitor_error`` when the monitor's own faults are all there is; ``none``
  when nothing was tried;
* a **day without a slot**: a local day with at least one site attempt (monitor errors
  left out) and no ``available`` one;
* an **anomaly period**: a run of consecutive ``anomaly`` outcomes among a target's site
  outcomes, from its first attempt to the next site outcome that is not an anomaly
  (``end`` None: still going on).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from monitor.domain import Reason, Status
from monitor.reports.stats import bucket_of

#: Days the page and the open data cover, today included.
WINDOW_DAYS = 90
#: The chart's word for an hour without any attempt.
NOT_PROBED = "none"
#: A target's status on the page when its site has not been observed for two intervals.
NOT_OBSERVED = "not_observed"


@dataclass(frozen=True)
class HourCount:
    """``count`` attempts of ``target`` in the UTC hour starting at ``hour``."""

    target: str
    hour: datetime
    status: Status
    reason: Reason
    count: int


@dataclass(frozen=True)
class SlotSeen:
    """One ``available`` outcome: when, and the dates it showed."""

    target: str
    started_at: datetime
    slot_count: int | None
    earliest_slot: datetime | None


@dataclass(frozen=True)
class Change:
    """A site outcome whose status or reason differs from the previous site outcome's.

    ``position`` is its rank (from 1) among the target's site outcomes in the window, so
    the attempts of a run are the difference between two positions.
    """

    target: str
    started_at: datetime
    status: Status
    reason: Reason
    position: int


@dataclass
class DayFigures:
    """One target's attempts on one local day."""

    day: date
    statuses: Counter[Status] = field(default_factory=Counter)
    reasons: Counter[Reason] = field(default_factory=Counter)
    buckets: Counter[str] = field(default_factory=Counter)

    @property
    def attempts(self) -> int:
        return sum(self.statuses.values())

    @property
    def site_attempts(self) -> int:
        return self.attempts - self.statuses[Status.MONITOR_ERROR]

    @property
    def slot_seen(self) -> bool:
        return self.statuses[Status.AVAILABLE] > 0


@dataclass(frozen=True)
class AnomalyPeriod:
    """Consecutive anomalies of one target; ``end`` None while it lasts."""

    start: datetime
    end: datetime | None
    attempts: int
    reasons: dict[Reason, int]

    def length(self, now: datetime) -> timedelta:
        return (self.end or now) - self.start


def window_start(now: datetime, tz: tzinfo, days: int = WINDOW_DAYS) -> datetime:
    """Local midnight of the window's first day, in UTC."""
    first = now.astimezone(tz).date() - timedelta(days=days - 1)
    return datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)


def window_days(now: datetime, tz: tzinfo, days: int = WINDOW_DAYS) -> list[date]:
    """The window's local days, oldest first."""
    today = now.astimezone(tz).date()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def local_hour(moment: datetime, tz: tzinfo) -> tuple[date, int]:
    local = moment.astimezone(tz)
    return local.date(), local.hour


def daily_figures(
    hours: Iterable[HourCount], slots: Iterable[SlotSeen], tz: tzinfo
) -> dict[str, dict[date, DayFigures]]:
    """Per target, per local day: attempts by status and reason, La Cimade's buckets.

    ``no_date`` counts the day's ``unavailable`` attempts; the dated buckets come from the
    ``available`` outcomes (monitor.reports.stats.bucket_of).
    """
    figures: dict[str, dict[date, DayFigures]] = {}

    def day_of(target: str, moment: datetime) -> DayFigures:
        day = moment.astimezone(tz).date()
        days = figures.setdefault(target, {})
        found = days.get(day)
        if found is None:
            found = days[day] = DayFigures(day)
        return found

    for row in hours:
        figure = day_of(row.target, row.hour)
        figure.statuses[row.status] += row.count
        figure.reasons[row.reason] += row.count
        if row.status is Status.UNAVAILABLE:
            figure.buckets["no_date"] += row.count
    for slot in slots:
        bucket = bucket_of(Status.AVAILABLE, slot.started_at, slot.slot_count, slot.earliest_slot)
        if bucket is not None:
            day_of(slot.target, slot.started_at).buckets[bucket] += 1
    return {target: dict(sorted(days.items())) for target, days in figures.items()}


def hourly_counts(
    hours: Iterable[HourCount], tz: tzinfo
) -> dict[str, dict[tuple[date, int], Counter[Status]]]:
    """Per target, attempts per local (day, hour) and status."""
    grid: dict[str, dict[tuple[date, int], Counter[Status]]] = {}
    for row in hours:
        cell = grid.setdefault(row.target, {}).setdefault(local_hour(row.hour, tz), Counter())
        cell[row.status] += row.count
    return grid


def hour_status(counts: Mapping[Status, int]) -> str:
    """The status an hour is drawn with (see the module's definitions)."""
    if counts.get(Status.AVAILABLE, 0):
        return str(Status.AVAILABLE)
    unavailable = counts.get(Status.UNAVAILABLE, 0)
    anomaly = counts.get(Status.ANOMALY, 0)
    if unavailable or anomaly:
        return str(Status.UNAVAILABLE if unavailable > anomaly else Status.ANOMALY)
    if counts.get(Status.MONITOR_ERROR, 0):
        return str(Status.MONITOR_ERROR)
    return NOT_PROBED


def days_without_slot(days: Iterable[DayFigures]) -> int:
    """Local days with a site attempt and no slot seen."""
    return sum(1 for day in days if day.site_attempts and not day.slot_seen)


def anomaly_periods(changes: Sequence[Change], site_attempts: int) -> list[AnomalyPeriod]:
    """One target's anomaly periods, oldest first.

    ``changes`` are the target's :class:`Change` rows in order; ``site_attempts`` is how
    many site outcomes the window holds (the position after the last one, minus one).
    """
    periods: list[AnomalyPeriod] = []
    start: Change | None = None
    reasons: Counter[Reason] = Counter()
    for index, change in enumerate(changes):
        following = changes[index + 1].position if index + 1 < len(changes) else None
        run = (following if following is not None else site_attempts + 1) - change.position
        if change.status is Status.ANOMALY:
            start = start or change
            reasons[change.reason] += run
            continue
        if start is not None:
            periods.append(_period(start, change.started_at, change.position, reasons))
            start, reasons = None, Counter()
    if start is not None:
        periods.append(_period(start, None, site_attempts + 1, reasons))
    return periods


def _period(
    start: Change, end: datetime | None, end_position: int, reasons: Counter[Reason]
) -> AnomalyPeriod:
    ordered = dict(sorted(reasons.items(), key=lambda item: (-item[1], item[0])))
    return AnomalyPeriod(start.started_at, end, end_position - start.position, ordered)
