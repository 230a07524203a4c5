"""`monitor history`: outcome rows, newest first, filtered, in any output format."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from monitor.commands.common import App, lang_option, output_options, pass_app, reading_settings
from monitor.commands.filters import (
    check_period,
    describe_filters,
    empty_result,
    parse_bound,
    parse_reason,
    parse_status,
)
from monitor.reports.output import OUTCOME_FIELDS, Column, emit, record_rows

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
