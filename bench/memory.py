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
last, the largest; the samples at the commonest number of processes (the browser idle
between probes: the total moves by a renderer per browser probe in flight, so only these
show a trend), their first, last and slope; and the daemon's own PSS and its slope.
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
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import probes
import proctree

MIB = 1024 * 1024


class Sample(NamedTuple):
    seconds: float
    pss: float  #: MiB, the daemon and every process under it
    own: float  #: MiB, the daemon's own process
    processes: int
    rows: int


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
        samples: list[Sample] = []
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
                processes = len(proctree.tree(daemon.pid))
                own = proctree.pss_of(daemon.pid) / MIB
                pss = proctree.pss_bytes(daemon.pid) / MIB
                samples.append(Sample(time.monotonic() - began, pss, own, processes, rows))
                print(
                    f"{samples[-1].seconds:6.0f} s  {pss:7.1f} MiB  {rows} rows "
                    f"{processes} processes  daemon {own:.1f} MiB  load {os.getloadavg()[0]:.1f}",
                    file=sys.stderr,
                )
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
    settled = [s for s in samples if s.seconds >= 60]
    # The total moves by a renderer (60-80 MiB) per browser probe in flight; read it at the
    # commonest number of processes (the browser idle between probes) to see a trend.
    usual = statistics.mode(s.processes for s in settled)
    idle = [s for s in settled if s.processes == usual]
    print(
        json.dumps(
            {
                "targets": args.targets,
                "browser_targets": len(range(0, args.targets, 5)),
                "interval": args.interval,
                "minutes": args.minutes,
                "pss_mib_after_1min": round(settled[0].pss, 1),
                "pss_mib_last": round(samples[-1].pss, 1),
                "pss_mib_max": round(max(s.pss for s in samples), 1),
                "usual_processes": usual,
                "idle_samples": len(idle),
                "idle_pss_mib_first_last": [round(idle[0].pss, 1), round(idle[-1].pss, 1)],
                "idle_pss_mib_min_max": [
                    round(min(s.pss for s in idle), 1),
                    round(max(s.pss for s in idle), 1),
                ],
                "idle_slope_mib_per_min": round(slope_per_minute(idle), 2),
                "daemon_pss_mib_after_1min_last": [
                    round(settled[0].own, 1),
                    round(samples[-1].own, 1),
                ],
                "daemon_slope_mib_per_min": round(slope_per_minute(settled, own=True), 2),
                "outcome_rows": samples[-1].rows,
                "load": os.getloadavg()[0],
            }
        )
    )


def slope_per_minute(samples: list[Sample], *, own: bool = False) -> float:
    """MiB per minute of the least-squares line through the samples (0 under two)."""
    if len(samples) < 2:
        return 0.0
    values = [s.own if own else s.pss for s in samples]
    minutes = [s.seconds / 60 for s in samples]
    return statistics.linear_regression(minutes, values).slope


if __name__ == "__main__":
    main()
