"""The probe runner's bookkeeping on the in-memory ledger (tests/fakes.py): claims, records,
back-off kept across restarts, a crash recorded as the monitor's own fault.

Pure: no database, no file, no socket, no thread (``fakes.run_inline``); the probe itself
is a function handed in, as the daemon hands in ``monitor.attempt.probe.observe``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fakes import MemoryStore, run_inline

from monitor.attempt.record import record_attempt
from monitor.config import Config, Target
from monitor.daemon.health import HealthReporter, OwnFaultGuard
from monitor.daemon.politeness import Politeness
from monitor.daemon.runner import ProbeRunner, RunResult
from monitor.domain import Detail, Engine, Finding, Observation, Reason, Status
from monitor.probes.base import ProbeEngine, RequestGate

SLOT = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)

CONFIG = Config.model_validate(
    {
        "version": 1,
        "settings": {"connectivity_check": []},
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
[TARGET] = CONFIG.targets()


class Engines:
    """The engine set: the probe below never touches its engine."""

    async def get(self, kind: Engine) -> ProbeEngine:
        return object()  # type: ignore[return-value]

    async def aclose(self) -> None:
        pass


class Site:
    """A probe that answers with an overloaded page, or raises ``crash``; counts its calls."""

    def __init__(self, crash: Exception | None = None) -> None:
        self.crash = crash
        self.probes = 0

    async def __call__(
        self, target: Target, engine: ProbeEngine, *, timeout: float, gate: RequestGate
    ) -> Observation:
        self.probes += 1
        if self.crash is not None:
            raise self.crash
        now = datetime.now(UTC)
        failure = Finding(Status.ANOMALY, Reason.OVERLOADED, Detail("overloaded", {}))
        return Observation(target.id, Engine.HTTP, target.url, now, now, failure=failure)


async def runner(store: MemoryStore, site: Site) -> ProbeRunner:
    return ProbeRunner(
        repository=store,
        config=CONFIG,
        politeness=Politeness(per_host_concurrency=1, per_host_min_gap=0.0),
        guard=OwnFaultGuard(check=None, window=60.0),
        health=HealthReporter(store, CONFIG, "node-a"),
        engines=Engines(),
        node="node-a",
        observe=site,
        record=record_attempt,
    )


def run(store: MemoryStore, site: Site) -> RunResult:
    async def main() -> RunResult:
        return await (await runner(store, site)).run(TARGET, SLOT)

    return run_inline(main())


def test_a_slot_another_node_claimed_is_not_probed() -> None:
    store, site = MemoryStore(), Site()
    store.claim_probe(TARGET.id, SLOT, "node-b")
    assert run(store, site) == RunResult(None, None)
    assert site.probes == 0 and store.outcomes == {}


def test_a_run_claims_its_slot_and_records_one_outcome() -> None:
    store, site = MemoryStore(), Site()
    result = run(store, site)
    assert result.outcome is not None
    assert (result.outcome.status, result.outcome.reason) == (Status.ANOMALY, Reason.OVERLOADED)
    assert list(store.outcomes.values()) == [store.outcome(result.outcome.id or 0)]
    assert store.claims == {(TARGET.id, SLOT): "node-a"}
    assert not store.claim_probe(TARGET.id, SLOT, "node-b")


def test_an_anomaly_backs_off_and_the_back_off_outlives_the_runner() -> None:
    store = MemoryStore()
    result = run(store, Site())
    assert result.outcome is not None and result.not_before is not None
    assert result.not_before == result.outcome.finished_at + TARGET.interval
    assert store.next_probes() == {TARGET.id: result.not_before}

    async def restarted() -> datetime | None:
        return (await runner(store, Site())).not_before(TARGET.id)

    assert run_inline(restarted()) == result.not_before


def test_a_crashing_probe_is_recorded_as_the_monitors_fault() -> None:
    store = MemoryStore()
    result = run(store, Site(crash=RuntimeError("a bug in the probe")))
    assert result.outcome is not None
    assert (result.outcome.status, result.outcome.reason) == (
        Status.MONITOR_ERROR,
        Reason.INTERNAL,
    )
    assert "a bug in the probe" in result.outcome.detail
    assert store.next_probes() == {}  # the monitor's fault is no reason to probe a site less
