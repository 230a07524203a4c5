"""Benchmark `monitor history` and `monitor stats` on 1,000,000 generated rows, beside baselines.

    make bench        # or: .venv/bin/python bench/run.py [--rows N] [--seed S] [--repeat R]

1. Generates the database once (bench/generate.py), cached in bench/.cache/ by N and seed,
   regenerated when older than a week (its rows end at generation time, and the history
   query asks for the last 30 days).
2. Makes baseline copies: one without the ``(target, started_at)`` index, one without any
   index on outcomes. The stats baseline is bench/naive_stats.py: every row loaded into
   Python, then the same pure computation.
3. Times each command as a subprocess (wall time; median, min and max of ``--repeat`` runs
   after one warm-up run) and reads each run's peak RSS from ``os.wait4``, which reports
   the resource usage of that one child (``getrusage(RUSAGE_CHILDREN)`` would give the
   largest of all children so far).
4. Checks that the baseline's stats agree with the real command's, and prints a Markdown
   table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
PYTHON = sys.executable
TARGET = "92/remise-titre"
STALE_AFTER = 7 * 86_400


@dataclass
class Measure:
    what: str
    approach: str
    seconds: list[float]
    peak_rss_mb: float
    output_lines: int


def ensure_database(rows: int, seed: int) -> Path:
    """The cached generated database (generated when missing or stale)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"outcomes-n{rows}-seed{seed}.db"
    if path.exists() and time.time() - path.stat().st_mtime < STALE_AFTER:
        return path
    for stale in CACHE.glob(f"{path.name}*"):
        stale.unlink()
    print(f"generating {rows} rows into {path} …", file=sys.stderr)
    subprocess.run(
        [
            PYTHON,
            str(ROOT / "bench" / "generate.py"),
            "--rows",
            str(rows),
            "--seed",
            str(seed),
            str(path),
        ],
        check=True,
    )
    _checkpoint(path)
    return path


def _checkpoint(path: Path) -> None:
    # Fold the WAL into the file so that a plain file copy is the whole database.
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


OUTCOME_INDEXES = (
    "ix_outcomes_target_started_at",
    "ix_outcomes_status_started_at",
    "ix_outcomes_prefecture_started_at",
    "ix_outcomes_started_at",
)


def without_indexes(source: Path, suffix: str, indexes: tuple[str, ...]) -> Path:
    """A copy of ``source`` without ``indexes`` (cached beside it)."""
    copy = source.with_name(f"{source.stem}-{suffix}.db")
    if copy.exists() and copy.stat().st_mtime >= source.stat().st_mtime:
        return copy
    _checkpoint(source)
    shutil.copyfile(source, copy)
    connection = sqlite3.connect(copy)
    try:
        for index in indexes:
            connection.execute(f"DROP INDEX {index}")
        connection.commit()
    finally:
        connection.close()
    return copy


def timed(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and stdout line count of one run of ``command``."""
    with tempfile.TemporaryFile() as out:
        began = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        error = process.stderr.read().decode() if process.stderr else ""
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {error}")
        out.seek(0)
        lines = sum(1 for _ in out)
    return elapsed, usage.ru_maxrss / 1024, lines


@dataclass(frozen=True)
class Case:
    what: str
    approach: str
    command: list[str]


def measure_all(cases: list[Case], repeat: int) -> list[Measure]:
    """Every case ``repeat`` times, round robin, so that a burst of load on the machine
    hits every case alike rather than one of them; one warm-up run each first."""
    for case in cases:
        timed(case.command)  # the OS page cache, Python's bytecode cache
    runs: list[list[tuple[float, float, int]]] = [[] for _ in cases]
    for _ in range(repeat):
        for index, case in enumerate(cases):
            runs[index].append(timed(case.command))
    return [
        Measure(c.what, c.approach, [r[0] for r in rs], max(r[1] for r in rs), rs[0][2])
        for c, rs in zip(cases, runs, strict=True)
    ]


def in_process(url: str, indexless: str, no_index: str, repeat: int) -> str:
    """The same work timed inside this process: no interpreter start-up, no imports."""
    import report_work

    def history(database: str) -> None:
        report_work.history(database, TARGET)

    def stats(naive: bool) -> None:
        report_work.stats(url, naive=naive)

    cases = [
        ("history, 30 days", "(target, started_at) index", lambda: history(url)),
        ("history, 30 days", "that index dropped", lambda: history(indexless)),
        ("history, 30 days", "no index at all", lambda: history(no_index)),
        ("stats", "SQL aggregation", lambda: stats(False)),
        ("stats", "all rows loaded into Python", lambda: stats(True)),
    ]
    lines = ["| in process | approach | median | min |", "| --- | --- | ---: | ---: |"]
    for what, approach, work in cases:
        work()
        times = []
        for _ in range(repeat if "loaded" not in approach else max(1, repeat // 2)):
            began = time.perf_counter()
            work()
            times.append(time.perf_counter() - began)
        lines.append(
            f"| {what} | {approach} | {statistics.median(times):.3f} s | {min(times):.3f} s |"
        )
    return "\n".join(lines)


def monitor(url: str, *args: str) -> list[str]:
    return [PYTHON, "-m", "monitor", "--database", url, *args]


def check_agreement(url: str) -> None:
    """The baseline must compute the same figures (times relative to 'now' aside)."""
    real = json.loads(
        subprocess.run(
            monitor(url, "stats", "--format", "json"), capture_output=True, check=True
        ).stdout
    )
    naive = json.loads(
        subprocess.run(
            [PYTHON, str(ROOT / "bench" / "naive_stats.py"), url], capture_output=True, check=True
        ).stdout
    )
    moving = {"since_last_slot_seconds", "longest_without_slot_seconds", "longest_without_slot_to"}
    for ours, theirs in zip(real, naive, strict=True):
        for key in ours.keys() - moving:
            if ours[key] != theirs[key]:
                raise AssertionError(f"{ours['target']}: {key} {ours[key]!r} != {theirs[key]!r}")


def table(measures: list[Measure]) -> str:
    """Markdown; "beyond start-up" subtracts the median of the first (start-up) row."""
    startup = statistics.median(measures[0].seconds)
    lines = [
        "| measurement | approach | median | beyond start-up | min | max | peak RSS | lines out |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in measures:
        median = statistics.median(m.seconds)
        lines.append(
            f"| {m.what} | {m.approach} | {median:.3f} s | {median - startup:.3f} s | "
            f"{min(m.seconds):.3f} s | {max(m.seconds):.3f} s | {m.peak_rss_mb:.0f} MB | "
            f"{m.output_lines} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    database = ensure_database(args.rows, args.seed)
    url = f"sqlite:///{database}"
    no_target_index = (
        f"sqlite:///{without_indexes(database, 'no-target-index', OUTCOME_INDEXES[:1])}"
    )
    no_index = f"sqlite:///{without_indexes(database, 'no-index', OUTCOME_INDEXES)}"
    history = ["history", "--target", TARGET, "--since", "30d", "--format", "ndjson"]
    check_agreement(url)
    naive = [PYTHON, str(ROOT / "bench" / "naive_stats.py"), url]
    version = [PYTHON, "-m", "monitor", "--version"]
    stats = monitor(url, "stats", "--format", "json")
    days30, every = f"history of {TARGET}, 30 days", "stats, every target"
    measures = measure_all(
        [
            Case("`monitor --version` (start-up alone)", "-", version),
            Case(days30, "(target, started_at) index", monitor(url, *history)),
            Case(days30, "baseline: that index dropped", monitor(no_target_index, *history)),
            Case(days30, "baseline: no index at all", monitor(no_index, *history)),
            Case(every, "SQL aggregation + available rows", stats),
            Case(every, "baseline: all rows loaded into Python", naive),
        ],
        args.repeat,
    )
    print(
        f"{args.rows} rows, seed {args.seed}, {platform.python_implementation()} "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPU(s), {args.repeat} runs after a warm-up\n"
    )
    print(table(measures))
    print()
    print(in_process(url, no_target_index, no_index, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
