"""What the page's main document did: where its redirect chain began, how it ended.

A snapshot reports the first URL of the main document's redirect chain, its final status
and Retry-After header; a step that clicked needs to know whether a navigation started,
when it finished, and whether the network failed it. :class:`Navigation` follows the main
frame's navigation requests over the DevTools ``Network`` events the session already
receives (``Network.requestWillBeSent``, ``responseReceived``, ``loadingFailed``; the
domain is enabled by the gate), and the page's ``load`` event.

Playwright's own ``response`` and ``requestfailed`` page events would tell the same, but
subscribing to them makes its driver send Python a request and a response object for
every image, style sheet and script of every page.
"""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Page, Response

from monitor.probes._devtools import DevTools

__all__ = ["Navigation"]


class Navigation:
    """The main frame's navigations in one page, as its events tell them."""

    def __init__(self, page: Page, cdp: DevTools, *, main_frame_id: str) -> None:
        self._page = page
        self._cdp = cdp
        self._main_frame_id = main_frame_id
        #: main-frame navigation request id -> (first URL of its chain, URL of this hop)
        self._chains: dict[str, tuple[str, str]] = {}
        self.url: str | None = None  #: first URL of the main document's redirect chain
        self.status: int | None = None
        self.retry_after: str | None = None  #: the main document's Retry-After header
        self.failure: tuple[str, str] | None = None  #: (net::ERR_… text, URL)
        self.started = asyncio.Event()
        self.done = asyncio.Event()

    def watch(self) -> None:
        """Follow the page's events."""
        self._cdp.on("Network.requestWillBeSent", self._on_request)
        self._cdp.on("Network.responseReceived", self._on_response)
        self._cdp.on("Network.loadingFailed", self._on_failed)
        self._cdp.on("Network.loadingFinished", self._on_finished)
        self._page.on("load", self._on_load)

    def expect(self) -> None:
        """Forget the last navigation's start, end and failure, before a click."""
        self.started.clear()
        self.done.clear()
        self.failure = None

    def record(self, response: Response) -> None:
        """Keep the main document's answer, as ``page.goto`` returned it (a redirect hop is
        skipped)."""
        if 300 <= response.status < 400 and "location" in response.headers:
            return  # a redirect hop; the snapshot keeps the page it led to
        first = response.request
        while first.redirected_from is not None:
            first = first.redirected_from
        self.url, self.status = first.url, response.status
        self.retry_after = response.headers.get("retry-after")

    def _on_request(self, event: dict[str, Any]) -> None:
        request_id = str(event.get("requestId", ""))
        if request_id in self._chains:  # the next hop of a redirect chain
            self._chains[request_id] = (self._chains[request_id][0], _url(event))
            return
        # A navigation request, as Playwright tells one: a document whose request id is its
        # loader's. Only the main frame's.
        if (
            event.get("type") == "Document"
            and event.get("frameId") == self._main_frame_id
            and event.get("loaderId") == request_id
        ):
            self._chains[request_id] = (_url(event), _url(event))

    def _on_response(self, event: dict[str, Any]) -> None:
        chain = self._chains.get(str(event.get("requestId", "")))
        if chain is None:
            return
        response = event.get("response") or {}
        status = int(response.get("status") or 0)
        headers = {str(k).lower(): str(v) for k, v in (response.get("headers") or {}).items()}
        if 300 <= status < 400 and "location" in headers:
            return  # a redirect hop (Chromium reports those with the next request)
        self.url, self.status = chain[0], status
        self.retry_after = headers.get("retry-after")

    def _on_finished(self, event: dict[str, Any]) -> None:
        self._chains.pop(str(event.get("requestId", "")), None)

    def _on_failed(self, event: dict[str, Any]) -> None:
        chain = self._chains.pop(str(event.get("requestId", "")), None)
        if chain is None:
            return
        failure = str(event.get("errorText") or event.get("blockedReason") or "")
        # ERR_ABORTED is no site failure: a 204 answer, or a navigation replaced by another
        # (whose page the snapshot then waits for).
        if "ERR_ABORTED" not in failure:
            self.failure = (failure, chain[1])
        self.done.set()

    def _on_load(self, _page: Page) -> None:
        self.done.set()


def _url(event: dict[str, Any]) -> str:
    """A ``Network.requestWillBeSent`` event's URL, with its fragment as Playwright gives it."""
    request = event.get("request") or {}
    return str(request.get("url", "")) + str(request.get("urlFragment", ""))
