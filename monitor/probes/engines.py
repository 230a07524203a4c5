"""The probe engines of one process, made on first use from the settings.

The HTTP engine is cheap; the browser engine starts Chromium, so it is only made when a
browser target is probed, and then once for the whole process (it launches Chromium lazily
itself, and relaunches only after a crash). ``aclose`` releases whatever was made.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from monitor.config import Settings
from monitor.domain import Engine, Reason
from monitor.errors import MonitorFault
from monitor.probes.base import ProbeEngine
from monitor.probes.http import HttpEngine

if TYPE_CHECKING:  # imported when a browser target is probed: Playwright is large
    from monitor.probes.browser import BrowserEngine

logger = logging.getLogger(__name__)


class Engines:
    """The HTTP and browser engines for one process, created lazily."""

    def __init__(self, settings: Settings, *, env: Mapping[str, str] | None = None) -> None:
        self._settings = settings
        self._env = os.environ if env is None else env
        self._http: HttpEngine | None = None
        self._browser: BrowserEngine | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def browser(self) -> BrowserEngine | None:
        """The browser engine, if a browser target was probed."""
        return self._browser

    @property
    def browser_launches(self) -> int:
        """How many times Chromium was launched by this process (0 if never needed)."""
        return self._browser.launch_count if self._browser is not None else 0

    async def get(self, kind: Engine) -> ProbeEngine:
        """The engine of ``kind``; raises BrowserNotFound when Chromium cannot be found."""
        async with self._lock:
            if self._closed:
                raise MonitorFault(Reason.INTERNAL, "the engines are already closed")
            if kind is Engine.HTTP:
                if self._http is None:
                    self._http = HttpEngine(
                        user_agent=self._settings.user_agent, timeout=self._timeout
                    )
                return self._http
            if self._browser is None:
                from monitor.probes.browser import BrowserEngine
                from monitor.probes.chromium import find_chromium

                executable = find_chromium(self._settings.browser.executable_path, self._env)
                self._browser = BrowserEngine(
                    executable_path=executable,
                    user_agent=self._settings.user_agent,
                    timeout=self._timeout,
                    max_contexts=self._settings.browser.max_contexts,
                )
                logger.debug("browser engine uses %s", executable)
            return self._browser

    @property
    def _timeout(self) -> float:
        return self._settings.probe_timeout.total_seconds()

    async def aclose(self) -> None:
        """Close the engines that were made (Chromium included); counters stay readable."""
        self._closed = True
        http, browser = self._http, self._browser
        if http is not None:
            await http.aclose()
        if browser is not None:
            await browser.aclose()
            logger.info(
                "browser engine: Chromium launched %d time(s) for %d probe session(s)",
                browser.launch_count,
                browser.sessions_opened,
            )
