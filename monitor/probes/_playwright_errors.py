"""The one translation of Playwright errors into ProbeError / MonitorFault.

Playwright raises a single ``Error`` class (and ``TimeoutError``) whose message says what
happened; the distinctions the outcome vocabulary needs are in that text:

    Playwright says                                 outcome reason
    ──────────────────────────────────────────────  ─────────────────────────────
    TimeoutError                                    anomaly/timeout
    net::ERR_TIMED_OUT, net::ERR_CONNECTION_TIMED_OUT  anomaly/timeout
    net::ERR_TOO_MANY_REDIRECTS (a redirect loop)   anomaly/http_error, as the http engine
    net::ERR_UNSAFE_REDIRECT, ERR_INVALID_REDIRECT  anomaly/blocked: a redirect Chromium
      (to javascript:, file:, no address at all)       will not follow (the gate refuses and
                                                       names these at the answer's headers;
                                                       this is for one that got past it)
    any other net::ERR_… (refused, reset, closed,   anomaly/connection (detail keeps
      empty response, name not resolved, cert…)       the net:: code)
    ECONNREFUSED, ECONNRESET, ENOTFOUND… (the       anomaly/connection
      request API, which uses Node's network stack)
    ETIMEDOUT (request API)                         anomaly/timeout
    "Target closed", "has been closed", "crashed",  monitor_error/browser_crash
      "Connection closed" (Chromium or the driver
      went away)
    anything else                                   monitor_error/internal
"""

from __future__ import annotations

import re2
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from monitor.domain import Detail, Reason
from monitor.errors import MonitorFault, ProbeError

_CRASH_MARKERS = (
    "target closed",
    "has been closed",
    "browser closed",
    "crashed",
    "connection closed",
    "has disconnected",
)
_NET_CODE = re2.compile(r"net::ERR_[A-Z0-9_]+")
_NET_TIMEOUTS = frozenset({"net::ERR_TIMED_OUT", "net::ERR_CONNECTION_TIMED_OUT"})
_NET_REFUSED_REDIRECTS = frozenset({"net::ERR_UNSAFE_REDIRECT", "net::ERR_INVALID_REDIRECT"})
_NODE_CODE = re2.compile(
    r"\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EPIPE|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT)\b"
    r"|socket hang up|certificate|SSL routines"
)


def first_line(exc: BaseException) -> str:
    """The first line of an error message: Playwright appends call logs after it."""
    message = exc.message if isinstance(exc, PlaywrightError) else str(exc)
    return (message.strip().splitlines() or [type(exc).__name__])[0]


def net_error(text: str, doing: Detail) -> ProbeError | None:
    """A ProbeError for a failure text carrying a network error code, else None."""
    code = _NET_CODE.search(text)
    if code:
        reason = Reason.TIMEOUT if code.group() in _NET_TIMEOUTS else Reason.CONNECTION
        if code.group() == "net::ERR_TOO_MANY_REDIRECTS":
            reason = Reason.HTTP_ERROR  # as the http engine says of a redirect loop
        elif code.group() in _NET_REFUSED_REDIRECTS:
            reason = Reason.BLOCKED  # nothing was sent: as the gate refuses a destination
        return ProbeError(reason, Detail("network_code", {"code": code.group(), "doing": doing}))
    node = _NODE_CODE.search(text)
    if node:
        reason = Reason.TIMEOUT if node.group() == "ETIMEDOUT" else Reason.CONNECTION
        return ProbeError(reason, Detail("network_code", {"code": node.group(), "doing": doing}))
    return None


def probe_error(exc: Exception, doing: Detail) -> ProbeError:
    """Translate ``exc``, raised while ``doing`` (e.g. "loading https://…"), for an outcome."""
    line = first_line(exc)
    if isinstance(exc, PlaywrightTimeoutError):
        return ProbeError(Reason.TIMEOUT, Detail("timed_out", {"doing": doing, "message": line}))
    if isinstance(exc, PlaywrightError):
        # A vanished browser shows up as many different messages; check it first, since
        # "net::ERR_ABORTED; frame was detached" during a crash is not the site's fault.
        if any(marker in exc.message.lower() for marker in _CRASH_MARKERS):
            return MonitorFault(
                Reason.BROWSER_CRASH, Detail("browser_gone", {"doing": doing, "message": line})
            )
        mapped = net_error(exc.message, doing)
        if mapped is not None:
            return mapped
    return MonitorFault(
        Reason.INTERNAL,
        Detail("unexpected_during", {"kind": type(exc).__name__, "doing": doing, "message": line}),
    )
