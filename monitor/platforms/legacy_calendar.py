"""The legacy module's week calendar (PLATFORMS.md §1.1, §1.4): find it, walk it, read it.

Step 4, "Choix d'une plage", comes with an empty ``#planning_calendar`` that the page's
script fills from the AJAX endpoint

    …/ezjscore/call/bookingserver::planning::assign::<formId>::<planningId>::<offset>

whose answer is one week's table (header "Semaine du lundi … au dimanche …", free cells
``td.status-1.free`` linking ``…/5/<unix timestamp>``). The walk, for one desk:

    endpoint   the full address when the page writes it (a data attribute, a script), else
               built from the known pattern: the prefix and form id of the page's URL, and
               the desk chosen or the planning id the script names
    method     GET; where GET is refused (400, 404, 405, 501), POST with an empty body, as
               the page's own script does; the method that answered is kept for the rest
    origin     the first request is at the offset the page names, else 0. The week its
               header names tells how far that offset is from the current week: the origin
               is relative on some sites and absolute on others, so when the first week is
               not the current one the walk starts again from the calibrated offset
    horizon    ``weeks`` weeks from the current one, the offset stepped by 7; every request
               goes through the session, hence through the politeness gate

The walk stops at the first answer that is not a week (an error page, say): asking an
overloaded site for more weeks would only add to its load. The answers become the step-4
snapshot's ``parts``, and :func:`weeks_finding` reads them (pure).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborNode

from monitor.domain import Detail, DetailValue, Finding, PageSnapshot, Reason
from monitor.errors import ProbeError
from monitor.platforms import dates
from monitor.platforms.common import anomaly, available, infrastructure, unrecognized
from monitor.platforms.page import Page
from monitor.probes.base import PageSession

logger = logging.getLogger(__name__)

# -- anchors ------------------------------------------------------------------------------

#: Where step 4 puts the week the script loads; the step's heading and "first free" button.
CALENDAR_BOX = "#planning_calendar"
CALENDAR_HEADING = "Choix d'une plage"
FIRST_FREE_BUTTON = "input[name=nextButton][value^='Premi']"
#: The week table: its header row, or the table itself.
WEEK_TABLE = "th[colspan='7'], table.calendrier"
WEEK_HEADER = "th[colspan='7']"
#: A rendered week in the browser's page (what the bounded wait looks for).
RENDERED_WEEK = "#planning_calendar th[colspan='7'], #planning_calendar table"
FREE_CELL = "td.status-1.free, td.free"
#: A free cell's link to step 5: ``…/booking/create/<id>/5/<unix timestamp>``.
SLOT_LINK = re.compile(r"/booking/create/\d+/5/(?P<ts>\d{9,11})\b")

ENDPOINT_NAME = "bookingserver::planning::assign::"
#: The endpoint written out in full, in an attribute or a script string.
_ENDPOINT = re.compile(
    r"(?P<base>[^\s\"'<>()]*?/ezjscore/call/bookingserver::planning::assign::"
    r"(?P<form>\d+)::(?P<planning>\d+)::)(?P<offset>-?\d+)?"
)
#: A planning id the page's script names (``planningId = 4411``, ``"planning": 4411``).
_PLANNING_VARIABLE = re.compile(r"planning\w*[\"']?\s*[=:]\s*[\"']?(?P<id>\d+)", re.IGNORECASE)
_START_OFFSET = re.compile(r"data-offset=[\"'](?P<offset>-?\d+)[\"']")
_FORM_URL = re.compile(r"^(?P<prefix>.*?)/booking/create/(?P<form>\d+)")
#: What a site answers when it wants the endpoint POSTed rather than fetched with GET.
GET_REFUSED = frozenset({400, 404, 405, 501})
DAYS_PER_WEEK = 7


# -- the endpoint (pure) ------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """The calendar's AJAX address for one desk, without the offset."""

    base: str  #: absolute URL ending in ``::``; the offset is appended
    start: int | None = None  #: the offset the page asks for first, if it names one

    def at(self, offset: int) -> str:
        return f"{self.base}{offset}"


def is_calendar_step(page: Page) -> bool:
    """Step 4: its calendar box, its heading, its "first free slot" button or the endpoint."""
    return (
        page.has(CALENDAR_BOX)
        or page.heading_with(CALENDAR_HEADING) is not None
        or page.has(FIRST_FREE_BUTTON)
        or ENDPOINT_NAME in page.snapshot.html
    )


def endpoint_of(page: Page, desk: str = "") -> Endpoint | None:
    """The AJAX address of ``desk``'s calendar on a step-4 page; None if none can be found."""
    html = page.snapshot.html
    written = list(_ENDPOINT.finditer(html))
    chosen = next((m for m in written if m["planning"] == desk), written[0] if written else None)
    start_match = _START_OFFSET.search(html)
    start = int(start_match["offset"]) if start_match else None
    if chosen is not None:
        offset = int(chosen["offset"]) if chosen["offset"] is not None else start
        return Endpoint(urljoin(page.url, chosen["base"]), offset)
    if not is_calendar_step(page):
        return None
    where = _FORM_URL.match(urlsplit(page.url).path)
    named = _PLANNING_VARIABLE.search(html)
    planning = desk if desk.isdigit() else (named["id"] if named else "")
    if where is None or not planning:
        return None
    path = f"{where['prefix']}/ezjscore/call/{ENDPOINT_NAME}{where['form']}::{planning}::"
    return Endpoint(urljoin(page.url, path), start)


def calibrated(offset: int, shown: date | None, today: date) -> int:
    """The offset of the current week, from an ``offset`` whose week starts on ``shown``."""
    if shown is None:
        return offset
    return offset + (dates.monday_of(today) - dates.monday_of(shown)).days


# -- reading weeks (pure) -----------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """What one week table shows."""

    header: str  #: as the page wrote it
    first_day: date | None  #: from the header, French or English
    free: int  #: free cells (a legend's "libre" is not one)
    moments: tuple[datetime, ...]  #: when the free cells are, those that could be dated


def _cell_moment(cell: LexborNode, first_day: date | None, zone: ZoneInfo) -> datetime | None:
    """When a free cell is: its link's timestamp, else the week header + column + time."""
    for link in cell.css("a[href]"):
        match = SLOT_LINK.search(link.attributes.get("href") or "")
        if match:
            moment = dates.from_timestamp(match["ts"])
            if moment is not None:
                return moment
    if first_day is None or cell.parent is None:
        return None
    clock = dates.parse_clock(cell.text(separator=" "))
    if clock is None:
        return None
    column = [c for c in cell.parent.iter() if c.tag == "td"].index(cell)
    return dates.day_in_week(first_day, column, clock, zone)


def read_week(page: Page, zone: ZoneInfo = dates.PARIS) -> Week | None:
    """The week table on ``page`` (an AJAX answer, or a page that inlines it); None if none.

    Only cells marked free, or holding a link to step 5, count: the legend also says
    "libre" (§1.4, §6.2 mistake 6). A cell without a timestamp link is dated from the
    header, its column and its time, in ``zone`` (the site's time zone).
    """
    if not page.has(WEEK_TABLE):
        return None
    header = page.first_text(WEEK_HEADER) or ""
    first_day = dates.parse_week_header(header)
    # Keyed by the DOM node: a cell found both ways counts once.
    cells = {node.mem_id: node for node in page.select(FREE_CELL)}
    for link in page.select("a[href]"):
        if SLOT_LINK.search(link.attributes.get("href") or "") and link.parent is not None:
            cells.setdefault(link.parent.mem_id, link.parent)
    moments = tuple(m for m in (_cell_moment(c, first_day, zone) for c in cells.values()) if m)
    return Week(header, first_day, len(cells), moments)


def read_answer(answer: PageSnapshot, zone: ZoneInfo = dates.PARIS) -> Week | Finding:
    """One endpoint answer: its week, or what the answer is instead (an error page, say)."""
    page = Page(answer)
    trouble = infrastructure(page)
    if trouble is not None:
        return trouble
    week = read_week(page, zone)
    return week if week is not None else unrecognized(page, "unknown_week_answer")


def weeks_finding(answers: Sequence[PageSnapshot], zone: ZoneInfo = dates.PARIS) -> Finding:
    """What the calendar's week answers say, together.

    ``available`` with the free cells of every week read and the earliest of them; with no
    free cell, the first answer that was not a week says what went wrong (an overloaded
    endpoint is ``overloaded``); a calendar whose weeks have no free cell at all is not
    understood (the module only shows its calendar when it has slots): ``unrecognized``.
    """
    weeks: list[Week] = []
    problem: Finding | None = None
    for answer in answers:
        read = read_answer(answer, zone)
        if isinstance(read, Week):
            weeks.append(read)
        else:
            problem = problem or read
    free = sum(week.free for week in weeks)
    span = _span(weeks)
    if free:
        moments = [moment for week in weeks for moment in week.moments]
        earliest = min(moments) if moments else None
        return available(
            Reason.SLOTS,
            Detail(
                "calendar_free_cells",
                {
                    "free": free,
                    **span,
                    "earliest": dates.to_utc(earliest).isoformat() if earliest else None,
                    "unread": problem.detail if problem else None,
                },
            ),
            slot_count=free,
            earliest_slot=earliest,
        )
    if problem is not None:
        return problem
    if not weeks:
        return anomaly(Reason.UNRECOGNIZED, Detail("calendar_no_week"))
    return anomaly(Reason.UNRECOGNIZED, Detail("calendar_no_free_cell", span))


def _span(weeks: Sequence[Week]) -> dict[str, DetailValue]:
    """How many weeks were read, and the headers of the first and last, as the page wrote them."""
    first, last = (weeks[0].header, weeks[-1].header) if weeks else (None, None)
    return {"weeks": len(weeks), "first": first, "last": last}


# -- the walk (I/O) -----------------------------------------------------------------------


@dataclass
class _Asker:
    """Requests weeks of one endpoint, remembering which method the site answers."""

    session: PageSession
    endpoint: Endpoint
    method: str = "GET"

    async def week(self, offset: int) -> PageSnapshot:
        url = self.endpoint.at(offset)
        answer = await self.session.fetch(url, method=self.method)
        if self.method == "GET" and answer.http_status in GET_REFUSED:
            posted = await self.session.fetch(url, method="POST")
            if posted.http_status is not None and posted.http_status < 400:
                self.method = "POST"
            return posted
        return answer


async def walk(
    session: PageSession, page: Page, *, desk: str, weeks: int, today: date | None = None
) -> tuple[PageSnapshot, ...]:
    """The week answers of ``desk``'s calendar over ``weeks`` weeks (see the module doc).

    Empty when the page names no calendar endpoint. A request that fails outright (timeout,
    connection) ends the walk; it is raised if no week was read before it.
    """
    endpoint = endpoint_of(page, desk)
    if endpoint is None:
        return ()
    today = today or datetime.now(dates.PARIS).date()
    asker = _Asker(session, endpoint)
    offset = endpoint.start if endpoint.start is not None else 0
    answers: list[PageSnapshot] = []
    try:
        answer = await asker.week(offset)
        shown = read_answer(answer)
        if isinstance(shown, Week):
            current = calibrated(offset, shown.first_day, today)
            if current != offset:
                logger.debug("calendar %s: offset %d is the current week", endpoint.base, current)
                offset, answer = current, await asker.week(current)
                shown = read_answer(answer)
        answers.append(answer)
        # Each answer is read once here; the first that is not a week ends the walk.
        while isinstance(shown, Week) and len(answers) < weeks:
            answer = await asker.week(offset + DAYS_PER_WEEK * len(answers))
            shown = read_answer(answer)
            answers.append(answer)
    except ProbeError as exc:
        if not answers:
            raise
        logger.info(
            "calendar %s: walk stopped after %d week(s): %s", endpoint.base, len(answers), exc
        )
    return tuple(answers)


__all__ = [
    "Endpoint",
    "Week",
    "calibrated",
    "endpoint_of",
    "is_calendar_step",
    "read_answer",
    "read_week",
    "walk",
    "weeks_finding",
]
