"""The reading commands' filters: ``--since``/``--until``, ``--status`` and ``--reason``
parsed into values (a bad one is a usage error naming the option), and described back in
the message of a result that matched nothing (exit 3).

Shared by history, stats, evidence and ``db prune``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from monitor.domain import REASONS, Reason, Status, status_of
from monitor.errors import NothingMatched, UsageError

if TYPE_CHECKING:
    from monitor.config.settings import Settings


def parse_bound(
    option: str, text: str | None, settings: Settings, now: datetime
) -> datetime | None:
    """A ``--since``/``--until`` value as aware UTC (dates are local midnight)."""
    if text is None:
        return None
    from monitor.config.durations import parse_when

    try:
        return parse_when(text, now, settings.tz)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def check_period(since: datetime | None, until: datetime | None) -> None:
    """A period whose start is not before its end is a usage error, not an empty result."""
    if since is not None and until is not None and since >= until:
        raise UsageError(
            f"--since ({since.isoformat()}) must be before --until ({until.isoformat()})"
        )


def parse_status(text: str | None) -> Status | None:
    """A ``--status`` value; an unknown one is a usage error listing the statuses."""
    if text is None:
        return None
    try:
        return Status(text)
    except ValueError:
        known = ", ".join(status.value for status in Status)
        raise UsageError(f"--status: unknown status {text!r}; use one of {known}") from None


def parse_reason(text: str | None, status: Status | None) -> Reason | None:
    """A ``--reason`` value, which must belong to ``--status`` when both are given."""
    if text is None:
        return None
    try:
        reason = Reason(text)
    except ValueError:
        known = "; ".join(
            f"{status.value}: {', '.join(r.value for r in reasons)}"
            for status, reasons in REASONS.items()
        )
        raise UsageError(f"--reason: unknown reason {text!r}; reasons by status: {known}") from None
    if status is not None and status_of(reason) is not status:
        raise UsageError(
            f"--reason {reason.value} belongs to status {status_of(reason).value}, "
            f"not {status.value}: no outcome can match both"
        )
    return reason


def empty_result(what: str) -> NothingMatched:
    """Exit 3, naming the filters that matched nothing."""
    return NothingMatched(f"no outcome matches {what}")


def describe_filters(**filters: object) -> str:
    """``--target 92/* --since 7d`` for messages (or that the database is empty)."""
    parts: list[str] = []
    for name, value in filters.items():
        if value is None or value == () or value == []:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        parts.extend(f"--{name.replace('_', '-')} {v!s}" for v in values)
    return " ".join(parts) or "(no filter): the database has no outcome"
