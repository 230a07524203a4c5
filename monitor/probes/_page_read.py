"""Reading a rendered page within bounds: its HTML up to the size cap, its screenshot's top.

A page's script can build any DOM: 153 bytes of HTML that loop ``innerHTML +=`` leave a
64 MiB document. :meth:`PageReader.html` serialises the DOM as Playwright's
``page.content()`` does (the doctype, then ``outerHTML``), but measures it *in the page*
and sends it only when it fits ``limits.MAX_RESPONSE_BYTES`` in UTF-8; past the cap the
step fails with ``too_large``, as the http engine does for a page past the cap
(``anomaly/unrecognized``, detail ``response_too_large``), and no byte of it crosses to
Python. It runs in a world of its own (DevTools ``Page.createIsolatedWorld``), like
Playwright's utility world: the page's scripts cannot redefine what it calls. One world
serves every read of a document: it is made at the first read, and made again after the
main frame navigates (a new document has none) or when Chromium no longer knows it.

:meth:`PageReader.screenshot` takes the full page when it fits
:data:`MAX_SCREENSHOT_HEIGHT` × :data:`MAX_SCREENSHOT_WIDTH` px, else a clip of its top
left corner that size; a PNG past ``MAX_RESPONSE_BYTES`` (a page of noise) is taken again
as the viewport only. What was cut is returned with it (``ScreenshotCut``) and recorded in
the attempt's detail (``screenshot_cut``).
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Page

from monitor.domain import ScreenshotCut
from monitor.probes._devtools import DevTools
from monitor.probes.limits import MAX_RESPONSE_BYTES, too_large

__all__ = ["MAX_SCREENSHOT_HEIGHT", "MAX_SCREENSHOT_WIDTH", "PageReader"]

#: The tallest screenshot kept, in CSS px: 16,384, Chromium's usual texture limit, or 18
#: screens of 900 px. Every page of the imitation's catalogue fits its first screen at
#: 1280 px wide; a booking page (a form, six weeks of calendar, the site's footer) is a few
#: screens; a page taller than 18 is a list nobody scrolls, or a trap.
MAX_SCREENSHOT_HEIGHT = 16_384
#: The widest screenshot kept: twice the 1280 px viewport (a page wider is a layout bug).
MAX_SCREENSHOT_WIDTH = 2_560

#: The page as ``page.content()`` gives it, or only its size when it does not fit ``limit``
#: bytes of UTF-8. A UTF-8 encoding has at least as many bytes as the string has UTF-16
#: units, so a string longer than the limit is too large without encoding it.
_HTML = """function (limit) {
  let html = document.doctype ? new XMLSerializer().serializeToString(document.doctype) : '';
  if (document.documentElement) html += document.documentElement.outerHTML;
  if (html.length > limit) return {size: html.length, exact: false};
  const size = new TextEncoder().encode(html).length;
  return size > limit ? {size: size, exact: true} : {html: html};
}"""
#: The page's full size, as Playwright measures it for a full-page screenshot.
_SIZE = """function () {
  const d = document.documentElement, b = document.body;
  if (!d || !b) return [0, 0];
  return [
    Math.max(b.scrollWidth, d.scrollWidth, b.offsetWidth, d.offsetWidth, b.clientWidth,
             d.clientWidth),
    Math.max(b.scrollHeight, d.scrollHeight, b.offsetHeight, d.offsetHeight, b.clientHeight,
             d.clientHeight),
  ];
}"""
#: Both in one call, for the evidence: ``{read: <as _HTML>, size: <as _SIZE>}``.
_HTML_AND_SIZE = f"function (limit) {{ return {{read: ({_HTML})(limit), size: ({_SIZE})()}}; }}"

Size = tuple[int, int]


class PageReader:
    """One page's HTML and screenshot, read within the caps."""

    def __init__(self, page: Page, cdp: DevTools, *, main_frame_id: str) -> None:
        self._page = page
        self._cdp = cdp
        self._main_frame_id = main_frame_id
        self._world: int | None = None  #: the current document's world, once made
        self._navigations = 0  #: main-frame navigations heard of

    def watch(self) -> None:
        """Forget the world when the main frame navigates: it went with its document."""
        self._page.on("framenavigated", self._on_navigated)

    def _on_navigated(self, frame: Frame) -> None:
        if frame.parent_frame is None:
            self._navigations += 1
            self._world = None

    async def html(self) -> str:
        """The page's HTML; ``ProbeError(unrecognized)`` (``too_large``) past the size cap."""
        return self._html(await self._call(_HTML, MAX_RESPONSE_BYTES))

    async def html_and_size(self) -> tuple[str, Size]:
        """The page's HTML as :meth:`html` reads it, and its full size in CSS px for
        :meth:`screenshot`, in one call."""
        both = await self._call(_HTML_AND_SIZE, MAX_RESPONSE_BYTES)
        if not isinstance(both, dict):
            raise PlaywrightError(f"reading the page gave {type(both).__name__}")
        return self._html(both.get("read")), _size(both.get("size"))

    def _html(self, read: object) -> str:
        if not isinstance(read, dict):
            raise PlaywrightError(f"reading the page's HTML gave {type(read).__name__}")
        if "html" not in read:
            raise too_large(self._page.url)
        return str(read["html"])

    async def screenshot(self, size: Size | None = None) -> tuple[bytes, ScreenshotCut | None]:
        """A PNG of the page, cut to the caps; the cut, if any. ``size``: the page's full
        size as :meth:`html_and_size` measured it just before (else it is measured)."""
        width, height = size if size is not None else _size(await self._call(_SIZE))
        # Always clipped (Playwright trims the clip to the page): a page that grows between
        # the measure and the shot stays within the caps too.
        clip = {
            "x": 0,
            "y": 0,
            "width": min(width or MAX_SCREENSHOT_WIDTH, MAX_SCREENSHOT_WIDTH),
            "height": min(height or MAX_SCREENSHOT_HEIGHT, MAX_SCREENSHOT_HEIGHT),
        }
        # A document without a body (an SVG, XML) has no full-page size: Playwright would
        # wait for one until the timeout. Its first screen is what a person sees of it.
        png = await self._shot(full_page=True, clip=clip) if width else await self._shot()
        cut: ScreenshotCut | None = None
        if width > MAX_SCREENSHOT_WIDTH or height > MAX_SCREENSHOT_HEIGHT:
            cut = ScreenshotCut(clip["width"], clip["height"], width, height)
        if len(png) > MAX_RESPONSE_BYTES:
            # Several MiB of PNG is a page of noise: its first screen says as much.
            png = await self._shot()
            viewport = self._page.viewport_size or {"width": 0, "height": 0}
            cut = ScreenshotCut(
                min(viewport["width"], width), min(viewport["height"], height), width, height
            )
        return png, cut

    async def _shot(self, *, full_page: bool = False, clip: Any = None) -> bytes:
        return await self._page.screenshot(
            full_page=full_page, clip=clip, type="png", animations="disabled"
        )

    async def _call(self, function: str, *args: object) -> object:
        """Call ``function`` in the main frame's isolated world; its JSON value."""
        call = {
            "functionDeclaration": function,
            "arguments": [{"value": arg} for arg in args],
            "returnByValue": True,
        }
        world = self._world
        answer: dict[str, Any] | None = None
        if world is not None:
            try:
                answer = await self._cdp.send(
                    "Runtime.callFunctionOn", {**call, "executionContextId": world}
                )
            except PlaywrightError:
                # "Cannot find context with specified id": its document was replaced before
                # we heard of the navigation. The current document gets a world of its own.
                if self._world == world:
                    self._world = None
        if answer is None:
            navigations = self._navigations
            made = await self._cdp.send(
                "Page.createIsolatedWorld",
                {"frameId": self._main_frame_id, "worldName": "monitor-evidence"},
            )
            world = int(made["executionContextId"])
            answer = await self._cdp.send(
                "Runtime.callFunctionOn", {**call, "executionContextId": world}
            )
            if self._navigations == navigations:
                self._world = world  # else made for a document already gone: not kept
        if "exceptionDetails" in answer:
            raise PlaywrightError(f"reading the page failed: {answer['exceptionDetails']}")
        return answer["result"].get("value")


def _size(measured: object) -> Size:
    """``_SIZE``'s answer as (width, height); (0, 0) when it is not one."""
    if isinstance(measured, list) and len(measured) == 2:
        return int(measured[0]), int(measured[1])
    return 0, 0
