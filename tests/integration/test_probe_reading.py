"""Reading pages is part of the probe: off the event loop, and bounded by probe_timeout.

observe() recognises the final pages in a worker thread under the probe's own deadline
(issue 25): a page still being read at the deadline is ``anomaly/timeout`` on time, and
while a hostile page is read the loop keeps running (a ticker task on it never stalls).
Classification then combines the findings made within the deadline, without reading the
pages again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from typing import TypeVar

import pytest
from pagecases import target

from monitor.attempt import classify as classify_module
from monitor.attempt.classify import Recognised, classify
from monitor.attempt.probe import observe
from monitor.domain import Finding, PageSnapshot, Platform, Reason, Status
from monitor.imitation import ImitationSite
from monitor.platforms import ADAPTERS, Adapter
from monitor.probes.http import HttpEngine

T = TypeVar("T")
NO_SLOT = "/booking/create/1104"  # catalogue: legacy, one desk, no slot
#: Longest the loop may go without running a 10 ms ticker while a page is read. A page
#: parsed on the loop stalled it for seconds (the deep page: about 8 s per parse).
STALL_BOUND = 1.0


@pytest.fixture
async def http() -> AsyncIterator[HttpEngine]:
    engine = HttpEngine(user_agent="prefecture-monitor/test", timeout=10)
    yield engine
    await engine.aclose()


async def ticking(work: Awaitable[T]) -> tuple[T, float]:
    """``work``'s result and the longest the loop went without running a 10 ms ticker."""
    loop = asyncio.get_running_loop()
    longest = 0.0

    async def tick() -> None:
        nonlocal longest
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            now = loop.time()
            longest = max(longest, now - last)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        result = await work
    finally:
        ticker.cancel()
    return result, longest


def busy_for(seconds: float) -> None:
    """Pure-Python CPU work holding the GIL between switches, as recognition does."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        sum(range(1000))


@pytest.fixture
def slow_recognition(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The generic platform's recognition made 4 s of CPU; records each call's end."""
    ended: list[str] = []
    real = ADAPTERS[Platform.GENERIC]

    def recognise(snapshot: PageSnapshot, target_: object) -> Finding:
        busy_for(4.0)
        ended.append(snapshot.final_url)
        return real.recognise(snapshot, target_)  # type: ignore[arg-type]

    adapters = dict(ADAPTERS)
    adapters[Platform.GENERIC] = Adapter(real.flow, recognise)
    monkeypatch.setattr(classify_module, "ADAPTERS", adapters)
    return ended


async def test_a_page_still_being_read_at_the_deadline_is_a_timeout_on_time(
    http: HttpEngine, imitation: ImitationSite, slow_recognition: list[str]
) -> None:
    walk = target(Platform.GENERIC, url=imitation.url(NO_SLOT))
    began = time.monotonic()
    seen, stalled = await ticking(observe(walk, http, timeout=1.0))
    took = time.monotonic() - began
    assert seen.failure is not None
    assert (seen.failure.status, seen.failure.reason) == (Status.ANOMALY, Reason.TIMEOUT)
    assert took < 3.0, took  # the deadline plus margin, not the 4 s of reading
    assert stalled < STALL_BOUND, stalled
    assert not slow_recognition  # the reading was left behind, unfinished
    outcome = classify(walk, seen)
    assert (outcome.status, outcome.reason) == (Status.ANOMALY, Reason.TIMEOUT)


@pytest.mark.parametrize(
    ("path", "reason", "code"),
    [
        ("/hostile/deep-nesting", Reason.UNRECOGNIZED, "too_deep"),
        ("/hostile/giant-element", Reason.BLOCKED, "blocked"),
    ],
)
async def test_a_hostile_page_is_read_off_the_loop_within_the_deadline(
    http: HttpEngine, imitation: ImitationSite, path: str, reason: Reason, code: str
) -> None:
    hostile = target(Platform.RDV_PREFECTURE, url=imitation.url(path))
    seen, stalled = await ticking(observe(hostile, http, timeout=30))
    assert seen.failure is None
    assert stalled < STALL_BOUND, stalled
    assert isinstance(seen, Recognised) and len(seen.findings) == 1
    assert (seen.findings[0].reason, seen.findings[0].detail.code) == (reason, code)
    assert classify(hostile, seen).reason is reason


async def test_classification_combines_the_findings_made_within_the_deadline(
    http: HttpEngine, imitation: ImitationSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy = target(Platform.LEGACY_BOOKING, url=imitation.url(NO_SLOT))
    seen = await observe(legacy, http, timeout=10)
    assert isinstance(seen, Recognised)

    def never(*_args: object) -> Finding:
        raise AssertionError("recognised again after the probe")

    monkeypatch.setattr(classify_module, "recognise", never)
    assert classify(legacy, seen).reason is Reason.NO_SLOT
    # An observation without findings (made elsewhere) is still recognised when classified.
    bare = replace(seen, findings=())
    with pytest.raises(AssertionError, match="recognised again"):
        classify(legacy, bare)
