"""Slot timelines for bench/release_windows.py: how many slots a booking page offers, over weeks.

A :class:`Timeline` is a step function: from each change's moment on, the page offers that
many free slots, until the next change. Two sources:

* :func:`generate`: a named :class:`Shape` (weekly batches released at fixed local hours
  that drain over hours or a day or two, and single cancellations that come back for 3 to
  20 minutes at random hours drawn from the shape's profile), from a fixed seed, so every
  run replays the same weeks;
* :func:`parse_csv`: rows of ``local time,free slots``, as people who watched a prefecture
  by hand have published them; a bad row is refused with its line number and what is wrong.

Pure: no file is read here (the command reads it and hands the text in).
"""

from __future__ import annotations

import csv
import random
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

__all__ = [
    "SHAPES",
    "Batch",
    "Opening",
    "Shape",
    "Timeline",
    "TimelineError",
    "generate",
    "parse_csv",
    "to_csv",
]

PARIS = ZoneInfo("Europe/Paris")
#: The Monday generated timelines start on (local midnight): no DST change for 12 weeks.
FIRST_MONDAY = datetime(2026, 1, 5)
CSV_HEADER = ("local time", "free slots")
#: Time forms a CSV row may use (local time unless an offset is written).
TIME_FORMS = "YYYY-MM-DD HH:MM[:SS] (or with T, or an offset like +01:00) or DD/MM/YYYY HH:MM[:SS]"


class TimelineError(ValueError):
    """A timeline that cannot be read or used; the message says where and how to fix it."""


@dataclass(frozen=True)
class Opening:
    """A maximal stretch during which the page offered at least one slot."""

    start: datetime
    end: datetime  #: when the last slot was gone (or the timeline's end)
    peak: int

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Timeline:
    """Free slots over time: ``changes`` are (UTC moment, free slots from then), strictly
    increasing in time; the timeline ends at ``end``."""

    name: str
    zone: ZoneInfo
    changes: tuple[tuple[datetime, int], ...]
    end: datetime
    _moments: tuple[datetime, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.changes:
            raise TimelineError(f"{self.name}: a timeline needs at least one row")
        moments = tuple(moment for moment, _ in self.changes)
        if any(later <= earlier for earlier, later in pairwise(moments)):
            raise TimelineError(f"{self.name}: changes must be strictly increasing in time")
        if self.end <= moments[0]:
            raise TimelineError(f"{self.name}: the timeline ends before it starts")
        object.__setattr__(self, "_moments", moments)

    @property
    def start(self) -> datetime:
        return self.changes[0][0]

    def free_at(self, moment: datetime) -> int:
        """Free slots at ``moment`` (0 before the start and from the end on)."""
        if moment >= self.end:
            return 0
        index = bisect_right(self._moments, moment) - 1
        return 0 if index < 0 else self.changes[index][1]

    def openings(self) -> tuple[Opening, ...]:
        """Every stretch with free slots, in order."""
        found: list[Opening] = []
        start: datetime | None = None
        peak = 0
        for moment, free in self.changes:
            if free > 0:
                if start is None:
                    start, peak = moment, free
                peak = max(peak, free)
            elif start is not None:
                found.append(Opening(start, moment, peak))
                start = None
        if start is not None:
            found.append(Opening(start, self.end, peak))
        return tuple(found)


def _from_deltas(
    name: str,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    deltas: Iterable[tuple[datetime, int]],
) -> Timeline:
    """A timeline from +n/-n slot changes (several at one moment add up)."""
    by_moment: dict[datetime, int] = {}
    for moment, delta in deltas:
        if start <= moment < end:
            by_moment[moment] = by_moment.get(moment, 0) + delta
    changes = [(start, 0)]
    free = 0
    for moment in sorted(by_moment):
        free += by_moment[moment]
        if free < 0:
            raise TimelineError(f"{name}: more slots taken than released at {moment}")
        if moment == start:
            changes[0] = (start, free)
        elif free != changes[-1][1]:
            changes.append((moment, free))
    return Timeline(name, zone, tuple(changes), end)


# -- generated shapes -------------------------------------------------------------------------

#: Monday is 0. A profile gives each (weekday, local hour) a weight for cancellations.
Profile = Callable[[int, int], float]


def everywhere(weekday: int, hour: int) -> float:
    return 1.0


def office_hours(weekday: int, hour: int) -> float:
    """Weekdays 08:00-18:00: when people cancel their appointment (and agents free slots)."""
    return 1.0 if weekday < 5 and 8 <= hour < 18 else 0.0


def daytime(weekday: int, hour: int) -> float:
    return 1.0 if 7 <= hour < 22 else 0.0


@dataclass(frozen=True)
class Batch:
    """A weekly release: ``size`` slots at ``weekday`` ``hour``:``minute`` local time (plus
    up to ``late`` minutes, or +/- ``drift`` hours from week to week), all taken within
    ``drain`` hours, most of them early."""

    weekday: int
    hour: int
    minute: int
    size: tuple[int, int]
    drain: tuple[float, float]
    late: int = 3
    drift: float = 0.0


@dataclass(frozen=True)
class Shape:
    name: str
    what: str
    batches: tuple[Batch, ...] = ()
    #: batches at uniformly random moments each week (no rhythm to learn)
    random_batches: int = 0
    random_batch: Batch = Batch(0, 0, 0, (10, 30), (4.0, 24.0))
    cancellations: int = 20  #: per week
    profile: Profile = everywhere
    cancel_minutes: tuple[int, int] = (3, 20)


SHAPES: dict[str, Shape] = {
    shape.name: shape
    for shape in (
        Shape(
            "monday-thursday",
            "batches Mon 00:05 and Thu 08:50 draining over a day; "
            "25 cancellations a week in office hours",
            batches=(
                Batch(0, 0, 5, (30, 50), (18.0, 30.0)),
                Batch(3, 8, 50, (30, 50), (18.0, 30.0)),
            ),
            cancellations=25,
            profile=office_hours,
        ),
        Shape(
            "midnight",
            "a batch every weekday night at 00:00 gone in 2-6 h; "
            "20 cancellations a week in the daytime",
            batches=tuple(Batch(day, 0, 0, (5, 15), (2.0, 6.0)) for day in range(5)),
            cancellations=20,
            profile=daytime,
        ),
        Shape(
            "morning",
            "batches Mon, Wed, Fri at 08:30 gone in 1-3 h; 30 cancellations a week in office hours",
            batches=tuple(Batch(day, 8, 30, (10, 20), (1.0, 3.0)) for day in (0, 2, 4)),
            cancellations=30,
            profile=office_hours,
        ),
        Shape(
            "drift",
            "one batch a week, Tue 06:00 +/- 3 h, draining over one to two days; "
            "20 cancellations a week at any hour",
            batches=(Batch(1, 6, 0, (30, 60), (24.0, 48.0), drift=3.0),),
            cancellations=20,
            profile=everywhere,
        ),
        Shape(
            "noise",
            "3 batches a week at random moments (4-24 h); "
            "20 cancellations at any hour: nothing to learn",
            random_batches=3,
            cancellations=20,
            profile=everywhere,
        ),
    )
}


def _local(zone: ZoneInfo, naive: datetime) -> datetime:
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _batch_deltas(
    rng: random.Random, release: datetime, batch: Batch
) -> list[tuple[datetime, int]]:
    size = rng.randint(*batch.size)
    drain = timedelta(hours=rng.uniform(*batch.drain))
    deltas = [(release, size)]
    for _ in range(size):
        # u² puts most takes early; the last slot goes near the end of the drain.
        taken = release + drain * rng.random() ** 2
        deltas.append((max(taken, release + timedelta(seconds=1)), -1))
    return deltas


def _weighted_moment(
    rng: random.Random, week: datetime, profile: Profile, zone: ZoneInfo
) -> datetime:
    hours = [(day, hour) for day in range(7) for hour in range(24)]
    weights = [profile(day, hour) for day, hour in hours]
    day, hour = rng.choices(hours, weights=weights)[0]
    naive = week + timedelta(days=day, hours=hour, seconds=rng.uniform(0, 3600))
    return _local(zone, naive.replace(microsecond=0))


def generate(
    shape: Shape,
    *,
    weeks: int,
    seed: int,
    zone: ZoneInfo = PARIS,
    first_monday: datetime = FIRST_MONDAY,
) -> Timeline:
    """``weeks`` weeks of ``shape`` from local midnight of ``first_monday``, the same for the
    same seed."""
    if weeks < 1:
        raise TimelineError(f"weeks must be at least 1, got {weeks}")
    rng = random.Random(f"{shape.name}:{seed}")
    deltas: list[tuple[datetime, int]] = []
    for index in range(weeks):
        week = first_monday + timedelta(weeks=index)
        for batch in shape.batches:
            naive = week + timedelta(days=batch.weekday, hours=batch.hour, minutes=batch.minute)
            naive += timedelta(
                minutes=rng.uniform(0, batch.late), hours=rng.uniform(-batch.drift, batch.drift)
            )
            deltas += _batch_deltas(rng, _local(zone, naive.replace(microsecond=0)), batch)
        for _ in range(shape.random_batches):
            release = _weighted_moment(rng, week, everywhere, zone)
            deltas += _batch_deltas(rng, release, shape.random_batch)
        for _ in range(shape.cancellations):
            back = _weighted_moment(rng, week, shape.profile, zone)
            minutes = rng.randint(*shape.cancel_minutes)
            deltas += [(back, 1), (back + timedelta(minutes=minutes), -1)]
    start = _local(zone, first_monday)
    end = _local(zone, first_monday + timedelta(weeks=weeks))
    return _from_deltas(f"{shape.name} (seed {seed})", zone, start, end, deltas)


# -- CSV: local time,free slots ------------------------------------------------------------------


def _parse_time(text: str, zone: ZoneInfo, after: datetime | None) -> datetime:
    """A row's time: ISO 8601 or DD/MM/YYYY, local in ``zone`` unless an offset is written."""
    value = text.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        for form in ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"):
            try:
                parsed = datetime.strptime(value, form)
                break
            except ValueError:
                continue
    if parsed is None or not value[:1].isdigit():
        raise TimelineError(f"{value!r} is not a time: write {TIME_FORMS}")
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    first, second = (parsed.replace(tzinfo=zone, fold=fold) for fold in (0, 1))
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != parsed:
        raise TimelineError(
            f"{value} does not exist in {zone.key} (the clocks went forward then): "
            "write the time the watcher's clock showed, or give an offset like +02:00"
        )
    moment = first.astimezone(UTC)
    if after is not None and moment <= after and second.utcoffset() != first.utcoffset():
        moment = second.astimezone(UTC)  # the repeated hour when clocks go back, second pass
    return moment


def _parse_count(text: str) -> int:
    value = text.strip()
    if not value.isascii() or not value.isdigit():
        raise TimelineError(f"free slots {value!r} is not a whole number >= 0")
    return int(value)


def parse_csv(text: str, *, source: str, zone: ZoneInfo = PARIS) -> Timeline:
    """A timeline from ``local time,free slots`` rows (a header row with those words,
    blank lines and ``#`` comments allowed); each row holds until the next, the last row
    ends the timeline. Raises :class:`TimelineError` naming ``source``, the line and what
    is wrong."""
    changes: list[tuple[datetime, int]] = []
    previous_line = 0  #: the line of the last row read
    header_allowed = True
    reader = csv.reader(text.splitlines())
    for row in reader:
        line = reader.line_num
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if header_allowed and tuple(cell.strip().lower() for cell in row) == CSV_HEADER:
            header_allowed = False  # once, before any row
            continue
        header_allowed = False
        if len(row) != 2:
            raise TimelineError(
                f"{source}:{line}: {len(row)} columns, expected 2: local time,free slots "
                f"(e.g. 2026-01-05 00:05,12)"
            )
        try:
            moment = _parse_time(row[0], zone, changes[-1][0] if changes else None)
            count = _parse_count(row[1])
        except TimelineError as error:
            raise TimelineError(f"{source}:{line}: {error}") from None
        if changes and moment <= changes[-1][0]:
            raise TimelineError(
                f"{source}:{line}: {row[0].strip()} is not after the row of line {previous_line}: "
                "rows must be in time order, one per moment"
            )
        changes.append((moment, count))
        previous_line = line
    if len(changes) < 2:
        raise TimelineError(
            f"{source}: {len(changes)} row(s); a timeline needs at least two "
            "(the last row's time is where it ends)"
        )
    *held, (end, _) = changes
    merged: list[tuple[datetime, int]] = []
    for moment, count in held:
        if not merged or merged[-1][1] != count:
            merged.append((moment, count))
    return Timeline(source, zone, tuple(merged), end)


def to_csv(timeline: Timeline) -> str:
    """The timeline as ``local time,free slots`` rows (the last row marks its end)."""
    rows = [",".join(CSV_HEADER)]
    for moment, count in (*timeline.changes, (timeline.end, 0)):
        rows.append(f"{moment.astimezone(timeline.zone).isoformat(sep=' ')},{count}")
    return "\n".join(rows) + "\n"


def week_count(timeline: Timeline) -> float:
    return (timeline.end - timeline.start) / timedelta(weeks=1)
