"""Issue 29's pure rules: which node a heartbeat check judges, which nodes are stale, what
the lines say, and the node in an outcome's chain."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from monitor.config.settings import Settings
from monitor.daemon.heartbeat import stale_nodes
from monitor.daemon.nodes import local_node, on_host
from monitor.domain import Engine, Outcome, Reason, Status, status_of
from monitor.reports.stats import NO_NODE, group_key, stats_fields, stats_of_outcomes, stats_row
from monitor.reports.status import heartbeat_lines, node_lines, node_rows, verdict_line
from monitor.store.coordination import NodeBeat
from monitor.store.evidence import canonical_fields, chain_hash

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
LIMIT = timedelta(seconds=30)  #: stale after: 3 × a 10 s interval


def beat(node: str, age: float, pid: int = 10) -> NodeBeat:
    return NodeBeat(node, NOW - timedelta(seconds=age), pid, "0.1.0", NOW - timedelta(hours=1))


FLEET = [beat("paris-1", 2), beat("lyon:41", 5, pid=41), beat("lyon:40", 300, pid=40)]


def test_the_node_named_in_the_environment_wins() -> None:
    found = local_node(FLEET, host="lyon", override="paris-1", alive=lambda pid: True)
    assert found == "paris-1"


def test_otherwise_the_node_of_a_daemon_running_here_is_judged() -> None:
    assert local_node(FLEET, host="lyon", override=None, alive=lambda pid: pid == 41) == "lyon:41"
    assert local_node(FLEET, host="lyon", override="", alive=lambda pid: pid == 40) == "lyon:40"


def test_without_a_daemon_running_here_no_node_is_judged() -> None:
    assert local_node(FLEET, host="lyon", override=None, alive=lambda pid: False) is None
    assert local_node(FLEET, host="nantes", override=None, alive=lambda pid: True) is None


def test_a_node_is_on_a_host_by_its_name_alone_or_with_a_pid() -> None:
    assert on_host("lyon", "lyon") and on_host("lyon:41", "lyon")
    assert not on_host("lyon-2", "lyon") and not on_host("paris-1", "lyon")


def test_stale_nodes_are_those_past_three_intervals() -> None:
    assert stale_nodes(FLEET, now=NOW, smallest_interval=timedelta(seconds=10)) == ["lyon:40"]
    assert stale_nodes([], now=NOW, smallest_interval=timedelta(seconds=10)) == []


def test_the_verdict_names_the_node_judged() -> None:
    last = NOW - timedelta(seconds=5)
    line = verdict_line(last, stale=[], node="lyon:41", limit=LIMIT, now=NOW, tz=UTC)
    assert line == (
        "heartbeat ok: node lyon:41, last beat 5s ago at 2026-12-06 11:59:55+00:00 "
        "(stale after 30s)"
    )
    stale = verdict_line(last, stale=["lyon:41"], node="lyon:41", limit=LIMIT, now=NOW, tz=UTC)
    assert stale.startswith("heartbeat stale: node lyon:41, last beat 5s ago")


def test_the_verdict_of_a_fleet_names_its_stale_nodes() -> None:
    last = NOW - timedelta(seconds=2)
    line = verdict_line(last, stale=["lyon:40"], node=None, limit=LIMIT, now=NOW, tz=UTC)
    assert line == (
        "heartbeat stale: node lyon:40 stale; latest last beat 2s ago at "
        "2026-12-06 11:59:58+00:00 (stale after 30s)"
    )
    assert verdict_line(last, stale=[], node=None, limit=LIMIT, now=NOW, tz=UTC).startswith(
        "heartbeat ok: last beat 2s ago"
    )


def test_a_node_without_a_row_is_missing() -> None:
    assert verdict_line(None, stale=[], node="gone", limit=LIMIT, now=NOW, tz=UTC) == (
        "heartbeat missing: node gone has no heartbeat on this database"
    )
    assert verdict_line(None, stale=[], node=None, limit=LIMIT, now=NOW, tz=UTC) == (
        "heartbeat missing: no daemon is running on this database"
    )


def test_a_stale_nodes_line_says_stale_and_not_healthy() -> None:
    rows = node_rows(FLEET, {}, now=NOW, limit=LIMIT)
    lines = heartbeat_lines(
        NOW - timedelta(seconds=2), rows, stale=["lyon:40"], limit=LIMIT, now=NOW, tz=PARIS
    )
    paris, living, dead = lines[1:]
    assert paris.startswith("  node paris-1: ok, last beat 2s ago") and paris.endswith(", healthy")
    assert living.startswith("  node lyon:41: ok,") and living.endswith(", healthy")
    assert dead.startswith("  node lyon:40: stale, last beat 5m ago")
    assert "healthy" not in dead and "degraded" not in dead
    table = node_lines({}, rows, tz=PARIS)
    assert "node lyon:40: last beat 5m ago (stale)" in table
    assert "node paris-1: last beat 2s ago (ok), healthy" in table


OUTCOME = Outcome(
    target="92/remise-titre",
    prefecture="92",
    started_at=NOW,
    finished_at=NOW + timedelta(seconds=2),
    engine=Engine.HTTP,
    status=Status.UNAVAILABLE,
    reason=Reason.NO_SLOT,
    detail="Plus de créneau",
    url="https://example.invalid/booking/create/1",
)


def test_an_outcome_without_a_node_hashes_as_before_the_column_existed() -> None:
    assert "node" not in json.loads(canonical_fields(OUTCOME))


@pytest.mark.parametrize("node", ["paris-1", "lyon:41"])
def test_an_outcome_made_by_a_node_chains_its_node(node: str) -> None:
    made = replace(OUTCOME, node=node)
    assert json.loads(canonical_fields(made))["node"] == node
    assert chain_hash(None, made) != chain_hash(None, OUTCOME)
    assert chain_hash(None, made) != chain_hash(None, replace(OUTCOME, node="elsewhere"))


def test_stats_group_outcomes_by_node_and_those_of_no_node_together() -> None:
    day = NOW.date()
    assert group_key(replace(OUTCOME, node="paris-1"), "node", day) == "paris-1"
    assert group_key(OUTCOME, "node", day) == NO_NODE == "(none)"


def test_fleet_settings_default_to_a_day_and_five_connections() -> None:
    fleet = Settings().fleet
    assert (fleet.forget_after, fleet.db_pool) == (timedelta(days=1), 5)
    chosen = Settings.model_validate({"fleet": {"forget_after": "8s", "db_pool": 2}}).fleet
    assert (chosen.forget_after, chosen.db_pool) == (timedelta(seconds=8), 2)
    assert Settings.model_validate({"fleet": None}).fleet == fleet


@pytest.mark.parametrize("fleet", [{"db_pool": 0}, {"forget_after": "0s"}, {"forget": "1d"}])
def test_fleet_settings_refuse_what_cannot_work(fleet: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({"fleet": fleet})


def test_stats_by_node_count_network_failures_of_the_place_and_of_the_node() -> None:
    reasons = [
        Reason.NO_SLOT,
        Reason.CONNECTION,
        Reason.TIMEOUT,
        Reason.NETWORK_DOWN,
        Reason.BROWSER_CRASH,
        Reason.OVERLOADED,
    ]
    made = [
        replace(OUTCOME, status=status_of(reason), reason=reason, node="lyon:41")
        for reason in reasons
    ]
    (lyon,) = stats_of_outcomes(made, by="node", tz=PARIS, now=NOW)
    assert (lyon.key, lyon.attempts, lyon.network_failures) == ("lyon:41", 6, 3)
    row = stats_row(lyon, "node")
    assert row["network_failures"] == 3
    fields = stats_fields("node")
    assert fields[fields.index("anomalies_by_reason") + 1] == "network_failures"
    assert "network_failures" not in stats_fields("target")
