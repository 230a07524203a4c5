"""The politeness gate inside Chromium's request pipeline, and the clock that leaves it out.

The DevTools ``Fetch`` domain pauses every *document* request of the page (navigations,
each redirect hop, form posts, frames) and every call its scripts make (XHR, ``fetch``: the
legacy calendar's weeks) until the gate lets it through. Playwright's ``page.route`` would
not do: it sees a redirect chain only once, and it pulls every image and script through the
driver. Static sub-resources (images, style sheets, scripts) are not gated.

Before the gate, every such request is checked against ``destinations.refusal`` (no
loopback, private or non-http(s) destination from a public target), and documents' answers
are paused at their headers too, so a redirect off the public web is refused before Chromium
follows it. A main document is read up to ``limits.MAX_RESPONSE_BYTES`` (its Content-Length,
else the bytes counted as they arrive): past it, loading stops and the step ends.

A gate that raises fails the paused request and keeps its exception, for the page step that
caused the request to raise unchanged. Time spent waiting at the gate is not charged to the
request: :meth:`PageGate.bounded` gives a step its ``timeout`` seconds of the site's time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from playwright.async_api import Error as PlaywrightError

from monitor.domain import Detail, Reason
from monitor.errors import ProbeError
from monitor.probes._devtools import DevTools
from monitor.probes.base import RequestGate
from monitor.probes.destinations import redirect_refusal, refusal
from monitor.probes.limits import MAX_RESPONSE_BYTES, too_large

__all__ = ["PageGate"]

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: What the gate holds: documents, and the requests a page's scripts make to the site.
_GATED = [
    {"urlPattern": "*", "resourceType": kind, "requestStage": "Request"}
    for kind in ("Document", "XHR", "Fetch")
] + [
    # Documents' answers too, headers only: a redirect off the public web is refused (and
    # named) before Chromium follows it, an announced oversized page before it is read.
    {"urlPattern": "*", "resourceType": "Document", "requestStage": "Response"}
]


class PageGate:
    """One page's requests held at the probe's gate; ``error`` is what the gate raised."""

    def __init__(
        self,
        cdp: DevTools,
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
        self.target: str | None = None  #: the first URL the session opened: the target's own
        self._waiting = 0
        self._seconds = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._documents: dict[str, str] = {}  #: main-frame document request id -> URL
        self._document_bytes: dict[str, int] = {}  #: bytes received, decompressed
        self._cut_off = asyncio.Event()  #: set when a document went past the size cap

    async def enable(self) -> None:
        """Start pausing the page's gated requests and counting its documents' bytes."""
        self._cdp.on("Fetch.requestPaused", self._on_paused)
        self._cdp.on("Network.responseReceived", self._on_document_answer)
        self._cdp.on("Network.dataReceived", self._on_document_data)
        await self._cdp.send("Fetch.enable", {"patterns": _GATED})
        # Only to count a document's bytes as they arrive: keep no bodies for this session.
        await self._cdp.send(
            "Network.enable", {"maxTotalBufferSize": 0, "maxResourceBufferSize": 0}
        )

    def refuse(self, url: str, *, first: str) -> None:
        """Raise ``ProbeError(blocked)`` when the session must not request ``url``."""
        refused = refusal(self.target or first, url)
        if refused is not None:
            raise ProbeError(Reason.BLOCKED, refused)

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
        # A page past the size cap is given up at once: Chromium may never finish it.
        cut_off = asyncio.ensure_future(self._cut_off.wait())
        started, gate_before = loop.time(), self._seconds
        try:
            while True:
                spent = loop.time() - started - (self._seconds - gate_before)
                left = timeout - spent
                if left <= 0 and not self._waiting:
                    raise ProbeError(
                        Reason.TIMEOUT,
                        Detail("step_timeout", {"seconds": timeout, "doing": doing}),
                    )
                done, _ = await asyncio.wait(
                    {task, cut_off}, timeout=max(left, 0.05), return_when=asyncio.FIRST_COMPLETED
                )
                if task in done:
                    return task.result()
                if cut_off in done and self.error is not None:
                    raise self.error
        finally:
            cut_off.cancel()
            if not task.done():
                task.cancel()
                # Retrieve the outcome so an error after cancellation is not logged as lost.
                task.add_done_callback(lambda t: t.cancelled() or t.exception())

    def _on_paused(self, event: dict[str, Any]) -> None:
        if "responseStatusCode" in event or "responseErrorReason" in event:
            self._spawn(self._check_answer(event))
            return
        document = event.get("resourceType", "Document") == "Document"
        if document and event.get("frameId") == self._main_frame_id:
            self._on_main_document()
        request_id, url = str(event["requestId"]), str(event["request"]["url"])
        self._spawn(self._pass(request_id, url))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pass(self, request_id: str, url: str) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        self._waiting += 1
        try:
            refused = refusal(self.target, url) if self.target is not None else None
            if refused is not None and self.error is None:
                self.error = ProbeError(Reason.BLOCKED, refused)  # failed before it is sent
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

    async def _check_answer(self, event: dict[str, Any]) -> None:
        """A document's answer, paused at its headers: refuse where it must not lead."""
        request_id, url = str(event["requestId"]), str(event["request"]["url"])
        headers = {
            str(header["name"]).lower(): str(header["value"])
            for header in event.get("responseHeaders") or []
        }
        status = int(event.get("responseStatusCode") or 0)
        error: ProbeError | None = None
        if 300 <= status < 400 and "location" in headers:
            refused = redirect_refusal(url, headers["location"], self.target)
            if refused is not None:
                error = ProbeError(Reason.BLOCKED, refused)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
            error = too_large(url)
        if error is not None and self.error is None:
            self.error = error  # re-raised by the operation that loaded the document
        if error is None:
            method, params = "Fetch.continueRequest", {"requestId": request_id}
        else:
            method = "Fetch.failRequest"
            params = {"requestId": request_id, "errorReason": "BlockedByClient"}
        try:
            await self._cdp.send(method, params)
        except PlaywrightError as exc:
            logger.debug("could not release the answer of %s: %s", url, exc.message)

    def _on_document_answer(self, event: dict[str, Any]) -> None:
        if event.get("type") == "Document" and event.get("frameId") == self._main_frame_id:
            request_id = str(event["requestId"])
            self._documents[request_id] = str(event.get("response", {}).get("url", ""))
            self._document_bytes[request_id] = 0

    def _on_document_data(self, event: dict[str, Any]) -> None:
        """Count a main document's bytes (decompressed); past the cap, stop loading it."""
        request_id = str(event["requestId"])
        if request_id not in self._documents:
            return
        self._document_bytes[request_id] += int(event.get("dataLength") or 0)
        if self._document_bytes[request_id] <= MAX_RESPONSE_BYTES:
            return
        url = self._documents.pop(request_id)
        if self.error is None:
            self.error = too_large(url)
        self._cut_off.set()
        self._spawn(self._stop_loading(url))

    async def _stop_loading(self, url: str) -> None:
        try:
            await self._cdp.send("Page.stopLoading")
        except PlaywrightError as exc:
            logger.debug("could not stop loading %s: %s", url, exc.message)
