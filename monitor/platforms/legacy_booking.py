"""The legacy prefecture booking module, ``…/booking/create/<id>`` (PLATFORMS.md §1).

Flow (what a person does, stopping before the captcha of step 6):

    open the link          step 0, conditions (browser: accept the cookie banner)
    tick and submit        condition=on + nextButton "Effectuer une demande de rendez-vous"
    desk choice (step 1)   every desk in turn (target.desks, else each input[name=planning]);
                           for the next desk, start again from the link in the same session,
                           as a person does after "Terminer"
    result                 step 2 no-slot page, or step 3 description → submit → step 4
                           calendar, where free cells are counted and the earliest read

The flow never stops of its own accord on the conditions or the desk-choice page; when one
of them is the final page, the module sent the probe back there: ``session_lost``.

States (§1.7) and what they mean:

    NO_SLOT          h2 "Vérification de disponibilité" + sentence  unavailable/no_slot
    NO_CALENDAR      ul.error "Il n'y a pas calendrier disponible…"  unavailable/no_calendar
    LINK_DISABLED    "Ce lien a été désactivé définitivement"        unavailable/closed
    MODULE_CLOSED    "Cette page n'est pas disponible pour le moment" anomaly/maintenance (common)
    SLOTS            calendar with td.status-1.free / …/5/<ts> links  available/slots
    legend only      calendar whose only "libre" is the legend       anomaly/unrecognized
    sent back        conditions or desk choice as the final page     anomaly/session_lost
    UNKNOWN_LAYOUT   anything else                                   anomaly/unrecognized
"""

from __future__ import annotations

import re
from datetime import datetime

from selectolax.lexbor import LexborNode

from monitor.config import Target
from monitor.domain import Engine, Finding, PageSnapshot, Reason
from monitor.errors import ProbeError
from monitor.platforms import dates
from monitor.platforms.common import (
    FlowOptions,
    anomaly,
    available,
    recognise_with,
    unavailable,
)
from monitor.platforms.page import Page
from monitor.probes.base import PageSession

# -- anchors ------------------------------------------------------------------------------

CONDITION_BOX = "input#condition, input[name=condition]"
NEXT_BUTTON = "input[name=nextButton]"
COOKIE_ACCEPT = "#cookies-banner a"
DESK_RADIOS = "input[name=planning]"
DESCRIPTION_HEADING = "Description de la nature du rendez-vous"
DESCRIPTION_IMAGE = "img[src*='etape_3r']"
NO_SLOT_SENTENCE = "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous"
NO_CALENDAR_SENTENCE = (
    "Il n'y a pas calendrier disponible pour effectuer une demande de rendez-vous"
)
LINK_DISABLED_SENTENCE = "Ce lien a été désactivé définitivement"
#: The week table: its header row, or the container the AJAX fragment is loaded into.
CALENDAR = "th[colspan='7'], #planning_calendar, table.calendrier"
WEEK_HEADER = "th[colspan='7']"
FREE_CELL = "td.status-1.free, td.free"
#: A free cell's link to step 5: ``…/booking/create/<id>/5/<unix timestamp>``.
SLOT_LINK = re.compile(r"/booking/create/\d+/5/(?P<ts>\d{9,11})\b")


# -- recognition --------------------------------------------------------------------------


def desks_on(page: Page) -> list[int]:
    """The desk ids (``planning`` radio values) a desk-choice page offers, in page order."""
    desks = []
    for node in page.select(DESK_RADIOS):
        value = (node.attributes.get("value") or "").strip()
        if value.isdigit() and int(value) not in desks:
            desks.append(int(value))
    return desks


def is_conditions(page: Page) -> bool:
    return page.has(CONDITION_BOX) and page.has(NEXT_BUTTON)


def is_desk_choice(page: Page) -> bool:
    return bool(desks_on(page)) and page.has(NEXT_BUTTON)


def is_description(page: Page) -> bool:
    """Step 3 (slots exist): its heading, or the active step image ``etape_3r.png``."""
    marked = page.heading_with(DESCRIPTION_HEADING) is not None or page.has(DESCRIPTION_IMAGE)
    return marked and page.has(NEXT_BUTTON) and not page.has(CONDITION_BOX)


def _cell_moment(cell: LexborNode, first_day: datetime | None) -> datetime | None:
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
    return dates.day_in_week(first_day.date(), column, clock)


def calendar_finding(page: Page) -> Finding | None:
    """Slots in a week calendar; None if the page has no calendar.

    Only cells marked free (or links to step 5) count. The legend also says "libre"
    (§1.4, §6.2 mistake 6), so a calendar without free cells is not a slot: it is a
    page we do not understand.
    """
    if not page.has(CALENDAR):
        return None
    header = page.first_text(WEEK_HEADER) or ""
    week = dates.parse_week_header(header)
    first_day = datetime(week.year, week.month, week.day, tzinfo=dates.PARIS) if week else None
    # Keyed by the DOM node: a cell found both ways counts once.
    cells = {node.mem_id: node for node in page.select(FREE_CELL)}
    for link in page.select("a[href]"):
        if SLOT_LINK.search(link.attributes.get("href") or "") and link.parent is not None:
            cells.setdefault(link.parent.mem_id, link.parent)
    if not cells:
        return anomaly(
            Reason.UNRECOGNIZED,
            f"calendar without any free cell (only the legend says 'libre'): «{header}»",
        )
    moments = [m for m in (_cell_moment(c, first_day) for c in cells.values()) if m]
    earliest = min(moments) if moments else None
    when = f", earliest {dates.to_utc(earliest).isoformat()}" if earliest else ""
    return available(
        Reason.SLOTS,
        f"{len(cells)} free slot(s) in the calendar «{header}»{when}",
        slot_count=len(cells),
        earliest_slot=earliest,
    )


def _states(page: Page) -> Finding | None:
    if page.contains(LINK_DISABLED_SENTENCE):
        return unavailable(Reason.CLOSED, page.sentence_with(LINK_DISABLED_SENTENCE))
    if page.contains(NO_CALENDAR_SENTENCE):
        return unavailable(Reason.NO_CALENDAR, page.sentence_with(NO_CALENDAR_SENTENCE))
    if page.contains(NO_SLOT_SENTENCE):
        return unavailable(Reason.NO_SLOT, page.sentence_with(NO_SLOT_SENTENCE))
    slots = calendar_finding(page)
    if slots is not None:
        return slots
    if is_conditions(page):
        return anomaly(
            Reason.SESSION_LOST, f"sent back to the conditions page in mid-flow ({page.url})"
        )
    if is_desk_choice(page):
        return anomaly(
            Reason.SESSION_LOST, f"sent back to the desk choice after choosing a desk ({page.url})"
        )
    if is_description(page):
        return anomaly(
            Reason.UNRECOGNIZED, f"the calendar did not follow the description step ({page.url})"
        )
    return None


def recognise(snapshot: PageSnapshot, target: Target) -> Finding:
    """What one final page of the module means (see the module docstring)."""
    return recognise_with(snapshot, _states)


# -- flow ---------------------------------------------------------------------------------


async def _start(session: PageSession, target: Target) -> Page | None:
    """Open the link and accept the conditions; None when the first page is not them."""
    page = Page(await session.open(target.url))
    if session.engine is Engine.BROWSER and page.has(COOKIE_ACCEPT):
        # Over HTTP the banner is inert JavaScript; in the browser it may cover the form.
        page = Page(await session.click(COOKIE_ACCEPT))
    if not is_conditions(page):
        return None
    return Page(await session.submit(button=NEXT_BUTTON, fields={"condition": "on"}))


async def _result(session: PageSession, page: Page, label: str) -> PageSnapshot:
    """From the page after the desk: step 3 leads to the calendar; stop there."""
    if is_description(page):
        await session.submit(button=NEXT_BUTTON)
    return await session.final_snapshot(label)


async def flow(
    session: PageSession, target: Target, options: FlowOptions
) -> tuple[PageSnapshot, ...]:
    """Walk to each desk's result; one final page per desk (labelled with its id)."""
    page = await _start(session, target)
    if page is None or not is_desk_choice(page):
        # One desk only (no choice page), or a page that is not the module's next step.
        return (await (_result(session, page, "") if page else session.final_snapshot()),)
    offered = desks_on(page)
    wanted = list(target.desks) or offered
    missing = [desk for desk in wanted if desk not in offered]
    if missing:
        raise ProbeError(
            "unrecognized",
            f"desk(s) {', '.join(map(str, missing))} not offered on the desk choice "
            f"(offered: {', '.join(map(str, offered))})",
        )
    finals: list[PageSnapshot] = []
    for index, desk in enumerate(wanted):
        if index:
            page = await _start(session, target)
            if page is None or not is_desk_choice(page):
                finals.append(await session.final_snapshot(str(desk)))
                continue
        chosen = Page(await session.submit(button=NEXT_BUTTON, fields={"planning": str(desk)}))
        finals.append(await _result(session, chosen, str(desk)))
    return tuple(finals)
