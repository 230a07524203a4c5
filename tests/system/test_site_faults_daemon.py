"""A fault that lasts, then ends, under the real daemon (``monitor run`` in a subprocess).

The imitation answers a target with a gzip bomb for a while: every probe is
``anomaly/unrecognized`` (``response_too_large``), the daemon neither crashes nor grows,
``anomaly_started`` is raised after ``anomaly_after`` of them; then the site heals, the
probes say ``unavailable/no_slot`` again and ``anomaly_resolved`` follows
``resolved_after`` healthy probes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from daemonrig import daemon_config, legacy_path
from sqlalchemy import select

from monitor.domain import Reason, Status
from monitor.imitation import ImitationSite, faults
from monitor.store import Repository, create_engine_for
from monitor.store.rows import events

pytestmark = pytest.mark.timeout(300)
KEY = "8201"
BOMB_MIB = 256


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"the daemon did not get there in time: {what}"
        time.sleep(0.25)


def event_kinds(repository: Repository) -> list[str]:
    with repository.engine.connect() as connection:
        rows = connection.execute(
            select(events.c.kind).where(events.c.target == "t/bomb").order_by(events.c.id)
        )
        return [kind for (kind,) in rows]


def test_a_gzip_bomb_for_a_while_then_a_healthy_site_starts_and_resolves_the_anomaly(
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    with ImitationSite() as site:
        faults.gzip_bomb(BOMB_MIB)  # made once, before the clock of the first probe runs
        site.set_scenario(KEY, "gzip_bomb", size=BOMB_MIB)
        config = daemon_config(
            tmp_path / "prefectures.yaml",
            targets=[
                {
                    "id": "bomb",
                    "platform": "legacy-booking",
                    "url": site.url(legacy_path(KEY)),
                    "engine": "http",
                }
            ],
            database=database,
            interval="1s",
            jitter="0s",
            alerts={"anomaly_after": 3, "resolved_after": 2},
        )
        log = tmp_path / "daemon.log"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
        with log.open("w") as stream:
            process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(config), "run", "--migrate"],
                stdout=stream,
                stderr=subprocess.STDOUT,
                env=environment,
            )
        repository = Repository(create_engine_for(database))
        try:
            wait_for(lambda: (tmp_path / "monitor.db").exists(), 60, "the database")
            wait_for(lambda: "anomaly_started" in event_kinds_safe(repository), 120, "started")
            site.set_scenario(KEY, "no_slot")  # the site heals
            wait_for(lambda: "anomaly_resolved" in event_kinds_safe(repository), 120, "resolved")
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=40)
        assert code == 0, log.read_text()

    outcomes = list(repository.history(newest_first=False))
    faulty = [o for o in outcomes if o.status is Status.ANOMALY]
    assert len(faulty) >= 3
    assert {(o.reason, o.structured.code if o.structured else None) for o in faulty} == {
        (Reason.UNRECOGNIZED, "response_too_large")
    }
    healthy = outcomes[len(faulty) :]
    assert len(healthy) >= 2
    assert all((o.status, o.reason) == (Status.UNAVAILABLE, Reason.NO_SLOT) for o in healthy)
    assert event_kinds(repository) == ["anomaly_started", "anomaly_resolved"]
    assert "Traceback" not in log.read_text()


def event_kinds_safe(repository: Repository) -> list[str]:
    """The events so far; none while the daemon is still creating the tables."""
    try:
        return event_kinds(repository)
    except Exception:
        return []
