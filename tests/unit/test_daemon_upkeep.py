"""The daemon's own records on the in-memory store (tests/fakes.py): its health state and
events, its heartbeat row. Pure: no database, no file, no socket, no thread."""

from __future__ import annotations

from datetime import UTC, datetime

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
