"""The monitor's own health per fleet node (issue 15, item 7).

In cluster mode each node keeps its degraded / recovered state under its own key, so one
node's recovery never closes another's degradation and a node never starts from another's
state; the events stay MONITOR_TARGET's and name the node. Embedded mode keeps the single
``*monitor*`` row. ``monitor status`` shows each node's health beside its last heartbeat.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from daemonrig import daemon_config, load
from helpers import migrated
from pg import create_database, shared_pg_url
from sqlalchemy import select

from monitor.alerts.policy import AlertPolicy, apply_monitor_health
from monitor.cli import cli
from monitor.config import Config
from monitor.daemon.compose import build_daemon
from monitor.daemon.health import HealthReporter
from monitor.domain import (
    MONITOR_TARGET,
    Detail,
    EventKind,
    TargetState,
    is_monitor_key,
    monitor_key,
    monitor_key_node,
)
from monitor.evidence.anchors import anchors_now
from monitor.store import Repository, create_engine_for, upgrade
from monitor.store.rows import events

OFFLINE = Detail("every_host_failing")
ANSWERED = Detail("host_answered", {"host": "a"})
TARGET = {"id": "x", "platform": "rdv-service-public", "url": "http://127.0.0.1:1/x"}
_databases = itertools.count()


def config_for(tmp_path: Path, database: str) -> Path:
    return daemon_config(
        tmp_path / "c.yaml",
        targets=[TARGET],
        database=database,
        interval="10m",
        channels=[{"id": "ops", "url": "json://127.0.0.1:9/"}],
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return migrated(tmp_path / "db.sqlite")
    url = create_database(shared_pg_url(request.config), f"fleet_health_{next(_databases)}")
    upgrade(url)
    return url


@pytest.fixture
def repository(database: str) -> Iterator[Repository]:
    engine = create_engine_for(database)
    try:
        yield Repository(engine)
    finally:
        engine.dispose()


def health_events(repository: Repository) -> list[tuple[str, str]]:
    with repository.engine.connect() as connection:
        rows = connection.execute(select(events.c.kind, events.c.target).order_by(events.c.id))
        return [(row.kind, row.target) for row in rows]


# -- the key -----------------------------------------------------------------------------------


def test_a_nodes_key_is_derived_from_the_monitor_target_and_recognised_everywhere() -> None:
    assert monitor_key(None) == MONITOR_TARGET
    assert monitor_key("paris-1:42") == "*monitor*@paris-1:42"
    assert monitor_key_node(monitor_key("paris-1:42")) == "paris-1:42"
    assert monitor_key_node(MONITOR_TARGET) is None and monitor_key_node("75/titre") is None
    assert is_monitor_key(MONITOR_TARGET) and is_monitor_key(monitor_key("n"))
    assert not is_monitor_key("75/titre") and not is_monitor_key("*monitor*x")


def test_per_node_states_are_folded_as_the_monitors_and_never_anchored() -> None:
    policy = AlertPolicy(remind_every=timedelta(0))
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    state, (event,) = apply_monitor_health(
        TargetState(monitor_key("b")), True, policy=policy, now=now, detail=OFFLINE
    )
    assert state.target == monitor_key("b") and state.anomaly_open
    assert (event.kind, event.target) == (EventKind.MONITOR_DEGRADED, MONITOR_TARGET)
    heads = [("t/a", "a" * 64, 2), (monitor_key("b"), "b" * 64, 1), (MONITOR_TARGET, "c" * 64, 1)]
    assert [anchor.target for anchor in anchors_now(heads, now)] == ["t/a"]


# -- two nodes on one database ---------------------------------------------------------------


async def test_one_nodes_recovery_does_not_close_anothers_degradation(
    tmp_path: Path, database: str, repository: Repository
) -> None:
    config = load(config_for(tmp_path, database))
    node_a = HealthReporter(repository, config, "node-a", per_node=True)
    node_b = HealthReporter(repository, config, "node-b", per_node=True)
    (degraded_a,) = await node_a.report(True, OFFLINE)
    for _ in range(5):  # node B's probes answered, again and again
        assert await node_b.report(False, ANSWERED) == []
    assert node_a.degraded and not node_b.degraded
    assert repository.get_state(monitor_key("node-a")).anomaly_open
    assert repository.get_state(MONITOR_TARGET) == TargetState(MONITOR_TARGET)  # untouched

    (degraded_b,) = await node_b.report(True, OFFLINE)  # B loses its network too: its own alert
    assert [e.payload["detail_args"] for e in (degraded_a, degraded_b)] == [
        {"node": "node-a"},
        {"node": "node-b"},
    ]
    assert str(degraded_b.payload["detail"]).endswith("the monitor is offline (node node-b)")

    restarted_a = HealthReporter(repository, config, "node-a", per_node=True)
    newcomer = HealthReporter(repository, config, "node-c", per_node=True)
    assert restarted_a.degraded and not newcomer.degraded  # each starts from its own state

    assert await node_a.report(False, ANSWERED) == []  # resolved_after: 2
    (recovered_a,) = await node_a.report(False, ANSWERED)
    assert recovered_a.kind is EventKind.MONITOR_RECOVERED
    assert recovered_a.payload["detail"] == "a answered (node node-a)"
    assert node_b.degraded and repository.get_state(monitor_key("node-b")).anomaly_open
    assert health_events(repository) == [
        ("monitor_degraded", MONITOR_TARGET),
        ("monitor_degraded", MONITOR_TARGET),
        ("monitor_recovered", MONITOR_TARGET),
    ]


async def test_embedded_mode_keeps_the_single_monitor_row(
    tmp_path: Path, database: str, repository: Repository
) -> None:
    config = load(config_for(tmp_path, database))
    health = HealthReporter(repository, config, "the-host")
    assert health.key == MONITOR_TARGET
    await health.report(True, OFFLINE)
    assert repository.get_state(MONITOR_TARGET).anomaly_open
    assert [s.target for s in repository.states() if is_monitor_key(s.target)] == [MONITOR_TARGET]


def test_the_daemon_keeps_its_health_per_node_in_cluster_mode_only(tmp_path: Path) -> None:
    database = migrated(tmp_path / "db.sqlite")
    config = load(config_for(tmp_path, database))
    repository = Repository(create_engine_for(database))

    def health_key(cluster_url: str | None) -> str:
        daemon = build_daemon(
            config,
            repository,
            node="paris-1:7",
            reload_config=lambda: config,
            once=True,  # no fleet schedule: nothing connects to the (absent) queue
            cluster_url=cluster_url,
        )
        return daemon.health.key  # the reporter the runner feeds

    assert health_key(None) == MONITOR_TARGET
    assert health_key("postgresql+psycopg://nowhere/db") == monitor_key("paris-1:7")


# -- monitor status -----------------------------------------------------------------------------


def status(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "status", *args])


async def fleet(tmp_path: Path, database: str, repository: Repository) -> tuple[Path, datetime]:
    """Two nodes beating, node-b degraded since ``since``, node-a healthy."""
    path = config_for(tmp_path, database)
    config: Config = load(path)
    now = datetime.now(UTC)
    started = now - timedelta(hours=1)
    repository.beat("node-a", 11, "0.1.0", started, now=now - timedelta(seconds=5))
    repository.beat("node-b", 12, "0.1.0", started, now=now - timedelta(seconds=9))
    await HealthReporter(repository, config, "node-b", per_node=True).report(True, OFFLINE)
    since = repository.get_state(monitor_key("node-b")).anomaly_since
    assert since is not None
    return path, since


async def test_status_shows_every_nodes_health_beside_its_heartbeat(
    tmp_path: Path, database: str, repository: Repository
) -> None:
    config, since = await fleet(tmp_path, database, repository)
    table = status(config)
    assert table.exit_code == 0, table.output
    # Local time with its offset (issue 31: no zoneless times in the node lines).
    local = since.astimezone(load(config).settings.tz).isoformat(sep=" ", timespec="seconds")
    lines = table.stdout.splitlines()
    assert "node node-a: last beat 5s ago (ok), healthy" in lines
    assert f"node node-b: last beat 9s ago (ok), degraded since {local}" in lines
    assert not any(line.startswith("monitor: degraded") for line in lines)

    beat = status(config, "--heartbeat")
    assert beat.exit_code == 0, beat.output
    (line_b,) = [line for line in beat.stdout.splitlines() if "node node-b" in line]
    assert line_b.endswith(f"degraded since {local}")

    machine = status(config, "--heartbeat", "--format", "json")
    assert machine.exit_code == 0, machine.output
    rows = {row["node"]: row for row in json.loads(machine.stdout)}
    assert rows["node-a"]["degraded"] is False and rows["node-a"]["degraded_since"] is None
    assert rows["node-b"]["degraded"] is True
    assert rows["node-b"]["degraded_since"] == since.isoformat()
    assert set(rows["node-b"]) == {
        "node",
        "last_beat",
        "stale",
        "degraded",
        "degraded_since",
        "pid",
        "version",
        "started_at",
    }


async def test_status_shows_the_embedded_daemons_health_as_its_nodes(
    tmp_path: Path, database: str, repository: Repository
) -> None:
    path = config_for(tmp_path, database)
    now = datetime.now(UTC)
    repository.beat("the-host", 5, "0.1.0", now - timedelta(hours=1), now=now)
    await HealthReporter(repository, load(path), "the-host").report(True, OFFLINE)
    lines = status(path).stdout.splitlines()
    assert any(
        line.startswith("node the-host: last beat") and "degraded since" in line for line in lines
    )
    assert not any(line.startswith("monitor: degraded") for line in lines)
    repository.forget_node("the-host")  # the daemon gone: its row still says degraded
    lines = status(path).stdout.splitlines()
    assert any(line.startswith("monitor: degraded (own network down) since") for line in lines)
