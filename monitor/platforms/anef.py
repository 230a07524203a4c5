"""The ANEF portal's public pages (docs/platforms.md#anef): up, maintenance, error.

Client-rendered (Angular): the browser waits for the app to draw something. The monitor only
reads the public home; it never signs in and never calls the logged-in APIs
(docs/platforms.md#politeness-and-captchas).

    MAINTENANCE  h1 "Site en maintenance"                   anomaly/maintenance (common)
    UP           the public home (its h1, its tabs)          available/open
    LOGIN_WALL   the portal's own sign-in route             available/open: the portal
                 (``connexion-inscription``)                 answers, and everyone enters
                                                             through it (catalogue decision)
    SPA_NOT_RENDERED                                         anomaly/empty_page (common)
    HTTP_5xx, timeout                                        common rules
    anything else                                            anomaly/unrecognized
"""

from __future__ import annotations

from monitor.config import Target
from monitor.domain import Detail, Finding, PageSnapshot, Reason
from monitor.platforms.common import FlowOptions, available, recognise_with, settle
from monitor.platforms.page import Page, bounded_text
from monitor.probes.base import PageSession
from monitor.text import normalise

# -- anchors ------------------------------------------------------------------------------

HOME_HEADING = "Administration numérique pour les étrangers en France"
HOME_TABS = "app-root .p-tabview"
LOGIN_ROUTE = "connexion-inscription"
LOGIN_PAGE = ".connexion-inscription, form.connexion"
#: The page's own content, not the banner the app draws first
#: (docs/platforms.md#pages-drawn-by-a-script).
RENDERED = "app-root main, app-root form, h1"


# -- recognition --------------------------------------------------------------------------


def _states(page: Page) -> Finding | None:
    if not page.text:
        # A title set by the script is not a page: an app that drew nothing is empty.
        return None
    if page.has(LOGIN_PAGE) or (LOGIN_ROUTE in page.url and page.has("app-root form")):
        title = page.first_text("h1") or "sign-in page"
        return available(Reason.OPEN, Detail("sign_in_page", {"title": title}))
    home = normalise(HOME_HEADING)
    if any(home in normalise(bounded_text(node, "")) for node in page.select("h1")) or page.has(
        HOME_TABS
    ):
        title = page.first_text("h1") or HOME_HEADING
        return available(Reason.OPEN, Detail("portal_home", {"title": title}))
    return None


def recognise(snapshot: PageSnapshot, target: Target) -> Finding:
    """What the ANEF page means (see the module docstring)."""
    return recognise_with(snapshot, _states)


# -- flow ---------------------------------------------------------------------------------


async def flow(
    session: PageSession, target: Target, options: FlowOptions
) -> tuple[PageSnapshot, ...]:
    """The public page, once the app has drawn it (or the render wait is over)."""
    await session.open(target.url)
    await settle(session, RENDERED, options)
    return (await session.final_snapshot(),)
