"""Cluster mode end to end (issue 15, item 5): a real PostgreSQL, three ``monitor run
--cluster`` daemons against the imitation site, one of them SIGKILLed.

What must hold: each target's slot probed once at most across the fleet (the claim rows
are unique and every probe the site saw and every outcome stored has its own claim), the
work shared by the nodes, the killed node's share taken over by the others, the host's
politeness cap held by the fleet as a whole, and the slots opening announced by exactly one
email although three dispatchers watch the outbox.
"""

from __future__ import annotations

import signal as signals
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from daemonrig import rdvsp_path
from fleetrig import PROJECT, environment, rows, start_node, wait_until
from notifyrig import ENV, mail_url
from pg import pg_server
from smtp_server import AUTH_WITHOUT_TLS_IS_FINE_HERE, SMTPServer
from sqlalchemy import func, select

from monitor.imitation import ImitationSite
from monitor.store.rows import events, heartbeats, outcomes, probe_claims

pytestmark = [AUTH_WITHOUT_TLS_IS_FINE_HERE, pytest.mark.postgres]

TARGETS = 9
OPENS = "t/cible-0"  #: the one target whose page shows slots
DELAY = 0.3  #: each answer takes this long, so probes overlap and a kill finds some in flight
CAP = 2  #: per_host_concurrency: every target is on the one imitation host


def key_of(index: int) -> str:
    return f"88{index:02d}"


def config_text(tmp_path: Path, site: ImitationSite, smtp: SMTPServer, database: str) -> str:
    targets = "\n".join(
        f"""      - id: cible-{index}
        name: Cible {index}
        platform: rdv-service-public
        engine: http
        url: {site.url(rdvsp_path(key_of(index)))}"""
        for index in range(TARGETS)
    )
    return f"""
version: 1
settings:
  database: {database}
  cluster: true
  evidence_dir: {tmp_path / "evidence"}
  user_agent: "prefecture-monitor/test (+https://example.invalid)"
  schedule: {{interval: 3s, jitter: 0s}}
  politeness: {{per_host_concurrency: {CAP}, per_host_min_gap: 0s, backoff_max: 2s}}
  probe_timeout: 15s
  connectivity_check: []
  alerts: {{anomaly_after: 3, resolved_after: 2, remind_every: 0}}
channels:
  - id: team-mail
    url: "{mail_url(smtp.port)}"
    events: [slots_opened]
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
            base = "slots" if index == 0 else "no_slot"
            running.set_scenario(key_of(index), "slow", delay=DELAY, base=base)
        yield running


def monitor(config_path: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "--config", str(config_path), *args]


def start(config_path: Path, node: str, log: Path) -> subprocess.Popen[bytes]:
    return start_node(config_path, node, log, extra=ENV)


def probed_after(database: str, moment: datetime) -> set[str]:
    found = rows(database, select(outcomes.c.target).where(outcomes.c.started_at > moment))
    return {str(row[0]) for row in found}


def test_three_cluster_daemons_share_the_targets_survive_a_kill_and_alert_once(
    tmp_path: Path, site: ImitationSite, smtp: SMTPServer
) -> None:
    with pg_server() as database:
        config_path = tmp_path / "prefectures.yaml"
        config_path.write_text(config_text(tmp_path, site, smtp, database), encoding="utf-8")
        for _ in range(2):  # the task queue's schema comes with the migrations, idempotently
            upgraded = subprocess.run(
                monitor(config_path, "db", "upgrade"),
                cwd=PROJECT,
                env=environment(extra=ENV),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert upgraded.returncode == 0, upgraded.stderr
        names = ["node-1", "node-2", "node-3"]
        logs = {name: tmp_path / f"{name}.log" for name in names}
        nodes = {name: start(config_path, name, logs[name]) for name in names}
        try:
            wait_until(
                lambda: len(probed_after(database, datetime(2000, 1, 1, tzinfo=UTC))) == TARGETS,
                90,
                "every target probed by the fleet",
            )
            smtp.wait_for(1, timeout=60)
            wait_until(
                lambda: (
                    {row[0] for row in rows(database, select(probe_claims.c.node))} >= set(names)
                ),
                60,
                "every node taking a share",
            )
            nodes["node-1"].send_signal(signals.SIGKILL)
            nodes["node-1"].wait(timeout=10)
            killed_at = datetime.now(UTC)
            # Takeover: every target, node-1's share included, probed again by the others.
            wait_until(
                lambda: len(probed_after(database, killed_at)) == TARGETS,
                60,
                "every target probed after the kill",
            )
            wait_until(
                lambda: (
                    min(
                        Counter(
                            row[0]
                            for row in rows(
                                database,
                                select(outcomes.c.target).where(outcomes.c.started_at > killed_at),
                            )
                        ).values()
                    )
                    >= 2
                ),
                60,
                "two more probes of every target",
            )
            time.sleep(2)  # more dispatch rounds on both nodes: nothing may be sent again
        finally:
            for name in ("node-2", "node-3"):
                nodes[name].send_signal(signals.SIGTERM)
            for name, process in nodes.items():
                try:
                    code = process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    process.kill()
                    raise
                if name != "node-1":
                    assert code == 0, logs[name].read_text()

        claims = rows(database, select(probe_claims.c.target, probe_claims.c.slot))
        claimers = rows(database, select(probe_claims.c.node, probe_claims.c.claimed_at))
        stored = rows(database, select(outcomes.c.target))
        kinds = [row[0] for row in rows(database, select(events.c.kind))]
        beating = {row[0] for row in rows(database, select(heartbeats.c.node))}
        jobs_left = rows(database, select(func.count()).select_from(probe_claims))

    # At most one probe per target and slot, fleet-wide.
    assert len(set(claims)) == len(claims) == jobs_left[0][0]
    claims_per_target = Counter(str(target) for target, _ in claims)
    outcomes_per_target = Counter(str(row[0]) for row in stored)
    for target, count in outcomes_per_target.items():
        assert count <= claims_per_target[target], target
    seen = Counter(
        entry.key for entry in site.requests if entry.platform and entry.key.startswith("88")
    )
    for index in range(TARGETS):
        assert seen[key_of(index)] <= claims_per_target[f"t/cible-{index}"], index
    # The work was shared, and the killed node took no more after its death.
    by_node = Counter(str(node) for node, _ in claimers)
    assert set(by_node) == {"node-1", "node-2", "node-3"}
    assert all(node != "node-1" or at <= killed_at for node, at in claimers)  # type: ignore[operator]
    # The host's cap holds for the fleet, not per node.
    assert site.max_in_flight() <= CAP
    # One email, one event, whatever the three dispatchers did.
    assert Counter(kinds)["slots_opened"] == 1
    assert len(smtp.messages) == 1
    # Nodes stopped cleanly leave no heartbeat; the killed one's stays until it goes stale.
    assert beating == {"node-1"}
