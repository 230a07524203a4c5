"""The monitor's own health, for real: the connectivity check on a site, health events stored.

The rules (network failures, the own-fault guard, the heartbeat) are in
tests/unit/test_health_rules.py.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemonrig import daemon_config, load
from helpers import migrated
from sqlalchemy import select

from monitor.daemon.health import (
    HealthReporter,
    check_connectivity,
)
from monitor.details import record_line
from monitor.domain import (
    MONITOR_TARGET,
    Detail,
    EventKind,
)
from monitor.imitation import ImitationSite
from monitor.store import Repository, create_engine_for
from monitor.store.rows import events


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


ANSWERED = Detail("host_answered", {"host": "a"})
OFFLINE = Detail("every_host_failing")


# -- connectivity check ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def answering() -> Iterator[ImitationSite]:
    with ImitationSite() as site:
        yield site


async def test_any_http_answer_even_an_error_proves_the_network_works(
    answering: ImitationSite,
) -> None:
    result = await check_connectivity([answering.url("/no/such/page")], user_agent="t")
    assert result.online


async def test_it_is_offline_only_when_every_url_fails(answering: ImitationSite) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/"
    offline = await check_connectivity([dead], user_agent="t", timeout=2)
    assert not offline.online and dead in record_line(offline.detail)
    mixed = await check_connectivity([dead, answering.url("/")], user_agent="t", timeout=2)
    assert mixed.online


# -- health events -----------------------------------------------------------------------------


def health_events(repository: Repository) -> list[str]:
    with repository.engine.connect() as connection:
        rows = connection.execute(
            select(events.c.kind).where(events.c.target == MONITOR_TARGET).order_by(events.c.id)
        )
        return [row.kind for row in rows]


async def test_health_reports_become_degraded_and_recovered_events(tmp_path: Path) -> None:
    database = migrated(tmp_path / "db.sqlite")
    config = load(
        daemon_config(
            tmp_path / "c.yaml",
            targets=[{"id": "x", "platform": "rdv-service-public", "url": "http://127.0.0.1/x"}],
            database=database,
            channels=[{"id": "ops", "url": "json://127.0.0.1:9/"}],
        )
    )
    repository = Repository(create_engine_for(database))
    health = HealthReporter(repository, config)
    assert await health.report(False, ANSWERED) == []  # nothing to recover from: no write
    assert repository.get_state(MONITOR_TARGET).last_probe_at is None
    degraded = await health.report(True, OFFLINE)
    assert [event.kind for event in degraded] == [EventKind.MONITOR_DEGRADED]
    assert await health.report(True, OFFLINE) == []  # once, not per probe
    assert health.degraded
    assert await health.report(False, ANSWERED) == []  # resolved_after: 2
    recovered = await health.report(False, ANSWERED)
    assert [event.kind for event in recovered] == [EventKind.MONITOR_RECOVERED]
    assert not health.degraded
    assert health_events(repository) == ["monitor_degraded", "monitor_recovered"]
    assert repository.outbox_depth() == 2  # one delivery each to the channel


async def test_monitor_degraded_names_the_node_that_lost_its_network(tmp_path: Path) -> None:
    database = migrated(tmp_path / "db.sqlite")
    config = load(
        daemon_config(
            tmp_path / "c.yaml",
            targets=[{"id": "x", "platform": "rdv-service-public", "url": "http://127.0.0.1/x"}],
            database=database,
            channels=[{"id": "ops", "url": "json://127.0.0.1:9/"}],
        )
    )
    health = HealthReporter(Repository(create_engine_for(database)), config, "paris-2")
    degraded = await health.report(True, OFFLINE)
    assert [event.kind for event in degraded] == [EventKind.MONITOR_DEGRADED]
    payload = degraded[0].payload
    assert str(payload["detail"]).endswith("the monitor is offline (node paris-2)")
    assert payload["detail_args"] == {"node": "paris-2"}
