"""The baseline for `monitor stats`: load every outcome row into Python, then compute.

    .venv/bin/python bench/naive_stats.py sqlite:///bench/.cache/outcomes-n1000000-seed7.db

Same figures and JSON as ``monitor stats --format json`` (per target, Europe/Paris), by
the obvious route: every row becomes an Outcome in a list, then the pure computation of
monitor.reports.stats runs over the list. bench/run.py times it beside the real command.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from monitor.reports.output import emit
from monitor.reports.stats import stats_fields, stats_of_outcomes, stats_row
from monitor.store import Repository, create_engine_for


def main(url: str) -> int:
    engine = create_engine_for(url)
    try:
        rows = list(Repository(engine).history(newest_first=False))
    finally:
        engine.dispose()
    tz = ZoneInfo("Europe/Paris")
    groups = stats_of_outcomes(rows, by="target", tz=tz, now=datetime.now(UTC))
    fields = stats_fields("target")
    emit(
        [stats_row(group, "target") for group in groups],
        fmt="json",
        fields=fields,
        columns=(),
        tz=tz,
        stream=sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
