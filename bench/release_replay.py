"""Replaying a slot timeline against the schedule code: when would the monitor have looked?

Pure, for bench/release_windows.py. A *schedule* is anything with ``next_after(moment)``
(the first probe time strictly after it): :class:`CadenceSchedule` is today's daemon (the
grid of :mod:`monitor.daemon.cadence`, jitter and active hours included), a
:class:`monitor.daemon.focus.WeekPlan` is a plan. :func:`replay` walks a timeline probe by
probe, as the daemon would:

* each probe sees the free slots the timeline holds at its moment;
* it records ``slots_opened`` as the alert policy does (docs/contract.md#events-and-notifications):
  a probe that sees slots after ``close_after`` probes without any opens a new one, a
  shorter gap continues the opening;
* at each local midnight the plan is computed again (``replan``) from the ``slots_opened``
  times the simulated monitor has recorded so far and the times of its probes (the hours it
  watched), as the daemon recomputes it daily.

:func:`measure` then reads the probes of the measured weeks against the timeline's
openings: the short-lived ones (under ``short``) caught by at least one probe, and for the
others (the batch releases) the delay from the release to the first probe that saw it,
which is when the alert goes out (the pipeline after the probe is bench/alert_latency.py's
and the ``--end-to-end`` run's business).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Protocol

from release_timelines import Opening, Timeline

from monitor.config.durations import ActiveHours, Jitter
from monitor.daemon.cadence import Cadence, next_fire

__all__ = [
    "CadenceSchedule",
    "Measured",
    "Probe",
    "ProbeSchedule",
    "Replan",
    "Replayed",
    "measure",
    "percentile",
    "replay",
]

#: ``alerts.close_after``'s default: probes without slots before an opening is over.
CLOSE_AFTER = 2


class ProbeSchedule(Protocol):
    def next_after(self, moment: datetime) -> datetime | None: ...


@dataclass(frozen=True)
class CadenceSchedule:
    """Today's even schedule: the target's grid with its jitter, in its active hours."""

    cadence: Cadence
    active_hours: ActiveHours | None
    zone: tzinfo

    @classmethod
    def of(
        cls,
        target: str,
        interval: timedelta,
        jitter: Jitter,
        active_hours: ActiveHours | None,
        zone: tzinfo,
    ) -> CadenceSchedule:
        return cls(Cadence.of(target, interval, jitter), active_hours, zone)

    def next_after(self, moment: datetime) -> datetime | None:
        found = next_fire(self.cadence, moment, active_hours=self.active_hours, tz=self.zone)
        return None if found is None else found[1]


@dataclass(frozen=True)
class Probe:
    at: datetime
    free: int  #: slots the page showed


@dataclass(frozen=True)
class Replayed:
    probes: tuple[Probe, ...]
    opened: tuple[datetime, ...]  #: the ``slots_opened`` times the monitor recorded
    plans: int  #: how many times the schedule was (re)computed


#: Makes the schedule in force from ``now`` given the ``slots_opened`` times recorded so far
#: and the probes made so far (their times: the hours watched, as the store's rollup has them).
Replan = Callable[[Sequence[datetime], Sequence[datetime], datetime], ProbeSchedule]


def _next_midnight(moment: datetime, zone: tzinfo) -> datetime:
    day = moment.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def replay(timeline: Timeline, replan: Replan, *, close_after: int = CLOSE_AFTER) -> Replayed:
    """Every probe the schedule makes over the timeline, computed again each local midnight."""
    zone = timeline.zone
    opened: list[datetime] = []
    probes: list[Probe] = []
    moment = timeline.start - timedelta(microseconds=1)
    schedule = replan((), (), timeline.start)
    plans = 1
    boundary = _next_midnight(timeline.start, zone)
    without = close_after  # probes in a row without slots: the target starts "closed"
    while True:
        at = schedule.next_after(moment)
        while at is not None and at >= boundary and boundary < timeline.end:
            # Midnight comes before the next probe: the daemon computes its plan again.
            schedule = replan(tuple(opened), [probe.at for probe in probes], boundary)
            plans += 1
            moment = max(moment, boundary - timedelta(microseconds=1))
            at = schedule.next_after(moment)
            boundary = _next_midnight(boundary, zone)
        if at is None or at >= timeline.end:
            break
        free = timeline.free_at(at)
        if free > 0:
            if without >= close_after:
                opened.append(at)
            without = 0
        else:
            without += 1
        probes.append(Probe(at, free))
        moment = at
    return Replayed(tuple(probes), tuple(opened), plans)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in (0, 1]); NaN for no value."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Measured:
    probes: int
    weeks: float
    short_total: int
    short_caught: int
    releases: int
    release_delays: tuple[float, ...]  #: seconds, of the releases some probe saw
    releases_missed: int

    @property
    def caught_share(self) -> float:
        return self.short_caught / self.short_total if self.short_total else math.nan

    @property
    def median_delay(self) -> float:
        return percentile(self.release_delays, 0.5)

    @property
    def p95_delay(self) -> float:
        return percentile(self.release_delays, 0.95)

    @property
    def probes_per_week(self) -> float:
        return self.probes / self.weeks

    def __add__(self, other: Measured) -> Measured:
        return Measured(
            self.probes + other.probes,
            self.weeks + other.weeks,
            self.short_total + other.short_total,
            self.short_caught + other.short_caught,
            self.releases + other.releases,
            self.release_delays + other.release_delays,
            self.releases_missed + other.releases_missed,
        )


def _first_probe_in(times: Sequence[datetime], opening: Opening) -> datetime | None:
    index = bisect_left(times, opening.start)
    if index < len(times) and times[index] < opening.end:
        return times[index]
    return None


def measure(
    timeline: Timeline, probes: Sequence[Probe], *, since: datetime, short: timedelta
) -> Measured:
    """The figures of the probes from ``since`` on against the openings starting from then."""
    times = [probe.at for probe in probes]
    counted = [at for at in times if at >= since]
    short_total = short_caught = releases = missed = 0
    delays: list[float] = []
    for opening in timeline.openings():
        if opening.start < since:
            continue
        seen = _first_probe_in(times, opening)
        if opening.duration < short:
            short_total += 1
            short_caught += seen is not None
        else:
            releases += 1
            if seen is None:
                missed += 1
            else:
                delays.append((seen - opening.start).total_seconds())
    weeks = (timeline.end - since) / timedelta(weeks=1)
    return Measured(len(counted), weeks, short_total, short_caught, releases, tuple(delays), missed)
