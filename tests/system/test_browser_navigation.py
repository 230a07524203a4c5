"""What a step's page was, when a click (not ``goto``) navigated, and reading a page again
in the world the session keeps for its document. Real Chromium against a local site.

``goto``'s own answer is covered by tests/system/test_probe_browser.py; here the main
frame's navigations are followed over the DevTools ``Network`` events only
(``monitor.probes._navigation``), and the isolated world a read runs in is kept for the
document and made again after a navigation (``monitor.probes._page_read``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from browsers import chromium_or_none
from sitefixture import Reply, Site, redirect, serve, unused_port

from monitor.details import record_line
from monitor.errors import ProbeError
from monitor.probes.browser import BrowserEngine

CHROMIUM = chromium_or_none()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (see monitor.probes.chromium)"),
    pytest.mark.timeout(60),
    pytest.mark.asyncio(loop_scope="module"),
]
REFUSED_PORT = unused_port()


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    pages = {
        "/links": Reply(
            '<a id=chain href="/a">chaîne</a> <a id=limited href="/to-limited">limitée</a>'
            f' <a id=refused href="http://127.0.0.1:{REFUSED_PORT}/">refusée</a>'
            " <a id=later href=\"javascript:setTimeout(() => location.href = '/c', 100)\">"
            'plus tard</a> <button id=grow onclick="document.body.insertAdjacentHTML('
            "'beforeend', '<p>ajouté</p>')\">ajouter</button>"
        ),
        "/a": redirect("/b"),
        "/b": redirect("/c", 301),
        "/c": Reply("<p id=end>fin</p>"),
        "/limited": Reply(
            "<h1>429 Too Many Requests</h1>", status=429, headers={"Retry-After": "120"}
        ),
        "/to-limited": redirect("/limited"),
    }
    with serve(pages) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def engine() -> AsyncIterator[BrowserEngine]:
    assert CHROMIUM is not None
    engine = BrowserEngine(executable_path=CHROMIUM, user_agent="test", timeout=10.0)
    yield engine
    await engine.aclose()


async def test_a_click_through_redirects_reports_the_chain_s_first_url_and_last_status(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/links"))
        page = await session.click("#chain")
    assert (page.url, page.final_url, page.http_status) == (site.url("/a"), site.url("/c"), 200)
    assert "fin" in page.html


async def test_a_click_to_a_limited_page_keeps_its_status_and_retry_after(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        first = await session.open(site.url("/links"))
        page = await session.click("#limited")
    assert first.retry_after is None
    assert (page.url, page.http_status, page.retry_after) == (site.url("/to-limited"), 429, "120")


async def test_a_click_whose_navigation_the_network_fails_is_a_connection_anomaly(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/links"))
        with pytest.raises(ProbeError) as caught:
            await session.click("#refused")
    assert caught.value.reason == "connection"
    assert "net::ERR_CONNECTION_REFUSED" in record_line(caught.value.detail)


async def test_a_page_read_after_a_script_navigated_is_the_new_page(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/links"))
        page = await session.click("#later")  # navigates 0.1 s after the click
        final = await session.final_snapshot()
    assert (page.final_url, page.http_status) == (site.url("/c"), 200)
    assert "fin" in page.html and "fin" in final.html and "chaîne" not in final.html


async def test_the_evidence_of_a_page_changed_in_place_has_the_change(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        before = await session.open(site.url("/links"))
        after = await session.click("#grow")  # no navigation: the same document, changed
        final = await session.final_snapshot()
    added = "<p>ajouté</p>"
    assert after.html.count(added) == before.html.count(added) + 1
    assert final.html == after.html and final.screenshot
