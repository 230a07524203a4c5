"""Where a target's probes go in the week: the even plan and the learned plan, pure.

See docs/contract.md#learned-schedule (``schedule.focus``). A :class:`WeekPlan` gives each of the
168 hours of a local week (Monday 00h = hour 0, in ``settings.timezone``) the gap between
two probes in that hour, or None when the hour is outside ``active_hours``.

**The estimator (learned plan), in plain words.** For each hour of the week (Monday 09h,
Monday 10h, ...) we want how often slots appear in it: a *rate*, openings per hour watched.

* *Openings*: the target's ``slots_opened`` events in that hour, a recent event counting more
  than an old one (its weight halves every :data:`HALF_LIFE`; events older than
  :data:`HISTORY` or from the current day are left out, so every node computing the plan on
  the same day gets the same plan). Each is shared with the two neighbouring active hours
  (a quarter each way): a release seen at 08:58 says something about 09:00.
* *Exposure*: how long that hour was watched, weighted and shared the same way. An opening
  is recorded at the first probe after it, so an hour in which the target saw its page
  counts for itself and for the unprobed hours since its previous probe (not across a gap
  longer than ``max_interval`` and an hour: the monitor was stopped, or it was night). The
  store gives those hours (``Repository.watched_hours``); openings from before the first one
  on record count as watched all the time. Dividing by exposure is what keeps the week's
  budget: an hour probed more, or watched more weeks, is not mistaken for a busier one.
* To the openings we add :data:`PRIOR_WEIGHT` imaginary ones spread over the week in
  proportion to exposure (the *even prior*: no active hour is ever estimated at zero), and
  :data:`POOL_WEIGHT` more spread like the rates of the prefecture's other targets (the
  *pool*): while the target has few events of its own they shape the estimate, once it has
  dozens they barely matter.

One hour of the week alone is a handful of events: chance. So each rate is pulled towards a
broader one as far as it does not stand out from it beyond what chance would make it:

1. the week's rate (all openings over all exposure);
2. the *hour of the day*'s rate (09h on every weekday together; Saturday and Sunday apart),
   pulled towards the week's: cancellations during office hours show on every weekday;
3. the *hour of the week*'s rate, pulled towards its hour of the day's: a release every
   Monday at 00:05 stays on Monday.

"As far as it does not stand out beyond chance": with ``n`` openings over exposure ``e``
against a prior rate ``p``, chance alone makes ``n / e`` differ from ``p`` by about
``p × 0.375 × Σw² / e²`` (a variance; ``w`` the recency weights, 0.375 the smoothing's
share); the estimate is ``p + t × (n / e − p)`` with ``t = 1 − chance / (n / e − p)²``,
at least 0 (a positive-part James-Stein estimate). Openings spread evenly give every hour
the prior: the even plan; a few chance clusters are mostly pulled back; a weekly release
stands out and keeps its hour.

The rate of an hour, divided by how much of that hour is active, is how likely slots are to
appear per minute of it. Each hour's probe rate is proportional to it, scaled so that the
week holds exactly the probes ``interval`` gives within ``active_hours``, and clamped to one
probe every ``min_interval`` at most and one every ``max_interval`` at least; the scale is
then found again so that the clamped hours' probes are taken from, or given to, the others
(the total never exceeds the even budget and spends all of it but each gap's rounding up to
the whole second). With no history at all the plan is the even one.

Proportional is a compromise: to shorten the mean delay to a release the best rate grows
as the square root of the likelihood, to catch the most short-lived slots it goes all to
the likeliest hours; the caps keep both extremes out. What it does not correct: a hour
probed more catches more of its short-lived slots (seen per hour watched, they look
likelier there); measured in BENCHMARKS.md §12.

**The probe times.** A plan turns into probe times like a meter: it counts, along real
time, the probes the plan "owes" (each active second adds ``1 / gap`` of a probe), from a
fixed origin (Monday 3 January 2000, local time) and forever after; a probe is due each
time the count passes a whole number plus the target's phase (a hash of its id, as
:mod:`monitor.daemon.cadence` spreads targets' offsets). So the times depend on the plan
and the target alone: two fleet nodes, or one node after a restart, compute the same ones,
and a probe time is its own claim key. Within one hour the probes are exactly ``gap``
apart; a gap that spans two hours is between theirs; time outside active hours does not
count. A real hour counts with the gap of its local hour: the hour repeated when clocks go
back is probed twice at its rate, the hour skipped in spring not at all. There is no
per-probe jitter as in :mod:`monitor.daemon.cadence`: it would break the caps; the
phase and the varying gaps keep targets from firing together.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise

from monitor.config.durations import ActiveHours

__all__ = [
    "HALF_LIFE",
    "HISTORY",
    "HOURS_PER_WEEK",
    "POOL_WEIGHT",
    "PRIOR_WEIGHT",
    "WeekPlan",
    "active_minutes",
    "even_plan",
    "hour_of_week",
    "learned_plan",
    "phase_of",
]

HOURS_PER_WEEK = 168
#: An event's weight halves with each such age.
HALF_LIFE = timedelta(weeks=6)
#: Events older than this are left out.
HISTORY = timedelta(weeks=26)
#: The prefecture's other targets count as this many events of this target's (their shape
#: is a rate pulled towards the week's, so a little of it is spread everywhere).
POOL_WEIGHT = 3.0
#: The even prior counts as this many events.
PRIOR_WEIGHT = 2.0

#: The Monday the probe meter starts from (local time, whatever the zone).
_ORIGIN_MONDAY = date(2000, 1, 3)
_WEEKS_PER_BLOCK = 52
_SECOND = timedelta(seconds=1)
_MICRO = timedelta(microseconds=1)


def hour_of_week(moment: datetime, zone: tzinfo) -> int:
    """The hour of the local week ``moment`` falls in: Monday 00h = 0, Sunday 23h = 167."""
    _aware(moment, "moment")
    local = moment.astimezone(zone)
    return local.weekday() * 24 + local.hour


def phase_of(target_id: str) -> float:
    """The target's deterministic phase in [0, 1): where in each gap its probes fall."""
    digest = hashlib.sha256(f"focus\x1f{target_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@lru_cache(maxsize=64)
def active_minutes(active_hours: ActiveHours | None) -> tuple[tuple[tuple[int, int], ...], ...]:
    """For each local hour of the day (0 to 23), its active minutes as ``(from, to)`` runs."""
    days: list[tuple[tuple[int, int], ...]] = []
    for hour in range(24):
        runs: list[tuple[int, int]] = []
        start: int | None = None
        for minute in range(61):
            inside = minute < 60 and (
                active_hours is None or active_hours.contains(time(hour, minute))
            )
            if inside and start is None:
                start = minute
            elif not inside and start is not None:
                runs.append((start, minute))
                start = None
        days.append(tuple(runs))
    return tuple(days)


def _active_share(active_hours: ActiveHours | None) -> tuple[float, ...]:
    """For each hour of the week, the share of it inside the window (0 to 1)."""
    per_day = [sum(b - a for a, b in runs) / 60 for runs in active_minutes(active_hours)]
    return tuple(per_day[h % 24] for h in range(HOURS_PER_WEEK))


@dataclass(frozen=True)
class WeekPlan:
    """The gap between two probes for each hour of the local week (None: inactive hour).

    ``active_hours`` narrows the hours further to the minute (an hour half inside the window
    is probed at its gap during its active half); ``phase`` places the target's probes.
    """

    zone: tzinfo
    gaps: tuple[timedelta | None, ...]
    active_hours: ActiveHours | None = None
    phase: float = 0.0
    _rates: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _week_total: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.gaps) != HOURS_PER_WEEK:
            raise ValueError(f"a week plan has {HOURS_PER_WEEK} gaps, got {len(self.gaps)}")
        if not 0.0 <= self.phase < 1.0:
            raise ValueError(f"a plan's phase is in [0, 1), got {self.phase!r}")
        share = _active_share(self.active_hours)
        rates: list[float] = []
        for hour, gap in enumerate(self.gaps):
            if gap is not None and gap <= timedelta(0):
                raise ValueError(f"hour {hour} of the plan has a gap of {gap}: it must be positive")
            rates.append(0.0 if gap is None or share[hour] == 0 else 1 / gap.total_seconds())
        if not any(rates):
            raise ValueError("a week plan needs at least one active hour with a gap")
        object.__setattr__(self, "_rates", tuple(rates))
        total = sum(r * s * 3600 for r, s in zip(rates, share, strict=True))
        object.__setattr__(self, "_week_total", total)

    def cadence_at(self, moment: datetime) -> timedelta | None:
        """The gap between probes at ``moment``; None outside the active time."""
        local = moment.astimezone(self.zone)
        if self.active_hours is not None and not self.active_hours.contains(local):
            return None
        return self.gaps[hour_of_week(moment, self.zone)]

    def probes_per_week(self) -> float:
        """The probes a (168-hour) local week holds."""
        return self._week_total

    def next_after(self, moment: datetime) -> datetime:
        """The first probe time strictly after ``moment`` (UTC)."""
        _aware(moment, "moment")
        week = _week_of(moment, self.zone)
        for _ in range(8):  # a week with no probe at all is possible, eight in a row are not
            times = _week_times(self, week)
            index = bisect_right(times, moment)
            if index < len(times):
                return times[index]
            week += 1
        raise ValueError("the plan has no probe in eight weeks; its rates are too low")

    def at_or_before(self, moment: datetime) -> datetime:
        """The last probe time not after ``moment``: the slot (claim key) of a run due then."""
        _aware(moment, "moment")
        week = _week_of(moment, self.zone)
        for _ in range(8):
            times = _week_times(self, week)
            index = bisect_right(times, moment)
            if index > 0:
                return times[index - 1]
            week -= 1
        raise ValueError("the plan has no probe in eight weeks; its rates are too low")


def _aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")


def _monday(week: int, zone: tzinfo, day: int = 0) -> datetime:
    """Local 00:00 of day ``day`` of week ``week`` of the meter (0: Monday), a UTC instant."""
    local = _ORIGIN_MONDAY + timedelta(weeks=week, days=day)
    return datetime.combine(local, time(0), tzinfo=zone).astimezone(UTC)


def _week_of(moment: datetime, zone: tzinfo) -> int:
    local = moment.astimezone(zone)
    week = (local.date() - _ORIGIN_MONDAY).days // 7
    if week < 0:
        raise ValueError(f"probe times start in 2000, {moment.isoformat()} is before")
    # A Monday that starts late (a DST change at midnight) can leave moment before it.
    while moment < _monday(week, zone):
        week -= 1
    return week


def _segments(
    plan: WeekPlan, cursor: datetime, end: datetime
) -> list[tuple[datetime, datetime, float]]:
    """The active stretches from ``cursor`` to ``end`` (local midnights) in real time, each
    with its rate (probes a second)."""
    runs = active_minutes(plan.active_hours)
    zone = plan.zone
    found: list[tuple[datetime, datetime, float]] = []
    while cursor < end:
        local = cursor.astimezone(zone)
        hour_start = cursor - timedelta(
            minutes=local.minute, seconds=local.second, microseconds=local.microsecond
        )
        hour_end = min(hour_start + timedelta(hours=1), end)
        rate = plan._rates[local.weekday() * 24 + local.hour]
        if rate > 0:
            for first, last in runs[local.hour]:
                start = max(cursor, hour_start + timedelta(minutes=first))
                stop = min(hour_end, hour_start + timedelta(minutes=last))
                if start < stop:
                    found.append((start, stop, rate))
        cursor = hour_end
    return found


@lru_cache(maxsize=1_024)
def _changed_weeks(zone: tzinfo, block: int) -> tuple[int, ...]:
    """The weeks of a block whose clocks change (not 168 real hours long)."""
    first = block * _WEEKS_PER_BLOCK
    mondays = [_monday(w, zone) for w in range(first, first + _WEEKS_PER_BLOCK + 1)]
    return tuple(
        first + index
        for index, (start, end) in enumerate(pairwise(mondays))
        if end - start != timedelta(weeks=1)
    )


@lru_cache(maxsize=16_384)
def _correction(plan: WeekPlan, week: int) -> float:
    """What a week whose clocks change adds to the meter beyond a 168-hour week."""
    zone, share = plan.zone, _active_share(plan.active_hours)
    days = [_monday(week, zone, day) for day in range(8)]
    total = 0.0
    for day, (start, end) in enumerate(pairwise(days)):
        if end - start == timedelta(days=1):
            continue
        real = sum((b - a).total_seconds() * rate for a, b, rate in _segments(plan, start, end))
        hours = range(day * 24, day * 24 + 24)
        total += real - sum(plan._rates[h] * share[h] * 3600 for h in hours)
    return total


@lru_cache(maxsize=8_192)
def _block_correction(plan: WeekPlan, block: int) -> float:
    """The clock changes' share of the meter over a block of weeks."""
    return sum(_correction(plan, w) for w in _changed_weeks(plan.zone, block))


def _meter_at(plan: WeekPlan, week: int) -> float:
    """The meter at the start of week ``week``: every probe owed since the origin."""
    block, rest = divmod(week, _WEEKS_PER_BLOCK)
    correction = sum(_block_correction(plan, b) for b in range(block))
    first = block * _WEEKS_PER_BLOCK
    correction += sum(
        _correction(plan, w) for w in _changed_weeks(plan.zone, block) if w < first + rest
    )
    return week * plan._week_total + correction


@lru_cache(maxsize=256)
def _week_times(plan: WeekPlan, week: int) -> tuple[datetime, ...]:
    """The probe times of a week, ascending: where the meter passes ``k + phase``."""
    begin, end = _meter_at(plan, week), _meter_at(plan, week + 1)
    # Each value k + phase in [begin, end) belongs to this week and no other.
    value = math.ceil(begin - plan.phase) + plan.phase
    times: list[datetime] = []
    meter = begin
    segments = _segments(plan, _monday(week, plan.zone), _monday(week + 1, plan.zone))
    for index, (start, stop, rate) in enumerate(segments):
        meter_end = meter + (stop - start).total_seconds() * rate
        last = index == len(segments) - 1
        while value < end and (value <= meter_end or last):
            offset = timedelta(seconds=(value - meter) / rate)
            times.append(min(start + _round_micro(offset), stop - _MICRO))
            value += 1
        meter = meter_end
    return tuple(times)


def _round_micro(delta: timedelta) -> timedelta:
    return timedelta(microseconds=round(delta / _MICRO))


def _check_caps(interval: timedelta, min_interval: timedelta, max_interval: timedelta) -> None:
    if min_interval <= timedelta(0):
        raise ValueError(f"min_interval must be positive, got {min_interval}")
    if min_interval > max_interval:
        raise ValueError(
            f"min_interval ({min_interval}) is longer than max_interval ({max_interval}); "
            "make min_interval the shorter one"
        )
    if not min_interval <= interval <= max_interval:
        raise ValueError(
            f"interval ({interval}) must lie between min_interval ({min_interval}) and "
            f"max_interval ({max_interval}) for a learned schedule"
        )


def even_plan(
    *,
    interval: timedelta,
    active_hours: ActiveHours | None,
    zone: tzinfo,
    phase: float = 0.0,
) -> WeekPlan:
    """One probe every ``interval`` in every active hour: the budget a learned plan keeps."""
    if interval <= timedelta(0):
        raise ValueError(f"interval must be positive, got {interval}")
    share = _active_share(active_hours)
    gaps = tuple(interval if share[h] > 0 else None for h in range(HOURS_PER_WEEK))
    return WeekPlan(zone=zone, gaps=gaps, active_hours=active_hours, phase=phase)


def _decay(age: timedelta) -> float:
    return float(0.5 ** (age / HALF_LIFE))


def _smooth(values: Sequence[float], share: Sequence[float]) -> list[float]:
    """Each active hour's value shared with its two neighbouring hours (a quarter each way);
    the quarter meant for an inactive neighbour stays at home, inactive hours count nothing."""
    kept = [value if share[h] > 0 else 0.0 for h, value in enumerate(values)]
    smoothed = [0.0] * HOURS_PER_WEEK
    for h, value in enumerate(kept):
        if not value:
            continue
        smoothed[h] += 0.5 * value
        for neighbour in (h - 1, (h + 1) % HOURS_PER_WEEK):
            smoothed[neighbour if share[neighbour] > 0 else h] += 0.25 * value
    return smoothed


def _weights(
    events: Sequence[datetime], zone: tzinfo, cutoff: datetime, share: Sequence[float]
) -> list[float]:
    """Recency-weighted counts per hour of the week, shared with the neighbouring hours."""
    counts = [0.0] * HOURS_PER_WEEK
    for event in events:
        _aware(event, "a slots_opened time")
        age = cutoff - event
        if age <= timedelta(0) or age > HISTORY:
            continue
        counts[hour_of_week(event, zone)] += _decay(age)
    return _smooth(counts, share)


def _hour_start(moment: datetime) -> datetime:
    utc = moment.astimezone(UTC)
    return utc.replace(minute=0, second=0, microsecond=0)


@lru_cache(maxsize=64)
def _always_watched(zone: tzinfo, cutoff: datetime) -> tuple[datetime, ...]:
    """Every hour of :data:`HISTORY` before ``cutoff``: a target watched all the time."""
    first = _hour_start(cutoff - HISTORY) + timedelta(hours=1)
    count = (cutoff - first) // timedelta(hours=1)
    return tuple(first + timedelta(hours=k) for k in range(count))


@dataclass(frozen=True)
class _Exposure:
    """Per hour of the week: how long it was watched (recency-weighted hours), and the sum
    of the squared weights (how much chance there is in counts over that time)."""

    hours: tuple[float, ...]
    squares: tuple[float, ...]


def _exposure(
    probed: Sequence[datetime] | None,
    zone: tzinfo,
    cutoff: datetime,
    share: Sequence[float],
    max_interval: timedelta,
    events: Sequence[datetime] = (),
) -> _Exposure:
    """How long each hour of the week was watched, recency-weighted as the events are.

    ``probed``: moments in the (UTC) hours in which the target saw its page, any number per
    hour. An opening is recorded at the first probe after it, so a probed hour is credited
    with itself and the unprobed hours since the previous probed one (when that gap is no
    longer than ``max_interval`` and an hour: a longer one is the monitor stopped or the
    night outside active hours, whose openings are not ours to count). None: watched every
    hour of :data:`HISTORY`. ``events``: the openings counted over this exposure.
    """
    moments = _always_watched(zone, cutoff) if probed is None else probed
    hours = sorted(
        {
            _hour_start(moment)
            for moment in moments
            if timedelta(0) < cutoff - _hour_start(moment) <= HISTORY
        }
    )
    opened = [_hour_start(event) for event in events if timedelta(0) < cutoff - event <= HISTORY]
    if opened and (not hours or min(opened) < hours[0]):
        # Openings from before the first watched hour on record: the store did not keep
        # those hours, so the target counts as watched every hour from its first opening.
        end = hours[0] if hours else cutoff
        earlier = [hour for hour in _always_watched(zone, cutoff) if min(opened) <= hour < end]
        hours = earlier + hours
    longest = max_interval + timedelta(hours=1)
    watched = [0.0] * HOURS_PER_WEEK
    squares = [0.0] * HOURS_PER_WEEK
    previous: datetime | None = None
    for hour in hours:
        span = 1.0
        if previous is not None and hour - previous <= longest:
            span = (hour - previous) / timedelta(hours=1)
        weight = _decay(cutoff - hour)
        where = hour_of_week(hour, zone)
        watched[where] += span * weight
        squares[where] += span * weight * weight
        previous = hour
    return _Exposure(tuple(_smooth(watched, share)), tuple(_smooth(squares, share)))


#: The variance of a count shared with its neighbours (a half kept, a quarter each way)
#: against the count's own: 0.5² + 2 × 0.25².
_SMOOTHED_VARIANCE = 0.375


def _group(hour: int) -> int:
    """Hour of the day, weekdays (0-23) apart from the weekend (24-47)."""
    return hour % 24 + (24 if hour >= 5 * 24 else 0)


def _shrunk(count: float, watched: float, squares: float, prior: float) -> float:
    """A rate seen as ``count`` openings over ``watched`` hours, pulled towards ``prior``
    as far as it does not stand out from it beyond chance (a positive-part James-Stein
    estimate): chance alone would make it differ by about ``prior × squares / watched²``
    (a variance), so a rate that differs by no more is the prior, one that differs by much
    more is itself."""
    if watched <= 0:
        return prior
    own = count / watched
    chance = prior * _SMOOTHED_VARIANCE * squares / watched**2
    difference = (own - prior) ** 2
    trust = max(0.0, 1 - chance / difference) if difference > 0 else 0.0
    return prior + trust * (own - prior)


def _rates(counts: Sequence[float], exposure: _Exposure, share: Sequence[float]) -> list[float]:
    """Openings per watched hour, for each hour of the week: the hour's own rate shrunk
    towards its hour of the day's, shrunk towards the week's (see the module docstring)."""
    active = [h for h in range(HOURS_PER_WEEK) if share[h] > 0]
    week = sum(counts[h] for h in active) / sum(exposure.hours[h] for h in active)
    totals: dict[int, list[float]] = {}
    for h in active:
        total = totals.setdefault(_group(h), [0.0, 0.0, 0.0])
        total[0] += counts[h]
        total[1] += exposure.hours[h]
        total[2] += exposure.squares[h]
    by_group = {g: _shrunk(c, w, q, week) for g, (c, w, q) in totals.items()}
    rates = [0.0] * HOURS_PER_WEEK
    for h in active:
        rates[h] = _shrunk(counts[h], exposure.hours[h], exposure.squares[h], by_group[_group(h)])
    return rates


def _day_start(now: datetime, zone: tzinfo) -> datetime:
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone).astimezone(UTC)


def learned_plan(
    own: Sequence[datetime],
    pooled: Sequence[datetime],
    *,
    interval: timedelta,
    active_hours: ActiveHours | None,
    zone: tzinfo,
    min_interval: timedelta,
    max_interval: timedelta,
    now: datetime,
    phase: float = 0.0,
    own_probed: Sequence[datetime] | None = None,
    pooled_probed: Sequence[datetime] | None = None,
) -> WeekPlan:
    """The even plan's weekly budget, spread where slots appear (see the module docstring).

    ``own``: the target's ``slots_opened`` times; ``pooled``: its prefecture's other
    targets'. ``own_probed`` and ``pooled_probed``: the hours (any moment in each) in which
    they saw their page, with a repeat for each target watching it (None: every hour).
    Only events and probes before the start of ``now``'s local day count.
    """
    _aware(now, "now")
    _check_caps(interval, min_interval, max_interval)
    share = _active_share(active_hours)
    if not any(share):
        raise ValueError("active hours leave no minute of the week to probe in")
    cutoff = _day_start(now, zone)
    own_counts = _weights(own, zone, cutoff, share)
    pooled_counts = _weights(pooled, zone, cutoff, share)
    if not any(own_counts) and not any(pooled_counts):
        return even_plan(interval=interval, active_hours=active_hours, zone=zone, phase=phase)
    exposure = _exposure(own_probed, zone, cutoff, share, max_interval, own)
    if not any(exposure.hours):  # only the prefecture's openings: watched all the time
        exposure = _exposure(None, zone, cutoff, share, max_interval)
    watched = sum(exposure.hours)
    # The imaginary events: the even prior, and the prefecture's shape of rates.
    counts = [
        own_counts[h] + PRIOR_WEIGHT * exposure.hours[h] / watched for h in range(HOURS_PER_WEEK)
    ]
    if any(pooled_counts):
        pooled_exposure = _exposure(pooled_probed, zone, cutoff, share, max_interval, pooled)
        pooled_rates = _rates(pooled_counts, pooled_exposure, share)
        expected = [pooled_rates[h] * exposure.hours[h] for h in range(HOURS_PER_WEEK)]
        mass = sum(expected)
        if mass > 0:
            counts = [counts[h] + POOL_WEIGHT * expected[h] / mass for h in range(HOURS_PER_WEEK)]
    rates = _rates(counts, exposure, share)
    active_total = sum(share)
    # Per hour of active time (probes an hour are proportional to it).
    density = [rates[h] / share[h] if share[h] else 0.0 for h in range(HOURS_PER_WEEK)]
    budget = active_total * (timedelta(hours=1) / interval)  # probes a week
    low, high = timedelta(hours=1) / max_interval, timedelta(hours=1) / min_interval

    def total(scale: float) -> float:
        return sum(
            share[h] * min(high, max(low, scale * density[h]))
            for h in range(HOURS_PER_WEEK)
            if share[h]
        )

    below, above = 0.0, high / min(d for h, d in enumerate(density) if share[h])
    for _ in range(200):
        middle = (below + above) / 2
        if total(middle) <= budget:
            below = middle
        else:
            above = middle
    scale = below * (1 - 1e-12)
    gaps: list[timedelta | None] = []
    for h in range(HOURS_PER_WEEK):
        if not share[h]:
            gaps.append(None)
            continue
        rate = min(high, max(low, scale * density[h]))  # probes an hour
        seconds = math.ceil(3600 / rate)
        gaps.append(min(max_interval, max(min_interval, seconds * _SECOND)))
    return WeekPlan(zone=zone, gaps=tuple(gaps), active_hours=active_hours, phase=phase)
