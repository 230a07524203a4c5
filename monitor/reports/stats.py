"""Statistics over outcomes: pure computation, fed by SQL aggregates or by outcomes one by one.

Definitions (documented for users in the README and the evidence dossier):

* **attempts**: outcome rows; **days**: distinct local days (``settings.timezone``) with
  at least one attempt.
* **shares**: ``available``, ``unavailable`` and ``anomaly`` as fractions of the *site's*
  attempts, i.e. attempts minus ``monitor_error`` ones (the monitor's own faults are never
  counted against a site); ``monitor_error`` is counted on its own.
* **anomalies by reason**: count of ``anomaly`` outcomes per reason.
* **network failures** (``--by node``): outcomes that never reached the site's answer for
  a network reason: ``anomaly`` ``connection`` or ``timeout``, and ``monitor_error``
  ``network_down`` (the node's own network); where two nodes probe the same sites, a
  difference here is a difference of place.
* **longest period without any slot**: the longest interval between two consecutive
  ``available`` outcomes, or from the first attempt to the first ``available``, or from
  the last ``available`` (or the first attempt, if none) to the end of the period, which
  is now, or ``--until`` when earlier, or the end of the local day for ``--by day``.
  Periods when the monitor did not probe count as "without slot": nothing was observed.
* **time since the last slot**: now minus the last ``available`` outcome's start.
* **La Cimade's buckets** ("À guichets fermés"), per attempt where dates are known:
  ``available`` outcomes with an ``earliest_slot``, by how far it lies after the
  attempt's ``started_at`` (a month = 30 days): at least two dates within a month
  (``slot_count >= 2``), one date within a month (one slot, or an unknown count), first
  date in one to two months, first date beyond two months; and ``no date`` = every
  ``unavailable`` outcome. Anomalies, monitor errors and ``available`` outcomes without a
  date fall in no bucket.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from monitor.domain import Outcome, Reason, Status

#: La Cimade's five buckets, in their order, with the machine field names.
BUCKETS = (
    "at_least_two_dates_within_a_month",
    "one_date_within_a_month",
    "first_date_in_one_to_two_months",
    "first_date_beyond_two_months",
    "no_date",
)
MONTH = timedelta(days=30)

#: The ``--by node`` group of outcomes no daemon node made (``monitor check``, older rows).
NO_NODE = "(none)"

#: Reasons that count as network failures (``--by node``).
NETWORK_REASONS = frozenset({Reason.CONNECTION, Reason.TIMEOUT, Reason.NETWORK_DOWN})

#: Statuses that describe the site, whose shares are reported.
SITE_STATUSES = (Status.AVAILABLE, Status.UNAVAILABLE, Status.ANOMALY)


def bucket_of(
    status: Status | str,
    started_at: datetime,
    slot_count: int | None,
    earliest_slot: datetime | None,
) -> str | None:
    """La Cimade's bucket of one attempt, or None when its dates are not known."""
    if status == Status.UNAVAILABLE:
        return "no_date"
    if status != Status.AVAILABLE or earliest_slot is None:
        return None
    ahead = earliest_slot - started_at
    if ahead <= MONTH:
        if slot_count is not None and slot_count >= 2:
            return "at_least_two_dates_within_a_month"
        return "one_date_within_a_month"
    if ahead <= 2 * MONTH:
        return "first_date_in_one_to_two_months"
    return "first_date_beyond_two_months"


@dataclass(frozen=True)
class Gap:
    """A period without any slot: ``start`` to ``end``."""

    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def longest_without_slot(first_attempt: datetime, slots: Iterable[datetime], end: datetime) -> Gap:
    """The longest period without a slot between ``first_attempt`` and ``end``.

    ``slots`` are the start times of ``available`` outcomes, in any order. The period
    boundaries are the first attempt, every slot, and ``end`` (never before the last
    boundary: an ``end`` earlier than the data is taken as the last slot or attempt).
    The earliest of equally long periods wins.
    """
    best = Gap(first_attempt, first_attempt)
    previous = first_attempt
    for moment in sorted(slots):
        if moment - previous > best.length:
            best = Gap(previous, moment)
        previous = max(previous, moment)
    if end - previous > best.length:
        best = Gap(previous, end)
    return best


@dataclass(frozen=True)
class GroupStats:
    """Every figure of one group (a target, a prefecture, a local day or a daemon node)."""

    key: str
    prefecture: str | None
    attempts: int
    days: int
    statuses: dict[Status, int]
    anomalies_by_reason: dict[Reason, int]
    first_attempt: datetime
    last_attempt: datetime
    last_slot_at: datetime | None
    longest_gap: Gap
    since_last_slot: timedelta | None
    buckets: dict[str, int]
    network_failures: int = 0  #: connection, timeout, network_down (see the module's words)

    @property
    def site_attempts(self) -> int:
        """Attempts that say something about the site (monitor errors left out)."""
        return self.attempts - self.statuses.get(Status.MONITOR_ERROR, 0)

    def share(self, status: Status) -> float | None:
        """The fraction of the site's attempts with ``status``; None without any."""
        if self.site_attempts == 0:
            return None
        return self.statuses.get(status, 0) / self.site_attempts

    @property
    def dated_attempts(self) -> int:
        """Attempts that fall in one of La Cimade's buckets."""
        return sum(self.buckets.values())


@dataclass
class GroupTally:
    """Accumulates one group's figures; :meth:`finish` turns them into GroupStats.

    Fed either with SQL aggregates (``add_counts`` per status and reason, ``add_span`` per
    time range, ``add_day`` per local day) or outcome by outcome (:meth:`add_outcome`);
    ``add_slot`` takes every ``available`` outcome, in any order.
    """

    key: str
    prefecture: str | None = None
    attempts: int = 0
    statuses: Counter[Status] = field(default_factory=Counter)
    anomalies: Counter[Reason] = field(default_factory=Counter)
    days: set[date] = field(default_factory=set)
    first_attempt: datetime | None = None
    last_attempt: datetime | None = None
    slots: list[datetime] = field(default_factory=list)
    buckets: Counter[str] = field(default_factory=Counter)
    network_failures: int = 0

    def add_counts(self, status: Status, reason: Reason, count: int) -> None:
        """``count`` attempts with this status and reason."""
        self.attempts += count
        self.statuses[status] += count
        if reason in NETWORK_REASONS:
            self.network_failures += count
        if status is Status.ANOMALY:
            self.anomalies[reason] += count
        if status is Status.UNAVAILABLE:
            self.buckets["no_date"] += count

    def add_span(self, first: datetime, last: datetime) -> None:
        """Attempts started from ``first`` to ``last`` belong to the group."""
        if self.first_attempt is None or first < self.first_attempt:
            self.first_attempt = first
        if self.last_attempt is None or last > self.last_attempt:
            self.last_attempt = last

    def add_day(self, day: date) -> None:
        self.days.add(day)

    def add_slot(
        self, started_at: datetime, slot_count: int | None, earliest_slot: datetime | None
    ) -> None:
        """One ``available`` outcome: a boundary of the slot-less periods, maybe a bucket."""
        self.slots.append(started_at)
        bucket = bucket_of(Status.AVAILABLE, started_at, slot_count, earliest_slot)
        if bucket is not None:
            self.buckets[bucket] += 1

    def add_outcome(self, outcome: Outcome, day: date) -> None:
        """One outcome, its local ``day`` computed by the caller."""
        self.add_counts(outcome.status, outcome.reason, 1)
        self.add_span(outcome.started_at, outcome.started_at)
        self.add_day(day)
        if outcome.status is Status.AVAILABLE:
            self.add_slot(outcome.started_at, outcome.slot_count, outcome.earliest_slot)

    def finish(self, *, now: datetime, end: datetime | None = None) -> GroupStats:
        """The group's figures; periods without slot run to ``end`` (default ``now``)."""
        if self.first_attempt is None or self.last_attempt is None:
            raise ValueError(f"group {self.key!r} has no attempt")
        last_slot = max(self.slots, default=None)
        return GroupStats(
            key=self.key,
            prefecture=self.prefecture,
            attempts=self.attempts,
            days=len(self.days),
            statuses={status: self.statuses[status] for status in Status},
            anomalies_by_reason=dict(sorted(self.anomalies.items())),
            first_attempt=self.first_attempt,
            last_attempt=self.last_attempt,
            last_slot_at=last_slot,
            longest_gap=longest_without_slot(self.first_attempt, self.slots, min(end or now, now)),
            since_last_slot=None if last_slot is None else now - last_slot,
            buckets={bucket: self.buckets[bucket] for bucket in BUCKETS},
            network_failures=self.network_failures,
        )


def stats_fields(by: str) -> tuple[str, ...]:
    """The machine field names of ``monitor stats --by BY``, in order."""
    keys = ("target", "prefecture") if by == "target" else (by,)
    return (
        *keys,
        "attempts",
        "days",
        "available",
        "unavailable",
        "anomaly",
        "monitor_error",
        "available_share",
        "unavailable_share",
        "anomaly_share",
        "anomalies_by_reason",
        *(("network_failures",) if by == "node" else ()),
        "longest_without_slot_seconds",
        "longest_without_slot_from",
        "longest_without_slot_to",
        "last_slot_at",
        "since_last_slot_seconds",
        "first_attempt",
        "last_attempt",
        *(f"bucket_{bucket}" for bucket in BUCKETS),
    )


def stats_row(stats: GroupStats, by: str) -> dict[str, object]:
    """One group as a flat mapping with the names of :func:`stats_fields` (machine values)."""
    row: dict[str, object] = {by: stats.key}
    if by == "target":
        row["prefecture"] = stats.prefecture
    row.update({str(status): stats.statuses.get(status, 0) for status in Status})
    for status in SITE_STATUSES:
        share = stats.share(status)
        row[f"{status}_share"] = None if share is None else round(share, 6)
    row["anomalies_by_reason"] = {str(k): v for k, v in stats.anomalies_by_reason.items()}
    if by == "node":
        row["network_failures"] = stats.network_failures
    row.update(
        attempts=stats.attempts,
        days=stats.days,
        longest_without_slot_seconds=int(stats.longest_gap.length.total_seconds()),
        longest_without_slot_from=stats.longest_gap.start,
        longest_without_slot_to=stats.longest_gap.end,
        last_slot_at=stats.last_slot_at,
        since_last_slot_seconds=(
            None if stats.since_last_slot is None else int(stats.since_last_slot.total_seconds())
        ),
        first_attempt=stats.first_attempt,
        last_attempt=stats.last_attempt,
    )
    row.update({f"bucket_{bucket}": count for bucket, count in stats.buckets.items()})
    return row


def group_key(outcome: Outcome, by: str, day: date) -> str:
    """The group an outcome belongs to for ``--by target|prefecture|day|node``."""
    if by == "target":
        return outcome.target
    if by == "prefecture":
        return outcome.prefecture
    if by == "node":
        return outcome.node if outcome.node is not None else NO_NODE
    return day.isoformat()


def period_end(by: str, key: str, *, tz: tzinfo, now: datetime, until: datetime | None) -> datetime:
    """Where a group's periods without slot stop: now, or ``until``, or the day's end."""
    end = now if until is None else min(now, until)
    if by == "day":
        next_midnight = datetime.combine(
            date.fromisoformat(key) + timedelta(days=1), time(0), tzinfo=tz
        )
        end = min(end, next_midnight.astimezone(UTC))
    return end


def stats_of_outcomes(
    outcomes: Iterable[Outcome],
    *,
    by: str,
    tz: tzinfo,
    now: datetime,
    until: datetime | None = None,
) -> list[GroupStats]:
    """Every group's figures from outcomes read one by one (the dossier, the naive baseline).

    Holds one GroupTally per group, not the outcomes.
    """
    tallies: dict[str, GroupTally] = {}
    for outcome in outcomes:
        day = outcome.started_at.astimezone(tz).date()
        key = group_key(outcome, by, day)
        tally = tallies.get(key)
        if tally is None:
            prefecture = outcome.prefecture if by == "target" else None
            tally = tallies[key] = GroupTally(key, prefecture)
        tally.add_outcome(outcome, day)
    return [
        tallies[key].finish(now=now, end=period_end(by, key, tz=tz, now=now, until=until))
        for key in sorted(tallies)
    ]


_UNITS = {"fr": ("j", "h", "min"), "en": ("d", "h", "min")}


def humanize_duration(value: timedelta, language: str = "en") -> str:
    """A period for people, to the minute: ``12 d 3 h``, ``3 h 20 min``, ``0 min``."""
    day_unit, hour_unit, minute_unit = _UNITS.get(language, _UNITS["en"])
    minutes = max(0, int(value.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} {day_unit} {hours} {hour_unit}" if hours else f"{days} {day_unit}"
    if hours:
        return f"{hours} {hour_unit} {minutes} {minute_unit}" if minutes else f"{hours} {hour_unit}"
    return f"{minutes} {minute_unit}"


def percent(share: float | None) -> str:
    """A share for people: ``93.2 %``; empty when unknown."""
    return "" if share is None else f"{share * 100:.1f} %"
