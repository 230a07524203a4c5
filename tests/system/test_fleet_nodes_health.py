"""A fleet its operators can run for months (issue 29): three ``monitor run --cluster``
daemons on a real PostgreSQL, one SIGKILLed.

What must hold: ``status --heartbeat --node NAME`` exits 1 for the dead node and 0 for the
living ones, and without ``--node`` exits 1 naming the dead one; the dead node's line says
stale, not healthy; after ``settings.fleet.forget_after`` the dead node leaves the
heartbeat list, said in one INFO line; every outcome names the node that probed it, the
same node as the slot's claim; the chain over those rows verifies, and ``stats --by node``
counts each node's attempts.
"""

from __future__ import annotations

import json
import signal as signals
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemonrig import rdvsp_path
from fleetrig import PROJECT, environment, rows, start_node, wait_until
from pg import pg_server
from sqlalchemy import select, text

from monitor.imitation import ImitationSite
from monitor.store.rows import heartbeats, outcomes, probe_claims

pytestmark = [pytest.mark.postgres]

TARGETS = 6
NAMES = ("node-1", "node-2", "node-3")
DEAD = "node-1"
HELD = (
    "SELECT application_name, count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() GROUP BY application_name"
)


def key_of(index: int) -> str:
    return f"87{index:02d}"


def config_text(tmp_path: Path, site: ImitationSite, database: str) -> str:
    targets = "\n".join(
        f"""      - id: cible-{index}
        name: Cible {index}
        platform: rdv-service-public
        engine: http
        url: {site.url(rdvsp_path(key_of(index)))}"""
        for index in range(TARGETS)
    )
    # Stale after 3 × 1 s; forgotten 15 s after the last beat, time enough to see it stale
    # first; two store connections a node.
    return f"""
version: 1
settings:
  database: {database}
  cluster: true
  evidence_dir: {tmp_path / "evidence"}
  user_agent: "prefecture-monitor/test (+https://example.invalid)"
  schedule: {{interval: 1s, jitter: 0s}}
  politeness: {{per_host_concurrency: 4, per_host_min_gap: 0s, backoff_max: 2s}}
  probe_timeout: 15s
  connectivity_check: []
  fleet: {{forget_after: 15s, db_pool: 2}}
prefectures:
  - id: t
    name: Préfecture de test
    targets:
{targets}
"""


@pytest.fixture
def site() -> Iterator[ImitationSite]:
    with ImitationSite() as running:
        for index in range(TARGETS):
            running.set_scenario(key_of(index), "slow", delay=0.05, base="no_slot")
        yield running


def monitor(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        cwd=PROJECT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def beating(database: str) -> set[str]:
    return {str(row[0]) for row in rows(database, select(heartbeats.c.node))}


def heartbeat(config: Path, *node: str) -> subprocess.CompletedProcess[str]:
    return monitor(config, "status", "--heartbeat", *(("--node", node[0]) if node else ()))


def test_each_node_answers_for_its_own_heartbeat_and_a_dead_one_is_forgotten(
    tmp_path: Path, site: ImitationSite
) -> None:
    with pg_server() as database:
        config = tmp_path / "prefectures.yaml"
        config.write_text(config_text(tmp_path, site, database), encoding="utf-8")
        upgraded = monitor(config, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        logs = {name: tmp_path / f"{name}.log" for name in NAMES}
        nodes = {name: start_node(config, name, logs[name]) for name in NAMES}
        try:
            wait_until(
                lambda: {row[0] for row in rows(database, select(outcomes.c.node))} >= set(NAMES),
                90,
                "an outcome recorded by every node",
            )
            # Each node's connections name it; its store holds db_pool of them at most.
            held = dict(rows(database, text(HELD)))
            assert set(held) >= {f"monitor {name}" for name in NAMES}, held
            assert all(held[f"monitor {name}"] <= 2 for name in NAMES), held
            assert all(held.get(f"monitor {name} task queue", 0) <= 4 for name in NAMES), held
            nodes[DEAD].send_signal(signals.SIGKILL)
            nodes[DEAD].wait(timeout=10)

            wait_until(
                lambda: heartbeat(config, DEAD).returncode == 1, 60, "the dead node's beat stale"
            )
            fleet = heartbeat(config)
            assert fleet.returncode == 1, fleet.stdout + fleet.stderr
            assert fleet.stdout.startswith(f"heartbeat stale: node {DEAD} stale; latest")
            (dead_line,) = [
                line for line in fleet.stdout.splitlines() if line.startswith(f"  node {DEAD}:")
            ]
            assert dead_line.startswith(f"  node {DEAD}: stale, last beat")
            assert "healthy" not in dead_line and "degraded" not in dead_line
            for name in NAMES[1:]:
                living = heartbeat(config, name)
                assert living.returncode == 0, living.stdout + living.stderr
                assert living.stdout.startswith(f"heartbeat ok: node {name}, last beat")

            wait_until(lambda: DEAD not in beating(database), 60, "the dead node forgotten")
            assert beating(database) == set(NAMES[1:])
            gone = heartbeat(config, DEAD)
            assert gone.returncode == 1
            assert gone.stdout.startswith(f"heartbeat missing: node {DEAD} has no heartbeat")
            healthy = heartbeat(config)
            assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        finally:
            for name in NAMES[1:]:
                nodes[name].send_signal(signals.SIGTERM)
            for name, process in nodes.items():
                try:
                    code = process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    process.kill()
                    raise
                if name != DEAD:
                    assert code == 0, logs[name].read_text()

        forgotten = [
            line
            for name in NAMES[1:]
            for line in logs[name].read_text().splitlines()
            if f"node {DEAD} forgotten" in line
        ]
        assert len(forgotten) == 1, forgotten
        assert "INFO" in forgotten[0] and "settings.fleet.forget_after 15s" in forgotten[0]

        # Every outcome names its node, the node that claimed the slot it probed: the
        # latest claim of its target made before the probe started.
        made = rows(database, select(outcomes.c.target, outcomes.c.started_at, outcomes.c.node))
        claims = rows(
            database, select(probe_claims.c.target, probe_claims.c.claimed_at, probe_claims.c.node)
        )
        assert made and all(node in NAMES for _, _, node in made)
        for target, started_at, node in made:
            before = [c for c in claims if c[0] == target and c[1] <= started_at]  # type: ignore[operator]
            claim = max(before, key=lambda c: c[1])  # type: ignore[arg-type,return-value]
            assert claim[2] == node, (target, started_at)

        verified = monitor(config, "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        stats = monitor(config, "stats", "--by", "node", "--format", "json")
        assert stats.returncode == 0, stats.stderr
        by_node = {row["node"]: row["attempts"] for row in json.loads(stats.stdout)}
        assert set(by_node) == set(NAMES)
        assert sum(by_node.values()) == len(made)
