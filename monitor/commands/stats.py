"""`monitor stats`: per target, prefecture or local day, the figures of monitor.reports.stats."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from monitor.commands.common import App, output_options, pass_app, reading_settings
from monitor.commands.filters import check_period, describe_filters, empty_result, parse_bound
from monitor.domain import Status
from monitor.reports.output import Column, emit
from monitor.reports.stats import (
    BUCKETS,
    SITE_STATUSES,
    GroupStats,
    humanize_duration,
    percent,
    stats_fields,
    stats_row,
)

_HEADINGS = {"target": "TARGET", "prefecture": "PREFECTURE", "day": "DAY"}


def stats_columns(by: str) -> tuple[Column, ...]:
    """The table of ``monitor stats --by BY``: shares in %, periods in days and hours."""
    return (
        Column(by, _HEADINGS[by], max_width=40),
        Column("attempts", "ATTEMPTS"),
        Column("days", "DAYS"),
        Column("available_share", "AVAIL"),
        Column("unavailable_share", "UNAVAIL"),
        Column("anomaly_share", "ANOMALY"),
        Column("monitor_error", "MON.ERR"),
        Column("anomalies_by_reason", "ANOMALIES BY REASON", max_width=50),
        Column("longest_without_slot", "LONGEST W/O SLOT"),
        Column("since_last_slot", "SINCE SLOT"),
        Column("first_attempt", "FIRST"),
        Column("last_attempt", "LAST"),
        Column("buckets", "2+<1M/1<1M/1-2M/>2M/NONE"),
    )


def table_row(stats: GroupStats, by: str) -> dict[str, object]:
    """One group for people: shares as percentages, periods as ``12 d 3 h``."""
    row: dict[str, object] = {
        by: stats.key,
        "attempts": stats.attempts,
        "days": stats.days,
        "monitor_error": stats.statuses.get(Status.MONITOR_ERROR, 0),
        "anomalies_by_reason": ", ".join(
            f"{reason.value} {count}" for reason, count in stats.anomalies_by_reason.items()
        ),
        "longest_without_slot": humanize_duration(stats.longest_gap.length),
        "since_last_slot": (
            "never" if stats.since_last_slot is None else humanize_duration(stats.since_last_slot)
        ),
        "first_attempt": stats.first_attempt,
        "last_attempt": stats.last_attempt,
        "buckets": "/".join(str(stats.buckets[bucket]) for bucket in BUCKETS),
    }
    for status in SITE_STATUSES:
        row[f"{status.value}_share"] = percent(stats.share(status))
    return row


@click.command("stats")
@click.option(
    "--by",
    type=click.Choice(("target", "prefecture", "day")),
    default="target",
    show_default=True,
    help="Group per target, per prefecture, or per local day.",
)
@click.option("--target", "targets", multiple=True, metavar="GLOB", help="Repeatable.")
@click.option("--prefecture", metavar="ID", help="Only this prefecture's targets.")
@click.option("--since", metavar="WHEN", help="From this date/time, or this long ago (30d).")
@click.option("--until", metavar="WHEN", help="Before this date/time, or this long ago.")
@output_options()
@pass_app
def stats_cmd(
    app: App,
    by: str,
    targets: tuple[str, ...],
    prefecture: str | None,
    since: str | None,
    until: str | None,
    fmt: str,
) -> None:
    """Attempts, days, shares, anomalies, periods without slot, La Cimade's buckets.

    Shares are of the site's attempts (monitor_error left out, counted apart). The longest
    period without any slot runs between available outcomes, from the first attempt, and
    to now (or --until, or the day's end with --by day). Buckets, where dates are known:
    at least two dates within a month / one date within a month / first date in one to
    two months / beyond two months / no date (= unavailable). Exit 3 when nothing matches.
    """
    from monitor.reports.stats_query import collect_stats, matching_targets

    settings = reading_settings(app)
    now = datetime.now(UTC)
    since_at = parse_bound("--since", since, settings, now)
    until_at = parse_bound("--until", until, settings, now)
    check_period(since_at, until_at)
    repository = app.repository()
    chosen = None
    if targets:
        chosen = matching_targets(repository.targets_with_outcomes(), targets)
    groups = collect_stats(
        repository.engine,
        by=by,
        targets=chosen,
        prefecture=prefecture,
        since=since_at,
        until=until_at,
        tz=settings.tz,
        now=now,
    )
    if fmt == "table":
        rows = [table_row(group, by) for group in groups]
    else:
        rows = [stats_row(group, by) for group in groups]
    emit(
        rows,
        fmt=fmt,
        fields=stats_fields(by),
        columns=stats_columns(by),
        tz=settings.tz,
        stream=sys.stdout,
    )
    if not groups:
        raise empty_result(
            describe_filters(target=targets, prefecture=prefecture, since=since, until=until)
        )
