"""When slots appear, by hour of the week: pure figures for ``monitor stats --by hour`` and
the status page (docs/contract.md#commands).

An **hour of the week** is a local hour in ``settings.timezone``, numbered from 0 (Monday
00:00–01:00) to 167 (Sunday 23:00–24:00). A moment's hour of the week is found by converting
it to local time (:func:`week_hour`), never by adding a fixed offset, so it is right on both
sides of a change of summer time: on the Sunday summer time begins in Europe/Paris, local
02h does not exist and nothing falls in it that week; on the Sunday it ends, 02h happens
twice and both UTC hours count in Sunday 02h.

For each group (a target, or a prefecture's targets pooled) and hour of the week, three
counts:

* **probes**: attempts started in that hour, every status (as ``attempts`` in the other
  groupings of ``monitor stats``);
* **with slots**: those whose status is ``available``;
* **openings**: ``slots_opened`` events, reminders left out: the moments slots first
  appeared after anything else, each counted once, at the start of the probe that saw them.

An opening's probe saw slots, so in each hour ``openings <= with slots <= probes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

#: Hours in a week; an hour of the week is ``0 .. HOURS_IN_WEEK - 1``.
HOURS_IN_WEEK = 168
#: 1970-01-01, where UTC hour numbers start, was a Thursday: three days after a Monday.
_EPOCH_WEEK_HOUR = 3 * 24

WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "fr": ("lun", "mar", "mer", "jeu", "ven", "sam", "dim"),
}
WEEKDAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}

#: The machine fields of ``monitor stats --by hour``, in order (docs/contract.md#machine-formats).
HOUR_FIELDS = (
    "target",
    "prefecture",
    "timezone",
    "week_hour",
    "weekday",
    "hour",
    "probes",
    "probes_with_slots",
    "slots_opened",
)


def week_hour(moment: datetime, tz: tzinfo) -> int:
    """The local hour of the week (0 = Monday 00h) of an aware ``moment`` in ``tz``."""
    local = moment.astimezone(tz)
    return local.weekday() * 24 + local.hour


def week_hour_of_utc_hour(hour: int, offset_minutes: int) -> int:
    """The hour of the week of UTC hour number ``hour`` (monitor.store.rollup.hour_of)
    where the zone's offset is ``offset_minutes``, a whole number of hours.

    The arithmetic the rollup's SQL does (monitor.reports.week_hours_query); equal to
    :func:`week_hour` of every moment in that UTC hour when the offset holds all the hour.
    """
    if offset_minutes % 60:
        raise ValueError(f"an offset of {offset_minutes} min is not a whole number of hours")
    return (hour + offset_minutes // 60 + _EPOCH_WEEK_HOUR) % HOURS_IN_WEEK


def weekday_of(index: int) -> int:
    """ISO weekday (1 = Monday … 7 = Sunday) of an hour of the week."""
    return index // 24 + 1


def hour_label(first: int, last: int | None = None, language: str = "en") -> str:
    """``Mon 00h–01h`` for one hour; ``Mon 21h–Tue 07h`` for hours ``first`` to ``last``."""
    last = first if last is None else last
    days = WEEKDAYS[language]
    start_day, start_hour = divmod(first, 24)
    end_day, end_hour = divmod(last + 1, 24)
    if end_hour == 0:  # up to midnight: that day's 24h
        end_day, end_hour = end_day - 1, 24
    start = f"{days[start_day]} {start_hour:02d}h"
    if end_day == start_day:
        return f"{start}–{end_hour:02d}h"
    return f"{start}–{days[end_day]} {end_hour:02d}h"


@dataclass(frozen=True)
class WeekFigures:
    """One group's counts per hour of the week (tuples of :data:`HOURS_IN_WEEK`)."""

    key: str  #: a target id, or ``<prefecture>/*`` for a prefecture's targets pooled
    prefecture: str | None
    probes: tuple[int, ...]
    with_slots: tuple[int, ...]
    openings: tuple[int, ...]
    pooled: bool = False  #: the sum of a prefecture's targets (``key`` is no target id)

    @property
    def total_probes(self) -> int:
        return sum(self.probes)

    @property
    def total_with_slots(self) -> int:
        return sum(self.with_slots)

    @property
    def total_openings(self) -> int:
        return sum(self.openings)

    def busiest(self, limit: int = 3) -> list[int]:
        """The hours with the most openings (at least one), most first, then earliest."""
        ranked = sorted(
            (index for index in range(HOURS_IN_WEEK) if self.openings[index]),
            key=lambda index: (-self.openings[index], index),
        )
        return ranked[:limit]


def _zeros() -> list[int]:
    return [0] * HOURS_IN_WEEK


@dataclass
class _Tally:
    prefecture: str | None = None
    probes: list[int] = field(default_factory=_zeros)
    with_slots: list[int] = field(default_factory=_zeros)
    openings: list[int] = field(default_factory=_zeros)


class WeekTallies:
    """Accumulates each target's counts per hour of the week; :meth:`finish` hands them out.

    Fed with counts already per hour of the week (:meth:`add_probes`, from SQL), or probe by
    probe (:meth:`add_probe`), and with each target's opening times (:meth:`add_openings`).
    A target's prefecture is the greatest seen, as in monitor.reports.stats_query.
    """

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self._targets: dict[str, _Tally] = {}

    def _get(self, target: str, prefecture: str | None) -> _Tally:
        tally = self._targets.get(target)
        if tally is None:
            tally = self._targets[target] = _Tally(prefecture)
        elif prefecture is not None and prefecture > (tally.prefecture or ""):
            tally.prefecture = prefecture
        return tally

    def add_probes(
        self, target: str, prefecture: str, index: int, probes: int, with_slots: int
    ) -> None:
        """``probes`` attempts in hour of the week ``index``, ``with_slots`` of them available."""
        if not 0 <= index < HOURS_IN_WEEK:
            raise ValueError(f"hour of the week {index} is not within 0..{HOURS_IN_WEEK - 1}")
        tally = self._get(target, prefecture)
        tally.probes[index] += probes
        tally.with_slots[index] += with_slots

    def add_probe(
        self, target: str, prefecture: str, started_at: datetime, available: bool
    ) -> None:
        """One attempt, placed by its start."""
        self.add_probes(target, prefecture, week_hour(started_at, self.tz), 1, int(available))

    def add_openings(self, target: str, moments: Iterable[datetime]) -> None:
        """The moments slots first appeared for ``target`` (its ``slots_opened`` events)."""
        tally = self._get(target, None)
        for moment in moments:
            tally.openings[week_hour(moment, self.tz)] += 1

    @property
    def targets(self) -> list[str]:
        """Every target counted so far, sorted."""
        return sorted(self._targets)

    def finish(self, *, pool: str | None = None) -> list[WeekFigures]:
        """Every target's figures, sorted by id; with ``pool`` (a prefecture id), first the
        figures of that prefecture's targets added together, keyed ``<pool>/*``."""
        figures = [
            WeekFigures(
                key=target,
                prefecture=tally.prefecture,
                probes=tuple(tally.probes),
                with_slots=tuple(tally.with_slots),
                openings=tuple(tally.openings),
            )
            for target, tally in sorted(self._targets.items())
        ]
        if pool is None or not figures:
            return figures
        members = [f for f in figures if f.prefecture == pool]
        pooled = WeekFigures(
            key=f"{pool}/*",
            prefecture=pool,
            probes=_sum(f.probes for f in members),
            with_slots=_sum(f.with_slots for f in members),
            openings=_sum(f.openings for f in members),
            pooled=True,
        )
        return [pooled, *figures]


def _sum(columns: Iterable[tuple[int, ...]]) -> tuple[int, ...]:
    total = _zeros()
    for column in columns:
        for index, count in enumerate(column):
            total[index] += count
    return tuple(total)


def week_figures(
    probes: Iterable[tuple[str, str, datetime, bool]],
    openings: Mapping[str, Iterable[datetime]],
    tz: tzinfo,
    *,
    pool: str | None = None,
) -> list[WeekFigures]:
    """Figures from attempts one by one ``(target, prefecture, started_at, available)`` and
    each target's opening times: the definition the SQL path is held to."""
    tallies = WeekTallies(tz)
    for target, prefecture, started_at, available in probes:
        tallies.add_probe(target, prefecture, started_at, available)
    for target, moments in openings.items():
        tallies.add_openings(target, moments)
    return tallies.finish(pool=pool)


# -- output ---------------------------------------------------------------------------------


def hour_rows(figures: Iterable[WeekFigures], timezone: str) -> Iterator[dict[str, object]]:
    """Machine rows: every hour of the week of every group (168 each, zeros included)."""
    for group in figures:
        for index in range(HOURS_IN_WEEK):
            yield {
                "target": None if group.pooled else group.key,
                "prefecture": group.prefecture,
                "timezone": timezone,
                "week_hour": index,
                "weekday": weekday_of(index),
                "hour": index % 24,
                "probes": group.probes[index],
                "probes_with_slots": group.with_slots[index],
                "slots_opened": group.openings[index],
            }


@dataclass(frozen=True)
class TableLine:
    """One line of the table: an hour, or a run of hours without any probe (``quiet``)."""

    first: int
    last: int
    probes: int
    with_slots: int
    openings: int

    @property
    def quiet(self) -> bool:
        return self.probes == 0 and self.openings == 0

    def label(self, language: str = "en") -> str:
        return hour_label(self.first, self.last, language)


def table_lines(group: WeekFigures) -> list[TableLine]:
    """A group's hours for people: every hour with a probe or an opening on its own line;
    each run of consecutive hours with neither folded into one line."""
    lines: list[TableLine] = []
    run_start: int | None = None
    for index in range(HOURS_IN_WEEK + 1):
        quiet = index < HOURS_IN_WEEK and not group.probes[index] and not group.openings[index]
        if quiet and run_start is None:
            run_start = index
        if not quiet and run_start is not None:
            lines.append(TableLine(run_start, index - 1, 0, 0, 0))
            run_start = None
        if index < HOURS_IN_WEEK and not quiet:
            lines.append(
                TableLine(
                    index,
                    index,
                    group.probes[index],
                    group.with_slots[index],
                    group.openings[index],
                )
            )
    return lines
