"""One page's DevTools session as the browser session's parts use it: commands, and events
handed to each part as Chromium sent them.

The gate (``monitor.probes._page_gate``), the network activity (``_activity``) and the
navigations (``_navigation``) all follow ``Network`` events, several of them the same
ones, for every request of the page: an image is six events. Through Playwright's public
``CDPSession.on`` each listener of each event costs a deep copy of the event's parameters
(headers, the initiator's stack) and a look at the listener's signature, in Python, on the
event loop: about a tenth of the browser engine's Python time for a legacy probe's 50
requests. :class:`DevTools` puts the parts' handlers on the session's implementation
object when Playwright has one: it hands each the parameters as they arrived (the same
dict: handlers must not change it), and still keeps one handler's error from the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.async_api import CDPSession

__all__ = ["DevTools", "Handler"]

Handler = Callable[[dict[str, Any]], None]


class DevTools:
    """A page's CDP session: ``send`` a command, ``on`` an event (see the module docstring)."""

    def __init__(self, cdp: CDPSession) -> None:
        self._cdp = cdp
        # Playwright's implementation object (its event emitter without the public API's
        # conversions); the public session when a Playwright version has none.
        self._emitter: Any = getattr(cdp, "_impl_obj", cdp)

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = await self._cdp.send(method, params)
        return answer

    def on(self, method: str, handler: Handler) -> None:
        """Call ``handler`` with each ``method`` event's parameters."""
        self._emitter.on(method, lambda params: handler(params or {}))
