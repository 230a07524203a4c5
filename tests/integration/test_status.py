"""`monitor status`: every configured target, probed or not, and the heartbeat check."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from daemonrig import daemon_config
from helpers import migrated

from monitor.cli import cli
from monitor.domain import Engine, Outcome, Reason, Status, TargetState
from monitor.store import Repository, create_engine_for

#: A recent probe (the targets' interval is 10 minutes): its status is current. Set again
#: by ``setup`` from the clock when each test runs (the commands read the real clock), not
#: left at the import's, which a long suite leaves minutes behind.
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Repository]:
    global T0
    T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    database = migrated(tmp_path / "db.sqlite")
    config = daemon_config(
        tmp_path / "prefectures.yaml",
        targets=[
            {"id": "probed", "platform": "rdv-service-public", "url": "http://127.0.0.1:1/a"},
            {"id": "fresh", "platform": "legacy-booking", "url": "http://127.0.0.1:1/b"},
        ],
        database=database,
        interval="10m",
    )
    repository = Repository(create_engine_for(database))
    outcome = Outcome(
        target="t/probed",
        prefecture="t",
        started_at=T0,
        finished_at=T0 + timedelta(seconds=2),
        engine=Engine.HTTP,
        status=Status.UNAVAILABLE,
        reason=Reason.NO_SLOT,
        detail="aucun créneau",
        url="http://127.0.0.1:1/a",
        http_status=200,
    )
    state = TargetState(
        "t/probed",
        status=Status.UNAVAILABLE,
        reason=Reason.NO_SLOT,
        since=T0 - timedelta(hours=1),
        last_probe_at=T0,
        streak=7,
        consecutive_healthy=7,
    )
    repository.record_outcome(outcome, state, [], lambda event: [])
    return config, repository


def status(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "status", *args])


def test_it_lists_every_configured_target_including_those_never_probed(
    setup: tuple[Path, Repository],
) -> None:
    config, _ = setup
    result = status(config)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "TARGET",
        "STATUS",
        "REASON",
        "SINCE",
        "LAST",
        "PROBE",
        "NEXT",
        "PROBE",
        "CADENCE",
        "STREAK",
        "ALERTS",
        "DETAIL",
    ]
    probed = next(line for line in lines if line.startswith("t/probed"))
    assert "unavailable" in probed and "no_slot" in probed and " 7" in probed
    assert T0.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S") in probed  # last probe
    fresh = next(line for line in lines if line.startswith("t/fresh"))
    assert "never probed" in fresh


def test_it_gives_machines_utc_json_with_nulls_for_targets_never_probed(
    setup: tuple[Path, Repository],
) -> None:
    config, _ = setup
    result = status(config, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {row["target"]: row for row in json.loads(result.stdout)}
    assert rows["t/probed"].pop("cadence_seconds") == 600  # tested in test_status_schedule
    assert rows["t/probed"].pop("next_run") is not None
    assert rows["t/probed"] == {
        "target": "t/probed",
        "prefecture": "t",
        "name": "probed",
        "status": "unavailable",
        "reason": "no_slot",
        "since": (T0 - timedelta(hours=1)).isoformat(),
        "last_probe": T0.isoformat(),
        "streak": 7,
        "anomaly_open": False,
        "slots_open": False,
        "next_probe": None,
        "detail": "aucun créneau",  # a row of an older version: its recorded line
        "detail_code": None,
        "detail_args": None,
        "observed": True,
        "not_observed_since": None,
        "last_status": "unavailable",
        "last_reason": "no_slot",
    }
    assert rows["t/fresh"]["status"] is None and rows["t/fresh"]["last_probe"] is None


def test_it_can_show_some_targets_only(setup: tuple[Path, Repository]) -> None:
    config, _ = setup
    result = status(config, "--format", "ndjson", "t/fresh")
    assert [json.loads(line)["target"] for line in result.stdout.splitlines()] == ["t/fresh"]


def test_the_heartbeat_check_fails_when_no_daemon_ever_beat(
    setup: tuple[Path, Repository],
) -> None:
    config, _ = setup
    result = status(config, "--heartbeat")
    assert result.exit_code == 1
    assert result.stdout.count("\n") == 1 and "heartbeat missing" in result.stdout


def test_the_heartbeat_check_passes_on_a_fresh_beat_and_fails_on_an_old_one(
    setup: tuple[Path, Repository],
) -> None:
    config, repository = setup
    now = datetime.now(UTC)
    repository.beat("node-a", 1, "0.1.0", now - timedelta(hours=2), now=now - timedelta(minutes=5))
    fresh = status(config, "--heartbeat")
    assert fresh.exit_code == 0, fresh.output
    assert fresh.stdout.startswith("heartbeat ok") and "stale after 30m" in fresh.stdout
    repository.beat("node-a", 1, "0.1.0", now - timedelta(hours=2), now=now - timedelta(minutes=31))
    stale = status(config, "--heartbeat")
    assert stale.exit_code == 1
    assert stale.stdout.startswith("heartbeat stale")
