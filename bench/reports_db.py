"""History and stats on N generated rows, SQLite beside PostgreSQL, timed in process.

    .venv/bin/python bench/reports_db.py [--rows 1000000] [--seed 7] [--repeat 5]

The SQLite database is ``bench/run.py``'s cached one (``bench/generate.py``); the same
generator fills a PostgreSQL database on a throw-away server started from the Debian
binaries (``tests/pg.py``'s ``pg_server``: 127.0.0.1, a free port, ``fsync=off``, which
only speeds up the load, not the reads timed here), then ``VACUUM ANALYZE`` of ``outcomes``
and its ``outcome_hours`` rollup (what autovacuum does after a bulk load).

Timed in this process, interleaved (every case once per round, ``--repeat`` rounds after a
warm-up round), medians:

* history: one target's last 30 days streamed as NDJSON to /dev/null, as ``monitor
  history --target 92/remise-titre --since 30d --format ndjson`` does, beside its floor:
  the same rows fetched with one SQL statement through the DBAPI, nothing built from them;
* stats: every target (``collect_stats``: SQL on the ``outcome_hours`` rollup, whole hours,
  plus the edge hours from ``outcomes``), beside its baseline, the same queries before the
  rollup over every outcome row (bench/stats_scan.py, the code of revision 0002), and the
  naive way, every row loaded as an ``Outcome`` and aggregated in Python (two rounds only:
  it is slow; ``--no-baseline`` leaves it out).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from monitor.store import create_engine_for

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import report_work
import run as history_bench
from pg import pg_server

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Europe/Paris")
TARGET = history_bench.TARGET


def history(url: str) -> int:
    return report_work.history(url, TARGET)


def history_floor(url: str) -> int:
    engine = create_engine_for(url)
    since = datetime.now(UTC) - timedelta(days=30)
    with engine.connect() as connection:
        if url.startswith("sqlite"):  # the column holds text there (EmulatedTimestampTZ)
            bound: object = since.strftime("%Y-%m-%d %H:%M:%S.%f")
        else:
            bound = since
        rows = connection.execute(
            text(
                "SELECT * FROM outcomes WHERE target = :target AND started_at >= :since"
                " ORDER BY started_at DESC"
            ),
            {"target": TARGET, "since": bound},
        ).fetchall()
    engine.dispose()
    return len(rows)


def stats(url: str, naive: bool = False, scan: bool = False) -> int:
    return report_work.stats(url, naive=naive, scan=scan)


def fill_postgres(url: str, rows: int, seed: int) -> None:
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "--rows", str(rows), "--seed",
         str(seed), url],
        check=True,
    )  # fmt: skip
    engine = create_engine_for(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE outcomes"))
        connection.execute(text("VACUUM ANALYZE outcome_hours"))
    engine.dispose()
    print(f"PostgreSQL filled in {time.perf_counter() - began:.0f} s", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="leave out the every-row-into-Python stats baseline (it needs ~1.4 GB per 1M rows)",
    )
    args = parser.parse_args()
    sqlite_url = f"sqlite:///{history_bench.ensure_database(args.rows, args.seed)}"
    with pg_server() as pg_url:
        fill_postgres(pg_url, args.rows, args.seed)
        cases: list[tuple[str, str, str, Callable[[], int]]] = []
        for name, url in (("SQLite", sqlite_url), ("PostgreSQL", pg_url)):
            cases += [
                (name, "history, one target, 30 days", "monitor's path", lambda u=url: history(u)),
                (
                    name,
                    "history, one target, 30 days",
                    "floor: one SELECT, fetchall",
                    lambda u=url: history_floor(u),
                ),
                (name, "stats, every target", "SQL on the hourly rollup", lambda u=url: stats(u)),
                (
                    name,
                    "stats, every target",
                    "baseline: SQL over every row (before the rollup)",
                    lambda u=url: stats(u, scan=True),
                ),
            ]
            if not args.no_baseline:
                cases.append((name, "stats, every target", "baseline: every row into Python",
                              lambda u=url: stats(u, True)))  # fmt: skip
        times: dict[int, list[float]] = {i: [] for i in range(len(cases))}
        counts: dict[int, int] = {}
        loads: list[float] = []
        for number in range(args.repeat + 1):
            for i, (_, _, approach, work) in enumerate(cases):
                if approach.startswith("baseline: every row") and number > 2:
                    continue
                began = time.perf_counter()
                counts[i] = work()
                if number > 0:
                    times[i].append(time.perf_counter() - began)
            loads.append(os.getloadavg()[0])
            print(f"round {number} done, load {loads[-1]:.1f}", file=sys.stderr)
    index = {case[:3]: i for i, case in enumerate(cases)}

    def median(i: int) -> float:
        return statistics.median(times[i])

    print(f"\n{args.rows} rows, seed {args.seed}, {args.repeat} rounds after a warm-up")
    print(f"load average during the rounds: {min(loads):.1f}-{max(loads):.1f}\n")
    print("| database | measurement | approach | median | min | × floor/baseline | rows out |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for name, what, approach, _ in cases:
        i = index[(name, what, approach)]
        base = next(  # the floor or baseline of the same database and measurement, if any
            (
                index[c[:3]]
                for c in cases
                if c[:2] == (name, what) and c[2].startswith(("floor", "baseline: SQL"))
            ),
            None,
        )
        ratio = "-" if base is None else f"{median(i) / median(base):.2f}"
        print(
            f"| {name} | {what} | {approach} | {median(i):.3f} s "
            f"| {min(times[i]):.3f} s | {ratio} | {counts[i]} |"
        )


if __name__ == "__main__":
    main()
