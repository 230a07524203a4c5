"""The Chromium the browser tests use, found once as the monitor finds it."""

from __future__ import annotations

from monitor.errors import BrowserNotFound
from monitor.probes.chromium import find_chromium


def chromium_or_none() -> str | None:
    """The Chromium executable ``monitor`` would use here, or None when there is none."""
    try:
        return find_chromium(None)
    except BrowserNotFound:
        return None
