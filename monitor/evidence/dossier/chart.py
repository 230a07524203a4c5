"""The dossier's timeline: one stacked bar per local day, as inline SVG (no script, no asset).

Pure: counts in, markup out. Colours are paired with a legend and every bar carries a
``<title>`` with its figures, so the chart reads on screen, on paper and with a screen
reader.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from html import escape

from monitor.domain import Status

#: Bar segments from the bottom up, with their fill colours.
SERIES: tuple[tuple[Status, str], ...] = (
    (Status.AVAILABLE, "#1a7f37"),
    (Status.UNAVAILABLE, "#c9372c"),
    (Status.ANOMALY, "#7a3ea1"),
    (Status.MONITOR_ERROR, "#9e9e9e"),
)

WIDTH, HEIGHT = 680, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 58


def daily_counts(days: Sequence[tuple[date, Status]]) -> dict[date, Counter[Status]]:
    """Attempts per local day and status, with every day of the span present (maybe empty)."""
    counts: dict[date, Counter[Status]] = {}
    for day, status in days:
        counts.setdefault(day, Counter())[status] += 1
    if counts:
        first, last = min(counts), max(counts)
        for offset in range((last - first).days + 1):
            counts.setdefault(first + timedelta(days=offset), Counter())
    return dict(sorted(counts.items()))


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10^n at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 1
    while magnitude * 10 < value:
        magnitude *= 10
    for step in (1, 2, 5):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def timeline_svg(
    counts: Mapping[date, Counter[Status]],
    labels: Mapping[Status, str],
    *,
    title: str,
    day_format: str = "%d/%m",
) -> str:
    """A stacked bar chart of ``counts`` with a y axis, day labels and a legend."""
    days = list(counts)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_ceiling(max((sum(c.values()) for c in counts.values()), default=1))
    slot = plot_w / max(len(days), 1)
    bar = min(max(slot * 0.8, 1.0), 48.0)  # a few days must not look like a wall
    parts = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            f'stroke="#ccc" stroke-width="0.5"/>'
            f'<text x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end" font-size="9">'
            f"{top * fraction:g}</text>"
        )
    every = max(1, math.ceil(len(days) / 12))
    for index, day in enumerate(days):
        x = LEFT + index * slot + (slot - bar) / 2
        y = TOP + plot_h
        tooltip = [day.isoformat()]
        for status, colour in SERIES:
            count = counts[day][status]
            if not count:
                continue
            height = plot_h * count / top
            y -= height
            tooltip.append(f"{labels[status]}: {count}")
            parts.append(
                f'<rect x="{x:.2f}" y="{y:.2f}" width="{bar:.2f}" height="{height:.2f}" '
                f'fill="{colour}"><title>{escape(day.isoformat())} – '
                f"{escape(labels[status])}: {count}</title></rect>"
            )
        if index % every == 0:
            cx = LEFT + index * slot + slot / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{TOP + plot_h + 12}" text-anchor="middle" '
                f'font-size="9">{day.strftime(day_format)}</text>'
            )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        f'stroke="#333" stroke-width="0.8"/>'
    )
    parts.append(_legend(labels, TOP + plot_h + 30))
    parts.append("</svg>")
    return "\n".join(parts)


def _legend(labels: Mapping[Status, str], y: float) -> str:
    items = []
    x = float(LEFT)
    for status, colour in SERIES:
        label = escape(labels[status])
        items.append(
            f'<g class="legend"><rect x="{x:.1f}" y="{y:.1f}" width="10" height="10" '
            f'fill="{colour}"/><text x="{x + 14:.1f}" y="{y + 9:.1f}" font-size="10">'
            f"{label}</text></g>"
        )
        x += 14 + 6.2 * len(labels[status]) + 18
    return "".join(items)
