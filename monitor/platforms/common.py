"""Rules every platform shares, applied before its own, and the pieces every adapter uses.

Precedence is "most specific first" (docs/contract.md#statuses-and-reasons); a platform's
:func:`recognise_with` call runs

    too_deep(page)     nested past the limit, so never parsed: anomaly/unrecognized
    barrier(page)      captcha > maintenance > overloaded > blocked
    platform states    the platform's own pages (session_lost, messages, slots)
    failure(page)      http_error > empty_page
    otherwise          anomaly/unrecognized

A platform's ``available``/``unavailable`` finding on a page with an HTTP error status is
not believed: such a page is an error page whatever else it shows.

Error pages are recognised by their status and by the text of their ``<h1>``/``<title>``
("502 Bad Gateway"), never by "502" somewhere in the HTML (docs/platforms.md#mistakes-bots-make, 2).

``available`` findings are made only by :func:`available`, which the platforms' positive
slot and open rules call; classification checks that nothing else produced one.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus

import re2

from monitor.domain import (
    Detail,
    DetailCode,
    DetailValue,
    Engine,
    Finding,
    PageSnapshot,
    Reason,
    Status,
)
from monitor.errors import ProbeError
from monitor.platforms.nesting import NESTING_LIMIT
from monitor.platforms.page import Page, read
from monitor.probes.base import PageSession
from monitor.text import contains_any, one_line

# -- anchors ------------------------------------------------------------------------------

#: Elements of a captcha or a "prove you are human" widget (CaptchEtat, reCAPTCHA, others).
CAPTCHA_SELECTORS = (
    "#captchaFormulaireExtInput",
    "input[name=captchaUsercode]",
    "[id^=captchaFR_]",
    "[id^=BDC_CaptchaSound]",
    ".captcha img",
    "div.g-recaptcha",
    "iframe[src*=recaptcha]",
    "div.h-captcha",
    "div.cf-turnstile",
)
#: Texts of such barriers (normalised when matched).
CAPTCHA_PHRASES = (
    "code de sécurité",
    "vérifiez que vous êtes humain",
    "prouvez que vous êtes humain",
    "verify you are human",
)
NOT_A_CAPTCHA = "code de sécurité sociale"
#: A final URL carrying these means the captcha was refused (RDV Préfecture).
CAPTCHA_URL_MARKERS = ("error=invalidcaptcha",)

#: Headings with this word announce maintenance ("Site en maintenance").
MAINTENANCE_HEADING_WORDS = ("maintenance",)
#: Sentences that say the site or module is unavailable for now.
MAINTENANCE_PHRASES = (
    "cette page n'est pas disponible pour le moment",
    "site en maintenance",
    "en cours de maintenance",
    "pour cause de maintenance",
    "momentanément indisponible",
)

OVERLOAD_STATUSES = frozenset({502, 503, 504})
OVERLOAD_PHRASES = ("service surchargé",)

BLOCKED_STATUSES = frozenset({403, 429})
#: Statuses whose ``Retry-After`` header is quoted in the finding's detail (RFC 9110: 503;
#: RFC 6585: 429), so the evidence row shows how long the site asked us to stay away.
RETRY_AFTER_STATUSES = frozenset({429, 503})
BLOCKED_PHRASES = (
    "accès refusé",
    "access denied",
    "limite d'appels api atteinte",
    "trop de requêtes",
)

_REASON_PHRASES = "|".join(re2.escape(s.phrase.lower()) for s in HTTPStatus if s.value >= 400)
#: An error page's heading: a status code alone or with its reason phrase ("502 Bad
#: Gateway", "Erreur 500"); not a heading that merely starts with a number.
_ERROR_HEADING = re2.compile(
    rf"^(?:erreur|error|http)?\s*(?P<code>[45]\d\d)(?:\s*[-:]?\s*(?:{_REASON_PHRASES}))?$"
)


# -- findings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Positive(Finding):
    """A finding made by a platform's positive slot or open rule.

    Classification accepts ``available`` only from a ``Positive``: whatever else a bug might
    build, an unrecognised page cannot turn into a false alert.
    """


def available(
    reason: Reason,
    detail: Detail,
    *,
    slot_count: int | None = None,
    earliest_slot: datetime | None = None,
) -> Positive:
    """The only maker of ``available`` findings: call it from a positive slot/open rule."""
    if reason not in (Reason.SLOTS, Reason.OPEN):
        raise ValueError(f"{reason!r} is not an available reason")
    return Positive(Status.AVAILABLE, reason, detail, slot_count, earliest_slot)


def unavailable(reason: Reason, detail: Detail) -> Finding:
    """The site positively says there is nothing (no_slot, no_calendar, closed)."""
    if reason not in (Reason.NO_SLOT, Reason.NO_CALENDAR, Reason.CLOSED):
        raise ValueError(f"{reason!r} is not an unavailable reason")
    return Finding(Status.UNAVAILABLE, reason, detail)


def anomaly(reason: Reason, detail: Detail) -> Finding:
    return Finding(Status.ANOMALY, reason, detail)


def says(text: str, limit: int = 200) -> Detail:
    """The page's own sentence, quoted as shown: the detail of a positive text rule."""
    return Detail("page_says", {"text": one_line(text, limit)})


def unrecognized(page: Page, code: DetailCode = "unknown_page") -> Finding:
    """The page matched nothing: the layout changed, or the flow ended somewhere unknown.

    ``code``: the detail's code (see :mod:`monitor.details`), which says whose rules failed.
    """
    shown = page.first_text("h1, h2, title") or page.visible_text[:120]
    return anomaly(
        Reason.UNRECOGNIZED, Detail(code, {"shown": one_line(shown, 160), "url": page.url})
    )


def too_deep(page: Page) -> Finding | None:
    """A page nested deeper than the limit was not parsed: nothing else can be said of it."""
    if not page.too_deep:
        return None
    detail = Detail("too_deep", {"limit": NESTING_LIMIT, "url": page.url})
    return anomaly(Reason.UNRECOGNIZED, detail)


# -- infrastructure rules -----------------------------------------------------------------


def _error_code(page: Page) -> int | None:
    """The status code an error page's title/h1/h2 announces, if any."""
    for heading in page.headings:
        match = _ERROR_HEADING.match(heading)
        if match:
            return int(match["code"])
    return None


def _status_line(page: Page) -> dict[str, DetailValue]:
    """The values of a status line: the HTTP status and the page's heading, if any."""
    return {"status": page.status, "heading": one_line(page.first_text("h1, title") or "", 160)}


def captcha(page: Page) -> Finding | None:
    """A captcha or a prove-you-are-human challenge bars the way."""
    marker = next((s for s in CAPTCHA_SELECTORS if page.has(s)), None)
    # "code de sécurité sociale" (a document list) is not a captcha's "code de sécurité".
    phrase = contains_any(page.text.replace(NOT_A_CAPTCHA, ""), CAPTCHA_PHRASES)
    # The URL alone is the site's word, not what the page shows: an app shell that renders
    # nothing at that URL is an empty page (what the http engine gets from RDV Préfecture).
    refused = bool(page.text) and any(m in page.url.lower() for m in CAPTCHA_URL_MARKERS)
    if not (marker or phrase or refused):
        return None
    shown = one_line(page.sentence_with(phrase), 160) if phrase else None
    return anomaly(
        Reason.CAPTCHA,
        Detail(
            "captcha",
            {"refused": refused, "text": shown, "selector": marker, "url": page.url},
        ),
    )


def maintenance(page: Page) -> Finding | None:
    heading = page.heading_with(*MAINTENANCE_HEADING_WORDS)
    phrase = contains_any(page.text, MAINTENANCE_PHRASES)
    if heading is None and phrase is None:
        return None
    shown = page.sentence_with(phrase) if phrase else page.first_text("h1, h2, title") or ""
    return anomaly(Reason.MAINTENANCE, Detail("maintenance", {"text": one_line(shown, 200)}))


def overloaded(page: Page) -> Finding | None:
    code = _error_code(page)
    if page.status in OVERLOAD_STATUSES or code in OVERLOAD_STATUSES:
        return anomaly(Reason.OVERLOADED, Detail("overloaded", _status_line(page)))
    heading = page.heading_with(*OVERLOAD_PHRASES)
    if heading is not None:
        return anomaly(Reason.OVERLOADED, Detail("overloaded", _status_line(page)))
    return None


def blocked(page: Page) -> Finding | None:
    code = _error_code(page)
    phrase = contains_any(page.text, BLOCKED_PHRASES)
    if page.status in BLOCKED_STATUSES or code in BLOCKED_STATUSES or phrase:
        shown = one_line(page.sentence_with(phrase), 200) if phrase else None
        return anomaly(Reason.BLOCKED, Detail("blocked", {**_status_line(page), "text": shown}))
    return None


def http_error(page: Page) -> Finding | None:
    code = _error_code(page)
    if not page.ok or code is not None:
        return anomaly(Reason.HTTP_ERROR, Detail("error_page", _status_line(page)))
    return None


def empty_page(page: Page) -> Finding | None:
    if not page.snapshot.html.strip():
        return anomaly(Reason.EMPTY_PAGE, Detail("no_html", {"url": page.url}))
    if not page.text:
        return anomaly(Reason.EMPTY_PAGE, Detail("no_text", {"url": page.url}))
    return None


def barrier(page: Page) -> Finding | None:
    """What bars the way, most specific first: captcha, maintenance, overloaded, blocked.

    On a 429 or 503 answer the detail ends with the site's ``Retry-After`` when it sent one.
    """
    for rule in (captcha, maintenance, overloaded, blocked):
        found = rule(page)
        if found is not None:
            return _with_retry_after(found, page)
    return None


def _with_retry_after(found: Finding, page: Page) -> Finding:
    """``found`` with the header's value on a 429/503 page that sent ``Retry-After``."""
    header = page.snapshot.retry_after
    if page.status not in RETRY_AFTER_STATUSES or header is None or not header.strip():
        return found
    detail = Detail("retry_after", {"finding": found.detail, "after": one_line(header, 40)})
    return dataclasses.replace(found, detail=detail)


def failure(page: Page) -> Finding | None:
    """What is broken: an HTTP error status or error heading, else an empty page."""
    return http_error(page) or empty_page(page)


def infrastructure(page: Page) -> Finding | None:
    """Every shared rule, most specific first (docs/contract.md#statuses-and-reasons)."""
    return barrier(page) or failure(page)


PlatformStates = Callable[[Page], Finding | None]


def recognise_with(snapshot: PageSnapshot, states: PlatformStates) -> Finding:
    """Shared rules around a platform's own: the precedence of the module docstring."""
    page = Page(snapshot)
    found = too_deep(page) or barrier(page)
    if found is not None:
        return found
    state = states(page)
    if state is not None and (state.status is Status.ANOMALY or page.ok):
        return state
    return failure(page) or state or unrecognized(page)


# -- what flows share ---------------------------------------------------------------------


@dataclass(frozen=True)
class FlowOptions:
    """Settings a flow needs from the probe around it."""

    #: Seconds a browser flow waits for a client-rendered page to show its content before
    #: reading it as it is (an app shell that never renders is an ``empty_page``).
    render_wait: float = 5.0


def looks_unrendered(page: Page) -> bool:
    """A page that may still be filled by its script: fine status, a script, little text.

    Error and challenge pages are read at once, without waiting for anything.
    """
    return page.ok and page.has("script") and barrier(page) is None


async def settle(session: PageSession, selector: str, options: FlowOptions) -> PageSnapshot:
    """The current page once ``selector`` shows, or as it is after ``render_wait`` seconds.

    Only the browser renders; over HTTP the page is what it is. Never raises for a missing
    element: what the page shows is recognition's business.
    """
    current = session.current()
    if session.engine is not Engine.BROWSER:
        return current
    page = await read(current)
    if not looks_unrendered(page) or page.has(selector):
        return current
    try:
        async with asyncio.timeout(options.render_wait):
            return await session.wait_for(selector)
    except TimeoutError:
        return session.current()
    except ProbeError as exc:
        if exc.reason != Reason.UNRECOGNIZED:
            raise
        return session.current()
