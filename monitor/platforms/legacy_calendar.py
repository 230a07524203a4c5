"""The legacy module's week calendar: find it, walk it, read it
(docs/platforms.md#legacy-booking-the-week-calendar).

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
    origin     the first request is at the offset the page writes (the endpoint with its
               offset, ``data-offset``, a script's ``var offset = 20424;``), else 0. The week its
               header names tells how far that offset is from the current week: the origin
               is relative on some sites and absolute on others, so when the first week is
               not the current one the walk starts again from the calibrated offset
    horizon    ``weeks`` weeks from the current one, the offset stepped by 7; every request
               goes through the session, hence through the politeness gate

The walk stops at the first answer that is not a week (an error page, say): asking an
overloaded site for more weeks would only add to its load. The answers become the step-4
snapshot's ``parts``, and :func:`weeks_finding` reads them (pure; one week's table is
read by :mod:`monitor.platforms.weeks`). Every pattern here is RE2, linear in the page.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import re2

from monitor.domain import Detail, DetailValue, Finding, PageSnapshot, Reason
from monitor.errors import ProbeError
from monitor.platforms import dates
from monitor.platforms.common import anomaly, available, infrastructure, unrecognized
from monitor.platforms.page import Page
from monitor.platforms.weeks import DAYS_PER_WEEK, WEEK_TABLE, Week, read_week
from monitor.platforms.worker import off_loop
from monitor.probes.base import PageSession

logger = logging.getLogger(__name__)

# -- anchors ------------------------------------------------------------------------------

#: Where step 4 puts the week the script loads; the step's heading and "first free" button.
CALENDAR_BOX = "#planning_calendar"
CALENDAR_HEADING = "Choix d'une plage"
FIRST_FREE_BUTTON = "input[name=nextButton][value^='Premi']"
#: A rendered week in the browser's page (what the bounded wait looks for).
RENDERED_WEEK = "#planning_calendar th[colspan='7'], #planning_calendar table"

ENDPOINT_NAME = "bookingserver::planning::assign::"
# Every pattern below meets the page's text, so each is RE2: linear whatever the page holds
# (a lazy prefix in Python's re costs quadratic time on a long inline image, issue 25).
#: The endpoint written out in full, in an attribute or a script string.
_ENDPOINT = re2.compile(
    r"(?P<base>[^\s\"'<>()]*?/ezjscore/call/bookingserver::planning::assign::"
    r"(?P<form>\d{1,12})::(?P<planning>\d{1,12})::)(?P<offset>-?\d{1,9})?"
)
#: A planning id the page's script names (``planningId = 4411``, ``"planning": 4411``).
_PLANNING_VARIABLE = re2.compile(r"(?i)planning\w*[\"']?\s*[=:]\s*[\"']?(?P<id>\d{1,12})")
#: The first offset the page asks for, as an attribute or a script variable
#: (``data-offset="2233"``, ``var offset = 20424;``, ``dayOffset: 175``).
_WRITTEN_OFFSET = re2.compile(
    r"(?i)(?:^|[^\w-])(?:(?:data-|day|start|first|current|initial)[-_]?)?offset[\"']?\s*"
    r"[=:]\s*[\"']?(?P<offset>-?\d{1,9})\b"
)
_FORM_URL = re2.compile(r"^(?P<prefix>.*?)/booking/create/(?P<form>\d+)")
#: How many endpoints written in a page are looked at (a page has one per desk).
MAX_WRITTEN = 64
#: What a site answers when it wants the endpoint POSTed rather than fetched with GET.
GET_REFUSED = frozenset({400, 404, 405, 501})


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
    written = list(islice(_ENDPOINT.finditer(html), MAX_WRITTEN))
    chosen = next((m for m in written if m["planning"] == desk), written[0] if written else None)
    start = written_offset(html)
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


def written_offset(html: str) -> int | None:
    """The day index the page writes for its first week, if it writes one.

    An attribute (``data-offset="2233"``) or a script variable (``var offset = 20424;``):
    the origin the page's own script starts from, absolute on some sites
    (docs/platforms.md#legacy-booking-the-week-calendar). A CSS property
    (``outline-offset: 0``) is not one.
    """
    match = _WRITTEN_OFFSET.search(html)
    return int(match["offset"]) if match else None


def calibrated(offset: int, shown: date | None, today: date) -> int:
    """The offset of the current week, from an ``offset`` whose week starts on ``shown``."""
    if shown is None:
        return offset
    return offset + (dates.monday_of(today) - dates.monday_of(shown)).days


# -- reading weeks (pure) -----------------------------------------------------------------


def read_answer(
    answer: PageSnapshot, zone: ZoneInfo = dates.PARIS, today: date | None = None
) -> Week | Finding:
    """One endpoint answer: its week, or what the answer is instead (an error page, say)."""
    page = Page(answer)
    trouble = infrastructure(page)
    if trouble is not None:
        return trouble
    week = read_week(page, zone, today)
    return week if week is not None else unrecognized(page, "unknown_week_answer")


def weeks_finding(
    answers: Sequence[PageSnapshot], zone: ZoneInfo = dates.PARIS, today: date | None = None
) -> Finding:
    """What the calendar's week answers say, together.

    ``available`` with the free cells of every week read and the earliest of them; with no
    free cell, the first answer that was not a week says what went wrong (an overloaded
    endpoint is ``overloaded``); a calendar whose weeks have no free cell at all is not
    understood (the module only shows its calendar when it has slots): ``unrecognized``.
    ``today`` (default: the date in ``zone`` now) dates headers that leave the year out.
    """
    today = today or datetime.now(zone).date()
    weeks: list[Week] = []
    problem: Finding | None = None
    for answer in answers:
        read = read_answer(answer, zone, today)
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

    async def read(answer: PageSnapshot) -> Week | Finding:
        # Off the event loop, as every page is read (monitor.platforms.worker): a week
        # answer is a page the site wrote like any other.
        return await off_loop(lambda: read_answer(answer, today=today), name="calendar")

    try:
        answer = await asker.week(offset)
        shown = await read(answer)
        if isinstance(shown, Week):
            current = calibrated(offset, shown.first_day, today)
            if current != offset:
                logger.debug("calendar %s: offset %d is the current week", endpoint.base, current)
                offset, answer = current, await asker.week(current)
                shown = await read(answer)
        answers.append(answer)
        # Each answer is read once here; the first that is not a week ends the walk.
        while isinstance(shown, Week) and len(answers) < weeks:
            answer = await asker.week(offset + DAYS_PER_WEEK * len(answers))
            shown = await read(answer)
            answers.append(answer)
    except ProbeError as exc:
        if not answers:
            raise
        logger.info(
            "calendar %s: walk stopped after %d week(s): %s", endpoint.base, len(answers), exc
        )
    return tuple(answers)


__all__ = [
    "WEEK_TABLE",
    "Endpoint",
    "Week",
    "calibrated",
    "endpoint_of",
    "is_calendar_step",
    "read_answer",
    "read_week",
    "walk",
    "weeks_finding",
    "written_offset",
]
