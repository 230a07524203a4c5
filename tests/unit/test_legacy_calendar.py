"""The legacy AJAX week calendar, its pure parts: the endpoint, the origin, the weeks read.

The walk itself runs against the imitation site in tests/system/test_legacy_walk.py and through
``monitor check`` in the catalogue (tests/system/test_probe_matrix.py).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from pagecases import html, target

from monitor.config import Target
from monitor.details import record_line
from monitor.domain import PageSnapshot, Platform, Status
from monitor.platforms import legacy_booking
from monitor.platforms.common import Positive
from monitor.platforms.legacy_calendar import (
    Endpoint,
    calibrated,
    endpoint_of,
    read_week,
    weeks_finding,
)
from monitor.platforms.page import Page

SITE = "https://www.example-pref.gouv.fr"
STEP4 = f"{SITE}/index.php/booking/create/5001/4"
AJAX = "/index.php/ezjscore/call/bookingserver::planning::assign::5001::"
WEEK_OF_6_MAY = "Semaine du lundi 06 mai 2030 au dimanche 12 mai 2030"
#: Wednesday 8 May 2030, 10:30 Paris (08:30 UTC).
WEDNESDAY = int(datetime(2030, 5, 8, 8, 30, tzinfo=UTC).timestamp())
LEGEND = '<div class="legende"><p>Légende</p><ul><li>libre</li><li>réservé</li></ul></div>'


def legacy_booking_target() -> Target:
    return target(Platform.LEGACY_BOOKING)


def snapshot(body: str, url: str = STEP4, status: int = 200) -> PageSnapshot:
    return PageSnapshot(url=url, final_url=url, http_status=status, html=body)


def step4(box: str, script: str = "") -> PageSnapshot:
    return snapshot(
        html(
            '<h2>Choix d\'une plage</h2><form id="FormBookingCreate" method="post" '
            f'action="/index.php/booking/create/5001/4">{box}<input type="submit" '
            f'name="nextButton" value="Première plage horaire libre"></form>{script}'
        )
    )


def week(header: str, cells: str) -> PageSnapshot:
    """An AJAX answer: the fragment alone, no page around it."""
    return snapshot(
        f'<table class="calendrier"><thead><tr><th colspan="7">{header}</th></tr></thead>'
        f"<tbody><tr>{cells}</tr></tbody></table>{LEGEND}",
        url=f"{SITE}{AJAX}4411::0",
    )


BUSY = '<td class="status-0 busy">09:00</td>'
LINKED = (
    f'<td class="status-1 free"><a href="/booking/create/5001/5/{WEDNESDAY}">plage libre</a>'
    " 10:30</td>"
)
UNLINKED = '<td class="status-1 free">plage libre 11h00</td>'


# -- the endpoint -------------------------------------------------------------------------


def test_the_endpoint_written_in_a_data_attribute_is_taken_as_written() -> None:
    page = Page(step4(f'<div id="planning_calendar" data-url="{AJAX}4411::" data-offset="0">'))
    assert endpoint_of(page, "4411") == Endpoint(f"{SITE}{AJAX}4411::", 0)


def test_the_desk_chosen_picks_its_own_endpoint_among_several() -> None:
    boxes = "".join(f'<div class="planning" data-url="{AJAX}{d}::7"></div>' for d in (4411, 4412))
    assert endpoint_of(Page(step4(boxes)), "4412") == Endpoint(f"{SITE}{AJAX}4412::", 7)


def test_an_endpoint_assembled_by_the_script_is_built_from_the_known_pattern() -> None:
    script = (
        "<script>var formId = 5001, planningId = 4421; function charger(o){fetch(prefix + "
        "'/ezjscore/call/bookingserver::planning::assign::' + formId + '::' + planningId + "
        "'::' + o, {method: 'POST'});}</script>"
    )
    page = Page(step4('<div id="planning_calendar">Chargement…</div>', script))
    # No desk choice (one desk): the planning id is the one the script names.
    assert endpoint_of(page) == Endpoint(f"{SITE}{AJAX}4421::", None)
    # A desk chosen on the desk-choice page wins over what the script names.
    assert endpoint_of(page, "4411") == Endpoint(f"{SITE}{AJAX}4411::", None)


def test_a_page_that_is_not_the_calendar_step_has_no_endpoint() -> None:
    page = Page(snapshot(html("<h2>Vérification de disponibilité</h2>")))
    assert endpoint_of(page, "4411") is None


def test_a_calendar_step_without_any_planning_id_has_no_endpoint() -> None:
    assert endpoint_of(Page(step4('<div id="planning_calendar"></div>'))) is None


# -- the origin ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "shown", "today", "expected"),
    [
        (0, date(2026, 11, 30), date(2026, 12, 4), 0),  # relative: 0 is this week
        (0, date(2020, 10, 19), date(2026, 12, 4), 2233),  # absolute: days since the origin
        (175, date(2021, 4, 12), date(2021, 4, 14), 175),  # already the current week
        (7, date(2026, 12, 7), date(2026, 12, 4), 0),  # one week ahead: back by seven days
        (0, None, date(2026, 12, 4), 0),  # no header to calibrate with
    ],
)
def test_the_offset_of_the_current_week_is_calibrated_from_the_week_shown(
    offset: int, shown: date | None, today: date, expected: int
) -> None:
    assert calibrated(offset, shown, today) == expected


# -- weeks --------------------------------------------------------------------------------


def test_a_week_counts_free_cells_not_the_legend_and_dates_them() -> None:
    found = read_week(Page(week(WEEK_OF_6_MAY, BUSY + LINKED + UNLINKED)))
    assert found is not None
    assert (found.first_day, found.free) == (date(2030, 5, 6), 2)
    # The link's timestamp; the unlinked cell: header Monday + its column (Wednesday), 11:00.
    assert sorted(found.moments) == [
        datetime(2030, 5, 8, 8, 30, tzinfo=UTC),
        datetime(2030, 5, 8, 9, 0, tzinfo=UTC),
    ]


def test_the_english_header_dates_the_week_too() -> None:
    found = read_week(Page(week("Week from lundi 06 mai 2030 to dimanche 12 mai 2030", BUSY)))
    assert found is not None and found.first_day == date(2030, 5, 6)


def test_slots_over_several_weeks_add_up_and_the_earliest_is_the_first() -> None:
    later = LINKED.replace(str(WEDNESDAY), str(WEDNESDAY + 7 * 86400))
    answers = (
        week(WEEK_OF_6_MAY, BUSY * 3),
        week("Semaine du lundi 13 mai 2030 au dimanche 19 mai 2030", later + UNLINKED),
        week("Semaine du lundi 20 mai 2030 au dimanche 26 mai 2030", LINKED),
    )
    found = weeks_finding(answers)
    assert isinstance(found, Positive)
    assert (found.status, found.slot_count) == (Status.AVAILABLE, 3)
    assert found.earliest_slot == datetime(2030, 5, 8, 8, 30, tzinfo=UTC)
    assert "3 week(s)" in record_line(found.detail)


def test_weeks_without_a_free_cell_are_never_available() -> None:
    found = weeks_finding([week(WEEK_OF_6_MAY, BUSY * 7)] * 6)
    assert (found.status, found.reason) == ("anomaly", "unrecognized")
    assert "6 week(s)" in record_line(found.detail)


BAD_GATEWAY = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    "</center></body></html>"
)


def test_an_endpoint_that_answers_502_is_overloaded_not_no_slot() -> None:
    found = weeks_finding([snapshot(BAD_GATEWAY, status=502)])
    assert (found.status, found.reason) == ("anomaly", "overloaded")


def test_slots_seen_before_a_failing_week_stay_seen_and_the_detail_says_so() -> None:
    found = weeks_finding([week(WEEK_OF_6_MAY, LINKED), snapshot(BAD_GATEWAY, status=502)])
    assert (found.status, found.slot_count) == ("available", 1)
    assert "could not be read" in record_line(found.detail)


def test_an_answer_that_is_no_week_is_unrecognized() -> None:
    found = weeks_finding([snapshot("<p>Erreur interne du module.</p>")])
    assert (found.status, found.reason) == ("anomaly", "unrecognized")


# -- the step-4 page as recognition sees it -----------------------------------------------


def test_the_step4_page_is_read_through_its_weeks() -> None:
    page = step4(f'<div id="planning_calendar" data-url="{AJAX}4411::"></div>')
    with_weeks = PageSnapshot(
        url=page.url,
        final_url=page.final_url,
        http_status=200,
        html=page.html,
        parts=(week(WEEK_OF_6_MAY, LINKED),),
    )
    assert legacy_booking.recognise(with_weeks, legacy_booking_target()).slot_count == 1


def test_an_empty_calendar_step_without_weeks_is_unrecognized_never_available() -> None:
    page = step4('<div id="planning_calendar">Chargement du calendrier…</div>')
    found = legacy_booking.recognise(page, legacy_booking_target())
    assert (found.status, found.reason) == ("anomaly", "unrecognized")


def test_a_cell_without_timestamp_is_read_in_the_configured_time_zone() -> None:
    # La Réunion's prefecture: 11h00 on Wednesday 8 May 2030 is 07:00 UTC (UTC+4).
    answer = week(WEEK_OF_6_MAY, BUSY * 2 + UNLINKED)
    page = step4(f'<div id="planning_calendar" data-url="{AJAX}4411::"></div>')
    with_week = PageSnapshot(
        url=page.url, final_url=page.final_url, http_status=200, html=page.html, parts=(answer,)
    )
    reunion = dataclasses.replace(legacy_booking_target(), timezone="Indian/Reunion")
    found = legacy_booking.recognise(with_week, reunion)
    assert found.earliest_slot == datetime(2030, 5, 8, 7, 0, tzinfo=UTC)
    # A timestamp link is absolute: the zone does not move it.
    linked = dataclasses.replace(with_week, parts=(week(WEEK_OF_6_MAY, LINKED),))
    assert legacy_booking.recognise(linked, reunion).earliest_slot == datetime(
        2030, 5, 8, 8, 30, tzinfo=UTC
    )
