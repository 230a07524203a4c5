"""The real daemon beside hostile pages: none of them delays anything else (issue 25).

``monitor run`` (a subprocess, as a user runs it) watches one calm target on one imitation
host and four targets serving hostile pages on another (deep nesting, 2 MiB of text 400
elements deep, an 8 MiB attribute, the legacy calendar step with an inline base64 logo),
every 2 s. Before issue 25 the flows parsed
pages on the event loop (the deep page: about 8 s per parse, twice more in recognition),
so nothing else ran meanwhile. Checked from what the daemon left behind and from the
heartbeat row polled while it ran:

* the calm target is probed on its cadence: no gap between two of its probes longer than
  its interval plus a second;
* the heartbeat (every second here) is never older than 3 s while the hostile pages are read;
* each hostile page gets its outcome within ``probe_timeout`` (5 s) plus margin;
* SIGTERM stops the daemon within 30 s (docs/contract.md#commands).
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from daemonrig import daemon_config

from monitor.domain import Reason, Status
from monitor.errors import DatabaseError
from monitor.imitation import ImitationSite
from monitor.store import Repository, create_engine_for

STOP_WITHIN = 30.0  #: docs/contract.md#commands: SIGTERM stops it within 30 s
INTERVAL = timedelta(seconds=2)
PROBE_TIMEOUT = timedelta(seconds=5)
RUN_FOR = 20.0
RDV = "rdv-prefecture"
#: name -> (platform, path on the hostile host, the reason expected, words of its detail)
HOSTILE = {
    "deep": (RDV, "/hostile/deep-nesting", Reason.UNRECOGNIZED, "levels deep and was not read"),
    "giant-text": (RDV, "/hostile/giant-element", Reason.BLOCKED, "Accès refusé"),
    "giant-attribute": (RDV, "/hostile/giant-attribute", Reason.NO_SLOT, "Aucun créneau"),
    # The first page: a "Choix d'une plage" step with a 48 KiB inline base64 logo
    # (before: 30 s of backtracking per search, on the event loop). Honest: 3 slots.
    "logo-calendar": (
        "legacy-booking",
        "/hostile-corpus/inline-image-calendar/booking/create/9001",
        Reason.SLOTS,
        "free slot(s) in 6 week(s)",
    ),
}


@pytest.fixture
def sites() -> Iterator[tuple[ImitationSite, ImitationSite]]:
    """Two hosts: the calm target's and the hostile pages' (politeness is per host)."""
    with ExitStack() as stack:
        yield stack.enter_context(ImitationSite()), stack.enter_context(ImitationSite())


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}


def test_hostile_pages_never_delay_other_probes_the_heartbeat_or_sigterm(
    sites: tuple[ImitationSite, ImitationSite], tmp_path: Path
) -> None:
    calm_site, hostile_site = sites
    targets = [
        {"id": "calm", "platform": "demarches-simplifiees", "engine": "http",
         "url": calm_site.url("/commencer/imitation-acceptance")},
        *(
            {"id": name, "platform": platform, "engine": "http", "url": hostile_site.url(path)}
            for name, (platform, path, _, _) in HOSTILE.items()
        ),
    ]  # fmt: skip
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    config = daemon_config(
        tmp_path / "prefectures.yaml",
        targets=targets,
        database=database,
        interval="2s",
        jitter="0%",
        concurrency=4,
        probe_timeout="5s",
    )
    log = tmp_path / "daemon.log"
    with log.open("w") as stream:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "--database", database,
             "-v", "run", "--migrate"],
            stdout=stream, stderr=subprocess.STDOUT, text=True, env=environment(),
        )  # fmt: skip
    oldest_beat = timedelta(0)
    try:
        began = time.monotonic()
        repository: Repository | None = None
        while time.monotonic() - began < RUN_FOR:
            time.sleep(0.5)
            if repository is None and (tmp_path / "monitor.db").exists():
                repository = Repository(create_engine_for(database))
            try:
                nodes = repository.nodes() if repository is not None else []
            except DatabaseError:  # not migrated yet
                nodes = []
            if nodes and time.monotonic() - began > 5:  # past start-up (migration, Chromium)
                oldest_beat = max(oldest_beat, datetime.now(UTC) - nodes[0].beat_at)
        stopping = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=STOP_WITHIN + 5)
        took = time.monotonic() - stopping
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert code == 0, log.read_text()
    assert took < STOP_WITHIN, took
    assert "Traceback" not in log.read_text()
    assert oldest_beat <= timedelta(seconds=3), oldest_beat

    repository = Repository(create_engine_for(database))
    calm = list(repository.outcomes_for_target("t/calm"))
    assert len(calm) >= RUN_FOR / INTERVAL.total_seconds() - 3, len(calm)
    assert {o.status for o in calm} == {Status.AVAILABLE}
    gaps = [b.started_at - a.started_at for a, b in itertools.pairwise(calm)]
    assert max(gaps) <= INTERVAL + timedelta(seconds=1), max(gaps)

    for name, (_, _, reason, words) in HOSTILE.items():
        rows = list(repository.outcomes_for_target(f"t/{name}"))
        assert len(rows) >= 3, (name, len(rows))
        for row in rows:
            assert row.reason is reason, (name, row.reason, row.detail)
            assert words in row.detail, (name, row.detail)
            assert row.finished_at - row.started_at <= PROBE_TIMEOUT + timedelta(seconds=2)
