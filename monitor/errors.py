"""The exceptions prefecture-monitor raises, and what each one means.

    MonitorError                 base: one line for the user, an exit code for the CLI
    ├── ConfigError              the config file is wrong (exit 2); names file, key path, value
    ├── UsageError               a command was called wrongly (exit 2)
    ├── NothingMatched           a filter or target list matched nothing (exit 3)
    ├── BrowserNotFound          no Chromium executable could be found (exit 1)
    ├── DatabaseError            the database is unreachable or behind the migrations (exit 1)
    ├── ProbeError               a probe failed; carries the outcome reason it maps to
    │   └── MonitorFault         the failure is on the monitor's side (monitor_error outcomes)
    ├── NotificationError        a channel refused or failed a message; `permanent` says whether
    │                            retrying can help
    └── IntegrityError           `verify` found an altered or missing row or file (exit 1)

Foreign exceptions (httpx, Playwright, SQLAlchemy, Apprise) are translated into these at one
boundary per subsystem, with ``raise ... from exc``.
"""

from __future__ import annotations

from monitor.details import record_line
from monitor.domain import Detail, Reason


class MonitorError(Exception):
    """Base class: ``str(error)`` is one line meant for the user."""

    exit_code = 1


class ConfigError(MonitorError):
    """The configuration is invalid. The message names the file, the key path and the value."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        self.path = path
        self.key = key
        super().__init__(message)


class UsageError(MonitorError):
    """A command-line argument is wrong (bad date, unknown format, ...)."""

    exit_code = 2


class NothingMatched(MonitorError):
    """No target, row or channel matched what the user asked for."""

    exit_code = 3


class BrowserNotFound(MonitorError):
    """No Chromium executable was found; the message says how to install one."""


class DatabaseError(MonitorError):
    """The database cannot be used as it is (unreachable, not migrated, behind the code)."""


class ProbeError(MonitorError):
    """A probe could not complete; ``reason`` is the outcome reason it maps to (a
    :class:`~monitor.domain.Reason` of the anomaly or monitor_error status).

    ``detail`` says what failed (see :mod:`monitor.details`); a plain string is the
    monitor's own message about a fault (code ``fault``), kept as written.
    """

    def __init__(
        self, reason: Reason, detail: Detail | str, *, http_status: int | None = None
    ) -> None:
        self.reason = reason
        self.detail = detail if isinstance(detail, Detail) else Detail("fault", {"message": detail})
        self.http_status = http_status
        super().__init__(self.detail.code)

    def __str__(self) -> str:
        return record_line(self.detail)


class MonitorFault(ProbeError):
    """A probe failed because of the monitor itself (browser crash, own network down, bug)."""


class NotificationError(MonitorError):
    """Sending to a channel failed; ``permanent`` is True when a retry cannot succeed."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        self.permanent = permanent
        super().__init__(message)


class IntegrityError(MonitorError):
    """A hash chain or evidence file does not match what was recorded."""
