"""`monitor history`: outcome rows, newest first, filtered, in any output format.

Also home of what the reading commands (history, stats, evidence, verify, db prune) share:
the settings they display with, which come from the config file when there is one and
default otherwise, and the parsing of ``--since``/``--until``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.commands.common import App, lang_option, output_options, pass_app
from monitor.domain import REASONS, Reason, Status, status_of
from monitor.errors import NothingMatched, UsageError
from monitor.reports.output import OUTCOME_FIELDS, Column, emit, record_rows

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.config.settings import Settings

#: What a history table shows (machine formats carry every OUTCOME_FIELDS field).
HISTORY_COLUMNS = (
    Column("id", "ID"),
    Column("started_at", "STARTED"),
    Column("target", "TARGET", max_width=40),
    Column("status", "STATUS"),
    Column("reason", "REASON"),
    Column("http_status", "HTTP"),
    Column("slot_count", "SLOTS"),
    Column("earliest_slot", "EARLIEST"),
    Column("detail", "DETAIL", max_width=70),
)


def optional_config(app: App) -> Config | None:
    """The config, for a reading command: None when it can do without one.

    A reading command needs no config file when the database is named on the command line
    or in ``$MONITOR_DATABASE_URL``, no config file was asked for (``--config``,
    ``$MONITOR_CONFIG``) and none lies in the current directory. An explicit config that
    is missing or wrong stays an error.
    """
    from monitor.config import DEFAULT_CONFIG

    database_given = bool(app.database_override or app.env.get("MONITOR_DATABASE_URL"))
    config_named = app.config_path is not None or bool(app.env.get("MONITOR_CONFIG"))
    if database_given and not config_named and not Path(DEFAULT_CONFIG).exists():
        return None
    return app.config


def reading_settings(app: App) -> Settings:
    """The settings a reading command displays with: the config's, else the defaults
    (Europe/Paris, French, ``var/evidence``)."""
    from monitor.config.settings import Settings

    config = optional_config(app)
    return Settings() if config is None else config.settings


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


@click.command("history")
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="GLOB",
    help="Target id or glob (92/*); repeatable.",
)
@click.option("--prefecture", metavar="ID", help="Only this prefecture's targets.")
@click.option("--status", "status_text", metavar="STATUS", help="available, unavailable, …")
@click.option("--reason", "reason_text", metavar="REASON", help="no_slot, captcha, timeout, …")
@click.option("--since", metavar="WHEN", help="From this date/time, or this long ago (7d).")
@click.option("--until", metavar="WHEN", help="Before this date/time, or this long ago.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N rows.")
@output_options()
@lang_option
@pass_app
def history_cmd(
    app: App,
    targets: tuple[str, ...],
    prefecture: str | None,
    status_text: str | None,
    reason_text: str | None,
    since: str | None,
    until: str | None,
    limit: int | None,
    fmt: str,
    lang: str | None,
) -> None:
    """Outcome rows, newest first.

    Tables show local time (settings.timezone); json, ndjson and csv carry every outcome
    field in UTC. Dates are local midnight; durations count back from now. Exit 3 when
    nothing matches. A table's details are in settings.language (or --lang).
    """
    settings = reading_settings(app)
    now = datetime.now(UTC)
    status = parse_status(status_text)
    reason = parse_reason(reason_text, status)
    since_at = parse_bound("--since", since, settings, now)
    until_at = parse_bound("--until", until, settings, now)
    check_period(since_at, until_at)
    repository = app.repository()
    records = repository.history_records(
        targets=list(targets) or None,
        prefecture=prefecture,
        status=status,
        reason=reason,
        since=since_at,
        until=until_at,
        limit=limit,
    )
    rows = record_rows(records, fmt=fmt, language=lang or settings.language, tz=settings.tz)
    written = emit(
        rows,
        fmt=fmt,
        fields=OUTCOME_FIELDS,
        columns=HISTORY_COLUMNS,
        tz=settings.tz,
        stream=sys.stdout,
    )
    if written == 0:
        raise empty_result(
            describe_filters(
                target=targets,
                prefecture=prefecture,
                status=status_text,
                reason=reason_text,
                since=since,
                until=until,
            )
        )
