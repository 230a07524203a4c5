"""The status page's "when slots appeared" picture, pure: one target's hours of the week
(monitor.reports.week_hours) as 7 rows of 24 cells.

Each cell is one local hour of the week; its shade says how many ``slots_opened`` events
(openings) it holds, relative to the target's busiest hour (:func:`level`); an hour never
probed in the window is grey, one probed without an opening white. The template
(``week.html.j2``) draws it as an HTML table: a row header per day, a column header per
hour, and in every cell a text for screen readers; the number of openings is printed in
each cell that has some, so colour is never the only carrier of meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.reports.week_hours import HOURS_IN_WEEK, WeekFigures

#: Shades of openings, lightest first (level 1 to 4); dark text on the first two, white on
#: the last two, each pair at least 4.5:1 (tests/system/test_publish_week.py checks).
LEVEL_COLOURS = ("#c8ead0", "#7cc493", "#237a42", "#0f5a2c")
#: An hour never probed in the window, and one probed without any opening.
NOT_PROBED_COLOUR = "#e6e6e6"
PROBED_COLOUR = "#ffffff"
LEVELS = len(LEVEL_COLOURS)


def level(openings: int, busiest: int) -> int:
    """0 without an opening; else 1 to :data:`LEVELS`, the busiest hour at the top."""
    if openings <= 0 or busiest <= 0:
        return 0
    return max(1, -(-openings * LEVELS // busiest))  # ceiling


@dataclass(frozen=True)
class WeekCell:
    index: int  #: the hour of the week, 0 = Monday 00h
    hour: int
    probes: int
    with_slots: int
    openings: int
    level: int

    @property
    def probed(self) -> bool:
        return self.probes > 0

    @property
    def kind(self) -> str:
        """The CSS class: ``none`` (not probed), ``l0`` (probed, no opening), ``l1``…"""
        if self.openings == 0 and not self.probed:
            return "none"
        return f"l{self.level}"


@dataclass(frozen=True)
class WeekRow:
    day: int  #: 0 = Monday
    cells: tuple[WeekCell, ...]


@dataclass(frozen=True)
class WeekGrid:
    rows: tuple[WeekRow, ...]
    openings: int  #: in the whole window
    busiest: tuple[WeekCell, ...]  #: the hours with most openings, most first


def week_grid(figures: WeekFigures | None, *, top: int = 3) -> WeekGrid | None:
    """The picture of one target's figures; None when it has no opening to show."""
    if figures is None or figures.total_openings == 0:
        return None
    most = max(figures.openings)
    cells = [
        WeekCell(
            index=index,
            hour=index % 24,
            probes=figures.probes[index],
            with_slots=figures.with_slots[index],
            openings=figures.openings[index],
            level=level(figures.openings[index], most),
        )
        for index in range(HOURS_IN_WEEK)
    ]
    rows = tuple(WeekRow(day, tuple(cells[day * 24 : day * 24 + 24])) for day in range(7))
    return WeekGrid(
        rows=rows,
        openings=figures.total_openings,
        busiest=tuple(cells[index] for index in figures.busiest(top)),
    )
