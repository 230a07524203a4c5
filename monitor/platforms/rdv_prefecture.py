"""The national "RDV Préfecture" system, ``…/rdvpref/reservation/demarche/<id>/``
(docs/platforms.md#rdv-prefecture).

Flow: open the démarche's landing (client-rendered: wait for it to show), click its primary
button "Prendre un rendez-vous", wait for ``/cgu/`` to show, and stop. ``/cgu/`` carries the
image captcha (CaptchEtat): that barrier is the expected outcome, ``anomaly/captcha``,
recorded as evidence. The monitor never fills, submits or solves it.

States (docs/platforms.md#rdv-prefecture-states-and-outcomes):

    CAPTCHA_WALL / CAPTCHA_REJECTED / SECOND_GATE    anomaly/captcha (common rules)
    interstitial "Vérifiez que vous êtes humain"      anomaly/captcha (prove you are human)
    BLOCKED (403/429 without such a challenge)        anomaly/blocked (common rules)
    SESSION_LOST  the landing again instead of /cgu/  anomaly/session_lost
    SPA_NOT_RENDERED                                  anomaly/empty_page (common rules)
    NO_SLOT  "Aucun créneau disponible", or an empty ``datePremiereDispo``
                                                      unavailable/no_slot
    SLOTS    radio cards ``input#trhId_*``            available/slots (count, earliest)
    UNKNOWN_LAYOUT                                    anomaly/unrecognized

``/creneau/`` is only reachable after a person solved the captcha; its rules are here so
that such a page, if ever recorded, is read right.
"""

from __future__ import annotations

from datetime import datetime

import re2
from selectolax.lexbor import LexborNode

from monitor.config import Target
from monitor.domain import Detail, Finding, PageSnapshot, Reason
from monitor.platforms import dates
from monitor.platforms.common import (
    FlowOptions,
    anomaly,
    available,
    barrier,
    recognise_with,
    says,
    settle,
    unavailable,
)
from monitor.platforms.page import Page, bounded_text, read
from monitor.probes.base import PageSession

# -- anchors ------------------------------------------------------------------------------

#: The landing's primary Quasar link-button, "Prendre un rendez-vous"
#: (docs/platforms.md#rdv-prefecture-addresses-and-steps).
START_BUTTON = "a.q-btn.bg-primary"
#: What shows that the client-rendered app has drawn a page's content. Not any child of
#: ``#q-app``: the app draws its header first and the content after a data call
#: (docs/platforms.md#pages-drawn-by-a-script).
RENDERED = "#contenu, main, h1, h2, #captchaFormulaireExtInput, .captcha, div.g-recaptcha"
#: After the start button: the captcha wall, the gate before it, or a drawn page's content.
CGU_RENDERED = (
    "#captchaFormulaireExtInput, .captcha img, div.g-recaptcha, [id^=captchaFR_], main, h1"
)
NO_SLOT_TEXT = "Aucun créneau disponible"
SLOT_CARD = "input[id^=trhId_]"
#: ``"critere": {"datePremiereDispo": "…"}`` embedded in the page's state
#: (docs/platforms.md#rdv-prefecture-the-slot-page).
FIRST_AVAILABLE = re2.compile(r'"datePremiereDispo"\s*:\s*"(?P<date>[^"]*)"')
_DEMARCHE_ROOT = re2.compile(r"/demarche/\d+/?$")


# -- recognition --------------------------------------------------------------------------


def _labels(page: Page) -> dict[str, list[LexborNode]]:
    """The page's labels by the id they are for: one query, not one per card."""
    labels: dict[str, list[LexborNode]] = {}
    for label in page.select("label[for]"):
        labels.setdefault(label.attributes.get("for") or "", []).append(label)
    return labels


def _card_moment(labels: dict[str, list[LexborNode]], card_id: str) -> datetime | None:
    """A slot card's date: ``<time datetime>`` in its label, else the label's French text."""
    for label in labels.get(card_id, ()):
        for stamp in label.css("time[datetime]"):
            moment = dates.parse_iso(stamp.attributes.get("datetime") or "")
            if moment is not None:
                return moment
        moment = dates.parse_french_date(bounded_text(label))
        if moment is not None:
            return moment
    return None


def _first_available(page: Page) -> str | None:
    match = FIRST_AVAILABLE.search(page.snapshot.html)
    return match["date"] if match else None


def is_landing(page: Page) -> bool:
    """The démarche's landing with the start button the flow clicks."""
    return page.has(START_BUTTON) and bool(_DEMARCHE_ROOT.search(page.path))


def _states(page: Page) -> Finding | None:
    cards = [node.attributes.get("id") or "" for node in page.select(SLOT_CARD)]
    if cards:
        labels = _labels(page)
        moments = [m for m in (_card_moment(labels, card) for card in cards) if m]
        first = dates.parse_iso(_first_available(page) or "")
        earliest = min(moments) if moments else first
        when = dates.to_utc(earliest).isoformat() if earliest else None
        return available(
            Reason.SLOTS,
            Detail("slots_offered", {"count": len(cards), "earliest": when}),
            slot_count=len(cards),
            earliest_slot=earliest,
        )
    if page.contains(NO_SLOT_TEXT):
        return unavailable(Reason.NO_SLOT, says(page.sentence_with(NO_SLOT_TEXT)))
    if _first_available(page) == "" and page.text and "/creneau" in page.path:
        # The slot page's own state says "no first available date"
        # (docs/platforms.md#rdv-prefecture-the-slot-page).
        return unavailable(Reason.NO_SLOT, Detail("no_first_date"))
    if is_landing(page):
        # The flow always leaves a landing it can leave; ending on one means being sent back.
        return anomaly(Reason.SESSION_LOST, Detail("back_to_landing", {"url": page.url}))
    return None


def recognise(snapshot: PageSnapshot, target: Target) -> Finding:
    """What the final page of an RDV Préfecture probe means (see the module docstring)."""
    return recognise_with(snapshot, _states)


# -- flow ---------------------------------------------------------------------------------


async def flow(
    session: PageSession, target: Target, options: FlowOptions
) -> tuple[PageSnapshot, ...]:
    """Landing, then its start button, then stop at whatever ``/cgu/`` shows."""
    await session.open(target.url)
    landing = await read(await settle(session, RENDERED, options))
    if is_landing(landing) and landing.ok and barrier(landing) is None:
        await session.click(START_BUTTON)
        await settle(session, CGU_RENDERED, options)
    return (await session.final_snapshot(),)
