"""The daemon's own records on the in-memory store (tests/fakes.py): its health state and
events, its heartbeat row. Pure: no database, no file, no socket, no thread."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes import MemoryStore, run_inline

from monitor.config import Config
from monitor.daemon.health import HealthReporter
from monitor.daemon.housekeeping import Housekeeping
from monitor.domain import MONITOR_TARGET, Detail, Event, EventKind, Status, monitor_key

CONFIG = Config.model_validate(
    {
        "version": 1,
        "channels": [
            {"id": "team-mail", "url": "mailtos://alerts.example.org"},
            {"id": "slots-only", "url": "json://hooks.example.org", "events": ["slots_opened"]},
        ],
        "prefectures": [
            {
                "id": "92",
                "name": "Préfecture des Hauts-de-Seine",
                "targets": [
                    {
                        "id": "remise-titre",
                        "name": "Remise de titre de séjour",
                        "platform": "legacy-booking",
                        "url": "https://www.hauts-de-seine.gouv.fr/booking/create/12083",
                    }
                ],
            }
        ],
    }
)
DOWN = Detail("own_network_down", {"check": Detail("connectivity_failed", {})})


def test_a_degraded_report_stores_its_event_for_the_channels_that_want_it() -> None:
    store = MemoryStore()

    async def main() -> list[Event]:
        return await HealthReporter(store, CONFIG, "node-a").report(True, DOWN)

    [degraded] = run_inline(main())
    assert (degraded.kind, degraded.target) == (EventKind.MONITOR_DEGRADED, MONITOR_TARGET)
    assert [(row.channel_id, row.state) for row in store.deliveries.values()] == [
        ("team-mail", "pending")
    ]
    state = store.get_state(MONITOR_TARGET)
    assert state.status is Status.MONITOR_ERROR and state.anomaly_open


def test_a_restarted_daemon_remembers_it_is_degraded_and_does_not_say_it_again() -> None:
    store = MemoryStore()

    async def main() -> tuple[bool, list[Event]]:
        await HealthReporter(store, CONFIG, "node-a").report(True, DOWN)
        restarted = HealthReporter(store, CONFIG, "node-a")
        return restarted.degraded, await restarted.report(True, DOWN)

    degraded, again = run_inline(main())
    assert degraded and again == []
    assert len(store.events) == 1


def test_a_fleet_node_keeps_its_health_under_its_own_key() -> None:
    store = MemoryStore()

    async def main() -> None:
        await HealthReporter(store, CONFIG, "node-a", per_node=True).report(True, DOWN)

    run_inline(main())
    assert store.get_state(monitor_key("node-a")).anomaly_open
    assert store.get_state(MONITOR_TARGET).status is None
    [event] = store.events.values()
    assert event.payload["detail_args"] == {
        "check": {"code": "connectivity_failed", "args": {}},
        "node": "node-a",
    }


def test_a_node_beats_and_its_row_goes_when_it_leaves() -> None:
    store = MemoryStore()
    started = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)

    async def main() -> set[str]:
        upkeep = Housekeeping(store, "node-a", started_at=started)
        await upkeep.beat()
        beating = set(store.beats)
        await upkeep.leave()
        return beating

    assert run_inline(main()) == {"node-a"}
    assert store.beats == {}


def test_a_node_silent_for_forget_after_is_forgotten_with_one_info_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryStore()
    now = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    store.beat("crashed:41", 41, "0.1.0", now - timedelta(days=3), now=now - timedelta(hours=25))
    store.beat("paris-1", 7, "0.1.0", now - timedelta(days=3), now=now - timedelta(hours=23))

    async def main() -> None:
        upkeep = Housekeeping(store, "paris-2", started_at=now, forget_after=timedelta(days=1))
        await upkeep.forget_departed(now)
        await upkeep.forget_departed(now)  # already gone: nothing more said

    with caplog.at_level(logging.INFO, logger="monitor.daemon.housekeeping"):
        run_inline(main())
    assert set(store.beats) == {"paris-1"}
    assert [(record.levelname, record.getMessage()) for record in caplog.records] == [
        (
            "INFO",
            "node crashed:41 forgotten: silent since 2026-03-01T12:00:00+00:00 "
            "(settings.fleet.forget_after 1d)",
        )
    ]


def test_old_claims_are_pruned_by_the_daemons_clock_not_the_machines(tmp_path: Path) -> None:
    """A claim's slot is a time of the daemon's clock: under a test's clock (months before
    the machine's) a claim made a moment ago must not be pruned as two days old."""
    store = MemoryStore()
    daemon_now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    store.claim_probe("t/a", daemon_now, "node-a")
    store.claim_probe("t/a", daemon_now - timedelta(days=3), "node-a")

    async def main() -> None:
        upkeep = Housekeeping(store, "node-a", started_at=daemon_now, slot_clock=lambda: daemon_now)
        await upkeep.tidy(tmp_path)

    run_inline(main())
    assert set(store.claims) == {("t/a", daemon_now)}
