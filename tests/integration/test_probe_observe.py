"""observe(): every ending becomes an Observation, with the last page reached kept."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from pagecases import target
from sitefixture import unused_port

from monitor.attempt.classify import classify
from monitor.attempt.probe import observe
from monitor.config import Step
from monitor.details import record_line
from monitor.domain import Platform, Reason, Status
from monitor.imitation import ImitationSite
from monitor.probes.http import HttpEngine

NO_SLOT = "/booking/create/1104"  # catalogue: legacy, one desk, no slot
SLOW = "/booking/create/1164"  # catalogue: legacy, answers after 30 s
RULES = {"unavailable": [{"text": "Il n'existe plus de plage", "reason": "no_slot"}]}


@pytest.fixture
async def http() -> AsyncIterator[HttpEngine]:
    engine = HttpEngine(user_agent="prefecture-monitor/test", timeout=10)
    yield engine
    await engine.aclose()


async def test_it_returns_the_final_pages_of_a_finished_flow(
    http: HttpEngine, imitation: ImitationSite
) -> None:
    legacy = target(Platform.LEGACY_BOOKING, url=imitation.url(NO_SLOT), desks=())
    seen = await observe(legacy, http, timeout=10)
    assert seen.failure is None and len(seen.pages) == 1
    assert seen.finished_at >= seen.started_at and seen.target == legacy.id
    assert classify(legacy, seen).reason is Reason.NO_SLOT


async def test_a_probe_past_its_timeout_is_a_timeout_that_keeps_the_last_page(
    http: HttpEngine, imitation: ImitationSite
) -> None:
    walk = target(
        Platform.GENERIC, url=imitation.url(NO_SLOT), steps=({"goto": SLOW},), rules=RULES
    )
    seen = await observe(walk, http, timeout=1.5)
    assert seen.failure is not None
    assert (seen.failure.status, seen.failure.reason) == (Status.ANOMALY, Reason.TIMEOUT)
    assert [page.final_url for page in seen.pages] == [imitation.url(NO_SLOT)]
    assert (seen.finished_at - seen.started_at).total_seconds() < 5


async def test_a_missing_element_is_unrecognized_with_the_page_kept(
    http: HttpEngine, imitation: ImitationSite
) -> None:
    walk = target(
        Platform.GENERIC, url=imitation.url(NO_SLOT), steps=({"click": "#nowhere"},), rules=RULES
    )
    seen = await observe(walk, http, timeout=10)
    assert seen.failure is not None and seen.failure.reason is Reason.UNRECOGNIZED
    assert "#nowhere" in record_line(seen.failure.detail) and len(seen.pages) == 1


async def test_our_own_bug_is_a_monitor_error_naming_the_exception_never_a_crash(
    http: HttpEngine, imitation: ImitationSite
) -> None:
    broken = target(Platform.GENERIC, url=imitation.url(NO_SLOT), rules=RULES)
    # A step the config loader would refuse: the flow trips over it (a bug on our side).
    broken = replace(broken, steps=(Step.model_construct(action="goto"),))
    seen = await observe(broken, http, timeout=10)
    assert seen.failure is not None
    assert (seen.failure.status, seen.failure.reason) == (Status.MONITOR_ERROR, Reason.INTERNAL)
    assert "AssertionError" in record_line(seen.failure.detail)


async def test_a_refused_connection_is_an_anomaly_without_pages(http: HttpEngine) -> None:
    nowhere = target(
        Platform.DEMARCHES_SIMPLIFIEES, url=f"http://127.0.0.1:{unused_port()}/commencer/x"
    )
    seen = await observe(nowhere, http, timeout=5)
    assert seen.failure is not None and seen.failure.reason is Reason.CONNECTION
    assert seen.pages == ()
    assert classify(nowhere, seen).status is Status.ANOMALY


class SlowGate:
    """A politeness gate that holds each request back ``hold`` seconds (the first ``first``)."""

    def __init__(self, hold: float, first: float | None = None) -> None:
        self.hold = hold
        self.first = hold if first is None else first
        self.urls: list[str] = []

    async def __call__(self, url: str) -> None:
        self.urls.append(url)
        await asyncio.sleep(self.first if len(self.urls) == 1 else self.hold)

    @property
    def held(self) -> float:
        return self.first + self.hold * (len(self.urls) - 1) if self.urls else 0.0


async def test_time_held_at_the_gate_is_not_counted_against_the_probe_timeout(
    http: HttpEngine, imitation: ImitationSite
) -> None:
    # Two requests (conditions, then the desk's page): the first held back longer than the
    # whole timeout, both together more than twice the timeout; the site answers at once.
    legacy = target(Platform.LEGACY_BOOKING, url=imitation.url(NO_SLOT), desks=())
    gate = SlowGate(hold=0.9, first=1.2)
    began = time.monotonic()
    seen = await observe(legacy, http, timeout=1.0, gate=gate)
    assert len(gate.urls) == 2 and gate.held > 2 * 1.0
    assert time.monotonic() - began >= gate.held
    assert seen.failure is None, seen.failure
    assert classify(legacy, seen).reason is Reason.NO_SLOT


@pytest.mark.parametrize("hold", [0.0, 0.8])
async def test_a_slow_site_still_times_out_with_the_last_page_kept_whatever_the_gate(
    http: HttpEngine, imitation: ImitationSite, hold: float
) -> None:
    walk = target(
        Platform.GENERIC, url=imitation.url(NO_SLOT), steps=({"goto": SLOW},), rules=RULES
    )
    gate = SlowGate(hold=hold)
    began = time.monotonic()
    seen = await observe(walk, http, timeout=1.5, gate=gate)
    elapsed = time.monotonic() - began
    assert len(gate.urls) == 2  # the first page, then the slow one
    assert seen.failure is not None
    assert (seen.failure.status, seen.failure.reason) == (Status.ANOMALY, Reason.TIMEOUT)
    assert [page.final_url for page in seen.pages] == [imitation.url(NO_SLOT)]
    # The site had its 1.5 s, plus whatever the gate held back, and not much more.
    assert 1.5 + gate.held <= elapsed < 1.5 + gate.held + 2.5
    assert ("held back by the politeness gate" in record_line(seen.failure.detail)) is (hold > 0)
