"""Finding a Chromium executable for the browser engine.

Order (first hit wins): ``$MONITOR_BROWSER``, ``settings.browser.executable_path``, the usual
system paths, then a browser installed by ``playwright install chromium`` on a machine with
the internet.

Of the system's, Debian's ``chromium-headless-shell`` comes first: the same Chromium build
without the browser's windows and their user interface, which is what Playwright itself
runs for headless pages. With four probe pages open it holds about 140 MiB less than
``chromium`` (BENCHMARKS.md §4); ``chromium`` is the fall-back where it is not installed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from monitor.errors import BrowserNotFound

SYSTEM_CANDIDATES = (
    # The binary itself: /usr/bin's wrapper script runs it as a child, not by exec, so a
    # killed wrapper would leave it running.
    "/usr/lib/chromium/chromium-headless-shell",
    "/usr/bin/chromium-headless-shell",
    "chromium-headless-shell",
    "/usr/bin/chromium",
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)

INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: `apt-get install chromium-headless-shell` or "
    "`apt-get install chromium`), or set $MONITOR_BROWSER / "
    "settings.browser.executable_path to a Chromium executable, or run "
    "`playwright install chromium` on a machine with internet access"
)


def _playwright_browsers(env: Mapping[str, str]) -> list[Path]:
    """Chromium builds that ``playwright install`` left in its cache, newest first."""
    root = Path(env.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    found: list[Path] = []
    for pattern in ("chromium-*/chrome-linux*/chrome", "chromium_headless_shell-*/*/chrome*"):
        found.extend(p for p in root.glob(pattern) if p.is_file())
    return sorted(found, reverse=True)


def _executable(candidate: str) -> str | None:
    if os.sep in candidate:
        path = Path(candidate)
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(candidate)


def find_chromium(configured: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Return the path of the Chromium to drive, or raise BrowserNotFound saying how to get one.

    An explicit choice ($MONITOR_BROWSER or the config) that does not exist is an error rather
    than a silent fall-back: the user asked for that browser.
    """
    env = os.environ if env is None else env
    for source, explicit in (
        ("$MONITOR_BROWSER", env.get("MONITOR_BROWSER")),
        (
            "settings.browser.executable_path",
            configured,
        ),
    ):
        if explicit:
            path = _executable(explicit)
            if path is None:
                raise BrowserNotFound(
                    f"{source} is {explicit!r}, which is not an executable file; {INSTALL_HINT}"
                )
            return path
    for candidate in SYSTEM_CANDIDATES:
        path = _executable(candidate)
        if path:
            return path
    bundled = _playwright_browsers(env)
    if bundled:
        return str(bundled[0])
    raise BrowserNotFound(f"no Chromium found; {INSTALL_HINT}")
