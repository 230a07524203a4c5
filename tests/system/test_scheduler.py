"""The scheduling math (pure, as tables) and the APScheduler trigger built on it."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
import time as pytime
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from daemonrig import daemon_config, load, outcomes_of, rdvsp_path, run_in_process
from helpers import migrated

from monitor.config.durations import ActiveHours, Jitter
from monitor.daemon.cadence import (
    EPOCH,
    Cadence,
    first_active_moment,
    jitter_of,
    next_fire,
    offset_of,
    spread_of,
)
from monitor.daemon.components import Components
from monitor.daemon.scheduler import CadenceTrigger
from monitor.domain import Reason, Status
from monitor.imitation import ImitationSite
from monitor.store import Repository, create_engine_for

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday, 11:00 in Paris
MINUTE = timedelta(minutes=1)


def cadence(
    target: str = "92/remise-titre", interval: timedelta = 10 * MINUTE, jitter: str = "20%"
) -> Cadence:
    fraction = float(jitter.rstrip("%")) / 100
    return Cadence.of(target, interval, Jitter(fraction=fraction))


# -- offsets, spread, jitter ---------------------------------------------------------------


@pytest.mark.parametrize("interval", [timedelta(seconds=3), 10 * MINUTE, timedelta(hours=2)])
def test_it_places_each_target_at_a_stable_offset_inside_its_interval(interval: timedelta) -> None:
    offsets = [offset_of(f"75/target-{n}", interval) for n in range(200)]
    assert all(timedelta(0) <= offset < interval for offset in offsets)
    assert offsets == [offset_of(f"75/target-{n}", interval) for n in range(200)]
    # Spread over the interval, not bunched: every tenth of it holds some target.
    tenths = {int(offset / interval * 10) for offset in offsets}
    assert tenths == set(range(10))


@pytest.mark.parametrize(
    ("jitter", "interval", "spread"),
    [
        (Jitter(fraction=0.2), 10 * MINUTE, 2 * MINUTE),
        (Jitter(fraction=0.0), 10 * MINUTE, timedelta(0)),
        (Jitter(fraction=1.0), 10 * MINUTE, 5 * MINUTE),  # capped at half the interval
        (Jitter(duration=timedelta(seconds=30)), 10 * MINUTE, timedelta(seconds=30)),
        (Jitter(duration=timedelta(hours=1)), 10 * MINUTE, 5 * MINUTE),
    ],
)
def test_it_caps_the_spread_at_half_the_interval(
    jitter: Jitter, interval: timedelta, spread: timedelta
) -> None:
    assert spread_of(jitter, interval) == spread


def test_it_jitters_runs_both_ways_within_the_spread_with_a_mean_near_zero() -> None:
    spread = 2 * MINUTE
    shifts = [jitter_of("92/remise-titre", k, spread) for k in range(2000)]
    assert all(-spread <= shift < spread for shift in shifts)
    assert min(shifts) < -spread * 0.9 and max(shifts) > spread * 0.9
    mean = sum(shifts, timedelta(0)) / len(shifts)
    # The period is not stretched: runs are centred on their nominal times.
    assert abs(mean) < spread * 0.1


def test_it_keeps_the_mean_period_equal_to_the_interval() -> None:
    grid = cadence(interval=10 * MINUTE, jitter="20%")
    fires = [grid.fire(k) for k in range(1000)]
    mean_period = (fires[-1] - fires[0]) / (len(fires) - 1)
    assert abs(mean_period - 10 * MINUTE) < timedelta(seconds=2)
    assert all(later > earlier for earlier, later in itertools.pairwise(fires))


# -- slots -----------------------------------------------------------------------------------


def test_it_keys_a_run_by_its_nominal_slot_on_the_target_grid() -> None:
    grid = cadence(interval=10 * MINUTE)
    k = grid.index_at_or_before(T0) + 3
    assert grid.nominal(k) == EPOCH + grid.offset + k * grid.interval
    assert abs(grid.fire(k) - grid.nominal(k)) <= grid.spread
    for late in (timedelta(0), timedelta(seconds=1), 4 * MINUTE):
        assert grid.slot_due(grid.fire(k) + late) == k
        assert grid.slot_of(grid.fire(k) + late) == grid.nominal(k)


def test_it_gives_every_node_the_same_slot_for_the_same_run() -> None:
    one, other = cadence(), cadence()
    for k in range(100, 110):
        fire = one.fire(k)
        assert other.fire(k) == fire
        assert other.slot_of(fire + timedelta(seconds=3)) == one.nominal(k)


# -- next fire ---------------------------------------------------------------------------------


def test_it_fires_the_first_run_within_one_interval_of_the_start() -> None:
    starts = []
    for n in range(100):
        grid = cadence(f"13/t{n}", interval=10 * MINUTE)
        found = next_fire(grid, T0)
        assert found is not None
        starts.append(found[1] - T0)
    assert all(timedelta(0) < start <= 10 * MINUTE + 2 * MINUTE for start in starts)
    # Spread over the first interval, not all at once.
    assert max(starts) - min(starts) > 7 * MINUTE


def test_it_fires_each_next_run_one_slot_later() -> None:
    grid = cadence()
    found = next_fire(grid, T0)
    assert found is not None
    k, fire = found
    again = next_fire(grid, fire)
    assert again == (k + 1, grid.fire(k + 1))


@pytest.mark.parametrize("delay", [timedelta(seconds=1), 25 * MINUTE, timedelta(hours=2)])
def test_it_waits_for_not_before_and_stays_on_the_grid(delay: timedelta) -> None:
    grid = cadence()
    found = next_fire(grid, T0, not_before=T0 + delay)
    assert found is not None
    k, fire = found
    assert fire >= T0 + delay
    assert grid.fire(k - 1) < T0 + delay  # the first run allowed, not a later one
    assert fire == grid.fire(k)


@pytest.mark.parametrize(
    ("window", "now_paris", "expected_paris"),
    [
        # inside: the next slot as usual
        ("07:00-21:00", "2026-03-02T11:00", None),
        # after the window: tomorrow's opening
        ("07:00-21:00", "2026-03-02T21:30", "2026-03-03T07:00"),
        # before it: today's opening
        ("07:00-21:00", "2026-03-02T05:00", "2026-03-02T07:00"),
        # a window across midnight, in its closed part
        ("22:00-06:00", "2026-03-02T12:00", "2026-03-02T22:00"),
        # DST: Paris goes from 02:00 to 03:00 on 29 March 2026
        ("07:00-21:00", "2026-03-28T22:00", "2026-03-29T07:00"),
    ],
)
def test_it_probes_only_inside_active_hours(
    window: str, now_paris: str, expected_paris: str | None
) -> None:
    start, end = (time.fromisoformat(part) for part in window.split("-"))
    hours = ActiveHours(start, end)
    now = datetime.fromisoformat(now_paris).replace(tzinfo=PARIS).astimezone(UTC)
    grid = cadence(interval=10 * MINUTE, jitter="20%")
    found = next_fire(grid, now, active_hours=hours, tz=PARIS)
    assert found is not None
    fire = found[1]
    assert hours.contains(fire.astimezone(PARIS))
    if expected_paris is None:
        assert fire - now <= 12 * MINUTE
    else:
        opening = datetime.fromisoformat(expected_paris).replace(tzinfo=PARIS)
        assert opening <= fire.astimezone(PARIS) <= opening + 12 * MINUTE


def test_it_finds_the_window_opening_across_a_dst_gap() -> None:
    hours = ActiveHours(time(2, 30), time(4, 0))  # 02:30 does not exist on 29 March 2026
    moment = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 Paris (CET)
    opening = first_active_moment(moment, hours, PARIS)
    assert opening > moment
    assert opening.tzinfo is UTC


def test_it_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire(cadence(), datetime(2026, 3, 2, 10, 0))


# -- the APScheduler trigger -------------------------------------------------------------------


def test_the_trigger_yields_the_grid_and_honours_not_before() -> None:
    grid = cadence()
    trigger = CadenceTrigger(grid, None, PARIS)
    first = trigger.get_next_fire_time(None, T0)
    second = trigger.get_next_fire_time(first, T0)
    assert first is not None and second is not None
    assert (second - first) - grid.interval <= 2 * grid.spread
    trigger.not_before = T0 + timedelta(hours=1)
    later = trigger.get_next_fire_time(None, T0)
    assert later is not None and later >= T0 + timedelta(hours=1)


def test_the_trigger_collapses_missed_runs_into_the_latest_after_a_suspend() -> None:
    """What APScheduler does after a suspend: it walks the trigger up to now, then (with
    coalesce) runs only the last missed time, and not at all if that one is past the
    grace time. The walk must reach now without skipping or repeating slots."""
    grid = cadence(interval=MINUTE, jitter="10%")
    trigger = CadenceTrigger(grid, None, UTC)
    first = trigger.get_next_fire_time(None, T0)
    assert first is not None
    woke = T0 + timedelta(hours=3)  # the machine slept for three hours
    missed = []
    fire: datetime | None = first
    while fire is not None and fire <= woke:
        missed.append(fire)
        fire = trigger.get_next_fire_time(fire, woke)
    assert 175 <= len(missed) <= 182
    slots = [grid.slot_due(moment) for moment in missed]
    assert slots == list(range(slots[0], slots[0] + len(slots)))
    assert fire is not None and fire > woke


# -- the daemon in process: real engines, recorder and SQLite, on the imitation ----------------


def rdvsp_target(site: ImitationSite, local_id: str, key: str) -> dict[str, str]:
    return {"id": local_id, "platform": "rdv-service-public", "url": site.url(rdvsp_path(key))}


async def test_it_runs_at_most_one_catch_up_probe_after_the_loop_was_frozen(
    imitation: ImitationSite, tmp_path: Path
) -> None:
    targets = [rdvsp_target(imitation, f"frozen-{n}", f"710{n}") for n in range(3)]
    database = migrated(tmp_path / "db.sqlite")
    config = daemon_config(tmp_path / "c.yaml", targets=targets, database=database, interval="1s")
    thawed: list[datetime] = []

    async def freeze(daemon: object) -> None:
        await asyncio.sleep(2.5)
        pytime.sleep(6)  # the whole process stands still, as in a SIGSTOP or a suspend
        thawed.append(datetime.now(UTC))

    repository = await run_in_process(config, database, seconds=2.5, during=freeze)
    for target in ("t/frozen-0", "t/frozen-1", "t/frozen-2"):
        starts = [o.started_at for o in outcomes_of(repository, target)]
        assert starts, f"{target}: never probed"  # else the bounds below hold of nothing
        right_after = [s for s in starts if thawed[0] <= s < thawed[0] + timedelta(seconds=0.9)]
        # At most the one coalesced catch-up run and the next regular one, not six.
        assert len(right_after) <= 2, f"{target}: a burst of catch-up runs: {right_after}"
        assert len(starts) <= 8  # 5 s unfrozen at a 1 s interval, and a margin


async def test_it_never_runs_two_probes_of_one_target_at_once(
    imitation: ImitationSite, tmp_path: Path
) -> None:
    imitation.set_scenario("7111", "slow", delay=2.2)
    targets = [rdvsp_target(imitation, "slow", "7111")]
    database = migrated(tmp_path / "db.sqlite")
    config = daemon_config(tmp_path / "c.yaml", targets=targets, database=database, interval="1s")
    repository = await run_in_process(config, database, seconds=7)
    rows = outcomes_of(repository, "t/slow")
    assert len(rows) >= 2
    for earlier, later in itertools.pairwise(rows):
        assert later.started_at >= earlier.finished_at


async def test_it_survives_a_probe_that_crashes_and_records_it_as_internal(
    imitation: ImitationSite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    targets = [
        rdvsp_target(imitation, "crashes", "7121"),
        rdvsp_target(imitation, "works", "7122"),
    ]
    database = migrated(tmp_path / "db.sqlite")
    config = daemon_config(tmp_path / "c.yaml", targets=targets, database=database, interval="1s")
    from monitor.attempt.probe import observe

    async def crashing(target: Any, engine: Any, **options: Any) -> Any:
        if target.id == "t/crashes":
            raise RuntimeError("a bug in the probe")
        return await observe(target, engine, **options)

    loaded = load(config)
    engine = create_engine_for(database)
    parts = Components.default(loaded, Repository(engine), "test")
    parts.observe = crashing
    with caplog.at_level(logging.ERROR, logger="monitor"):
        repository = await run_in_process(config, database, seconds=3.5, components=parts)
    crashed = outcomes_of(repository, "t/crashes")
    assert len(crashed) >= 2, "the daemon went on probing after the crash"
    assert {(o.status, o.reason) for o in crashed} == {(Status.MONITOR_ERROR, Reason.INTERNAL)}
    assert "RuntimeError" in crashed[0].detail
    assert len(outcomes_of(repository, "t/works")) >= 2
    crash_logs = [r for r in caplog.records if "probe crashed" in r.getMessage()]
    assert crash_logs and crash_logs[0].exc_info is not None  # with its traceback


async def test_it_reloads_on_sighup_and_keeps_the_running_config_when_the_new_one_is_bad(
    imitation: ImitationSite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = migrated(tmp_path / "db.sqlite")
    path = tmp_path / "c.yaml"
    first = [rdvsp_target(imitation, "first", "7131")]
    daemon_config(path, targets=first, database=database, interval="1s")

    async def edit(daemon: Any) -> None:
        await asyncio.sleep(1.5)
        path.write_text(path.read_text().replace("interval: 1s", "interval: soon"))
        os.kill(os.getpid(), signal.SIGHUP)
        await asyncio.sleep(1.5)
        second = [*first, rdvsp_target(imitation, "second", "7132")]
        daemon_config(path, targets=second, database=database, interval="1s")
        os.kill(os.getpid(), signal.SIGHUP)

    with caplog.at_level(logging.INFO, logger="monitor"):
        repository = await run_in_process(path, database, seconds=3, during=edit)
    messages = [r.getMessage() for r in caplog.records]
    assert any("config not reloaded, keeping the running one" in m for m in messages)
    assert any("config reloaded" in m for m in messages)
    assert len(outcomes_of(repository, "t/first")) >= 4  # never interrupted
    assert outcomes_of(repository, "t/second"), "the reloaded config's new target is probed"


async def test_it_cancels_probes_still_running_after_the_grace_and_writes_no_row_for_them(
    imitation: ImitationSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("monitor.daemon.scheduler.SHUTDOWN_GRACE", 0.5)
    imitation.set_scenario("7141", "slow", delay=25)
    targets = [rdvsp_target(imitation, "stuck", "7141")]
    database = migrated(tmp_path / "db.sqlite")
    config = daemon_config(
        tmp_path / "c.yaml", targets=targets, database=database, probe_timeout="60s"
    )
    began = pytime.monotonic()
    repository = await run_in_process(config, database, seconds=3.5)
    assert pytime.monotonic() - began < 15
    assert outcomes_of(repository, "t/stuck") == []


async def test_it_backs_off_after_anomalies_and_pauses_a_host_after_a_503(
    imitation: ImitationSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("monitor.daemon.runner.DEFAULT_RETRY_AFTER", timedelta(seconds=4))
    imitation.set_scenario("7151", "http_502")
    with ImitationSite(scenarios={"7152": "http_503"}) as other_host:
        targets = [
            rdvsp_target(imitation, "failing", "7151"),
            rdvsp_target(other_host, "refusing", "7152"),
            rdvsp_target(other_host, "neighbour", "7153"),
        ]
        database = migrated(tmp_path / "db.sqlite")
        config = daemon_config(
            tmp_path / "c.yaml", targets=targets, database=database, interval="1s", jitter="0%"
        )
        repository = await run_in_process(config, database, seconds=7.5)
    failing = outcomes_of(repository, "t/failing")
    # Without back-off: about 7 probes. With it: waits of 1, 2, 4 intervals after each.
    assert 2 <= len(failing) <= 4
    for level, (earlier, later) in enumerate(itertools.pairwise(failing)):
        assert later.started_at >= earlier.finished_at + timedelta(seconds=2**level)
    assert "t/failing" in repository.next_probes()
    # The 503 pauses its whole host for 4 s: the site sees no request in that time.
    refusing = outcomes_of(repository, "t/refusing")
    assert refusing and refusing[0].http_status == 503
    requests = other_host.requests
    refused_at = next(r.wall + (r.duration or 0) for r in requests if r.status == 503)
    assert not [r for r in requests if refused_at + 0.05 < r.wall < refused_at + 3.9]


async def test_a_429_pauses_its_host_for_the_retry_after_it_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A default far shorter than the header: only the header can explain a 3 s silence.
    monkeypatch.setattr("monitor.daemon.runner.DEFAULT_RETRY_AFTER", timedelta(seconds=0.5))
    with ImitationSite(scenarios={"7162": ("rate_limited", {"retry_after": 3})}) as host:
        targets = [
            rdvsp_target(host, "limited", "7162"),
            rdvsp_target(host, "neighbour", "7163"),
        ]
        database = migrated(tmp_path / "db.sqlite")
        config = daemon_config(
            tmp_path / "c.yaml", targets=targets, database=database, interval="1s", jitter="0%"
        )
        repository = await run_in_process(config, database, seconds=6.5)
    limited = outcomes_of(repository, "t/limited")
    first = limited[0]
    assert (first.status, first.reason, first.http_status) == (Status.ANOMALY, Reason.BLOCKED, 429)
    assert first.detail.endswith("(Retry-After: 3)")
    requests = host.requests
    refusal = next(r for r in requests if r.status == 429)
    refused_at = refusal.wall + (refusal.duration or 0)
    # Neither the refused target nor its neighbour on the same host asks for 3 s…
    assert not [r for r in requests if refused_at + 0.05 < r.wall < refused_at + 2.95]
    # …and then the host is probed again: the pause ends.
    assert [r for r in requests if r.wall >= refused_at + 2.95]
    for earlier, later in itertools.pairwise(limited):
        assert later.started_at >= earlier.finished_at + timedelta(seconds=3)
