"""The 90-day timeline's geometry, pure: one column per local day, one row per hour.

:func:`timeline` turns a target's attempts per (day, hour) and status into rectangles,
one per run of equal-status hours within a day, with their figures for a ``<title>``;
the template ``chart.svg.j2`` draws them (inline SVG: no script, no font, scales to a
phone's width and prints). Colours are paired with a legend and a text per cell, never
the only carrier of meaning.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from monitor.domain import Status
from monitor.publish.figures import NOT_PROBED, hour_status

#: Fill of each hour status; white text on the four statuses passes WCAG AA (4.5:1), and
#: as chart marks they stand out of the white page by more than 3:1 (tests check both).
COLOURS: dict[str, str] = {
    str(Status.AVAILABLE): "#16703a",
    str(Status.UNAVAILABLE): "#b42318",
    str(Status.ANOMALY): "#6b3fa0",
    str(Status.MONITOR_ERROR): "#595f66",
    NOT_PROBED: "#e6e6e6",
}
#: The legend's order.
ORDER = (
    str(Status.AVAILABLE),
    str(Status.UNAVAILABLE),
    str(Status.ANOMALY),
    str(Status.MONITOR_ERROR),
    NOT_PROBED,
)

CELL_W, CELL_H = 8, 6
LEFT, TOP, AXIS_H, LEGEND_H = 30, 6, 18, 22


@dataclass(frozen=True)
class Cell:
    """Hours ``first_hour`` to ``last_hour`` (inclusive) of ``day``, all of ``status``."""

    x: int
    y: int
    width: int
    height: int
    status: str
    day: date
    first_hour: int
    last_hour: int
    counts: tuple[tuple[str, int], ...]  #: attempts per status over those hours


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class LegendItem:
    x: float
    status: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    cells: list[Cell]
    day_ticks: list[Tick]
    hour_ticks: list[Tick]
    legend: list[LegendItem]
    legend_y: int
    colours: dict[str, str]


def timeline(
    days: Sequence[date],
    counts: Mapping[tuple[date, int], Counter[Status]],
    *,
    labels: Mapping[str, str],
    day_format: str = "%d/%m",
) -> Timeline:
    """The chart of ``days`` (oldest first); ``labels`` names each status for the legend."""
    cells: list[Cell] = []
    for column, day in enumerate(days):
        run_start = 0
        run_counts: Counter[Status] = Counter()
        for hour in range(24):
            here = counts.get((day, hour), Counter())
            status = hour_status(here)
            next_status = hour_status(counts.get((day, hour + 1), Counter())) if hour < 23 else ""
            run_counts.update(here)
            if status != next_status:
                cells.append(_cell(column, day, run_start, hour, status, run_counts))
                run_start, run_counts = hour + 1, Counter()
    plot_bottom = TOP + 24 * CELL_H
    width = LEFT + len(days) * CELL_W + 16  # room for the last day's label
    every = max(1, len(days) // 6)
    day_ticks = [
        Tick(LEFT + index * CELL_W + CELL_W / 2, plot_bottom + 12, day.strftime(day_format))
        for index, day in enumerate(days)
        if (len(days) - 1 - index) % every == 0
    ]
    hour_ticks = [Tick(LEFT - 4, TOP + hour * CELL_H + 3, f"{hour} h") for hour in (0, 6, 12, 18)]
    legend, x = [], float(LEFT)
    for status in ORDER:
        legend.append(LegendItem(x, status))
        x += 14 + 6.0 * len(labels[status]) + 16
    return Timeline(
        width=max(width, int(x)),
        height=plot_bottom + AXIS_H + LEGEND_H,
        plot_top=TOP,
        plot_bottom=plot_bottom,
        cells=cells,
        day_ticks=day_ticks,
        hour_ticks=hour_ticks,
        legend=legend,
        legend_y=plot_bottom + AXIS_H,
        colours=COLOURS,
    )


def _cell(
    column: int, day: date, first: int, last: int, status: str, counts: Counter[Status]
) -> Cell:
    return Cell(
        x=LEFT + column * CELL_W,
        y=TOP + first * CELL_H,
        width=CELL_W,
        height=(last - first + 1) * CELL_H,
        status=status,
        day=day,
        first_hour=first,
        last_hour=last,
        counts=tuple((str(s), counts[s]) for s in Status if counts[s]),
    )
