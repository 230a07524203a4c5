"""The browser engine: one long-lived Chromium, a fresh context (cookies, storage) per probe.

Modelled on scrapy-playwright's download handler:

- Playwright and Chromium start lazily, under a lock, on the first session; launching per
  probe would cost a second and hundreds of MB each time.
- ``max_contexts`` sessions run at once (a semaphore); the others wait their turn.
- When Chromium crashes or is closed, its ``disconnected`` event forgets it and the next
  session launches a new one. A session that finds the browser dead while opening its
  context relaunches once rather than failing a probe for a crash that happened while idle.
- After ``recycle_after`` sessions the browser is retired (long-lived Chromium grows): new
  sessions get a fresh browser at once, the old one is closed when its last session ends.
- Every context is closed on every path; ``aclose`` closes contexts, browsers, Playwright.

Chromium runs with the flags this machine needs without internet (no background
networking, no component updates) and a throw-away profile made by Playwright; with its
sandbox wherever the platform allows it (``chromium.sandbox_choice``: not as root, not
without user namespaces, and not where a first launch with it fails, each said once in a
WARNING line); and, like the Playwright driver (``monitor.probes._driver``), with only the
environment a browser needs (``chromium.browser_environment``), none of the monitor's secrets.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from playwright.async_api import (
    Browser,
    BrowserContext,
    Playwright,
    ViewportSize,
)
from playwright.async_api import Error as PlaywrightError

from monitor.domain import Detail, Engine, Reason
from monitor.errors import MonitorFault
from monitor.probes._browser_session import BrowserSession
from monitor.probes._driver import start_playwright
from monitor.probes._playwright_errors import first_line, probe_error
from monitor.probes.base import RequestGate, no_gate
from monitor.probes.chromium import (
    SandboxChoice,
    browser_environment,
    driver_environment,
    platform_sandbox_choice,
)

__all__ = [
    "CHROMIUM_FLAGS",
    "ENGINE_DISABLED_FEATURES",
    "PLAYWRIGHT_DISABLED_FEATURES",
    "BrowserEngine",
    "BrowserSession",
]

logger = logging.getLogger(__name__)

#: The features Playwright (1.65) switches off with its own ``--disable-features``. Chromium
#: keeps only the last of repeated switches, so the engine's ``--disable-features`` repeats
#: them; tests/system/test_probe_browser.py checks that it still covers what Playwright disables.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AimEnabled",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsFirstBalancedModeAutoEnable",
    "HttpsUpgrades",
    "LensOverlay",
    "MediaRouter",
    "NetworkTimeServiceQuerying",
    "OptimizationHints",
    "PaintHolding",
    "PreconnectToSearch",
    "TcpPortRandomizationWin",
    "ThirdPartyStoragePartitioning",
    "msEdgeUpdateLaunchServicesPreferredVersion",
    "msForceBrowserSignIn",
)
#: Since Chromium 151 every browser window (Playwright opens one per context, so one per
#: probe) preloads the address bar's drop-down, chrome://omnibox-popup.top-chrome, in a
#: renderer of its own of about 40 MiB that a headless probe never shows. Without it, four
#: probes open cost the driver and Chromium 612 MiB of PSS instead of 786 (16 processes
#: → 12; Debian's Chromium 156, bench/results/chromium-memory.md), and the HTML and
#: screenshots are byte for byte the same. Puppeteer switches these two off by default too.
ENGINE_DISABLED_FEATURES = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup")

#: Headless-server flags: no GPU, none of Chromium's own background connections (updates,
#: sync, QUIC probes), which a closed network refuses and a site never needs, and no
#: browser-window UI preloaded per context (see ENGINE_DISABLED_FEATURES).
CHROMIUM_FLAGS = (
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=" + ",".join((*PLAYWRIGHT_DISABLED_FEATURES, *ENGINE_DISABLED_FEATURES)),
)
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}


_warned: set[str] = set()


def _sandbox_off(why: str) -> None:
    """Say once per process, in one WARNING line, that Chromium runs without its sandbox."""
    if why not in _warned:
        _warned.add(why)
        logger.warning("Chromium runs without its sandbox: %s", why)


@dataclass(eq=False)
class _Launched:
    """One Chromium process and the sessions that use it."""

    browser: Browser
    sessions: int = 0  #: sessions started on it, for recycling
    in_flight: int = 0  #: sessions still open on it
    retired: bool = False  #: no new sessions; closed when in_flight reaches 0


class BrowserEngine:
    """Chromium through Playwright, for pages that need JavaScript. One per process."""

    kind: Engine = Engine.BROWSER

    def __init__(
        self,
        *,
        executable_path: str,
        user_agent: str,
        timeout: float,
        max_contexts: int = 4,
        recycle_after: int = 200,
        headless: bool = True,
        sandbox: SandboxChoice | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """``sandbox``: None decides from this machine; ``env``: os.environ, filtered."""
        self.executable_path = executable_path
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_contexts = max_contexts
        self.recycle_after = recycle_after
        self.headless = headless
        self.sandbox = sandbox  #: decided at the first launch when None
        self._env = os.environ if env is None else env
        self.launch_count = 0  #: Chromium launches (1 for the whole process, unless crashes)
        self.sessions_opened = 0  #: sessions started
        self.contexts_open = 0  #: browser contexts open right now
        self.peak_contexts = 0  #: most contexts open at once
        self._lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(max_contexts)
        self._playwright: Playwright | None = None
        self._current: _Launched | None = None
        self._retired: list[_Launched] = []
        self._contexts: set[BrowserContext] = set()
        self._closed = False

    @asynccontextmanager
    async def session(self, *, gate: RequestGate = no_gate) -> AsyncIterator[BrowserSession]:
        """A fresh browser context with one page, for one probe; closed on every path."""
        if self._closed:
            raise MonitorFault(Reason.INTERNAL, "the browser engine is already closed")
        async with self._slots:
            launched, context = await self._open_context()
            session: BrowserSession | None = None
            try:
                try:
                    session = await BrowserSession.start(context, gate=gate, timeout=self.timeout)
                except Exception as exc:
                    raise probe_error(exc, Detail("doing.open_page")) from exc
                yield session
            finally:
                if session is not None:
                    await session.close()
                await self._close_context(context)
                await self._checkin(launched)

    async def aclose(self) -> None:
        """Ordered shutdown: open contexts, then every browser, then the Playwright driver."""
        self._closed = True
        async with self._lock:
            for context in list(self._contexts):
                await self._close_context(context)
            browsers = [*self._retired, *([self._current] if self._current else [])]
            self._current, self._retired = None, []  # an expected disconnect, not a crash
            for launched in browsers:
                await self._close_browser(launched)
            if self._playwright is not None:
                playwright, self._playwright = self._playwright, None
                try:
                    await playwright.stop()
                except Exception as exc:
                    logger.debug("stopping Playwright: %s", first_line(exc))

    async def _open_context(self) -> tuple[_Launched, BrowserContext]:
        for attempt in (1, 2):
            launched = await self._checkout()
            try:
                context = await launched.browser.new_context(
                    user_agent=self.user_agent,
                    locale="fr-FR",  # also the Accept-Language header and JS date formats
                    timezone_id="Europe/Paris",
                    viewport=VIEWPORT,
                    java_script_enabled=True,
                    # Service workers would serve pages the gate and the snapshot never see.
                    service_workers="block",
                    accept_downloads=False,  # probes never write to disk
                )
            except Exception as exc:
                error = probe_error(exc, Detail("doing.open_context"))
                died_while_idle = error.reason is Reason.BROWSER_CRASH and attempt == 1
                if died_while_idle:
                    self._forget(launched)
                await self._checkin(launched)
                if died_while_idle:
                    logger.warning("Chromium was gone when a probe started; relaunching it")
                    continue
                raise error from exc
            self._contexts.add(context)
            self.contexts_open += 1
            self.peak_contexts = max(self.peak_contexts, self.contexts_open)
            return launched, context
        raise MonitorFault(Reason.INTERNAL, "unreachable: no browser context after a relaunch")

    async def _checkout(self) -> _Launched:
        """The browser for a new session: launched, relaunched or recycled as needed."""
        async with self._lock:
            if self._closed:
                raise MonitorFault(Reason.INTERNAL, "the browser engine is already closed")
            if self._playwright is None:
                try:
                    self._playwright = await start_playwright(driver_environment(self._env))
                except Exception as exc:
                    raise MonitorFault(
                        Reason.BROWSER_CRASH, f"could not start Playwright: {first_line(exc)}"
                    ) from exc
            launched = self._current
            if launched is not None and not launched.browser.is_connected():
                self._forget(launched)
                launched = None
            if launched is not None and launched.sessions >= self.recycle_after:
                logger.info("recycling Chromium after %d sessions", launched.sessions)
                await self._retire(launched)
                launched = None
            if launched is None:
                launched = self._current = await self._launch(self._playwright)
            launched.sessions += 1
            launched.in_flight += 1
            self.sessions_opened += 1
            return launched

    async def _launch(self, playwright: Playwright) -> _Launched:
        if self.sandbox is None:
            self.sandbox = platform_sandbox_choice(self.executable_path)
            if not self.sandbox.on:
                _sandbox_off(self.sandbox.why)
        try:
            browser = await self._start_chromium(playwright)
        except Exception as exc:
            if not self.sandbox.on:
                raise self._launch_fault(exc) from exc
            # A container or a security module that forbids user namespaces (Docker's
            # default seccomp profile, AppArmor): Chromium cannot start with its sandbox.
            self.sandbox = SandboxChoice(
                False, f"Chromium could not start with it ({first_line(exc)})"
            )
            _sandbox_off(self.sandbox.why)
            try:
                browser = await self._start_chromium(playwright)
            except Exception as again:
                raise self._launch_fault(again) from again
        self.launch_count += 1
        launched = _Launched(browser)
        browser.on("disconnected", lambda _browser: self._on_disconnected(launched))
        logger.info(
            "launched Chromium %s (launch %d, sandbox %s)",
            browser.version,
            self.launch_count,
            "on" if self.sandbox.on else "off",
        )
        return launched

    async def _start_chromium(self, playwright: Playwright) -> Browser:
        assert self.sandbox is not None
        env: dict[str, str | float | bool] = {**browser_environment(self._env)}
        return await playwright.chromium.launch(
            executable_path=self.executable_path,
            args=list(CHROMIUM_FLAGS),
            headless=self.headless,
            chromium_sandbox=self.sandbox.on,
            env=env,
            timeout=max(self.timeout, 30) * 1000,
        )

    def _launch_fault(self, exc: Exception) -> MonitorFault:
        return MonitorFault(
            Reason.BROWSER_CRASH,
            f"could not launch Chromium at {self.executable_path}: {first_line(exc)}",
        )

    def _on_disconnected(self, launched: _Launched) -> None:
        if self._current is launched:
            logger.warning("Chromium disconnected; the next probe launches a new one")
            self._current = None

    def _forget(self, launched: _Launched) -> None:
        """Stop using a dead browser; it is closed (harmlessly) when its sessions end."""
        if self._current is launched:
            self._current = None
        launched.retired = True
        if launched.in_flight and launched not in self._retired:
            self._retired.append(launched)

    async def _retire(self, launched: _Launched) -> None:
        self._forget(launched)
        if launched.in_flight == 0:
            await self._close_browser(launched)

    async def _checkin(self, launched: _Launched) -> None:
        launched.in_flight -= 1
        if launched.retired and launched.in_flight == 0:
            if launched in self._retired:
                self._retired.remove(launched)
            await self._close_browser(launched)

    async def _close_context(self, context: BrowserContext) -> None:
        if context not in self._contexts:
            return
        self._contexts.discard(context)
        self.contexts_open -= 1
        try:
            await context.close()
        except PlaywrightError as exc:
            # The browser is already gone (crash, aclose): nothing left to release.
            logger.debug("closing a browser context: %s", first_line(exc))

    async def _close_browser(self, launched: _Launched) -> None:
        try:
            await launched.browser.close()
        except PlaywrightError as exc:
            logger.debug("closing Chromium: %s", first_line(exc))
