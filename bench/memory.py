"""Memory: the daemon's proportional set size with N configured targets, over some minutes.

    .venv/bin/python bench/memory.py --targets 1000 --minutes 10 [--interval 5m]

Runs the real daemon (``monitor run --migrate``, a subprocess) on ``--targets`` targets of
the imitation (its own process), a fifth of them on the browser engine, half
legacy-booking and half rdv-service-public, every ``--interval`` with 20 % jitter,
politeness 4 probes at once on the one host and no gap. Every 10 s it sums the PSS
(``/proc/PID/smaps_rollup``) of the daemon and its descendants (Playwright's driver,
Chromium and its renderers) and counts the outcome rows. PSS shares each page among the
processes that map it, so Chromium's libraries are not counted once per process.

Prints one line per sample, then: the first sample after a minute (start-up done), the
last, the largest, and the slope over the second half of the run (MiB per minute).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import probes
import proctree

MIB = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--interval", default="5m")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix=f"bench-memory-{args.targets}-"))
    with probes.imitation() as base_url:
        every = probes.targets(base_url, args.targets, "http")
        for number, target in enumerate(every):
            if number % 5 == 0:
                target["engine"] = "browser"
        config = probes.write_config(directory, every, concurrency=4)
        text = config.read_text().replace("interval: 15m", f"interval: {args.interval}")
        config.write_text(text.replace("jitter: 0%", "jitter: 20%"))
        environment = {k: v for k, v in os.environ.items() if k != "MONITOR_DATABASE_URL"}
        with (directory / "daemon.log").open("wb") as log:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(config), "-q", "run",
                 "--migrate"],
                stdout=log, stderr=log, env=environment,
            )  # fmt: skip
        samples: list[tuple[float, float, int]] = []
        began = time.monotonic()
        try:
            while time.monotonic() - began < args.minutes * 60:
                time.sleep(10)
                if daemon.poll() is not None:
                    raise RuntimeError(f"the daemon exited; see {directory}/daemon.log")
                rows = 0
                if (directory / "monitor.db").exists():
                    with sqlite3.connect(directory / "monitor.db") as connection:
                        rows = connection.execute("SELECT count(*) FROM outcomes").fetchone()[0]
                pss = proctree.pss_bytes(daemon.pid) / MIB
                samples.append((time.monotonic() - began, pss, rows))
                print(
                    f"{samples[-1][0]:6.0f} s  {pss:7.1f} MiB  {rows} rows "
                    f"{len(proctree.tree(daemon.pid))} processes  load {os.getloadavg()[0]:.1f}",
                    file=sys.stderr,
                )
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
    settled = [s for s in samples if s[0] >= 60]
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    slope = statistics.linear_regression([s[0] / 60 for s in half], [s[1] for s in half]).slope
    print(
        json.dumps(
            {
                "targets": args.targets,
                "browser_targets": len(range(0, args.targets, 5)),
                "interval": args.interval,
                "minutes": args.minutes,
                "pss_mib_after_1min": round(settled[0][1], 1),
                "pss_mib_last": round(samples[-1][1], 1),
                "pss_mib_max": round(max(s[1] for s in samples), 1),
                "slope_mib_per_min_second_half": round(slope, 2),
                "outcome_rows": samples[-1][2],
                "load": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
