"""The legacy prefecture booking module, ``…/booking/create/<id>``
(docs/platforms.md#legacy-booking).

Flow (what a person does, stopping before the captcha of step 6):

    open the link          step 0, conditions (browser: accept the cookie banner)
    tick and submit        condition=on + nextButton "Effectuer une demande de rendez-vous"
    desk choice (step 1)   every desk in turn (target.desks, else each input[name=planning]);
                           for the next desk, start again from the link in the same session,
                           as a person does after "Terminer"
    result                 step 2 no-slot page, or step 3 description → submit → step 4
                           "Choix d'une plage", whose empty calendar the page's script fills
                           by AJAX: the flow reads ``settings.legacy.calendar_weeks`` weeks
                           from that endpoint (``legacy_calendar``), counts the free cells
                           and dates the earliest

The flow never stops of its own accord on the conditions or the desk-choice page; when one
of them is the final page, the module sent the probe back there: ``session_lost``.

States (docs/platforms.md#legacy-booking-states-and-outcomes):

    NO_SLOT          h2 "Vérification de disponibilité" + sentence  unavailable/no_slot
    NO_CALENDAR      ul.error "Il n'y a pas calendrier disponible…"  unavailable/no_calendar
    LINK_DISABLED    "Ce lien a été désactivé définitivement"        unavailable/closed
    MODULE_CLOSED    "Cette page n'est pas disponible pour le moment" anomaly/maintenance (common)
    SLOTS            weeks with td.status-1.free / …/5/<ts> links     available/slots
    legend only      weeks whose only "libre" is the legend          anomaly/unrecognized
    no week          the endpoint answers 5xx / not a week           overloaded / its error
    sent back        conditions or desk choice as the final page     anomaly/session_lost
    UNKNOWN_LAYOUT   anything else                                   anomaly/unrecognized
"""

from __future__ import annotations

import dataclasses
from functools import partial
from zoneinfo import ZoneInfo

from monitor.config import Target
from monitor.domain import Detail, Engine, Finding, PageSnapshot, Reason
from monitor.errors import ProbeError
from monitor.platforms import dates
from monitor.platforms import legacy_calendar as calendar
from monitor.platforms.common import (
    FlowOptions,
    anomaly,
    recognise_with,
    says,
    settle,
    unavailable,
)
from monitor.platforms.page import Page, read
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


def calendar_finding(page: Page, zone: ZoneInfo = dates.PARIS) -> Finding | None:
    """Slots in the calendar step; None if the page is not one.

    The weeks the flow fetched from the AJAX endpoint (the snapshot's ``parts``) are what
    counts; a page that inlines its week table is read as it is. A calendar step without
    either is not understood: its calendar never came.
    """
    if page.snapshot.parts:
        return calendar.weeks_finding(page.snapshot.parts, zone)
    if page.has(calendar.WEEK_TABLE):  # a site that inlines its week
        return calendar.weeks_finding((page.snapshot,), zone)
    if calendar.is_calendar_step(page):
        return anomaly(Reason.UNRECOGNIZED, Detail("calendar_missing", {"url": page.url}))
    return None


def _states(page: Page, zone: ZoneInfo = dates.PARIS) -> Finding | None:
    if page.contains(LINK_DISABLED_SENTENCE):
        return unavailable(Reason.CLOSED, says(page.sentence_with(LINK_DISABLED_SENTENCE)))
    if page.contains(NO_CALENDAR_SENTENCE):
        return unavailable(Reason.NO_CALENDAR, says(page.sentence_with(NO_CALENDAR_SENTENCE)))
    if page.contains(NO_SLOT_SENTENCE):
        return unavailable(Reason.NO_SLOT, says(page.sentence_with(NO_SLOT_SENTENCE)))
    slots = calendar_finding(page, zone)
    if slots is not None:
        return slots
    if is_conditions(page):
        return anomaly(Reason.SESSION_LOST, Detail("back_to_conditions", {"url": page.url}))
    if is_desk_choice(page):
        return anomaly(Reason.SESSION_LOST, Detail("back_to_desk_choice", {"url": page.url}))
    if is_description(page):
        return anomaly(
            Reason.UNRECOGNIZED, Detail("no_calendar_after_description", {"url": page.url})
        )
    return None


def recognise(snapshot: PageSnapshot, target: Target) -> Finding:
    """What one final page of the module means (see the module docstring)."""
    return recognise_with(snapshot, partial(_states, zone=ZoneInfo(target.timezone)))


# -- flow ---------------------------------------------------------------------------------


async def _start(session: PageSession, target: Target) -> Page | None:
    """Open the link and accept the conditions; None when the first page is not them."""
    page = await read(await session.open(target.url))
    if session.engine is Engine.BROWSER and page.has(COOKIE_ACCEPT):
        # Over HTTP the banner is inert JavaScript; in the browser it may cover the form.
        page = await read(await session.click(COOKIE_ACCEPT))
    if not is_conditions(page):
        return None
    return await read(await session.submit(button=NEXT_BUTTON, fields={"condition": "on"}))


async def _result(
    session: PageSession, page: Page, label: str, target: Target, options: FlowOptions
) -> PageSnapshot:
    """From the page after the desk: step 3 leads to the calendar, whose weeks are read.

    ``label`` is the desk chosen, "" when the module offered no choice.

    In the browser, the page's own script fills the calendar; the final screenshot waits
    (bounded) for that week to show, whatever the weeks fetched say.
    """
    if is_description(page):
        page = await read(await session.submit(button=NEXT_BUTTON))
    if not calendar.is_calendar_step(page):
        return await session.final_snapshot(label)
    weeks = await calendar.walk(session, page, desk=label, weeks=target.calendar_weeks)
    await settle(session, calendar.RENDERED_WEEK, options)
    final = await session.final_snapshot(label)
    return dataclasses.replace(final, parts=weeks)


async def flow(
    session: PageSession, target: Target, options: FlowOptions
) -> tuple[PageSnapshot, ...]:
    """Walk to each desk's result; one final page per desk (labelled with its id)."""
    page = await _start(session, target)
    if page is None or not is_desk_choice(page):
        # One desk only (no choice page), or a page that is not the module's next step.
        if page is None:
            return (await session.final_snapshot(),)
        return (await _result(session, page, "", target, options),)
    offered = desks_on(page)
    wanted = list(target.desks) or offered
    missing = [desk for desk in wanted if desk not in offered]
    if missing:
        raise ProbeError(
            Reason.UNRECOGNIZED,
            Detail(
                "desks_missing",
                {"missing": ", ".join(map(str, missing)), "offered": ", ".join(map(str, offered))},
            ),
        )
    finals: list[PageSnapshot] = []
    for index, desk in enumerate(wanted):
        if index:
            page = await _start(session, target)
            if page is None or not is_desk_choice(page):
                finals.append(await session.final_snapshot(str(desk)))
                continue
        chosen = await read(
            await session.submit(button=NEXT_BUTTON, fields={"planning": str(desk)})
        )
        finals.append(await _result(session, chosen, str(desk), target, options))
    return tuple(finals)
