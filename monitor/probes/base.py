"""The interface platform flows use to walk a site, whichever engine fetches it.

A platform adapter drives a :class:`PageSession` (open a URL, submit a form, click, read
the page) and never knows whether httpx or Chromium is behind it. Engines translate their
own exceptions into :class:`monitor.errors.ProbeError` (site-side: timeout, connection) or
:class:`monitor.errors.MonitorFault` (our side: browser crash, internal) at one boundary.

HTTP error statuses are NOT exceptions: a 502 page is a page, returned as a snapshot with
its ``http_status``, and recognition decides what it means.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from monitor.domain import Engine, PageSnapshot

#: Called with the URL before every request a probe makes (navigation, form post, XHR the
#: flow asks for). The scheduler's politeness gate waits here; it may raise to abort.
RequestGate = Callable[[str], Awaitable[None]]


async def no_gate(url: str) -> None:
    """A gate that never waits (tests, `monitor check` without politeness)."""


class PageSession(Protocol):
    """One probe's browsing session: cookies and the current page persist across calls."""

    engine: Engine

    async def open(self, url: str) -> PageSnapshot:
        """Navigate to ``url`` (following redirects) and return the resulting page."""
        ...

    async def submit(
        self,
        *,
        button: str,
        fields: Mapping[str, str] | None = None,
        form: str | None = None,
    ) -> PageSnapshot:
        """Submit a form of the current page by pressing ``button`` (a CSS selector).

        ``fields`` maps input names to values; for a checkbox, any value checks it. The form
        is ``form`` (a CSS selector) or the one containing ``button``. The button's own
        name/value are sent, as a browser would.
        """
        ...

    async def click(self, selector: str) -> PageSnapshot:
        """Click a link or button; for the HTTP engine, follow the link's ``href``."""
        ...

    async def fill(self, selector: str, value: str) -> None:
        """Type into a field (kept for the next submit by the HTTP engine)."""
        ...

    async def check(self, selector: str) -> None:
        """Tick a checkbox (kept for the next submit by the HTTP engine)."""
        ...

    async def select(self, selector: str, value: str) -> None:
        """Choose an option of a select (kept for the next submit by the HTTP engine)."""
        ...

    async def wait_for(self, selector: str) -> PageSnapshot:
        """Wait until ``selector`` is on the page (browser) or check it is (HTTP).

        Raises ProbeError(reason="unrecognized") when it does not appear in time.
        """
        ...

    async def fetch(self, url: str, *, method: str = "GET") -> PageSnapshot:
        """Request ``url`` within the session without changing the current page (AJAX calls).

        ``method`` is ``GET`` or ``POST``; a POST has an empty body, as a script's call does.
        """
        ...

    def current(self) -> PageSnapshot:
        """The current page, as last loaded."""
        ...

    async def final_snapshot(self, label: str = "") -> PageSnapshot:
        """The current page with its rendered HTML and, for the browser, a full-page screenshot."""
        ...


class ProbeEngine(Protocol):
    """A way of fetching pages; one long-lived instance per process and engine kind."""

    kind: Engine

    def session(self, *, gate: RequestGate = no_gate) -> AbstractAsyncContextManager[PageSession]:
        """A fresh session (cookies, browser context) for one probe, closed on every path."""
        ...

    async def aclose(self) -> None:
        """Release everything (browser process, connection pools)."""
        ...
