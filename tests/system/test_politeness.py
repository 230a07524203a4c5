"""The politeness gate measured at a site: 50 targets on one host under the real daemon.

The gate alone (slots, gaps, the global cap, pauses) is in tests/unit/test_politeness_gate.py.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from typing import Any

from daemonrig import (
    daemon_config,
    imitation_process,
    outcomes_of,
    rdvsp_path,
    run_in_process,
    site_requests,
)
from helpers import migrated

# -- measured at the site: 50 targets, one host, the real daemon --------------------------------


async def test_fifty_targets_on_one_host_never_exceed_its_caps(tmp_path: Path) -> None:
    """Every request counts at the imitation: in flight per host <= concurrency, and
    request starts at least the gap apart.

    The gate spaces the moments it lets requests go; the site sees them a little later,
    by the time the event loop takes to write them (about a millisecond, but as much as the
    loop stalls on a loaded machine). So the slack is a few ms plus the longest stall of
    this process's loop during the run, measured alongside.
    """
    concurrency, gap = 2, 0.2
    keys = [str(7300 + n) for n in range(50)]
    stalls: list[float] = [0.0]

    async def measure_stalls() -> None:
        while True:
            began = time.monotonic()
            await asyncio.sleep(0.002)
            stalls.append(time.monotonic() - began - 0.002)

    # Slow answers, so that without the cap many requests would overlap.
    with imitation_process({key: ("slow", {"delay": 0.5}) for key in keys}) as base_url:
        targets = [
            {"id": f"p{n}", "platform": "rdv-service-public", "url": base_url + rdvsp_path(key)}
            for n, key in enumerate(keys)
        ]
        database = migrated(tmp_path / "db.sqlite")
        config = daemon_config(
            tmp_path / "c.yaml",
            targets=targets,
            database=database,
            interval="2s",
            concurrency=concurrency,
            probe_timeout="30s",
        )

        async def tighten(daemon: Any) -> None:
            # Set on the running gate, as a SIGHUP reload would.
            daemon.politeness.configure(per_host_concurrency=concurrency, per_host_min_gap=gap)

        watching = asyncio.create_task(measure_stalls())
        try:
            repository = await run_in_process(config, database, seconds=7, during=tighten)
        finally:
            watching.cancel()
        requests = [r for r in site_requests(base_url) if r["platform"] == "rdv-service-public"]
    assert len(requests) >= 20, "enough traffic to prove something"
    assert max(r["in_flight_host"] for r in requests) == concurrency
    starts = sorted(r["monotonic"] for r in requests)
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert min(gaps) >= gap - 0.005 - max(stalls)
    assert len(outcomes_of(repository)) >= 15
