"""Calendars as they come (issue 25): every calendar variant of the catalogue, walked.

Each case of ``legacy_cases._calendar_variants`` (week header forms, legends reusing the free
cells' classes, absolute offsets written by the page, a heavy honest page) goes through the
real walk and classification with the http engine against the imitation, one key each;
tests/system/test_probe_matrix.py runs the same cases through ``monitor check`` on both engines.
The requests behind a written offset are checked too: the walk starts where the page says.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest
from pagecases import target

from monitor.attempt.classify import classify
from monitor.attempt.probe import observe
from monitor.domain import Platform
from monitor.imitation import CATALOGUE, ImitationSite
from monitor.imitation.case import Case
from monitor.imitation.frdates import PARIS
from monitor.imitation.legacy_cases import HEADER_FORMS, LEGEND_FORMS, OFFSET_MARKUPS
from monitor.probes.http import HttpEngine

AJAX = re.compile(r"/ezjscore/call/bookingserver::planning::assign::(\d+)::(\d+)::(-?\d+)$")
#: The catalogue's calendar variants: a key of the issue's part 3 in their params.
VARIANT_KEYS = (
    "calendar_header",
    "calendar_legend",
    "calendar_offset",
    "calendar_image_kib",
)
VARIANTS = [
    case
    for case in CATALOGUE
    if case.platform == "legacy-booking" and any(key in case.params for key in VARIANT_KEYS)
]


@pytest.fixture
async def http() -> AsyncIterator[HttpEngine]:
    engine = HttpEngine(user_agent="prefecture-monitor/test", timeout=10)
    yield engine
    await engine.aclose()


def test_the_catalogue_holds_each_variant_of_the_issue() -> None:
    params = [case.params for case in VARIANTS]
    assert {p.get("calendar_header") for p in params} >= set(HEADER_FORMS)
    assert {p.get("calendar_legend") for p in params} >= set(LEGEND_FORMS)
    assert {p.get("calendar_offset") for p in params} >= set(OFFSET_MARKUPS)
    assert any(p.get("calendar_image_kib") for p in params)


@pytest.mark.parametrize("case", VARIANTS, ids=[case.note for case in VARIANTS])
async def test_each_calendar_variant_is_read_as_the_catalogue_says(
    case: Case, http: HttpEngine, imitation: ImitationSite
) -> None:
    imitation.set_scenario(case.key, case.scenario, **case.params)
    legacy = target(Platform.LEGACY_BOOKING, url=imitation.url(case.path))
    outcome = classify(legacy, await observe(legacy, http, timeout=30, gate=_through))
    assert (outcome.status, outcome.reason) == (case.expected_status, case.expected_reason), (
        outcome.detail
    )
    assert outcome.slot_count == case.expected_slot_count
    if case.expected_earliest_slot is not None:
        assert outcome.earliest_slot == datetime.fromisoformat(case.expected_earliest_slot)


async def _through(url: str) -> None:
    """A politeness gate that lets every request through."""


@pytest.mark.parametrize("markup", OFFSET_MARKUPS)
async def test_the_walk_starts_at_the_offset_the_page_writes(
    markup: str, http: HttpEngine, imitation: ImitationSite
) -> None:
    key = f"{1951 + OFFSET_MARKUPS.index(markup)}"  # keys of this module: 1951-1969
    imitation.set_scenario(
        key,
        "slots",
        desks=[4421],
        calendar_origin="absolute",
        calendar_epoch="1970-01-01",
        calendar_offset=markup,
        calendar_header="undated",
    )
    legacy = target(Platform.LEGACY_BOOKING, url=imitation.url(f"/booking/create/{key}"))
    await observe(legacy, http, timeout=30, gate=_through)
    today = (datetime.now(PARIS).date() - date(1970, 1, 1)).days
    asked = [int(m[3]) for e in imitation.requests if (m := AJAX.search(e.path)) and m[1] == key]
    assert asked == [today + 7 * week for week in range(6)]


@pytest.mark.browser
def test_a_browser_starts_its_calendar_at_the_offset_the_page_writes(
    imitation: ImitationSite, chromium_path: str
) -> None:
    """The imitation's own script starts where the page says, in each markup it writes."""
    from playwright.sync_api import sync_playwright

    today = datetime.now(PARIS).date()
    this_week = f"Semaine du {today - timedelta(days=today.weekday()):%d/%m/%Y}"
    keys = {markup: str(1961 + index) for index, markup in enumerate(OFFSET_MARKUPS)}
    for markup, key in keys.items():
        imitation.set_scenario(
            key,
            "slots",
            desks=[4421],
            calendar_origin="absolute",
            calendar_epoch="1970-01-01",
            calendar_offset=markup,
            calendar_header="numeric",
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path)
        try:
            page = browser.new_page()
            for markup, key in keys.items():
                page.goto(imitation.url(f"/booking/create/{key}"))
                page.check("#condition")
                page.click("input[name=nextButton]")
                page.wait_for_selector("text=Description de la nature du rendez-vous")
                page.click("input[name=nextButton]")
                page.wait_for_selector("#planning_calendar table")
                shown = page.inner_text("#planning_calendar th[colspan='7']")
                assert shown.startswith(this_week), (markup, shown)
        finally:
            browser.close()
