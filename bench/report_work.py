"""The work the report benchmarks time in process: what ``monitor history`` and ``monitor
stats`` do after start-up, written to /dev/null. Shared by bench/run.py and
bench/reports_db.py."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.reports.output import OUTCOME_FIELDS, emit, record_rows
from monitor.reports.stats import stats_fields, stats_of_outcomes, stats_row
from monitor.reports.stats_query import collect_stats
from monitor.store import Repository, create_engine_for

TZ = ZoneInfo("Europe/Paris")


def history(url: str, target: str, *, days: int = 30) -> int:
    """One target's last ``days`` days as NDJSON (``history --target … --since 30d``)."""
    engine = create_engine_for(url)
    since = datetime.now(UTC) - timedelta(days=days)
    rows = list(Repository(engine).history_records(targets=[target], since=since))
    with open(os.devnull, "w") as sink:
        emit(
            record_rows(rows, fmt="ndjson", language="en", tz=TZ),
            fmt="ndjson",
            fields=OUTCOME_FIELDS,
            columns=(),
            tz=TZ,
            stream=sink,
        )
    engine.dispose()
    return len(rows)


def stats(url: str, *, naive: bool = False, scan: bool = False) -> int:
    """Every target's stats as JSON: ``monitor stats``'s queries (on the ``outcome_hours``
    rollup); ``scan``: the same queries as before the rollup, over every outcome row
    (bench/stats_scan.py); ``naive``: every row loaded into Python."""
    engine = create_engine_for(url)
    now = datetime.now(UTC)
    if naive:
        rows = list(Repository(engine).history(newest_first=False))
        groups = stats_of_outcomes(rows, by="target", tz=TZ, now=now)
    elif scan:
        import stats_scan

        groups = stats_scan.collect_stats(engine, by="target", tz=TZ, now=now)
    else:
        groups = collect_stats(engine, by="target", tz=TZ, now=now)
    with open(os.devnull, "w") as sink:
        emit(
            [stats_row(g, "target") for g in groups],
            fmt="json",
            fields=stats_fields("target"),
            columns=(),
            tz=TZ,
            stream=sink,
        )
    engine.dispose()
    return len(groups)
