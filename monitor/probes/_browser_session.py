"""One probe's page in Chromium: navigation, forms, the politeness gate, snapshots.

The gate sits in Chromium's own request pipeline: the DevTools ``Fetch`` domain pauses every
*document* request of the page (navigations, each redirect hop, form posts, frames) and
every call its scripts make (XHR, ``fetch``: the legacy calendar's weeks) until the gate
lets it through. Playwright's ``page.route`` would not do: it sees a redirect chain only
once, and it pulls every image and script through the driver. Static sub-resources
(images, style sheets, scripts) are not gated.

Before the gate, every such request is checked against ``destinations.refusal`` (no
loopback, private or non-http(s) destination from a public target), and documents' answers
are paused at their headers too, so a redirect off the public web is refused before Chromium
follows it. A main document is read up to ``limits.MAX_RESPONSE_BYTES`` (its Content-Length,
else the bytes counted as they arrive): past it, loading stops and the probe ends.

Time spent waiting at the gate is not charged to the request: a navigation gets ``timeout``
seconds of the site's time (``_bounded``). The whole probe's deadline is the caller's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urljoin

from playwright.async_api import BrowserContext, CDPSession, Locator, Page, Request, Response
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from monitor.domain import Detail, Engine, PageSnapshot
from monitor.errors import MonitorFault, ProbeError
from monitor.probes._decoding import decode_body
from monitor.probes._playwright_errors import net_error, probe_error
from monitor.probes.base import RequestGate
from monitor.probes.destinations import refusal
from monitor.probes.limits import MAX_RESPONSE_BYTES, too_large

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: After load, how long to wait for the network to go quiet (XHR-built content).
SETTLE_SECONDS = 1.5
#: After a click, how long a navigation may take to start before we call it an in-page update.
NAVIGATION_GRACE_SECONDS = 0.5
MAX_REDIRECTS = 20
#: What the gate holds: documents, and the requests a page's scripts make to the site.
_GATED = [
    {"urlPattern": "*", "resourceType": kind, "requestStage": "Request"}
    for kind in ("Document", "XHR", "Fetch")
] + [
    # Documents' answers too, headers only: a redirect off the public web is refused (and
    # named) before Chromium follows it, an announced oversized page before it is read.
    {"urlPattern": "*", "resourceType": "Document", "requestStage": "Response"}
]


def _doing(step: str, **values: str) -> Detail:
    """What the session was doing when something failed: "loading https://…"."""
    return Detail(f"doing.{step}", values)


def _css_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class BrowserSession:
    """A browser context and its one page, driven for one probe (see ``PageSession``)."""

    engine: Engine = Engine.BROWSER

    def __init__(
        self,
        context: BrowserContext,
        page: Page,
        cdp: CDPSession,
        *,
        gate: RequestGate,
        timeout: float,
        main_frame_id: str,
    ) -> None:
        """Use ``start``, which also wires the page's events and the gate."""
        self._context = context
        self._page = page
        self._cdp = cdp
        self._gate = gate
        self._timeout = timeout
        self._main_frame_id = main_frame_id
        self._snapshot: PageSnapshot | None = None
        self._nav_url: str | None = None  #: first URL of the main document's redirect chain
        self._nav_status: int | None = None
        self._nav_retry_after: str | None = None  #: the main document's Retry-After header
        self._nav_failure: tuple[str, str] | None = None  #: (net::ERR_… text, URL)
        self._nav_started = asyncio.Event()
        self._nav_done = asyncio.Event()
        self._gate_error: Exception | None = None
        self._gate_waiting = 0
        self._gate_seconds = 0.0
        self._gate_tasks: set[asyncio.Task[None]] = set()
        self._target: str | None = None  #: the first URL opened: the target's own
        self._documents: dict[str, str] = {}  #: main-frame document request id -> URL
        self._document_bytes: dict[str, int] = {}  #: bytes received, decompressed
        self._cut_off = asyncio.Event()  #: set when a document went past the size cap

    @classmethod
    async def start(
        cls, context: BrowserContext, *, gate: RequestGate, timeout: float
    ) -> BrowserSession:
        """Open the page and put the gate in its request pipeline."""
        page = await context.new_page()
        page.set_default_timeout(timeout * 1000)
        page.set_default_navigation_timeout(timeout * 1000)
        cdp = await context.new_cdp_session(page)
        tree = await cdp.send("Page.getFrameTree")
        main_frame_id = str(tree["frameTree"]["frame"]["id"])
        session = cls(context, page, cdp, gate=gate, timeout=timeout, main_frame_id=main_frame_id)
        page.on("response", session._on_response)
        page.on("requestfailed", session._on_request_failed)
        page.on("load", session._on_load)
        cdp.on("Fetch.requestPaused", session._on_paused)
        cdp.on("Network.responseReceived", session._on_document_answer)
        cdp.on("Network.dataReceived", session._on_document_data)
        await cdp.send("Fetch.enable", {"patterns": _GATED})
        # Only to count a document's bytes as they arrive: keep no bodies for this session.
        await cdp.send("Network.enable", {"maxTotalBufferSize": 0, "maxResourceBufferSize": 0})
        return session

    async def open(self, url: str) -> PageSnapshot:
        """Navigate to ``url`` and wait for load, then briefly for the network to go quiet."""
        self._nav_failure = None
        if self._target is None:
            self._target = url
        loading = Detail("doing.load", {"url": url})
        with self._errors(loading):
            goto = self._page.goto(url, wait_until="load", timeout=0)
            response = await self._bounded(goto, loading)
            if self._gate_error is not None:
                raise self._gate_error  # e.g. the page went past the size cap and was stopped
            if response is not None:
                self._record(response)
            return await self._settled()

    async def submit(
        self,
        *,
        button: str,
        fields: Mapping[str, str] | None = None,
        form: str | None = None,
    ) -> PageSnapshot:
        """Fill ``fields`` by name in the button's form (or ``form``), then press the button."""
        with self._errors(_doing("submit", button=button, url=self._page.url)):
            pressed = await self._element(button, "button")
            if form is not None:
                scope = self._page.locator(form).first
            else:
                owner = self._page.locator("form", has=self._page.locator(button))
                scope = owner.first if await owner.count() else self._page.locator(":root")
            for name, value in (fields or {}).items():
                await self._set_field(scope, name, value)
            return await self._press(pressed)

    async def click(self, selector: str) -> PageSnapshot:
        with self._errors(_doing("click", selector=selector, url=self._page.url)):
            return await self._press(await self._element(selector, "element"))

    async def fill(self, selector: str, value: str) -> None:
        with self._errors(_doing("fill", selector=selector, url=self._page.url)):
            element = await self._element(selector, "field")
            if await element.evaluate("e => e.tagName.toLowerCase()") == "select":
                await self._choose_option(element, value, selector)
            else:
                await element.fill(value)

    async def check(self, selector: str) -> None:
        with self._errors(_doing("check", selector=selector, url=self._page.url)):
            await (await self._element(selector, "checkbox")).check()

    async def select(self, selector: str, value: str) -> None:
        with self._errors(_doing("select", selector=selector, url=self._page.url)):
            await self._choose_option(await self._element(selector, "select"), value, selector)

    async def wait_for(self, selector: str) -> PageSnapshot:
        """Wait up to ``timeout`` for ``selector``; ProbeError(unrecognized) if it never comes."""
        with self._errors(_doing("wait", selector=selector, url=self._page.url)):
            await self._element(selector, "element")
            return await self._capture()

    async def fetch(self, url: str, *, method: str = "GET") -> PageSnapshot:
        """Request ``url`` with the context's cookies, hop by hop through the gate; no navigation.

        A POST has an empty body; a redirect after it is followed with GET, as browsers do.
        """
        url = urljoin(self._page.url, url)
        requested = url
        for _hop in range(MAX_REDIRECTS + 1):
            refused = refusal(self._target or requested, url)
            if refused is not None:
                raise ProbeError("blocked", refused)
            await self._gate(url)
            with self._errors(_doing("fetch", url=url)):
                response = await self._context.request.fetch(
                    url,
                    method=method,
                    data=b"" if method == "POST" else None,
                    max_redirects=0,
                    timeout=self._timeout * 1000,
                    fail_on_status_code=False,
                )
                status, headers, body = response.status, response.headers, await response.body()
                await response.dispose()
            if len(body) > MAX_RESPONSE_BYTES:
                raise too_large(url)
            location = headers.get("location")
            if 300 <= status < 400 and location:
                url = urljoin(url, location)
                method = "GET"
                continue
            html = decode_body(body, headers.get("content-type"))
            return PageSnapshot(
                url=requested,
                final_url=url,
                http_status=status,
                html=html,
                retry_after=headers.get("retry-after"),
            )
        raise ProbeError(
            "http_error", Detail("too_many_redirects", {"max": MAX_REDIRECTS, "url": requested})
        )

    def current(self) -> PageSnapshot:
        if self._snapshot is None:
            raise MonitorFault("internal", "no page has been opened in this session yet")
        return self._snapshot

    async def final_snapshot(self, label: str = "") -> PageSnapshot:
        """The rendered page now, with a full-page PNG screenshot."""
        with self._errors(_doing("screenshot", url=self._page.url)):
            snapshot = await self._capture()
            png = await self._page.screenshot(full_page=True, type="png", animations="disabled")
        return dataclasses.replace(snapshot, label=label, screenshot=png)

    async def close(self) -> None:
        """Stop gate waits still pending; the engine closes the context itself."""
        for task in list(self._gate_tasks):
            task.cancel()
        await asyncio.gather(*self._gate_tasks, return_exceptions=True)

    # --- the gate, in Chromium's request pipeline -------------------------------------

    def _on_paused(self, event: dict[str, Any]) -> None:
        if "responseStatusCode" in event or "responseErrorReason" in event:
            answer = asyncio.get_running_loop().create_task(self._check_answer(event))
            self._gate_tasks.add(answer)
            answer.add_done_callback(self._gate_tasks.discard)
            return
        document = event.get("resourceType", "Document") == "Document"
        if document and event.get("frameId") == self._main_frame_id:
            self._nav_started.set()
        request_id, url = str(event["requestId"]), str(event["request"]["url"])
        task = asyncio.get_running_loop().create_task(self._pass_gate(request_id, url))
        self._gate_tasks.add(task)
        task.add_done_callback(self._gate_tasks.discard)

    async def _pass_gate(self, request_id: str, url: str) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        self._gate_waiting += 1
        try:
            refused = refusal(self._target, url) if self._target is not None else None
            if refused is not None and self._gate_error is None:
                self._gate_error = ProbeError("blocked", refused)  # failed before it is sent
            if self._gate_error is None:
                await self._gate(url)
        except Exception as exc:
            # Kept to be re-raised, unchanged, by the operation that caused the request.
            self._gate_error = exc
        finally:
            self._gate_waiting -= 1
            self._gate_seconds += loop.time() - started
        if self._gate_error is None:
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
            refused = refusal(self._target or url, urljoin(url, headers["location"]))
            if refused is not None:
                error = ProbeError("blocked", refused)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
            error = too_large(url)
        if error is not None and self._gate_error is None:
            self._gate_error = error  # re-raised by the operation that loaded the document
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
        if self._gate_error is None:
            self._gate_error = too_large(url)
        self._cut_off.set()
        stop = asyncio.get_running_loop().create_task(self._stop_loading(url))
        self._gate_tasks.add(stop)
        stop.add_done_callback(self._gate_tasks.discard)

    async def _stop_loading(self, url: str) -> None:
        try:
            await self._cdp.send("Page.stopLoading")
        except PlaywrightError as exc:
            logger.debug("could not stop loading %s: %s", url, exc.message)

    # --- navigation bookkeeping ---------------------------------------------------------

    def _is_main_navigation(self, request: Request) -> bool:
        try:
            return request.is_navigation_request() and request.frame == self._page.main_frame
        except PlaywrightError:
            return False  # a request of a frame that is already gone

    def _on_response(self, response: Response) -> None:
        if self._is_main_navigation(response.request):
            self._record(response)

    def _record(self, response: Response) -> None:
        if 300 <= response.status < 400 and "location" in response.headers:
            return  # a redirect hop; the snapshot keeps the page it led to
        first = response.request
        while first.redirected_from is not None:
            first = first.redirected_from
        self._nav_url, self._nav_status = first.url, response.status
        self._nav_retry_after = response.headers.get("retry-after")

    def _on_request_failed(self, request: Request) -> None:
        if not self._is_main_navigation(request):
            return
        failure = request.failure or ""
        # ERR_ABORTED is no site failure: a 204 answer, or a navigation replaced by another
        # (whose page the snapshot then waits for).
        if "ERR_ABORTED" not in failure:
            self._nav_failure = (failure, request.url)
        self._nav_done.set()

    def _on_load(self, _page: Page) -> None:
        self._nav_done.set()

    # --- helpers ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self, doing: Detail) -> Iterator[None]:
        """The session's error boundary: Playwright errors become ProbeError/MonitorFault."""
        try:
            yield
        except ProbeError:
            raise
        except Exception as exc:
            if self._gate_error is not None:
                raise self._gate_error from None  # the gate aborted: its own exception wins
            raise probe_error(exc, doing) from exc

    async def _bounded(self, step: Awaitable[T], doing: Detail) -> T:
        """Await ``step`` with ``timeout`` seconds, plus whatever the gate made it wait."""
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(step)
        # A page past the size cap is given up at once: Chromium may never finish it.
        cut_off = asyncio.ensure_future(self._cut_off.wait())
        started, gate_before = loop.time(), self._gate_seconds
        try:
            while True:
                spent = loop.time() - started - (self._gate_seconds - gate_before)
                left = self._timeout - spent
                if left <= 0 and not self._gate_waiting:
                    raise ProbeError(
                        "timeout",
                        Detail("step_timeout", {"seconds": self._timeout, "doing": doing}),
                    )
                done, _ = await asyncio.wait(
                    {task, cut_off}, timeout=max(left, 0.05), return_when=asyncio.FIRST_COMPLETED
                )
                if task in done:
                    return task.result()
                if cut_off in done and self._gate_error is not None:
                    raise self._gate_error
        finally:
            cut_off.cancel()
            if not task.done():
                task.cancel()
                # Retrieve the outcome so an error after cancellation is not logged as lost.
                task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _element(self, selector: str, what: str) -> Locator:
        try:
            await self._page.wait_for_selector(selector, state="attached")
        except PlaywrightTimeoutError as exc:
            raise ProbeError(
                "unrecognized",
                Detail("no_element", {"what": what, "selector": selector, "url": self._page.url}),
            ) from exc
        return self._page.locator(selector).first

    async def _press(self, element: Locator) -> PageSnapshot:
        """Click, then wait for the navigation it starts (if any) to load."""
        self._nav_started.clear()
        self._nav_done.clear()
        self._nav_failure = None
        await self._bounded(
            self._click_and_wait(element), _doing("after_click", url=self._page.url)
        )
        if self._gate_error is not None:
            raise self._gate_error
        if self._nav_failure is not None:
            failure, url = self._nav_failure
            doing = _doing("load", url=url)
            raise net_error(failure, doing) or ProbeError(
                "connection", Detail("request_failed", {"failure": failure, "doing": doing})
            )
        return await self._settled()

    async def _click_and_wait(self, element: Locator) -> None:
        # Actionability on Playwright's clock first: a button that never becomes clickable
        # must not leave a click pending in the driver once we have given up.
        await element.click(trial=True)
        # The click then waits for the navigation it schedules to commit. The gate may hold
        # that navigation back, so only _bounded's clock (which excludes the gate) applies.
        await element.click(timeout=0)
        if not self._nav_started.is_set():
            try:
                # A script may navigate a moment after the click.
                await asyncio.wait_for(self._nav_started.wait(), NAVIGATION_GRACE_SECONDS)
            except TimeoutError:
                return  # the click changed the page in place, or nothing
        await self._nav_done.wait()

    async def _set_field(self, scope: Locator, name: str, value: str) -> None:
        candidates = scope.locator(f"[name={_css_string(name)}]")
        if not await candidates.count():
            raise ProbeError(
                "unrecognized", Detail("no_field", {"name": name, "url": self._page.url})
            )
        kinds: list[list[str]] = await candidates.evaluate_all(
            "els => els.map(e => [e.tagName.toLowerCase(), (e.type || '').toLowerCase(), e.value])"
        )
        tag, kind = kinds[0][0], kinds[0][1]
        if kind in {"checkbox", "radio"}:
            index = next((i for i, (_, _, own) in enumerate(kinds) if own == value), None)
            if index is None and kind == "radio":
                raise ProbeError(
                    "unrecognized",
                    Detail("no_choice", {"value": value, "name": name, "url": self._page.url}),
                )
            await candidates.nth(index or 0).check()  # any value checks a lone checkbox
        elif tag == "select":
            await self._choose_option(candidates.first, value, name)
        elif kind == "hidden":
            await candidates.first.evaluate("(e, v) => { e.value = v; }", value)
        else:
            await candidates.first.fill(value)

    async def _choose_option(self, select: Locator, value: str, what: str) -> None:
        offered: list[list[str]] = await select.evaluate(
            "s => Array.from(s.options).map(o => [o.value, o.label.trim()])"
        )
        if not any(value in option for option in offered):
            raise ProbeError(
                "unrecognized",
                Detail("no_option", {"value": value, "name": what, "url": self._page.url}),
            )
        await select.select_option(value)

    async def _settled(self) -> PageSnapshot:
        # Pages that poll never go idle; what has loaded by then is what a person sees.
        with contextlib.suppress(PlaywrightTimeoutError):
            await self._page.wait_for_load_state("networkidle", timeout=SETTLE_SECONDS * 1000)
        return await self._capture()

    async def _capture(self) -> PageSnapshot:
        for attempt in range(3):
            try:
                html = await self._page.content()
                break
            except PlaywrightError as exc:
                # content() refuses while a navigation commits; wait for it and try again.
                if "navigating" not in exc.message or attempt == 2:
                    raise
                await self._page.wait_for_load_state("load")
        snapshot = PageSnapshot(
            url=self._nav_url or self._page.url,
            final_url=self._page.url,
            http_status=self._nav_status,
            html=html,
            retry_after=self._nav_retry_after,
        )
        self._snapshot = snapshot
        return snapshot
