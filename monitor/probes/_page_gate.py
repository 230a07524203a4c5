"""The politeness gate inside Chromium's request pipeline, and the clock that leaves it out.

The DevTools ``Fetch`` domain pauses every *document* request of the page (navigations,
each redirect hop, form posts, frames) and every call its scripts make (XHR, ``fetch``: the
legacy calendar's weeks) until the gate lets it through. Playwright's ``page.route`` would
not do: it sees a redirect chain only once, and it pulls every image and script through the
driver. Static sub-resources (images, style sheets, scripts) are not gated.

A gate that raises fails the paused request and keeps its exception, for the page step that
caused the request to raise unchanged. Time spent waiting at the gate is not charged to the
request: :meth:`PageGate.bounded` gives a step its ``timeout`` seconds of the site's time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from playwright.async_api import CDPSession
from playwright.async_api import Error as PlaywrightError

from monitor.domain import Detail
from monitor.errors import ProbeError
from monitor.probes.base import RequestGate

__all__ = ["PageGate"]

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: What the gate holds: documents, and the requests a page's scripts make to the site.
_GATED = [
    {"urlPattern": "*", "resourceType": kind, "requestStage": "Request"}
    for kind in ("Document", "XHR", "Fetch")
]


class PageGate:
    """One page's requests held at the probe's gate; ``error`` is what the gate raised."""

    def __init__(
        self,
        cdp: CDPSession,
        gate: RequestGate,
        *,
        main_frame_id: str,
        on_main_document: Callable[[], None],
    ) -> None:
        """``on_main_document`` is told when a document request of the main frame pauses."""
        self._cdp = cdp
        self._gate = gate
        self._main_frame_id = main_frame_id
        self._on_main_document = on_main_document
        self.error: Exception | None = None
        self._waiting = 0
        self._seconds = 0.0
        self._tasks: set[asyncio.Task[None]] = set()

    async def enable(self) -> None:
        """Start pausing the page's gated requests."""
        self._cdp.on("Fetch.requestPaused", self._on_paused)
        await self._cdp.send("Fetch.enable", {"patterns": _GATED})

    async def admit(self, url: str) -> None:
        """Wait at the gate for a request the session makes itself, outside the page."""
        await self._gate(url)

    async def close(self) -> None:
        """Stop gate waits still pending."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def bounded(self, step: Awaitable[T], doing: Detail, timeout: float) -> T:
        """Await ``step`` with ``timeout`` seconds, plus whatever the gate made it wait."""
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(step)
        started, gate_before = loop.time(), self._seconds
        try:
            while True:
                spent = loop.time() - started - (self._seconds - gate_before)
                left = timeout - spent
                if left <= 0 and not self._waiting:
                    raise ProbeError(
                        "timeout",
                        Detail("step_timeout", {"seconds": timeout, "doing": doing}),
                    )
                done, _ = await asyncio.wait({task}, timeout=max(left, 0.05))
                if done:
                    return task.result()
        finally:
            if not task.done():
                task.cancel()
                # Retrieve the outcome so an error after cancellation is not logged as lost.
                task.add_done_callback(lambda t: t.cancelled() or t.exception())

    def _on_paused(self, event: dict[str, Any]) -> None:
        document = event.get("resourceType", "Document") == "Document"
        if document and event.get("frameId") == self._main_frame_id:
            self._on_main_document()
        request_id, url = str(event["requestId"]), str(event["request"]["url"])
        task = asyncio.get_running_loop().create_task(self._pass(request_id, url))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pass(self, request_id: str, url: str) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        self._waiting += 1
        try:
            if self.error is None:
                await self._gate(url)
        except Exception as exc:
            # Kept to be re-raised, unchanged, by the operation that caused the request.
            self.error = exc
        finally:
            self._waiting -= 1
            self._seconds += loop.time() - started
        if self.error is None:
            method, params = "Fetch.continueRequest", {"requestId": request_id}
        else:
            method = "Fetch.failRequest"
            params = {"requestId": request_id, "errorReason": "BlockedByClient"}
        try:
            await self._cdp.send(method, params)
        except PlaywrightError as exc:
            logger.debug("could not release %s: %s", url, exc.message)  # page already closed
