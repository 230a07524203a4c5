"""Growth: CPU seconds per probe, evidence and database bytes per attempt, a year's disk.

    .venv/bin/python bench/growth.py [--http-targets 100] [--browser-targets 20] [--rounds 5]

Runs the daemon's own path (``bench/probes.py``'s ``daemon_engine``: claim, politeness,
probe, classification, evidence, the row and its chain, SQLite) on the imitation, one
engine at a time, and measures per round:

* CPU seconds per probe of this process and its descendants (Playwright's driver and
  Chromium), from /proc;
* evidence bytes written per attempt: files are content-addressed, and the imitation's
  pages are the same from one probe (and one target) to the next, as many real no-slot
  pages are, so later rounds write nothing; a site that puts a time or a token in every
  page costs every attempt its whole evidence, measured as the mean size of one
  attempt's files (``unshared_evidence``);
* database bytes per attempt: the SQLite file's growth after a WAL checkpoint (the outcome
  row, its indexes and chain, the probe claim, the target's state); the first round also
  holds the empty tables' first pages, so the later rounds are the figure.

Then it runs ``monitor db prune --before <now>`` on the HTTP run's database (what the
command keeps: every row and digest; what it deletes: the files) and projects a year of
100 targets every 15 minutes (3,504,000 attempts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import probes
import proctree

YEAR_ATTEMPTS = 100 * 4 * 24 * 365


def sizes(directory: Path) -> tuple[int, int]:
    """(evidence bytes, database bytes) of one engine's run directory, its WAL folded in."""
    with sqlite3.connect(directory / "monitor.db") as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database = sum(f.stat().st_size for f in directory.iterdir() if f.name.startswith("monitor.db"))
    evidence = probes.directory_bytes(directory / "evidence")
    return evidence, database


async def grow(
    base_url: str, engine: str, count: int, rounds: int, workdir: Path
) -> dict[str, Any]:
    rows: list[dict[str, float]] = []
    async with probes.daemon_engine(base_url, count, engine, 4, workdir) as one_round:
        directory = next(workdir.glob(f"engine-{engine}-*"))
        before = sizes(directory)
        for number in range(rounds):
            cpu = proctree.cpu_seconds(os.getpid())
            began = time.perf_counter()
            await one_round()
            probes.reap_orphans()
            after = sizes(directory)
            rows.append(
                {
                    "round": number + 1,
                    "seconds": time.perf_counter() - began,
                    "cpu_per_probe": (proctree.cpu_seconds(os.getpid()) - cpu) / count,
                    "evidence_per_attempt": (after[0] - before[0]) / count,
                    "database_per_row": (after[1] - before[1]) / count,
                    "load": os.getloadavg()[0],
                }
            )
            before = after
            print(engine, json.dumps(rows[-1]), file=sys.stderr)
    return {"engine": engine, "targets": count, "rounds": rows, "directory": str(directory)}


def unshared_evidence(directory: Path) -> float:
    """Mean bytes of one attempt's evidence files, as if no file were shared with another.

    What an attempt costs on a site whose every page differs (a time or a token in it).
    """
    with sqlite3.connect(directory / "monitor.db") as connection:
        lists = [json.loads(row[0]) for row in connection.execute("SELECT evidence FROM outcomes")]
    evidence = directory / "evidence"
    sizes_ = [sum((evidence / path).stat().st_size for path in paths) for paths in lists]
    return sum(sizes_) / len(sizes_)


def prune(directory: Path) -> dict[str, Any]:
    """``monitor db prune --before`` one minute from now: every file goes, every row stays."""
    evidence_before = probes.directory_bytes(directory / "evidence")
    # With its offset: a time without one is read in settings.timezone (Europe/Paris).
    cutoff = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    database = f"sqlite:///{directory / 'monitor.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--database", database, "db", "prune",
         "--before", cutoff, "--evidence-dir", str(directory / "evidence")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    verify = subprocess.run(
        [sys.executable, "-m", "monitor", "--database", database, "verify",
         "--evidence-dir", str(directory / "evidence")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return {
        "prune_exit": done.returncode,
        "prune_said": (done.stdout + done.stderr).strip().splitlines()[-3:],
        "evidence_before": evidence_before,
        "evidence_after": probes.directory_bytes(directory / "evidence"),
        "verify_exit": verify.returncode,
        "verify_said": (verify.stdout + verify.stderr).strip().splitlines()[-2:],
    }


async def main_async(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    probes.become_subreaper()
    workdir = Path(tempfile.mkdtemp(prefix="bench-growth-"))
    with probes.imitation() as base_url:
        runs = [await grow(base_url, "http", args.http_targets, args.rounds, workdir)]
        runs.append(await grow(base_url, "browser", args.browser_targets, args.rounds, workdir))
    report: dict[str, Any] = {"runs": runs}
    for run in runs:
        later = run["rounds"][1:]
        first = run["rounds"][0]
        steady = {
            key: sorted(r[key] for r in later)[len(later) // 2]
            for key in ("cpu_per_probe", "evidence_per_attempt", "database_per_row")
        }
        unshared = unshared_evidence(Path(run["directory"]))
        run["summary"] = {
            "cpu_s_per_probe_median": round(steady["cpu_per_probe"], 3),
            "evidence_bytes_first_round": round(first["evidence_per_attempt"]),
            "evidence_bytes_later_rounds_median": round(steady["evidence_per_attempt"]),
            "database_bytes_per_row_median": round(steady["database_per_row"]),
            "year_database_gb": round(steady["database_per_row"] * YEAR_ATTEMPTS / 1e9, 2),
            "evidence_bytes_unshared": round(unshared),
            "year_evidence_gb_every_page_new": round(unshared * YEAR_ATTEMPTS / 1e9, 1),
            "year_cpu_hours": round(steady["cpu_per_probe"] * YEAR_ATTEMPTS / 3600, 1),
        }
        print(run["engine"], json.dumps(run["summary"]))
    # Last: prune deletes the evidence files the summary above reads.
    report["prune"] = prune(Path(runs[0]["directory"]))
    print("prune", json.dumps(report["prune"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http-targets", type=int, default=100)
    parser.add_argument("--browser-targets", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
