"""The status page's "when slots appeared" picture, by definition (monitor.publish.week_grid):
shades relative to the busiest hour, and readable text on every shade. In a browser:
tests/system/test_publish_week.py."""

from __future__ import annotations

import pytest

from monitor.publish.week_grid import LEVEL_COLOURS, LEVELS, level, week_grid
from monitor.reports.week_hours import HOURS_IN_WEEK, WeekFigures


@pytest.mark.parametrize(
    ("openings", "busiest", "expected"),
    [(0, 5, 0), (0, 0, 0), (1, 5, 1), (2, 5, 2), (3, 5, 3), (4, 5, 4), (5, 5, 4), (1, 1, 4),
     (1, 100, 1), (26, 100, 2)],
)  # fmt: skip
def test_a_shade_is_the_share_of_the_busiest_hour_rounded_up(
    openings: int, busiest: int, expected: int
) -> None:
    assert level(openings, busiest) == expected


def figures(**hours: tuple[int, int, int]) -> WeekFigures:
    columns = [[0] * HOURS_IN_WEEK for _ in range(3)]
    for name, values in hours.items():
        for column, value in zip(columns, values, strict=True):
            column[int(name[1:])] = value
    probes, slots, openings = (tuple(column) for column in columns)
    return WeekFigures("92/a", "92", probes, slots, openings)


def test_the_grid_is_seven_days_of_24_hours_and_only_with_an_opening() -> None:
    assert week_grid(None) is None
    assert week_grid(figures(h8=(12, 5, 0))) is None  # slots seen, none appeared in the window
    grid = week_grid(figures(h8=(12, 5, 4), h9=(12, 0, 0), h33=(6, 2, 1), h167=(0, 0, 0)))
    assert grid is not None
    assert [row.day for row in grid.rows] == list(range(7))
    assert all(len(row.cells) == 24 for row in grid.rows)
    assert [cell.index for row in grid.rows for cell in row.cells] == list(range(HOURS_IN_WEEK))
    monday = grid.rows[0].cells
    assert (monday[8].kind, monday[9].kind, monday[10].kind) == ("l4", "l0", "none")
    assert grid.rows[1].cells[9].kind == "l1"  # Tuesday 09h: 1 of 4
    assert grid.openings == 5
    assert [cell.index for cell in grid.busiest] == [8, 33]


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    a, b = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_every_shade_carries_its_number_at_aa_contrast_and_darkens_with_the_count() -> None:
    assert len(LEVEL_COLOURS) == LEVELS
    for index, colour in enumerate(LEVEL_COLOURS, start=1):
        text = "#1f1f1f" if index <= 2 else "#ffffff"  # as style.css writes them
        assert contrast(text, colour) >= 4.5, colour
    shades = [_luminance(colour) for colour in LEVEL_COLOURS]
    assert shades == sorted(shades, reverse=True)
