"""The legacy calendar walk against the imitation: what is asked, how, and through the gate.

The catalogue (tests/system/test_probe_matrix.py) checks the outcomes through ``monitor check``;
these tests check the requests behind them: the imitation's request log says which
methods and offsets reached the site, and a recording gate says every one went through it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from pagecases import target

from monitor.attempt.classify import classify
from monitor.attempt.probe import observe
from monitor.config import Target
from monitor.domain import Outcome, Platform, Status
from monitor.imitation import ImitationSite
from monitor.imitation.legacy_cases import LEGACY_FAR, LEGACY_FIRST
from monitor.probes.base import ProbeEngine
from monitor.probes.browser import BrowserEngine
from monitor.probes.http import HttpEngine

AJAX = re.compile(r"/ezjscore/call/bookingserver::planning::assign::(\d+)::(\d+)::(-?\d+)$")
KEYS = iter(range(1801, 1900))  # legacy form ids of this module, one per test case


@pytest.fixture
async def http() -> AsyncIterator[HttpEngine]:
    engine = HttpEngine(user_agent="prefecture-monitor/test", timeout=10)
    yield engine
    await engine.aclose()


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[BrowserEngine]:
    engine = BrowserEngine(
        executable_path=chromium_path, user_agent="prefecture-monitor/test", timeout=15
    )
    yield engine
    await engine.aclose()


class Gate:
    """A politeness gate that lets everything through and remembers what it saw."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    async def __call__(self, url: str) -> None:
        self.urls.append(url)


def slots_target(
    site: ImitationSite,
    weeks: int = 6,
    *,
    count: int = 3,
    first: datetime = LEGACY_FIRST,
    **params: Any,
) -> Target:
    """A one-desk target on its own key, ``count`` slots from ``first``, reading ``weeks``."""
    key = str(next(KEYS))
    calendar = {"count": count, "first_date": first.isoformat(), **params}
    site.set_scenario(key, "slots", **{"desks": [4421], **calendar})
    found = target(Platform.LEGACY_BOOKING, url=site.url(f"/booking/create/{key}"))
    return dataclasses.replace(found, calendar_weeks=weeks)


def ajax_requests(site: ImitationSite, form: str) -> list[tuple[str, int]]:
    """(method, offset) of each calendar request the site received for ``form``."""
    asked = []
    for entry in site.requests:
        match = AJAX.search(entry.path)
        if match and match[1] == form:
            asked.append((entry.method, int(match[3])))
    return asked


async def probe(legacy: Target, engine: ProbeEngine, gate: Gate | None = None) -> Outcome:
    seen = await observe(legacy, engine, timeout=30, gate=gate or Gate())
    return classify(legacy, seen)


def form_of(legacy: Target) -> str:
    return legacy.url.rsplit("/", 1)[1]


async def test_it_reads_the_horizon_a_week_at_a_time_each_request_through_the_gate(
    http: HttpEngine, imitation: ImitationSite
) -> None:
    legacy = slots_target(imitation, weeks=3)
    gate = Gate()
    outcome = await probe(legacy, http, gate)
    assert (outcome.status, outcome.slot_count) == (Status.AVAILABLE, 3)
    assert outcome.earliest_slot == LEGACY_FIRST
    asked = ajax_requests(imitation, form_of(legacy))
    assert asked == [("GET", 0), ("GET", 7), ("GET", 14)]
    assert len([url for url in gate.urls if AJAX.search(url)]) == 3


async def test_where_get_is_refused_it_posts_and_keeps_posting(
    http: HttpEngine, imitation: ImitationSite
) -> None:
    legacy = slots_target(imitation, weeks=3, calendar_method="post")
    outcome = await probe(legacy, http)
    assert (outcome.status, outcome.slot_count) == (Status.AVAILABLE, 3)
    assert ajax_requests(imitation, form_of(legacy)) == [
        ("GET", 0),
        ("POST", 0),
        ("POST", 7),
        ("POST", 14),
    ]


async def test_an_absolute_origin_is_calibrated_from_the_first_week_header(
    http: HttpEngine, imitation: ImitationSite
) -> None:
    legacy = slots_target(imitation, weeks=2, calendar_origin="absolute")
    outcome = await probe(legacy, http)
    assert (outcome.status, outcome.earliest_slot) == (Status.AVAILABLE, LEGACY_FIRST)
    asked = [offset for _, offset in ajax_requests(imitation, form_of(legacy))]
    # First at 0 (the page names no start: its script computes it), then the current week.
    this_monday = (LEGACY_FIRST - timedelta(days=7)).date()
    current = (this_monday - datetime(2020, 10, 19).date()).days
    assert asked[0] == 0 and asked[1:] == [current, current + 7], asked


async def test_slots_four_weeks_ahead_are_found_after_four_full_weeks(
    http: HttpEngine, imitation: ImitationSite
) -> None:
    legacy = slots_target(imitation, count=2, first=LEGACY_FAR)
    outcome = await probe(legacy, http)
    assert (outcome.status, outcome.slot_count, outcome.earliest_slot) == (
        Status.AVAILABLE,
        2,
        LEGACY_FAR,
    )


async def test_slots_beyond_the_horizon_are_never_available(
    http: HttpEngine, imitation: ImitationSite
) -> None:
    legacy = slots_target(imitation, weeks=3, count=2, first=LEGACY_FAR)
    outcome = await probe(legacy, http)
    assert (outcome.status, outcome.reason) == ("anomaly", "unrecognized")
    assert "3 week(s)" in outcome.detail


async def test_a_failing_endpoint_is_asked_once_and_is_overloaded(
    http: HttpEngine, imitation: ImitationSite
) -> None:
    legacy = slots_target(imitation, calendar_status=502)
    outcome = await probe(legacy, http)
    assert (outcome.status, outcome.reason) == ("anomaly", "overloaded")
    assert len(ajax_requests(imitation, form_of(legacy))) == 1


@pytest.mark.browser
async def test_the_browser_waits_for_the_late_table_and_reads_the_same_weeks(
    browser: BrowserEngine, imitation: ImitationSite
) -> None:
    legacy = slots_target(imitation, weeks=2, calendar_delay=1.0, calendar_endpoint="script")
    gate = Gate()
    seen = await observe(legacy, browser, timeout=30, gate=gate)
    outcome = classify(legacy, seen)
    assert (outcome.status, outcome.slot_count) == (Status.AVAILABLE, 3)
    assert outcome.earliest_slot == LEGACY_FIRST
    (final,) = seen.pages
    # The screenshot's page shows the week the page's own script loaded.
    assert "Semaine du lundi" in final.html and len(final.parts) == 2
    # The script's own request went through the gate as well as the flow's two.
    assert len([url for url in gate.urls if AJAX.search(url)]) == 3
