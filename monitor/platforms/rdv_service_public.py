"""RDV Service Public public booking links, ``…/prendre_rdv?…``
(docs/platforms.md#rdv-service-public).

Server-rendered: one GET of the link shows either the no-slot message or a list of slots.

    "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé."
    (or "… à votre invitation n'a été trouvé.")         unavailable/no_slot
    slot links (``a.creneau``, links with ``starts_at``)  available/slots (count, earliest)
    429 "Limite d'appels API atteinte"                    anomaly/blocked (common rules)
    anything else                                         anomaly/unrecognized

The slot markup of the real site was not captured; the anchors follow the imitation's
documented structure (``section#creneaux`` with links carrying ``starts_at`` and ``<time>``).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from selectolax.lexbor import LexborNode

from monitor.config import Target
from monitor.domain import Detail, Finding, PageSnapshot, Reason
from monitor.platforms import dates
from monitor.platforms.common import FlowOptions, available, recognise_with, says, unavailable
from monitor.platforms.page import Page
from monitor.probes.base import PageSession

# -- anchors ------------------------------------------------------------------------------

NO_SLOT_SENTENCES = (
    "aucun créneau correspondant à votre recherche n'a été trouvé",
    "aucun créneau correspondant à votre invitation n'a été trouvé",
)
SLOT_LINKS = "a.creneau, #creneaux a[href*='starts_at=']"


# -- recognition --------------------------------------------------------------------------


def _slot_moment(link: LexborNode) -> datetime | None:
    for stamp in link.css("time[datetime]"):
        moment = dates.parse_iso(stamp.attributes.get("datetime") or "")
        if moment is not None:
            return moment
    starts_at = parse_qs(urlsplit(link.attributes.get("href") or "").query).get("starts_at")
    return dates.parse_iso(starts_at[0]) if starts_at else None


def _states(page: Page) -> Finding | None:
    for sentence in NO_SLOT_SENTENCES:
        if page.contains(sentence):
            shown = "Malheureusement, " + sentence
            return unavailable(
                Reason.NO_SLOT,
                says(page.sentence_with(shown if page.contains(shown) else sentence)),
            )
    links = {node.mem_id: node for node in page.select(SLOT_LINKS)}
    if links:
        moments = [m for m in (_slot_moment(link) for link in links.values()) if m]
        earliest = min(moments) if moments else None
        when = dates.to_utc(earliest).isoformat() if earliest else None
        return available(
            Reason.SLOTS,
            Detail("slots_offered", {"count": len(links), "earliest": when}),
            slot_count=len(links),
            earliest_slot=earliest,
        )
    return None


def recognise(snapshot: PageSnapshot, target: Target) -> Finding:
    """What an RDV Service Public link's page means (see the module docstring)."""
    return recognise_with(snapshot, _states)


# -- flow ---------------------------------------------------------------------------------


async def flow(
    session: PageSession, target: Target, options: FlowOptions
) -> tuple[PageSnapshot, ...]:
    """One page: the public link itself."""
    await session.open(target.url)
    return (await session.final_snapshot(),)
