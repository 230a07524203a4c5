"""The politeness gate inside Chromium's request pipeline, and the clock that leaves it out.

The DevTools ``Fetch`` domain pauses every *document* request of the page (navigations,
each redirect hop, form posts, frames) and every call its scripts make (XHR, ``fetch``: the
legacy calendar's weeks) until the gate lets it through. Playwright's ``page.route`` would
not do: it sees a redirect chain only once, and it pulls every image and script through the
driver. Static sub-resources (images, style sheets, scripts) are not gated.

Before the gate, every such request is checked against ``destinations.refusal`` (no
loopback, private or non-http(s) destination from a public target); a redirect hop is such
a request, paused before it leaves. A redirect Chromium will not follow at all (to
``javascript:``, ``file:``, an address that is none) sends nothing, and is named from the
answer's raw headers (``Network.responseReceivedExtraInfo``), which Chromium reports as it
receives them. Answers are not paused: that cost a second DevTools round trip per document
(BENCHMARKS.md §1b, third round) and guarded nothing the hop's own pause does not. A document
that announces more than ``limits.MAX_RESPONSE_BYTES`` (its Content-Length) is stopped at
its headers; a main document's bytes are also counted as they arrive: past the cap, loading
stops and the step ends.

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

#: What the gate holds: documents (each redirect hop too), and the requests a page's scripts
#: make to the site.
_GATED = [
    {"urlPattern": "*", "resourceType": kind, "requestStage": "Request"}
    for kind in ("Document", "XHR", "Fetch")
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
        self._hops: dict[str, str] = {}  #: document request id -> URL of its current hop
        self._documents: dict[str, str] = {}  #: main-frame document request id -> URL
        self._document_bytes: dict[str, int] = {}  #: bytes received, decompressed
        self._cut_off = asyncio.Event()  #: set when a document went past the size cap

    async def enable(self) -> None:
        """Start pausing the page's gated requests and counting its documents' bytes."""
        self._cdp.on("Fetch.requestPaused", self._on_paused)
        self._cdp.on("Network.requestWillBeSent", self._on_document_request)
        self._cdp.on("Network.responseReceivedExtraInfo", self._on_raw_answer)
        self._cdp.on("Network.responseReceived", self._on_document_answer)
        self._cdp.on("Network.dataReceived", self._on_document_data)
        self._cdp.on("Network.loadingFinished", self._on_document_end)
        self._cdp.on("Network.loadingFailed", self._on_document_end)
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

    def _on_document_request(self, event: dict[str, Any]) -> None:
        """Follow each document's hops: a redirect comes again under the same id."""
        if event.get("type") == "Document":
            self._hops[str(event["requestId"])] = str((event.get("request") or {}).get("url", ""))

    def _on_raw_answer(self, event: dict[str, Any]) -> None:
        """A document's answer as received: a redirect is judged before anything follows it.

        A hop Chromium follows is paused (and refused) before it leaves all the same; this
        names the ones it will not follow at all, which send nothing and would otherwise
        fail as an unnamed network error.
        """
        hop = self._hops.get(str(event.get("requestId", "")))
        status = int(event.get("statusCode") or 0)
        if hop is None or not 300 <= status < 400 or self.error is not None:
            return
        headers = _lowercase(event.get("headers"))
        if "location" in headers:
            # Repeated headers arrive joined by newlines; Chromium acts on the first.
            location = headers["location"].split("\n", 1)[0]
            refused = redirect_refusal(hop, location, self.target)
            if refused is not None:
                self.error = ProbeError(Reason.BLOCKED, refused)

    def _on_document_answer(self, event: dict[str, Any]) -> None:
        """A document's headers: stop one that announces more than the cap; count the main
        document's bytes from here on."""
        if event.get("type") != "Document":
            return
        request_id = str(event["requestId"])
        response = event.get("response") or {}
        url = str(response.get("url", ""))
        declared = _lowercase(response.get("headers")).get("content-length", "").strip()
        if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
            self._cut(url)
            return
        if event.get("frameId") == self._main_frame_id:
            self._documents[request_id] = url
            self._document_bytes[request_id] = 0

    def _on_document_end(self, event: dict[str, Any]) -> None:
        request_id = str(event["requestId"])
        self._hops.pop(request_id, None)
        self._documents.pop(request_id, None)
        self._document_bytes.pop(request_id, None)

    def _on_document_data(self, event: dict[str, Any]) -> None:
        """Count a main document's bytes (decompressed); past the cap, stop loading it."""
        request_id = str(event["requestId"])
        if request_id not in self._documents:
            return
        self._document_bytes[request_id] += int(event.get("dataLength") or 0)
        if self._document_bytes[request_id] <= MAX_RESPONSE_BYTES:
            return
        self._cut(self._documents.pop(request_id))

    def _cut(self, url: str) -> None:
        """Give up the page at ``url``: past the size cap, it is not read any further."""
        if self.error is None:
            self.error = too_large(url)
        self._cut_off.set()
        self._spawn(self._stop_loading(url))

    async def _stop_loading(self, url: str) -> None:
        try:
            await self._cdp.send("Page.stopLoading")
        except PlaywrightError as exc:
            logger.debug("could not stop loading %s: %s", url, exc.message)


def _lowercase(headers: object) -> dict[str, str]:
    """A DevTools headers object with lowercase names (Chromium keeps the site's case)."""
    if not isinstance(headers, dict):
        return {}
    return {str(name).lower(): str(value) for name, value in headers.items()}
