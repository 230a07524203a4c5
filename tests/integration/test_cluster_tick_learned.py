"""The fleet tick and the embedded trigger with a learned target (issue 28, item 2): runs at
the plan's times, each its own slot, so every node queues and claims the same keys; a
claimed slot is skipped, back-off wins, and a new plan keeps min_interval after the last run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from daemonrig import load
from helpers import write_config

from monitor.config import Config
from monitor.daemon.cadence import Cadence
from monitor.daemon.cluster import next_run_to_queue
from monitor.daemon.focus import WeekPlan, learned_plan, phase_of
from monitor.daemon.jobs import CadenceTrigger
from monitor.daemon.plans import plans_for

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday 10:00 in Paris
WINDOW = timedelta(minutes=1)


def config(tmp_path: Path) -> Config:
    path = write_config(
        tmp_path / "prefectures.yaml",
        targets=[
            {"id": "a", "name": "a", "platform": "legacy-booking", "url": "http://h.test/a"},
            {"id": "b", "name": "b", "platform": "legacy-booking", "url": "http://h.test/b"},
        ],
        database="sqlite:///unused.db",
        timezone="Europe/Paris",
        schedule={"interval": "15m", "jitter": "0%", "focus": "learned"},
    )
    return load(path)


def plan_of(loaded: Config) -> WeekPlan:
    # Slots seen by the other target of the prefecture, Monday 10:05, four weeks running.
    history = {"t/b": [NOW + timedelta(minutes=5) - timedelta(weeks=k) for k in range(1, 5)]}
    targets = loaded.targets()
    plans = plans_for(targets[:1], targets, history, zone=loaded.settings.tz, now=NOW)
    return plans["t/a"]


def test_the_pooled_history_shapes_the_plan(tmp_path: Path) -> None:
    loaded = config(tmp_path)
    plan = plan_of(loaded)
    alone = learned_plan(
        [],
        [],
        interval=timedelta(minutes=15),
        active_hours=None,
        zone=loaded.settings.tz,
        min_interval=timedelta(minutes=2),
        max_interval=timedelta(hours=2),
        now=NOW,
        phase=phase_of("t/a"),
    )
    hot = plan.cadence_at(NOW)
    assert hot is not None and hot < timedelta(minutes=15) == alone.cadence_at(NOW)


def test_the_tick_queues_the_plans_next_time_as_its_own_slot(tmp_path: Path) -> None:
    loaded = config(tmp_path)
    plan = plan_of(loaded)
    target = loaded.targets()[0]
    fire = plan.next_after(NOW)
    found = next_run_to_queue(
        target, loaded, fire - timedelta(seconds=5), WINDOW, set(), None, plan=plan
    )
    assert found == (fire, fire)
    # Claimed by some node: the next one.
    claimed = {("t/a", fire)}
    later = next_run_to_queue(
        target, loaded, fire - timedelta(seconds=5), timedelta(hours=1), claimed, None, plan=plan
    )
    assert later == (plan.next_after(fire), plan.next_after(fire))
    # Past the window: nothing yet.
    assert (
        next_run_to_queue(
            target, loaded, fire - WINDOW - timedelta(seconds=1), WINDOW, set(), None, plan=plan
        )
        is None
    )


def test_back_off_wins_in_the_tick_and_the_trigger(tmp_path: Path) -> None:
    loaded = config(tmp_path)
    plan = plan_of(loaded)
    target = loaded.targets()[0]
    not_before = NOW + timedelta(hours=3)
    found = next_run_to_queue(target, loaded, NOW, timedelta(hours=5), set(), not_before, plan=plan)
    assert found is not None and found[0] == plan.next_after(not_before - timedelta(microseconds=1))
    cadence = Cadence.of(target.id, target.interval, target.jitter)
    trigger = CadenceTrigger(cadence, None, loaded.settings.tz, not_before, plan=plan)
    assert trigger.get_next_fire_time(None, NOW) == found[0]
    assert trigger.slot_of(found[0] + timedelta(seconds=1)) == found[0]


def test_a_new_plan_keeps_min_interval_after_the_last_run(tmp_path: Path) -> None:
    loaded = config(tmp_path)
    plan = plan_of(loaded)
    target = loaded.targets()[0]
    cadence = Cadence.of(target.id, target.interval, target.jitter)
    last = plan.next_after(NOW) - timedelta(seconds=30)  # the old plan's run, just before
    trigger = CadenceTrigger(
        cadence, None, loaded.settings.tz, plan=plan, floor=last + target.min_interval
    )
    first = trigger.get_next_fire_time(None, last + timedelta(seconds=1))
    assert first is not None and first - last >= target.min_interval
