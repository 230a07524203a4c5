"""One probe's page in Chromium: the steps a probe takes on it, and what each one saw.

:class:`BrowserSession` opens pages, fills and submits forms, clicks, waits, fetches, and
returns a :class:`~monitor.domain.PageSnapshot` of the page after each step; every
Playwright error becomes a ``ProbeError`` naming the step. The politeness gate sits in
Chromium's own request pipeline (``monitor.probes._page_gate``), the main document's
answers are followed by ``monitor.probes._navigation``, and fields are filled by
``monitor.probes._form_fields``.

Time spent waiting at the gate is not charged to the request: a navigation gets ``timeout``
seconds of the site's time. The whole probe's deadline is the caller's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from urllib.parse import urljoin

from playwright.async_api import BrowserContext, Locator, Page
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from monitor.domain import Detail, DetailCode, Engine, PageSnapshot, Reason
from monitor.errors import MonitorFault, ProbeError
from monitor.probes._activity import NetworkActivity
from monitor.probes._decoding import decode_body
from monitor.probes._devtools import DevTools
from monitor.probes._form_fields import choose_option, set_field
from monitor.probes._navigation import Navigation
from monitor.probes._page_gate import PageGate
from monitor.probes._page_read import PageReader, Size
from monitor.probes._playwright_errors import net_error, probe_error
from monitor.probes.base import RequestGate
from monitor.probes.limits import MAX_RESPONSE_BYTES, too_large

#: After a step's page has loaded: how long no request of its may be in flight or move
#: before the flow reads it (a fetch its load handlers start is waited for).
QUIET_AFTER_STEP = 0.1
#: Before a page is kept as evidence and classified: the same, over Playwright's
#: ``networkidle`` window, so that a fetch a timer starts soon after load is in the page.
QUIET_BEFORE_EVIDENCE = 0.5
#: The longest either wait lasts: pages that poll never go quiet.
SETTLE_SECONDS = 1.5
#: The most times the final page is read while its network keeps moving.
MAX_EVIDENCE_READS = 3
#: After a click, how long a navigation may take to start before we call it an in-page update.
NAVIGATION_GRACE_SECONDS = 0.5
MAX_REDIRECTS = 20


def _doing(code: DetailCode, **values: str) -> Detail:
    """What the session was doing when something failed (a ``doing.*`` code): "loading
    https://…"."""
    return Detail(code, values)


class BrowserSession:
    """A browser context and its one page, driven for one probe (see ``PageSession``)."""

    engine: Engine = Engine.BROWSER

    def __init__(
        self,
        context: BrowserContext,
        page: Page,
        *,
        navigation: Navigation,
        gate: PageGate,
        activity: NetworkActivity,
        reader: PageReader,
        timeout: float,
    ) -> None:
        """Use ``start``, which also wires the page's events and the gate."""
        self._context = context
        self._page = page
        self._reader = reader
        self._navigation = navigation
        self._gate = gate
        self._activity = activity
        self._timeout = timeout
        self._snapshot: PageSnapshot | None = None
        self._steps = 0  #: steps that may have changed the page (opens, clicks, fills)
        #: (steps, counted network moves) when ``_snapshot`` was read
        self._read_at: tuple[int, int] | None = None

    @classmethod
    async def start(
        cls, context: BrowserContext, *, gate: RequestGate, timeout: float
    ) -> BrowserSession:
        """Open the page and put the gate in its request pipeline."""
        page = await context.new_page()
        page.set_default_timeout(timeout * 1000)
        page.set_default_navigation_timeout(timeout * 1000)
        cdp = DevTools(await context.new_cdp_session(page))
        tree = await cdp.send("Page.getFrameTree")
        main_frame_id = str(tree["frameTree"]["frame"]["id"])
        navigation = Navigation(page, cdp, main_frame_id=main_frame_id)
        page_gate = PageGate(
            cdp, gate, main_frame_id=main_frame_id, on_main_document=navigation.started.set
        )
        activity = NetworkActivity(cdp)
        reader = PageReader(page, cdp, main_frame_id=main_frame_id)
        session = cls(
            context,
            page,
            navigation=navigation,
            gate=page_gate,
            activity=activity,
            reader=reader,
            timeout=timeout,
        )
        navigation.watch()
        reader.watch()
        activity.watch()
        await page_gate.enable()
        return session

    async def open(self, url: str) -> PageSnapshot:
        """Navigate to ``url`` and wait for load, then for its requests to settle."""
        self._steps += 1
        self._navigation.failure = None
        if self._gate.target is None:
            self._gate.target = url
        loading = Detail("doing.load", {"url": url})
        with self._errors(loading):
            goto = self._page.goto(url, wait_until="load", timeout=0)
            response = await self._gate.bounded(goto, loading, self._timeout)
            if self._gate.error is not None:
                raise self._gate.error  # e.g. the page went past the size cap and was stopped
            if response is not None:
                self._navigation.record(response)
            return await self._settled()

    async def submit(
        self,
        *,
        button: str,
        fields: Mapping[str, str] | None = None,
        form: str | None = None,
    ) -> PageSnapshot:
        """Fill ``fields`` by name in the button's form (or ``form``), then press the button."""
        self._steps += 1
        with self._errors(_doing("doing.submit", button=button, url=self._page.url)):
            pressed = await self._element(button, "button")
            if form is not None:
                scope = self._page.locator(form).first
            else:
                owner = self._page.locator("form", has=self._page.locator(button))
                scope = owner.first if await owner.count() else self._page.locator(":root")
            for name, value in (fields or {}).items():
                await set_field(self._page, scope, name, value)
            return await self._press(pressed)

    async def click(self, selector: str) -> PageSnapshot:
        self._steps += 1
        with self._errors(_doing("doing.click", selector=selector, url=self._page.url)):
            return await self._press(await self._element(selector, "element"))

    async def fill(self, selector: str, value: str) -> None:
        self._steps += 1
        with self._errors(_doing("doing.fill", selector=selector, url=self._page.url)):
            element = await self._element(selector, "field")
            if await element.evaluate("e => e.tagName.toLowerCase()") == "select":
                await choose_option(self._page, element, value, selector)
            else:
                await element.fill(value)

    async def check(self, selector: str) -> None:
        self._steps += 1
        with self._errors(_doing("doing.check", selector=selector, url=self._page.url)):
            await (await self._element(selector, "checkbox")).check()

    async def select(self, selector: str, value: str) -> None:
        self._steps += 1
        with self._errors(_doing("doing.select", selector=selector, url=self._page.url)):
            await choose_option(
                self._page, await self._element(selector, "select"), value, selector
            )

    async def wait_for(self, selector: str) -> PageSnapshot:
        """Wait up to ``timeout`` for ``selector``; ProbeError(unrecognized) if it never comes."""
        with self._errors(_doing("doing.wait", selector=selector, url=self._page.url)):
            await self._element(selector, "element")
            snapshot, _ = await self._capture()
            return snapshot

    async def fetch(self, url: str, *, method: str = "GET") -> PageSnapshot:
        """Request ``url`` with the context's cookies, hop by hop through the gate; no navigation.

        A POST has an empty body; a redirect after it is followed with GET, as browsers do.
        """
        requested = urljoin(self._page.url, url)
        final_url, status, headers, body = await self._request(requested, method)
        return PageSnapshot(
            url=requested,
            final_url=final_url,
            http_status=status,
            html=decode_body(body, headers.get("content-type")),
            retry_after=headers.get("retry-after"),
        )

    async def fetch_media(self, url: str) -> tuple[int, str | None, bytes]:
        """``url``'s status, media type and raw bytes (an image, a sound), with the
        context's cookies and through the gate; redirects followed, size capped."""
        _, status, headers, body = await self._request(urljoin(self._page.url, url), "GET")
        return status, headers.get("content-type"), body

    async def _request(self, url: str, method: str) -> tuple[str, int, dict[str, str], bytes]:
        """The final URL, status, headers and body of ``url``, its redirects followed hop by
        hop, each hop through the gate, each answer cut off past the size cap."""
        requested = url
        for _hop in range(MAX_REDIRECTS + 1):
            self._gate.refuse(url, first=requested)
            await self._gate.admit(url)
            with self._errors(_doing("doing.fetch", url=url)):
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
            return url, status, headers, body
        raise ProbeError(
            Reason.HTTP_ERROR,
            Detail("too_many_redirects", {"max": MAX_REDIRECTS, "url": requested}),
        )

    def current(self) -> PageSnapshot:
        if self._snapshot is None:
            raise MonitorFault(Reason.INTERNAL, "no page has been opened in this session yet")
        return self._snapshot

    async def final_snapshot(self, label: str = "") -> PageSnapshot:
        """The rendered page once its network is quiet, with a full-page PNG screenshot.

        The page is read first and the quiet window checked after: when no counted request
        started or ended meanwhile, what was read is the quiet page, and the time the
        screenshot took counts towards the window. Otherwise it is read again.

        The first read is the flow's own when no step was taken and no counted request
        moved since the flow read the page (its classification read it a moment ago): only
        the screenshot is taken then.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_SECONDS
        for read in range(MAX_EVIDENCE_READS):
            moves = self._activity.moves
            snapshot = await self._evidence(reuse=read == 0)
            left = max(deadline - loop.time(), 0.0)
            went_quiet = await self._activity.quiet(QUIET_BEFORE_EVIDENCE, limit=left)
            if self._activity.moves == moves:
                break
            if not went_quiet:
                # Still busy at the deadline (a page that polls): read it as it is now.
                snapshot = await self._evidence()
                break
        else:
            snapshot = await self._evidence()  # it kept moving: the page as it is now
        return dataclasses.replace(snapshot, label=label)

    async def close(self) -> None:
        """Stop gate waits still pending; the engine closes the context itself."""
        await self._gate.close()

    # --- helpers ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self, doing: Detail) -> Iterator[None]:
        """The session's error boundary: Playwright errors become ProbeError/MonitorFault."""
        try:
            yield
        except ProbeError:
            raise
        except Exception as exc:
            if self._gate.error is not None:
                raise self._gate.error from None  # the gate aborted: its own exception wins
            raise probe_error(exc, doing) from exc

    async def _element(self, selector: str, what: str) -> Locator:
        try:
            await self._page.wait_for_selector(selector, state="attached")
        except PlaywrightTimeoutError as exc:
            raise ProbeError(
                Reason.UNRECOGNIZED,
                Detail("no_element", {"what": what, "selector": selector, "url": self._page.url}),
            ) from exc
        return self._page.locator(selector).first

    async def _press(self, element: Locator) -> PageSnapshot:
        """Click, then wait for the navigation it starts (if any) to load."""
        self._navigation.expect()
        await self._gate.bounded(
            self._click_and_wait(element),
            _doing("doing.after_click", url=self._page.url),
            self._timeout,
        )
        if self._gate.error is not None:
            raise self._gate.error
        if self._navigation.failure is not None:
            failure, url = self._navigation.failure
            doing = _doing("doing.load", url=url)
            raise net_error(failure, doing) or ProbeError(
                Reason.CONNECTION, Detail("request_failed", {"failure": failure, "doing": doing})
            )
        return await self._settled()

    async def _click_and_wait(self, element: Locator) -> None:
        # One click, its actionability on Playwright's clock (the page's default timeout):
        # a button that never becomes clickable is given up by the driver itself, and no
        # click is left pending there. Without Playwright's own wait for the navigation the
        # click starts (``no_wait_after``, which Playwright 1.65 still honours for clicks):
        # the gate may hold that navigation back, so only the wait below, on
        # PageGate.bounded's clock (which leaves the gate out), applies.
        await element.click(no_wait_after=True)
        if not self._navigation.started.is_set():
            try:
                # A script may navigate a moment after the click.
                await asyncio.wait_for(self._navigation.started.wait(), NAVIGATION_GRACE_SECONDS)
            except TimeoutError:
                return  # the click changed the page in place, or nothing
        await self._navigation.done.wait()

    async def _settled(self) -> PageSnapshot:
        await self._activity.quiet(QUIET_AFTER_STEP, limit=SETTLE_SECONDS)
        snapshot, _ = await self._capture()
        return snapshot

    async def _evidence(self, *, reuse: bool = False) -> PageSnapshot:
        """The page as it is now, with its full-page screenshot (cut to the caps).

        ``reuse``: the flow's last read stands for the page's HTML when nothing has moved
        since (see ``final_snapshot``).
        """
        with self._errors(_doing("doing.screenshot", url=self._page.url)):
            unmoved = (self._steps, self._activity.moves) == self._read_at
            if reuse and unmoved and self._snapshot is not None:
                snapshot, size = self._snapshot, None
            else:
                snapshot, size = await self._capture(measure=True)
            png, cut = await self._reader.screenshot(size)
        return dataclasses.replace(snapshot, screenshot=png, screenshot_cut=cut)

    async def _capture(self, *, measure: bool = False) -> tuple[PageSnapshot, Size | None]:
        """The page as it is now; ``too_large`` when its HTML is past the size cap.
        ``measure``: with the page's full size, for a screenshot."""
        size: Size | None = None
        for attempt in range(3):
            try:
                read_at = (self._steps, self._activity.moves)
                if measure:
                    html, size = await self._reader.html_and_size()
                else:
                    html = await self._reader.html()
                break
            except PlaywrightError:
                # A navigation that commits meanwhile destroys the world the page was read
                # in: wait for the new page to load and read it again.
                if attempt == 2:
                    raise
                await self._page.wait_for_load_state("load")
        snapshot = PageSnapshot(
            url=self._navigation.url or self._page.url,
            final_url=self._page.url,
            http_status=self._navigation.status,
            html=html,
            retry_after=self._navigation.retry_after,
        )
        self._snapshot, self._read_at = snapshot, read_at
        return snapshot, size
