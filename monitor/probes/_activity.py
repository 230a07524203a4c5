"""When a page's network has gone quiet: its requests that can still change what it shows.

Content a page's scripts fetch after its ``load`` event (a calendar's week, an app's data)
is only in the page once those requests have finished. :class:`NetworkActivity` follows the
page's requests in flight over its DevTools ``Network`` events and tells how long ago one
last started or finished; :meth:`NetworkActivity.quiet` waits until none is in flight and
none has moved for ``window`` seconds.

What is counted: documents (the page's and its frames'), scripts, and the calls scripts make
(XHR, ``fetch``). Images, styles and fonts are not: they change how a page looks, not what
it says, and the ones the page had at ``load`` are already in. Long-lived channels
(``EventSource``, WebSocket) never finish, so they are left out too.

Unlike Playwright's ``networkidle`` (500 ms without any request, whatever the page), the
caller picks the window: a short one between steps, the full one before the page is kept
as evidence (see ``monitor.probes._browser_session``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from monitor.probes._devtools import DevTools

__all__ = ["NetworkActivity"]

#: The requests that can still change what a page says (see the module docstring).
_COUNTED = frozenset({"Document", "Script", "XHR", "Fetch"})


class NetworkActivity:
    """One page's counted requests in flight, and the time of the last change."""

    def __init__(self, cdp: DevTools) -> None:
        self._cdp = cdp
        self._in_flight: set[str] = set()
        self._last_change = 0.0
        self.moves = 0  #: counted requests started or ended so far
        self._changed = asyncio.Event()

    def watch(self) -> None:
        """Follow the session's ``Network`` events (the domain is enabled by the gate)."""
        self._cdp.on("Network.requestWillBeSent", self._on_started)
        self._cdp.on("Network.loadingFinished", self._on_ended)
        self._cdp.on("Network.loadingFailed", self._on_ended)

    async def quiet(self, window: float, *, limit: float) -> bool:
        """Wait until no counted request is in flight and none moved for ``window`` seconds.

        Gives up after ``limit`` seconds (a page that polls never goes quiet; what it shows
        by then is what a person sees). True when the page went quiet.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            now = loop.time()
            if not self._in_flight and now - self._last_change >= window:
                return True
            if now >= deadline:
                return False
            # With a request in flight, only its end (or the deadline) can make it quiet.
            wake = deadline if self._in_flight else min(deadline, self._last_change + window)
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(wake - now, 0.0))

    def _on_started(self, event: dict[str, Any]) -> None:
        if event.get("type") not in _COUNTED:
            return
        # A redirect hop comes again under the same id: still the one request in flight.
        self._in_flight.add(str(event["requestId"]))
        self._moved()

    def _on_ended(self, event: dict[str, Any]) -> None:
        request_id = str(event["requestId"])
        if request_id in self._in_flight:
            self._in_flight.discard(request_id)
            self._moved()

    def _moved(self) -> None:
        self.moves += 1
        self._last_change = asyncio.get_running_loop().time()
        self._changed.set()
