"""One week of the legacy calendar as the endpoint answers it: read it
(docs/platforms.md#legacy-booking-the-week-calendar).

A week table: a header row ``th[colspan=7]`` "Semaine du lundi … au dimanche …" (in any of
the forms :func:`dates.parse_week_header` reads), day columns, body rows of cells, free ones
``td.status-1.free`` linking ``…/booking/create/<id>/5/<unix timestamp>``; and, beside or
inside it, a legend that also says "libre" and may reuse the free cells' classes.

What makes a cell a slot (:func:`_slot`): never anything in a legend (an element whose class
or id says legend, a caption, a table head or foot, a row whose first cell says "Légende");
then a link
to step 5 with a plausible timestamp, or a cell marked free in a body row of the week table,
under one of the seven day columns, with a time of its own or of its row. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import re2
from selectolax.lexbor import LexborNode

from monitor.platforms import dates
from monitor.platforms.page import Page
from monitor.text import normalise

#: The week table: its header row, or the table itself.
WEEK_TABLE = "th[colspan='7'], table.calendrier"
WEEK_HEADER = "th[colspan='7']"
FREE_CELL = "td.status-1.free, td.free"
#: A free cell's link to step 5: ``…/booking/create/<id>/5/<unix timestamp>``.
SLOT_LINK = re2.compile(r"/booking/create/\d+/5/(?P<ts>\d{9,11})\b")
DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class Week:
    """What one week table shows."""

    header: str  #: as the page wrote it
    first_day: date | None  #: from the header, else the dated day columns
    free: int  #: free cells (a legend's "libre" is not one)
    moments: tuple[datetime, ...]  #: when the free cells are, those that could be dated


#: Where a legend is, whatever classes its samples reuse: an element whose class or id
#: says so, a caption, a table's head or foot, a row whose first cell says "Légende"
#: (docs/platforms.md#mistakes-bots-make, 6).
_LEGEND_WORDS = ("legend", "légende", "legende")
_LEGEND_TAGS = frozenset({"caption", "thead", "tfoot", "legend"})
#: How day column heads begin, French and English (``lun.``, ``Mon``).
_FRENCH_DAYS = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")
_DAY_PREFIXES = frozenset((*_FRENCH_DAYS, "mon", "tue", "wed", "thu", "fri", "sat", "sun"))
#: How far up from a cell its row, table and legend are looked for.
_UP = 64


def _ancestors(node: LexborNode) -> list[LexborNode]:
    """``node``'s ancestors, nearest first, at most ``_UP`` of them."""
    found: list[LexborNode] = []
    current = node.parent
    while current is not None and len(found) < _UP:
        found.append(current)
        current = current.parent
    return found


def _closest(node: LexborNode, tag: str) -> LexborNode | None:
    return next((a for a in _ancestors(node) if a.tag == tag), None)


def _says_legend(node: LexborNode) -> bool:
    marks = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
    return node.tag in _LEGEND_TAGS or any(w in marks.casefold() for w in _LEGEND_WORDS)


@dataclass(frozen=True)
class _Row:
    """What a row says once, however many of its cells are looked at."""

    legend: bool  #: its first cell says "Légende"
    days: tuple[int, ...]  #: the cells under the seven day columns (a time cell left out)
    clock: time | None  #: the time its own header cell gives (``<th>09:00</th>``)


def _read_row(row: LexborNode) -> _Row:
    cells = [c for c in row.iter() if c.tag in ("th", "td")]
    first = normalise(cells[0].text(separator=" ")) if cells else ""
    tds = [c.mem_id for c in cells if c.tag == "td"]
    timed = bool(cells) and (cells[0].tag == "th" or len(tds) == DAYS_PER_WEEK + 1)
    days = (tds[1:] if len(tds) == DAYS_PER_WEEK + 1 else tds)[:DAYS_PER_WEEK]
    return _Row(
        legend=any(word in first for word in _LEGEND_WORDS),
        days=tuple(days),
        clock=dates.parse_clock(first) if timed else None,
    )


class _Rows:
    """Each row read once (a week of 10,000 free cells in one row is read in linear time)."""

    def __init__(self) -> None:
        self._read: dict[int, _Row] = {}

    def __getitem__(self, row: LexborNode) -> _Row:
        if row.mem_id not in self._read:
            self._read[row.mem_id] = _read_row(row)
        return self._read[row.mem_id]


def _in_legend(cell: LexborNode, grids: set[int], rows: _Rows) -> bool:
    """Whether ``cell`` is part of a legend: itself, or up to the week table that holds it."""
    for node in [cell, *_ancestors(cell)]:
        if node.mem_id in grids:
            return False
        if _says_legend(node) or (node.tag == "tr" and rows[node].legend):
            return True
    return False


@dataclass(frozen=True)
class _Slot:
    """A cell read as a slot: its timestamp link, else its day column and time."""

    linked: datetime | None
    column: int | None
    clock: time | None


def _slot(cell: LexborNode, grids: set[int], rows: _Rows) -> _Slot | None:
    """What makes ``cell`` a slot, None if it is not one.

    A slot is never in a legend. Then either it links to step 5 with a plausible
    timestamp, or it is a cell marked free in a body row of the week table, under one of
    the seven day columns, with a time (its own or its row's): a legend sample reusing the
    free class has neither.
    """
    if _in_legend(cell, grids, rows):
        return None
    for link in cell.css("a[href]"):
        match = SLOT_LINK.search(link.attributes.get("href") or "")
        moment = dates.from_timestamp(match["ts"]) if match else None
        if moment is not None:
            return _Slot(moment, None, None)
    row, table = cell.parent, _closest(cell, "table")
    if row is None or row.tag != "tr" or table is None or table.mem_id not in grids:
        return None
    if not cell.css_matches(FREE_CELL):
        return None
    read = rows[row]
    clock = dates.parse_clock(cell.text(separator=" ")) or read.clock
    if cell.mem_id not in read.days or clock is None:
        return None
    return _Slot(None, read.days.index(cell.mem_id), clock)


def _grids(page: Page) -> set[int]:
    """The week tables: ``table.calendrier``, and every table holding a week header."""
    grids = {table.mem_id for table in page.select("table.calendrier")}
    for header in page.select(WEEK_HEADER):
        table = _closest(header, "table")
        if table is not None:
            grids.add(table.mem_id)
    return grids


def _names_a_day(text: str, today: date | None) -> bool:
    """Whether a column head names a day (``lun.``, ``Monday``, ``30/11``), not the times."""
    words = normalise(text).split()
    return bool(words) and (
        words[0][:3] in _DAY_PREFIXES or dates.parse_week_header(text, today) is not None
    )


def _first_day(page: Page, header: str, today: date | None) -> date | None:
    """The week's Monday: from its header, else from the first dated day column.

    Leading heads that name no day ("Heure", the time column) are not day columns.
    """
    shown = dates.parse_week_header(header, today)
    if shown is not None:
        return shown
    for row in page.select("table tr"):
        heads = [c.text(separator=" ") for c in row.iter() if c.tag == "th"]
        heads = [h for h in heads if h.strip()]
        while heads and not _names_a_day(heads[0], today):
            heads.pop(0)
        for column, head in enumerate(heads[:DAYS_PER_WEEK]):
            day = dates.parse_week_header(head, today)
            if day is not None:
                return day - timedelta(days=column)
    return None


def read_week(page: Page, zone: ZoneInfo = dates.PARIS, today: date | None = None) -> Week | None:
    """The week table on ``page`` (an AJAX answer, or a page that inlines it); None if none.

    Only slots count (:func:`_slot`): the legend also says "libre", and may reuse the free
    cells' classes (docs/platforms.md#mistakes-bots-make, 6). A cell without a timestamp
    link is dated from the header, its column and its time, in ``zone`` (the site's time
    zone); ``today`` dates a header that leaves the year out.
    """
    if not page.has(WEEK_TABLE):
        return None
    header = page.first_text(WEEK_HEADER) or page.first_text("table.calendrier caption") or ""
    first_day = _first_day(page, header, today)
    grids = _grids(page)
    # Keyed by the DOM node: a cell found both ways counts once.
    cells = {node.mem_id: node for node in page.select(FREE_CELL)}
    for link in page.select("a[href]"):
        if SLOT_LINK.search(link.attributes.get("href") or ""):
            holder = _closest(link, "td") or link.parent
            if holder is not None:
                cells.setdefault(holder.mem_id, holder)
    rows = _Rows()
    slots = [slot for cell in cells.values() if (slot := _slot(cell, grids, rows)) is not None]
    moments = tuple(m for m in (_moment(slot, first_day, zone) for slot in slots) if m)
    return Week(header, first_day, len(slots), moments)


def _moment(slot: _Slot, first_day: date | None, zone: ZoneInfo) -> datetime | None:
    if slot.linked is not None:
        return slot.linked
    if first_day is None or slot.column is None or slot.clock is None:
        return None
    return dates.day_in_week(first_day, slot.column, slot.clock, zone)


__all__ = [
    "DAYS_PER_WEEK",
    "FREE_CELL",
    "SLOT_LINK",
    "WEEK_HEADER",
    "WEEK_TABLE",
    "Week",
    "read_week",
]
