"""Running the daemon in tests: configs on the imitation, in-process runs, reading rows back.

``daemon_config`` writes a prefectures.yaml whose targets are given as (id, platform, url)
(the daemon's preset of ``helpers.write_config``);
``run_in_process`` runs a daemon (:func:`monitor.daemon.compose.build_daemon`) on it for
some seconds in this event loop (real engines, recorder and SQLite; ``components`` may
replace a part) and returns the repository; ``outcomes_of`` reads every stored outcome,
oldest first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from helpers import write_config

from monitor.config import Config, load_config
from monitor.domain import Outcome
from monitor.store import Repository, create_engine_for

RDVSP_QUERY = (
    "departement=&motif_name_with_location_type="
    "renouvellement_de_recepisses_arrives_a_echeance-public_office&public_link_organisation_id="
)


def rdvsp_path(key: str) -> str:
    """The path of an RDV Service Public page keyed ``key`` (one request per probe)."""
    return f"/prendre_rdv?{RDVSP_QUERY}{key}"


def legacy_path(key: str) -> str:
    return f"/booking/create/{key}"


def daemon_config(
    path: Path,
    *,
    targets: Sequence[Mapping[str, Any]],
    database: str,
    interval: str = "2s",
    jitter: str = "10%",
    concurrency: int = 1,
    gap: str = "0s",
    probe_timeout: str = "10s",
    connectivity_check: Sequence[str] = (),
    channels: Sequence[Mapping[str, Any]] = (),
    alerts: Mapping[str, Any] | None = None,
) -> Path:
    """The daemon's preset of ``helpers.write_config``: prefecture "t" holding ``targets``
    (mappings: id, platform, url, …; each named by its id), probed every ``interval``."""
    return write_config(
        path,
        targets=[{"name": str(t["id"]), **t} for t in targets],
        database=database,
        channels=channels,
        schedule={"interval": interval, "jitter": jitter},
        politeness={
            "per_host_concurrency": concurrency,
            "per_host_min_gap": gap,
            "backoff_max": "1h",
        },
        probe_timeout=probe_timeout,
        connectivity_check=list(connectivity_check),
        alerts=dict(alerts or {"anomaly_after": 3, "resolved_after": 2}),
    )


def load(path: Path) -> Config:
    return load_config(path, env={})


async def run_in_process(
    config_path: Path,
    database: str,
    *,
    seconds: float,
    during: Callable[[Any], Awaitable[None]] | None = None,
    components: Any = None,
) -> Repository:
    """Run the daemon for ``seconds`` (``during`` runs alongside), stop it, check exit 0."""
    from monitor.daemon.compose import build_daemon

    repository = Repository(create_engine_for(database))
    daemon = build_daemon(
        load(config_path),
        repository,
        node="test",
        reload_config=lambda: load(config_path),
        components=components,
    )
    running = asyncio.create_task(daemon.run())
    try:
        if during is not None:
            await during(daemon)
        await asyncio.sleep(seconds)
    finally:
        daemon.request_stop()
        code = await asyncio.wait_for(running, timeout=30)
    assert code == 0
    return repository


def outcomes_of(repository: Repository, target: str | None = None) -> list[Outcome]:
    """Stored outcomes, oldest first (of one target if given)."""
    rows = repository.history(targets=None if target is None else [target], newest_first=False)
    return list(rows)


@contextlib.contextmanager
def imitation_process(scenarios: Mapping[str, tuple[str, Mapping[str, Any]]]) -> Iterator[str]:
    """An imitation site in its own process (``python -m monitor.imitation``); yields its URL.

    Timing measurements are fairer there: the site's threads do not wait for the GIL of the
    process under test before stamping a request's arrival.
    """
    arguments = [sys.executable, "-m", "monitor.imitation", "--port", "0"]
    for key, (name, params) in scenarios.items():
        arguments += ["--scenario", f"{key}={name}:{json.dumps(dict(params))}"]
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://"), base_url
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def site_requests(base_url: str) -> list[dict[str, Any]]:
    """The site's request log (see monitor.imitation.requestlog.LoggedRequest)."""
    log: list[dict[str, Any]] = httpx.get(base_url + "/_imitation/requests", timeout=10).json()
    return log
