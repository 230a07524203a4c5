"""What the page's main document did: where its redirect chain began, how it ended.

A snapshot reports the first URL of the main document's redirect chain, its final status
and Retry-After header; a step that clicked needs to know whether a navigation started,
when it finished, and whether the network failed it. :class:`Navigation` follows the
page's ``response``, ``requestfailed`` and ``load`` events of the main frame for that.
"""

from __future__ import annotations

import asyncio

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Request, Response

__all__ = ["Navigation"]


class Navigation:
    """The main frame's navigations in one page, as its events tell them."""

    def __init__(self, page: Page) -> None:
        self._page = page
        self.url: str | None = None  #: first URL of the main document's redirect chain
        self.status: int | None = None
        self.retry_after: str | None = None  #: the main document's Retry-After header
        self.failure: tuple[str, str] | None = None  #: (net::ERR_… text, URL)
        self.started = asyncio.Event()
        self.done = asyncio.Event()

    def watch(self) -> None:
        """Follow the page's events."""
        self._page.on("response", self._on_response)
        self._page.on("requestfailed", self._on_request_failed)
        self._page.on("load", self._on_load)

    def expect(self) -> None:
        """Forget the last navigation's start, end and failure, before a click."""
        self.started.clear()
        self.done.clear()
        self.failure = None

    def record(self, response: Response) -> None:
        """Keep the main document's answer (a redirect hop is skipped)."""
        if 300 <= response.status < 400 and "location" in response.headers:
            return  # a redirect hop; the snapshot keeps the page it led to
        first = response.request
        while first.redirected_from is not None:
            first = first.redirected_from
        self.url, self.status = first.url, response.status
        self.retry_after = response.headers.get("retry-after")

    def _is_main(self, request: Request) -> bool:
        try:
            return request.is_navigation_request() and request.frame == self._page.main_frame
        except PlaywrightError:
            return False  # a request of a frame that is already gone

    def _on_response(self, response: Response) -> None:
        if self._is_main(response.request):
            self.record(response)

    def _on_request_failed(self, request: Request) -> None:
        if not self._is_main(request):
            return
        failure = request.failure or ""
        # ERR_ABORTED is no site failure: a 204 answer, or a navigation replaced by another
        # (whose page the snapshot then waits for).
        if "ERR_ABORTED" not in failure:
            self.failure = (failure, request.url)
        self.done.set()

    def _on_load(self, _page: Page) -> None:
        self.done.set()
