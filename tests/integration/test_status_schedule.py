"""`monitor status`: each target's next probe and its current cadence, even or learned
(issue 28, item 2); back-off still wins."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from helpers import migrated, write_config

from monitor.cli import cli
from monitor.config.durations import format_duration
from monitor.daemon.focus import learned_plan, phase_of
from monitor.domain import Engine, Event, EventKind, Outcome, Reason, Status, TargetState
from monitor.store import Repository, create_engine_for

PARIS = ZoneInfo("Europe/Paris")
INTERVAL = timedelta(minutes=30)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Repository, list[datetime]]:
    database = migrated(tmp_path / "db.sqlite")
    config = write_config(
        tmp_path / "prefectures.yaml",
        targets=[
            {"id": key, "name": key, "platform": "legacy-booking", "url": f"http://h.test/{key}"}
            | ({"focus": "learned"} if key == "learned" else {})
            for key in ("learned", "even")
        ],
        database=database,
        timezone="Europe/Paris",
        schedule={"interval": "30m", "jitter": "0%", "min_interval": "5m", "max_interval": "2h"},
    )
    repository = Repository(create_engine_for(database))
    # Slots seen at this hour of the week, every week for ten weeks: the hour is hot.
    now = datetime.now(UTC)
    history = [now - timedelta(weeks=k) for k in range(1, 11)]
    repository.record_events(
        [Event(EventKind.SLOTS_OPENED, "t/learned", occurred_at=t) for t in history],
        lambda event: [],
    )
    return config, repository, history


def rows_of(config: Path) -> dict[str, dict[str, object]]:
    result = CliRunner().invoke(cli, ["--config", str(config), "status", "--format", "json"])
    assert result.exit_code == 0, result.output
    return {row["target"]: row for row in json.loads(result.stdout)}


def test_status_shows_each_targets_next_probe_and_cadence(
    setup: tuple[Path, Repository, list[datetime]],
) -> None:
    config, _, history = setup
    before = datetime.now(UTC)
    rows = rows_of(config)
    plan = learned_plan(
        history,
        [],
        interval=INTERVAL,
        active_hours=None,
        zone=PARIS,
        min_interval=timedelta(minutes=5),
        max_interval=timedelta(hours=2),
        now=before,
        phase=phase_of("t/learned"),
        own_probed=(),  # no probe on record: watched every hour since the first opening
    )
    learned = rows["t/learned"]
    shown = datetime.fromisoformat(str(learned["next_run"]))
    # The command read the clock a little after `before`: its next probe is one of these.
    assert shown in {plan.next_after(before), plan.next_after(plan.next_after(before))}
    gap = plan.cadence_at(shown)
    assert gap is not None and learned["cadence_seconds"] == gap.total_seconds()
    assert gap < INTERVAL  # this hour is where the slots appeared
    even = rows["t/even"]
    assert even["cadence_seconds"] == INTERVAL.total_seconds()
    upcoming = datetime.fromisoformat(str(even["next_run"]))
    assert before < upcoming <= before + INTERVAL + timedelta(seconds=5)


def test_back_off_wins_over_the_plan(setup: tuple[Path, Repository, list[datetime]]) -> None:
    config, repository, _ = setup
    later = datetime.now(UTC) + timedelta(hours=5)
    repository.schedule_next_probe("t/learned", later)
    shown = datetime.fromisoformat(str(rows_of(config)["t/learned"]["next_run"]))
    assert later <= shown < later + timedelta(hours=2)


def test_the_table_shows_the_cadence_as_a_duration(
    setup: tuple[Path, Repository, list[datetime]],
) -> None:
    config, _, _ = setup
    result = CliRunner().invoke(cli, ["--config", str(config), "status", "t/even"])
    assert result.exit_code == 0, result.output
    header, _, row = result.stdout.splitlines()[:3]
    assert "NEXT PROBE" in header and "CADENCE" in header
    assert format_duration(INTERVAL) in row.split()


def test_a_learned_target_is_observed_for_two_of_its_longest_gaps(
    setup: tuple[Path, Repository, list[datetime]],
) -> None:
    config, repository, _ = setup
    seen = datetime.now(UTC) - timedelta(minutes=70)  # more than two intervals (30m) ago
    for key in ("learned", "even"):
        outcome = Outcome(
            target=f"t/{key}",
            prefecture="t",
            started_at=seen,
            finished_at=seen + timedelta(seconds=1),
            engine=Engine.HTTP,
            status=Status.UNAVAILABLE,
            reason=Reason.NO_SLOT,
            detail="aucun créneau",
            url=f"http://h.test/{key}",
            http_status=200,
        )
        state = TargetState(
            f"t/{key}",
            status=Status.UNAVAILABLE,
            reason=Reason.NO_SLOT,
            since=seen,
            last_probe_at=seen,
            streak=1,
            consecutive_healthy=1,
        )
        repository.record_outcome(outcome, state, [], lambda event: [])
    rows = rows_of(config)
    assert rows["t/learned"]["observed"] is True  # its gaps may be 2h (max_interval)
    assert rows["t/even"]["observed"] is False
