"""Démarches Simplifiées forms used as appointment requests, ``…/commencer/<slug>``
(docs/platforms.md#demarches-simplifiees).

One GET of the start page. A form has no slots: it is open or closed.

    "Cette démarche en ligne a été close, il n'est plus possible de déposer de dossier."
                                                   unavailable/closed
    the start link/button "Commencer la démarche"  available/open
    a sign-in page without the démarche (LOGIN_REQUIRED), anything else
                                                   anomaly/unrecognized: nothing proves
                                                   the form is open
"""

from __future__ import annotations

from monitor.config import Target
from monitor.domain import Detail, Finding, PageSnapshot, Reason
from monitor.platforms.common import FlowOptions, available, recognise_with, says, unavailable
from monitor.platforms.page import Page, bounded_text
from monitor.probes.base import PageSession
from monitor.text import normalise

# -- anchors ------------------------------------------------------------------------------

CLOSED_SENTENCES = (
    "Cette démarche en ligne a été close",
    "il n'est plus possible de déposer de dossier",
)
START_CONTROLS = "a, button, input[type=submit]"
START_TEXT = "Commencer la démarche"


# -- recognition --------------------------------------------------------------------------


def _start_control(page: Page) -> str | None:
    """The text of the control that starts the form, if the page has one."""
    wanted = normalise(START_TEXT)
    for node in page.select(START_CONTROLS):
        text = bounded_text(node) or node.attributes.get("value") or ""
        if normalise(text).startswith(wanted):
            return " ".join(text.split())
    return None


def _states(page: Page) -> Finding | None:
    for sentence in CLOSED_SENTENCES:
        if page.contains(sentence):
            return unavailable(Reason.CLOSED, says(page.sentence_with(CLOSED_SENTENCES[0])))
    start = _start_control(page)
    if start is not None:
        title = page.first_text("h1") or page.url
        return available(Reason.OPEN, Detail("form_open", {"title": title, "start": start}))
    return None


def recognise(snapshot: PageSnapshot, target: Target) -> Finding:
    """What a DS start page means (see the module docstring)."""
    return recognise_with(snapshot, _states)


# -- flow ---------------------------------------------------------------------------------


async def flow(
    session: PageSession, target: Target, options: FlowOptions
) -> tuple[PageSnapshot, ...]:
    """One page: the form's start page. Never signs in, never starts a file."""
    await session.open(target.url)
    return (await session.final_snapshot(),)
