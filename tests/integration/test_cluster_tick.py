"""The cluster tick's choice of what to queue, pure (issue 15): each target's first run not
claimed yet that fires within the window, on the embedded engine's grid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from daemonrig import daemon_config, load

from monitor.config import Config
from monitor.daemon.cadence import Cadence
from monitor.daemon.cluster import next_run_to_queue, tick_period

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=10)


def config(tmp_path: Path, interval: str = "30s") -> Config:
    path = daemon_config(
        tmp_path / "prefectures.yaml",
        targets=[{"id": "a", "platform": "rdv-service-public", "url": "http://127.0.0.1:1/"}],
        database="sqlite:///unused.db",
        interval=interval,
        jitter="0s",
    )
    return load(path)


def grid(loaded: Config) -> Cadence:
    target = loaded.targets()[0]
    return Cadence.of(target.id, target.interval, target.jitter)


def test_it_queues_the_run_firing_within_the_window_at_its_fire_time(tmp_path: Path) -> None:
    loaded = config(tmp_path)
    cadence = grid(loaded)
    k = cadence.index_at_or_before(NOW) + 1  # the next run after NOW
    now = cadence.fire(k) - timedelta(seconds=5)
    found = next_run_to_queue(loaded.targets()[0], loaded, now, WINDOW, set(), None)
    assert found == (cadence.fire(k), cadence.nominal(k))


def test_it_queues_nothing_when_the_next_run_is_past_the_window(tmp_path: Path) -> None:
    loaded = config(tmp_path)
    cadence = grid(loaded)
    k = cadence.index_at_or_before(NOW) + 1
    now = cadence.fire(k) - WINDOW - timedelta(seconds=1)
    assert next_run_to_queue(loaded.targets()[0], loaded, now, WINDOW, set(), None) is None


def test_it_skips_a_slot_already_claimed_by_some_node(tmp_path: Path) -> None:
    loaded = config(tmp_path, interval="4s")
    cadence = grid(loaded)
    k = cadence.index_at_or_before(NOW) + 1
    now = cadence.fire(k) - timedelta(seconds=1)
    claimed = {("t/a", cadence.nominal(k))}
    found = next_run_to_queue(loaded.targets()[0], loaded, now, WINDOW, claimed, None)
    assert found == (cadence.fire(k + 1), cadence.nominal(k + 1))


def test_it_respects_the_stored_back_off(tmp_path: Path) -> None:
    loaded = config(tmp_path)
    cadence = grid(loaded)
    k = cadence.index_at_or_before(NOW) + 1
    now = cadence.fire(k) - timedelta(seconds=5)
    later = cadence.fire(k) + timedelta(seconds=1)
    assert next_run_to_queue(loaded.targets()[0], loaded, now, WINDOW, set(), later) is None


@pytest.mark.parametrize(("interval", "period"), [("1s", 1), ("3s", 1), ("10s", 5), ("15m", 30)])
def test_ticks_come_at_most_every_half_smallest_interval(
    tmp_path: Path, interval: str, period: int
) -> None:
    assert tick_period(config(tmp_path, interval=interval)) == period
