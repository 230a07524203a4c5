"""Pages no adapter knows, described in the config: ``steps`` to walk, ``rules`` to read.

Flow: open the target's URL, then run its steps in order (``goto`` a URL or a path resolved
against the target's URL, ``click``, ``check``, ``fill``, ``select``, ``wait_for``,
``submit``), and keep the page they end on. A step whose element is missing fails the probe
as ``anomaly/unrecognized`` (unless the page reached is an error page, which says more).

Recognition: the shared infrastructure rules first (captcha, maintenance, overloaded,
blocked, http_error, empty_page), then the target's rules in their order — ``anomaly``,
then ``unavailable``, then ``available`` — the first match winning. A text rule matches the
page's normalised visible text; a selector rule matches when an element does. Nothing
matched: ``anomaly/unrecognized``. A selector rule for ``slots`` counts the elements it
matches and reads the earliest date they carry (``datetime`` attribute, a Unix timestamp in
a link, an ISO ``starts_at``, or a French date in their text).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urljoin, urlsplit

import re2
from selectolax.lexbor import LexborNode

from monitor.config import Rule, Target
from monitor.domain import Detail, Finding, PageSnapshot, Reason, Status
from monitor.platforms import dates
from monitor.platforms.common import (
    FlowOptions,
    anomaly,
    available,
    infrastructure,
    says,
    too_deep,
    unavailable,
    unrecognized,
)
from monitor.platforms.page import Page, bounded_text
from monitor.probes.base import PageSession
from monitor.text import one_line

#: Matched elements whose date is read for the earliest slot (all are counted): a page
#: offering more is not a booking page, and each read searches the element's subtree.
MOMENTS_READ = 1_000
_TIMESTAMP_IN_LINK = re2.compile(r"/(?P<ts>\d{9,11})(?:[/?#]|$)")


# -- recognition --------------------------------------------------------------------------


def _moment(node: LexborNode) -> datetime | None:
    """The date an element carries, if any (see the module docstring)."""
    for candidate in [node, *node.css("[datetime], a[href]")]:
        stamp = dates.parse_iso(candidate.attributes.get("datetime") or "")
        if stamp is not None:
            return stamp
        href = candidate.attributes.get("href") or ""
        starts_at = parse_qs(urlsplit(href).query).get("starts_at")
        if starts_at and (stamp := dates.parse_iso(starts_at[0])) is not None:
            return stamp
        match = _TIMESTAMP_IN_LINK.search(urlsplit(href).path + "/")
        if match and (stamp := dates.from_timestamp(match["ts"])) is not None:
            return stamp
    return dates.parse_french_date(bounded_text(node))


def _apply(rule: Rule, section: Status, page: Page) -> Finding | None:
    """The finding ``rule`` of ``section`` gives on ``page``, or None if it does not match."""
    count: int | None = None
    earliest: datetime | None = None
    if rule.text is not None:
        if not page.contains(rule.text):
            return None
        detail = says(page.sentence_with(rule.text))
    else:
        assert rule.selector is not None  # a Rule has exactly one of text or selector
        nodes = page.select(rule.selector)
        if not nodes:
            return None
        shown = one_line(bounded_text(nodes[0]), 120)
        detail = Detail(
            "rule_matches", {"count": len(nodes), "selector": rule.selector, "shown": shown}
        )
        if rule.reason is Reason.SLOTS:
            count = len(nodes)
            moments = [m for m in map(_moment, nodes[:MOMENTS_READ]) if m is not None]
            earliest = min(moments) if moments else None
    if section is Status.AVAILABLE:
        return available(rule.reason, detail, slot_count=count, earliest_slot=earliest)
    if section is Status.UNAVAILABLE:
        return unavailable(rule.reason, detail)
    return anomaly(rule.reason, detail)


def recognise(snapshot: PageSnapshot, target: Target) -> Finding:
    """Shared rules, then the target's own, first match wins (see the module docstring)."""
    page = Page(snapshot)
    found = too_deep(page) or infrastructure(page)
    if found is not None:
        return found
    if target.rules is not None:
        for section in (Status.ANOMALY, Status.UNAVAILABLE, Status.AVAILABLE):
            for rule in getattr(target.rules, section.value):
                found = _apply(rule, section, page)
                if found is not None:
                    return found
    return unrecognized(page, "unknown_page_for_target")


# -- flow ---------------------------------------------------------------------------------


async def flow(
    session: PageSession, target: Target, options: FlowOptions
) -> tuple[PageSnapshot, ...]:
    """Open the URL, run the steps, keep the page they end on."""
    await session.open(target.url)
    for step in target.steps:
        if step.action == "goto":
            assert step.url is not None
            await session.open(urljoin(target.url, step.url))
            continue
        assert step.selector is not None
        if step.action == "click":
            await session.click(step.selector)
        elif step.action == "check":
            await session.check(step.selector)
        elif step.action in ("fill", "select"):
            value = step.value or ""
            if step.action == "fill":
                await session.fill(step.selector, value)
            else:
                await session.select(step.selector, value)
        elif step.action == "wait_for":
            await session.wait_for(step.selector)
        elif step.action == "submit":
            await session.submit(button=step.selector)
    return (await session.final_snapshot(),)
