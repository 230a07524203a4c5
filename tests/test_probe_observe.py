"""observe(): every ending becomes an Observation, with the last page reached kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from pagecases import target
from sitefixture import unused_port

from monitor.classify import classify
from monitor.config import Step
from monitor.domain import Platform, Reason, Status
from monitor.imitation import ImitationSite
from monitor.probe import observe
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
    assert "#nowhere" in seen.failure.detail and len(seen.pages) == 1


async def test_our_own_bug_is_a_monitor_error_naming_the_exception_never_a_crash(
    http: HttpEngine, imitation: ImitationSite
) -> None:
    broken = target(Platform.GENERIC, url=imitation.url(NO_SLOT), rules=RULES)
    # A step the config loader would refuse: the flow trips over it (a bug on our side).
    broken = replace(broken, steps=(Step.model_construct(action="goto"),))
    seen = await observe(broken, http, timeout=10)
    assert seen.failure is not None
    assert (seen.failure.status, seen.failure.reason) == (Status.MONITOR_ERROR, Reason.INTERNAL)
    assert "AssertionError" in seen.failure.detail


async def test_a_refused_connection_is_an_anomaly_without_pages(http: HttpEngine) -> None:
    nowhere = target(
        Platform.DEMARCHES_SIMPLIFIEES, url=f"http://127.0.0.1:{unused_port()}/commencer/x"
    )
    seen = await observe(nowhere, http, timeout=5)
    assert seen.failure is not None and seen.failure.reason is Reason.CONNECTION
    assert seen.pages == ()
    assert classify(nowhere, seen).status is Status.ANOMALY
