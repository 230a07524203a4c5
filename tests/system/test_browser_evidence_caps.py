"""The browser engine's evidence within the caps: a scripted giant DOM, a very tall page.

Real Chromium against a local site. A page's script can build far more than it was sent
(153 bytes that grow a 64 MiB document) and a page can be 150,000 px tall: the HTML is
measured in the page and refused past ``MAX_RESPONSE_BYTES`` as the http engine refuses a
page past the cap, and the screenshot keeps the page's top, the cut said in the detail.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from browsers import chromium_or_none
from sitefixture import Reply, Site, serve

from monitor.domain import ScreenshotCut
from monitor.errors import ProbeError
from monitor.probes._page_read import MAX_SCREENSHOT_HEIGHT, MAX_SCREENSHOT_WIDTH
from monitor.probes.browser import BrowserEngine
from monitor.probes.limits import MAX_RESPONSE_BYTES

CHROMIUM = chromium_or_none()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (see monitor.probes.chromium)"),
    pytest.mark.timeout(90),
    pytest.mark.asyncio(loop_scope="module"),
]

#: 153 bytes that build 64 MiB of text: a string doubled 26 times, put in the DOM (hidden:
#: laying out 64 MiB of visible text takes Chromium longer than any probe's timeout).
GIANT = (
    "<!doctype html><p id=x hidden></p><script>let s='a';for(let i=0;i<26;i++)s+=s;"
    "document.getElementById('x').textContent=s</script>"
)
#: Just under the cap, in two-byte characters: 4 MiB of "é" is 8 MiB of UTF-8 minus the tags.
NEAR_CAP_CHARS = (MAX_RESPONSE_BYTES - 200) // 2
NEAR = (
    "<!doctype html><html><body><p id=x hidden>é</p><script>"
    f"document.getElementById('x').textContent='é'.repeat({NEAR_CAP_CHARS});"
    "</script></body></html>"
)
#: Over the cap only once encoded: fewer UTF-16 units than the cap, more UTF-8 bytes.
OVER_IN_UTF8 = NEAR.replace(str(NEAR_CAP_CHARS), str(MAX_RESPONSE_BYTES // 2 + 10))
TALL = "<!doctype html><html><body style='margin:0'><div style='height:150074px'>haut</div>"
WIDE = "<!doctype html><html><body style='margin:0'><div style='width:100000px'>large</div>"
#: A page whose PNG would be tens of MiB: random pixels on a 1280 × 16,384 canvas.
NOISE = """<!doctype html><html><body style='margin:0'><canvas id=c width=1280 height=16384>
</canvas><script>const c=document.getElementById('c').getContext('2d');
const img=c.createImageData(1280,16384);crypto.getRandomValues(img.data.subarray(0,65536));
for(let i=0;i<img.data.length;i+=65536)img.data.set(img.data.subarray(0,65536).map(
(v,j)=>(v*31+i+j)&255),i);for(let i=3;i<img.data.length;i+=4)img.data[i]=255;
c.putImageData(img,0,0);</script></body></html>"""
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200">'
    '<text x="10" y="50">créneaux</text></svg>'
)
#: A page that redefines what page.content() would call, to forge its own evidence.
FORGER = (
    "<!doctype html><html><body><p>vraie page</p><script>"
    "Object.defineProperty(Element.prototype,'outerHTML',{get(){return '<p>fausse</p>'}});"
    "</script></body></html>"
)


def png_size(png: bytes) -> tuple[int, int]:
    """A PNG's width and height, from its IHDR chunk."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    pages = {
        "/giant": Reply(GIANT),
        "/near": Reply(NEAR),
        "/over-in-utf8": Reply(OVER_IN_UTF8),
        "/tall": Reply(TALL),
        "/wide": Reply(WIDE),
        "/noise": Reply(NOISE),
        "/forger": Reply(FORGER),
        "/small": Reply("<p>petite page</p>"),
        "/svg": Reply(SVG, content_type="image/svg+xml"),
    }
    with serve(pages) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def engine() -> AsyncIterator[BrowserEngine]:
    assert CHROMIUM is not None
    engine = BrowserEngine(executable_path=CHROMIUM, user_agent="test", timeout=20.0)
    yield engine
    await engine.aclose()


@pytest.mark.parametrize("path", ["/giant", "/over-in-utf8"])
async def test_a_page_whose_script_grows_it_past_the_cap_is_too_large_as_on_http(
    site: Site, engine: BrowserEngine, path: str
) -> None:
    async with engine.session() as session:
        with pytest.raises(ProbeError) as caught:
            await session.open(site.url(path))
    # The http engine's answer to a page past the cap: anomaly/unrecognized.
    assert caught.value.reason == "unrecognized"
    assert caught.value.detail.code == "response_too_large"
    assert caught.value.detail.args["limit"] == MAX_RESPONSE_BYTES


async def test_a_page_just_under_the_cap_is_read_whole(site: Site, engine: BrowserEngine) -> None:
    async with engine.session() as session:
        page = await session.open(site.url("/near"))
    assert page.html.count("é") == NEAR_CAP_CHARS + 1  # the text and the script's own "é"
    assert len(page.html.encode()) <= MAX_RESPONSE_BYTES


async def test_a_page_cannot_forge_the_html_kept_as_its_evidence(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/forger"))
        final = await session.final_snapshot()
    assert "vraie page" in final.html
    assert "fausse" not in final.html.replace("'<p>fausse</p>'", "")


async def test_a_very_tall_page_keeps_the_top_of_its_screenshot_and_says_so(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/tall"))
        final = await session.final_snapshot()
    assert final.screenshot is not None
    assert png_size(final.screenshot) == (1280, MAX_SCREENSHOT_HEIGHT)
    assert final.screenshot_cut == ScreenshotCut(1280, MAX_SCREENSHOT_HEIGHT, 1280, 150074)


async def test_a_very_wide_page_keeps_the_left_of_its_screenshot(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/wide"))
        final = await session.final_snapshot()
    assert final.screenshot is not None
    width, _height = png_size(final.screenshot)
    assert width == MAX_SCREENSHOT_WIDTH
    assert final.screenshot_cut is not None
    assert final.screenshot_cut.page_width == 100000


async def test_a_screenshot_past_the_size_cap_is_taken_again_as_the_first_screen(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/noise"))
        final = await session.final_snapshot()
    assert final.screenshot is not None
    assert len(final.screenshot) <= MAX_RESPONSE_BYTES
    assert png_size(final.screenshot) == (1280, 900)
    assert final.screenshot_cut == ScreenshotCut(1280, 900, 1280, 16384 + 4)


async def test_a_normal_page_has_its_full_screenshot_and_no_cut(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/small"))
        final = await session.final_snapshot()
    assert final.screenshot is not None
    assert png_size(final.screenshot) == (1280, 900)
    assert final.screenshot_cut is None


async def test_a_document_without_a_body_still_has_its_screenshot(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/svg"))
        final = await session.final_snapshot()
    assert "créneaux" in final.html
    assert final.screenshot is not None
    assert final.screenshot_cut is None


async def test_the_html_read_is_the_same_as_playwrights_page_content(
    site: Site, engine: BrowserEngine
) -> None:
    """The evidence of an ordinary page is byte for byte what the engine kept before."""
    async with engine.session() as session:
        page = await session.open(site.url("/small"))
        same = await session._page.content()
    assert page.html == same


@pytest.fixture
def announces_too_much() -> Iterator[str]:
    """A server that announces a page past the cap, sends its first bytes, then waits."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve_one() -> None:
        with listener:
            listener.settimeout(10)
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                    + f"Content-Length: {MAX_RESPONSE_BYTES * 8}\r\n\r\n".encode()
                    + b"<p>le d\xc3\xa9but d'une page sans fin"
                )
                stop.wait(30)  # the rest never comes: only the announcement can stop it

    server = threading.Thread(target=serve_one, daemon=True)
    server.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/page"
    stop.set()
    server.join(timeout=10)


async def test_a_page_announcing_more_than_the_cap_is_given_up_at_its_headers(
    announces_too_much: str, engine: BrowserEngine
) -> None:
    """Given up on its Content-Length, not after the step's 20 s (its bytes never come)."""
    async with engine.session() as session:
        with pytest.raises(ProbeError) as caught:
            await session.open(announces_too_much)
    assert caught.value.reason == "unrecognized"
    assert caught.value.detail.code == "response_too_large"
