"""`monitor stats`: per target, prefecture, local day or daemon node, the figures of
monitor.reports.stats; per hour of the week (``--by hour``), those of
monitor.reports.week_hours."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO
from zoneinfo import ZoneInfo

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
from monitor.reports.week_hours import HOUR_FIELDS, WeekFigures, hour_rows, table_lines

_HEADINGS = {"target": "TARGET", "prefecture": "PREFECTURE", "day": "DAY", "node": "NODE"}


def stats_columns(by: str) -> tuple[Column, ...]:
    """The table of ``monitor stats --by BY``: shares in %, periods in days and hours;
    per node, its network failures too."""
    network = (Column("network_failures", "NET.FAIL"),) if by == "node" else ()
    return (
        Column(by, _HEADINGS[by], max_width=40),
        Column("attempts", "ATTEMPTS"),
        Column("days", "DAYS"),
        Column("available_share", "AVAIL"),
        Column("unavailable_share", "UNAVAIL"),
        Column("anomaly_share", "ANOMALY"),
        Column("monitor_error", "MON.ERR"),
        Column("anomalies_by_reason", "ANOMALIES BY REASON", max_width=50),
        *network,
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
        "network_failures": stats.network_failures,
    }
    for status in SITE_STATUSES:
        row[f"{status.value}_share"] = percent(stats.share(status))
    return row


@click.command("stats")
@click.option(
    "--by",
    type=click.Choice(("target", "prefecture", "day", "node", "hour")),
    default="target",
    show_default=True,
    help="Group per target, per prefecture, per local day, per daemon node (where each "
    "probe ran: compare two places), or per hour of the week (per target; with "
    "--prefecture, its targets pooled too): probes, those that saw slots, openings.",
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

    --by hour: per local hour of the week (settings.timezone), the probes, those that saw
    slots (available) and the openings (slots_opened events: when slots first appeared).
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
    if by == "hour":
        from monitor.reports.week_hours_query import collect_week_hours

        weeks = collect_week_hours(
            repository.engine,
            repository,
            targets=chosen,
            prefecture=prefecture,
            since=since_at,
            until=until_at,
            tz=settings.tz,
            pool=prefecture is not None,
        )
        _emit_hours(weeks, fmt, settings.tz, sys.stdout)
        if not weeks:
            raise empty_result(
                describe_filters(target=targets, prefecture=prefecture, since=since, until=until)
            )
        return
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


_HOUR_COLUMNS = (
    Column("group", "TARGET", max_width=40),
    Column("when", "WHEN"),
    Column("probes", "PROBES"),
    Column("probes_with_slots", "SAW SLOTS"),
    Column("slots_opened", "OPENINGS"),
)


def hour_table_rows(weeks: Sequence[WeekFigures]) -> list[dict[str, object]]:
    """``--by hour`` for people: per group, each hour with a probe, and each run of hours
    without any folded into one line (``no probe``)."""
    rows: list[dict[str, object]] = []
    for group in weeks:
        key = f"{group.key} (pooled)" if group.pooled else group.key
        for line in table_lines(group):
            rows.append(
                {
                    "group": key,
                    "when": line.label(),
                    "probes": "no probe" if line.quiet else line.probes,
                    "probes_with_slots": "" if line.quiet else line.with_slots,
                    "slots_opened": "" if line.quiet else line.openings,
                }
            )
    return rows


def _emit_hours(weeks: Sequence[WeekFigures], fmt: str, tz: ZoneInfo, stream: TextIO) -> None:
    if fmt != "table":
        emit(
            hour_rows(weeks, str(tz)),
            fmt=fmt,
            fields=HOUR_FIELDS,
            columns=_HOUR_COLUMNS,
            tz=tz,
            stream=stream,
        )
        return
    if emit(hour_table_rows(weeks), fmt=fmt, fields=HOUR_FIELDS, columns=_HOUR_COLUMNS, tz=tz,
            stream=stream):  # fmt: skip
        stream.write(
            f"\nHours of the week in {tz}: 'Mon 00h–01h' is every Monday from 00:00 to 01:00\n"
            "local time. PROBES: attempts started in that hour; SAW SLOTS: those that found\n"
            "slots (available); OPENINGS: slots_opened events, each counted once, when slots\n"
            "first appeared. Hours without any probe are folded into one 'no probe' line.\n"
        )
