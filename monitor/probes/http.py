"""The HTTP engine: httpx with one cookie jar per probe, forms submitted as a browser would.

Each probe gets its own ``httpx.AsyncClient`` (so cookies never leak from one probe to the
next) over one connection pool shared by the engine. Redirects are followed here, hop by hop,
rather than inside httpx, so that the politeness gate sees every request: a redirect is a
request to the site like any other.

``_probe_error`` is the one place where httpx exceptions become ``ProbeError`` /
``MonitorFault``. HTTP error statuses are not exceptions: a 502 page comes back as a snapshot.

What a site sends is the site's: a ``Location`` to ``javascript:``, ``data:``, ``mailto:`` or
``about:``, a port over 65535, an address httpx cannot parse (in a redirect, a link, a form's
action or ``<base href>``) is ``anomaly/blocked`` with the detail ``destination_refused``
naming what the site sent, as on the browser engine; a redirect's ``Location`` is checked by
a response hook before httpx builds the next request from it. A charset that is no text
encoding is ignored (``_decoding``). ``monitor_error/internal`` is left for our own faults.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from functools import lru_cache

import httpx

from monitor.domain import Detail, DetailCode, Engine, PageSnapshot, Reason
from monitor.errors import MonitorError, MonitorFault, ProbeError
from monitor.probes._decoding import decode_body
from monitor.probes.base import RequestGate, no_gate
from monitor.probes.destinations import malformed, redirect_refusal, refusal
from monitor.probes.forms import FormSubmission, Inert, Link, ParsedPage, PendingValue
from monitor.probes.limits import MAX_RESPONSE_BYTES, too_large

logger = logging.getLogger(__name__)

#: Browsers give up after about 20 redirects; so do we (then: anomaly/http_error).
MAX_REDIRECTS = 20
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_LANGUAGE = "fr-FR,fr;q=0.9"


class _BorrowedTransport(httpx.AsyncBaseTransport):
    """The engine's shared pool, lent to one session's client.

    Closing a client closes its transport; this wrapper makes that a no-op so that the pool
    outlives each probe and is closed once, by ``HttpEngine.aclose``.
    """

    def __init__(self, pool: httpx.AsyncBaseTransport) -> None:
        self._pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._pool.handle_async_request(request)

    async def aclose(self) -> None:
        pass


class HttpEngine:
    """Plain HTTP requests: fast and light, for server-rendered booking pages.

    One instance per process. ``timeout`` bounds each request (each redirect hop), not
    counting the time the politeness gate holds it back; the whole probe's deadline is the
    caller's.
    """

    kind: Engine = Engine.HTTP

    def __init__(self, *, user_agent: str, timeout: float, max_connections: int = 20) -> None:
        self.user_agent = user_agent
        self.timeout = timeout
        self.sessions_opened = 0  #: sessions started since the engine was made
        self._pool = httpx.AsyncHTTPTransport(
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            retries=0,  # a retry would be a request the gate never saw
        )
        self._closed = False

    @asynccontextmanager
    async def session(self, *, gate: RequestGate = no_gate) -> AsyncIterator[HttpSession]:
        """A fresh cookie jar for one probe, closed on every path."""
        if self._closed:
            raise MonitorFault(Reason.INTERNAL, "the HTTP engine is already closed")
        client = httpx.AsyncClient(
            transport=_BorrowedTransport(self._pool),
            headers={
                "User-Agent": self.user_agent,
                "Accept": ACCEPT,
                "Accept-Language": ACCEPT_LANGUAGE,
            },
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            event_hooks={"response": [_check_redirect]},
        )
        self.sessions_opened += 1
        try:
            yield HttpSession(client, gate=gate, timeout=self.timeout)
        finally:
            await client.aclose()

    async def aclose(self) -> None:
        """Close the shared connection pool; sessions cannot be opened afterwards."""
        self._closed = True
        await self._pool.aclose()


class HttpSession:
    """One probe's walk through a site with httpx (see ``PageSession``).

    ``fill``, ``check`` and ``select`` only record values; the next ``submit`` (or click on a
    submit button) of the same page sends them. Navigating elsewhere forgets them.
    """

    engine: Engine = Engine.HTTP

    def __init__(self, client: httpx.AsyncClient, *, gate: RequestGate, timeout: float) -> None:
        self._client = client
        self._gate = gate
        self._timeout = timeout
        self._page: PageSnapshot | None = None
        self._parsed: ParsedPage | None = None
        self._pending: list[PendingValue] = []
        self._target: str | None = None  #: the session's first URL: the target's own

    async def open(self, url: str) -> PageSnapshot:
        """GET ``url``, following redirects; it becomes the current page."""
        return self._arrive(await self._send("GET", self._absolute(url)))

    async def submit(
        self,
        *,
        button: str,
        fields: Mapping[str, str] | None = None,
        form: str | None = None,
    ) -> PageSnapshot:
        """Send the form as a browser would on pressing ``button`` (see ``forms``)."""
        page = self._parsed_page()
        submission = page.submission(button=button, form=form, fields=fields, pending=self._pending)
        return self._arrive(await self._send_form(submission))

    async def click(self, selector: str) -> PageSnapshot:
        """Follow a link, or submit a submit button's form; JS-only elements do nothing."""
        page = self._parsed_page()
        target = page.click_target(selector)
        if isinstance(target, Link):
            return self._arrive(await self._send("GET", target.url, headers=self._referer()))
        if isinstance(target, Inert):
            # Typically a cookie banner's JS button: without a browser there is nothing to do.
            logger.debug("click on %r ignored by the HTTP engine: %s", selector, target.why)
            return self.current()
        submission = page.submission(button=target.node, pending=self._pending)
        return self._arrive(await self._send_form(submission))

    async def fill(self, selector: str, value: str) -> None:
        self._pending.append(self._parsed_page().pending(selector, value=value))

    async def check(self, selector: str) -> None:
        self._pending.append(self._parsed_page().pending(selector, checking=True))

    async def select(self, selector: str, value: str) -> None:
        self._pending.append(self._parsed_page().pending(selector, value=value))

    async def wait_for(self, selector: str) -> PageSnapshot:
        """Without JavaScript nothing appears later: the element is in the HTML or it is not."""
        self._parsed_page().require(selector)
        return self.current()

    async def fetch(self, url: str, *, method: str = "GET") -> PageSnapshot:
        """GET or POST (empty body) ``url`` with the session's cookies; the page stays."""
        headers = self._referer()
        if method == "GET":
            return await self._send("GET", self._absolute(url), headers=headers)
        absolute = self._absolute(url)
        headers["Origin"] = _origin(absolute)
        return await self._send(method, absolute, headers=headers, content=b"")

    def current(self) -> PageSnapshot:
        if self._page is None:
            raise MonitorFault(Reason.INTERNAL, "no page has been opened in this session yet")
        return self._page

    async def final_snapshot(self, label: str = "") -> PageSnapshot:
        """The current page, labelled; the HTTP engine takes no screenshot."""
        return dataclasses.replace(self.current(), label=label)

    def _arrive(self, snapshot: PageSnapshot) -> PageSnapshot:
        self._page = snapshot
        self._parsed = None
        self._pending.clear()
        return snapshot

    def _parsed_page(self) -> ParsedPage:
        if self._parsed is None:
            page = self.current()
            self._parsed = ParsedPage(page.html, page.final_url)
        return self._parsed

    def _absolute(self, url: str) -> str:
        if self._page is None:
            return url
        try:
            return str(httpx.URL(self._page.final_url).join(url))
        except httpx.InvalidURL as exc:
            raise _malformed(url) from exc

    def _referer(self) -> dict[str, str]:
        return {"Referer": self._page.final_url} if self._page else {}

    async def _send_form(self, submission: FormSubmission) -> PageSnapshot:
        headers = self._referer()
        if submission.method == "GET":
            return await self._send("GET", submission.url, headers=headers)
        # Browsers send Origin on every POST; some CSRF protections insist on it.
        headers["Origin"] = _origin(submission.url)
        if submission.multipart:
            parts = [(name, (None, value.encode())) for name, value in submission.entries]
            return await self._send("POST", submission.url, headers=headers, files=parts)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return await self._send(
            "POST", submission.url, headers=headers, content=submission.urlencoded()
        )

    async def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        files: list[tuple[str, tuple[None, bytes]]] | None = None,
    ) -> PageSnapshot:
        """One request and its redirects, each hop through the gate first."""
        # A URL from a page (a link, a form's action): checked before httpx parses it.
        refused = _refused(self._target or url, url)
        if refused is not None:
            raise ProbeError(Reason.BLOCKED, refused)
        try:
            request = self._client.build_request(
                method, url, headers=headers, content=content, files=files
            )
        except httpx.InvalidURL as exc:
            raise _malformed(url) from exc
        requested = str(request.url)
        if self._target is None:
            self._target = requested
        for _hop in range(MAX_REDIRECTS + 1):
            refused = _refused(self._target, str(request.url))
            if refused is not None:
                raise ProbeError(Reason.BLOCKED, refused)  # before the gate: nothing is sent
            # Outside the error boundary: whatever the gate raises to abort goes through as is.
            await self._gate(str(request.url))
            response, body = await self._exchange(request)
            if response.next_request is None:
                return PageSnapshot(
                    url=requested,
                    final_url=str(response.url),
                    http_status=response.status_code,
                    html=decode_body(body, response.headers.get("content-type")),
                    retry_after=response.headers.get("retry-after"),
                )
            request = response.next_request
        raise ProbeError(
            Reason.HTTP_ERROR,
            Detail("too_many_redirects", {"max": MAX_REDIRECTS, "url": requested}),
        )

    async def _exchange(self, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        """The answer and its body, decompressed, read up to ``MAX_RESPONSE_BYTES``."""
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.send(request, follow_redirects=False, stream=True)
                try:
                    return response, await _read_capped(response)
                finally:
                    await response.aclose()
        except MonitorError:
            raise
        except Exception as exc:
            raise _probe_error(exc, request.url, self._timeout) from exc


async def _check_redirect(response: httpx.Response) -> None:
    """Refuse a redirect the site sent to where a probe may not go (a response hook).

    Runs before httpx builds the next request from the ``Location`` header, which would
    fail on a ``javascript:`` or ``mailto:`` one (an ``InvalidURL`` that is not the
    monitor's fault) and would follow a port httpx cannot connect to.
    """
    if response.has_redirect_location:
        refused = redirect_refusal(str(response.url), response.headers["location"])
        if refused is not None:
            raise ProbeError(Reason.BLOCKED, refused)


#: Longest URL whose clearance by the destination rules is remembered (a page chooses it).
_REMEMBERED_URL = 2048


def _refused(target: str, url: str) -> Detail | None:
    """``destinations.refusal``, with the pairs it allowed remembered: a probe asks it twice
    a request, for the same few URLs each time (the rules are pure; a refusal is worked out
    again, to give its own detail)."""
    if len(url) <= _REMEMBERED_URL and len(target) <= _REMEMBERED_URL and _allowed(target, url):
        return None
    return refusal(target, url)


@lru_cache(maxsize=512)
def _allowed(target: str, url: str) -> bool:
    return refusal(target, url) is None


def _malformed(url: str) -> ProbeError:
    """The anomaly of a URL a page gave that is no address at all."""
    return ProbeError(Reason.BLOCKED, malformed(url))


async def _read_capped(response: httpx.Response) -> bytes:
    """The body, stopping (``too_large``) past the cap rather than holding it all."""
    url = str(response.url)
    declared = response.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise too_large(url)  # announced: no need to read any of it
    chunks: list[bytes] = []
    size = 0
    # Decompressed chunk by chunk: a gzip bomb costs one inflated network chunk at most.
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise too_large(url)
        chunks.append(chunk)
    return b"".join(chunks)


@lru_cache(maxsize=256)
def _origin(url: str) -> str:
    """The ``Origin`` header a browser sends with a POST to ``url``.

    Pure, and a probe posts to the same few URLs each time: remembered, not parsed again.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise _malformed(url) from exc
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _what_failed(exc: Exception) -> tuple[DetailCode, str]:
    """The detail code of a network error, from the OS error underneath it, and its message."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLError):
            return "tls_failure", str(cause.reason or cause)
        if isinstance(cause, socket.gaierror):
            return "cannot_resolve", str(cause)
        if isinstance(cause, OSError):
            if isinstance(cause, ConnectionRefusedError) or cause.errno == errno.ECONNREFUSED:
                return "connection_refused", str(cause)
            if isinstance(cause, ConnectionResetError) or cause.errno == errno.ECONNRESET:
                return "connection_reset", str(cause)
            if isinstance(cause, BrokenPipeError | ConnectionAbortedError):
                return "connection_closed", str(cause)
    if isinstance(exc, httpx.RemoteProtocolError):
        return "broken_answer", str(exc)
    if isinstance(exc, httpx.ConnectError):
        return "cannot_connect", str(exc)
    return "connection_failed", str(exc)


def _probe_error(exc: Exception, url: httpx.URL, timeout: float) -> ProbeError:
    """The one translation of httpx (and our own per-request deadline) into ProbeError."""
    port = url.port or {"http": 80, "https": 443}.get(url.scheme, 0)
    where = f"{url.host}:{port}"
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return ProbeError(
            Reason.TIMEOUT, Detail("no_answer", {"where": where, "seconds": timeout, "kind": kind})
        )
    if isinstance(exc, httpx.LocalProtocolError):
        # We built a request httpx refuses: our bug, not the site's.
        return MonitorFault(Reason.INTERNAL, f"could not send a request to {url} ({kind}: {exc})")
    if isinstance(exc, httpx.TransportError | httpx.DecodingError):
        code, message = _what_failed(exc)
        return ProbeError(
            Reason.CONNECTION, Detail(code, {"where": where, "kind": kind, "message": message})
        )
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        # An address the site gave that httpx cannot use, past what the hook checks.
        return _malformed(str(url))
    if isinstance(exc, httpx.TooManyRedirects):
        return ProbeError(Reason.HTTP_ERROR, Detail("too_many_redirects", {"url": str(url)}))
    return MonitorFault(Reason.INTERNAL, f"unexpected {kind} while requesting {url}: {exc}")
