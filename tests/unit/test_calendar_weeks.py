"""One week of the legacy calendar, as the sites print it (issue 25, "Calendars as they come").

Week headers in every form French sites print dates; legends that reuse the free cells'
classes, never slots; the offset a page's script writes, used as the origin. Each case
here failed on the calendar code before issue 25 (the legends counted one free slot a week,
the headers gave no date, the written offset was ignored), except those it already read
right, kept as regressions: the long French header (with NBSPs too), "Week from …", the
plain list legend and the CSS guard. Generated variations: tests/unit/test_calendar_properties.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pagecases import html

from monitor.domain import PageSnapshot, Status
from monitor.platforms import dates
from monitor.platforms.legacy_calendar import Endpoint, endpoint_of, read_week, weeks_finding
from monitor.platforms.page import Page

SITE = "https://www.example-pref.gouv.fr"
AJAX = "/ezjscore/call/bookingserver::planning::assign::5001::"
TODAY = date(2026, 12, 6)
MONDAY = date(2026, 11, 30)
BUSY = '<td class="status-0 busy">09:00</td>'
#: Wednesday 2 December 2026, 10:30 Paris (09:30 UTC).
WEDNESDAY = int(datetime(2026, 12, 2, 9, 30, tzinfo=UTC).timestamp())
LINKED = f'<td class="status-1 free"><a href="/booking/create/5001/5/{WEDNESDAY}">libre</a></td>'


def answer(body: str) -> PageSnapshot:
    url = f"{SITE}{AJAX}4411::0"
    return PageSnapshot(url=url, final_url=url, http_status=200, html=body)


def table(header: str, rows: str, extra: str = "") -> str:
    return (
        f'<table class="calendrier"><thead><tr><th colspan="7">{header}</th></tr></thead>'
        f"<tbody>{rows}</tbody>{extra}</table>"
    )


# -- week headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Semaine du lundi 30 novembre 2026 au dimanche 06 décembre 2026",
        "Semaine du lun. 30 nov. au dim. 6 déc. 2026",
        "Semaine du lun. 30 nov. au dim. 6 déc.",
        "semaine du lun 30 nov au dim 6 dec",
        "SEMAINE DU LUN. 30 NOV. AU DIM. 6 DÉC.",
        "Lundi 30 novembre 2026",
        "lun 30 nov.",
        "Semaine du 30/11/2026 au 06/12/2026",
        "Du 30/11 au 06/12",
        "30/11/26 - 06/12/26",
        "Semaine du lun.\u00a030\u202fnov. au dim.\u00a06\u202fdéc.",
        "Semaine\u00a0du\u00a0lundi\u00a030\u00a0novembre\u00a02026",
        "Week from lundi 30 novembre 2026 to dimanche 06 décembre 2026",
        "Week of Monday November 30, 2026",
        "Week of Mon Nov 30",
        "du 2026-11-30 au 2026-12-06",
    ],
)
def test_a_week_header_is_read_in_the_forms_french_sites_print(header: str) -> None:
    assert dates.parse_week_header(header, TODAY) == MONDAY


@pytest.mark.parametrize(
    ("header", "today", "monday"),
    [
        ("Semaine du lun. 28 déc. au dim. 3 janv. 2027", date(2026, 12, 6), date(2026, 12, 28)),
        ("Semaine du 28 décembre au 3 janvier 2027", date(2026, 12, 6), date(2026, 12, 28)),
        ("Semaine du lun. 28 déc. au dim. 3 janv.", date(2026, 12, 20), date(2026, 12, 28)),
        # Read on 2 January 2027, the week that began in December is still 2026's.
        ("Semaine du 28/12 au 03/01", date(2027, 1, 2), date(2026, 12, 28)),
        # Read in December, a week of January is next year's.
        ("Semaine du lun. 4 janv. au dim. 10 janv.", date(2026, 12, 20), date(2027, 1, 4)),
    ],
)
def test_a_week_across_the_new_year_gets_the_right_year(
    header: str, today: date, monday: date
) -> None:
    assert dates.parse_week_header(header, today) == monday


def test_a_header_without_a_year_is_not_dated_without_a_today() -> None:
    assert dates.parse_week_header("Semaine du lun. 30 nov.") is None
    assert dates.parse_week_header("Planning de la semaine", TODAY) is None


def test_a_cell_without_link_is_dated_from_an_abbreviated_new_year_header() -> None:
    header = "Semaine du lun. 28 déc. au dim. 3 janv."
    friday = "<td></td>" * 4 + '<td class="status-1 free">plage libre 09h00</td>'
    found = read_week(Page(answer(table(header, f"<tr>{friday}</tr>"))), today=TODAY)
    assert found is not None and found.free == 1
    assert found.moments == (datetime(2027, 1, 1, 8, 0, tzinfo=UTC),)


def test_without_a_dated_header_the_day_columns_date_the_week() -> None:
    heads = "<tr><th>Heure</th>" + "".join(
        f"<th>{name} {day:02d}/12</th>"
        for name, day in zip(("lun.", "mar.", "mer."), (7, 8, 9), strict=True)
    )
    rows = '<tr><th>10:00</th><td></td><td class="status-1 free">libre</td></tr>'
    page = Page(answer(table("Planning", f"{heads}</tr>{rows}")))
    found = read_week(page, today=TODAY)
    assert found is not None and found.first_day == date(2026, 12, 7)
    # Tuesday 8 December, 10:00 Paris: the row's own time, the column's day.
    assert found.moments == (datetime(2026, 12, 8, 9, 0, tzinfo=UTC),)


# -- legends ------------------------------------------------------------------------------

HEADER = "Semaine du lundi 30 novembre 2026 au dimanche 06 décembre 2026"
LEGENDS = {
    "a list": '<div class="legende"><p>Légende</p><ul><li>libre</li><li>réservé</li></ul></div>',
    "a table with the free classes": (
        '<table class="legende"><tr><td class="status-1 free">libre</td>'
        '<td class="status-0 busy">réservé</td></tr></table>'
    ),
    "a bare table with a linked free sample": (
        '<p>Légende :</p><table><tr><td class="status-1 free"><a href="#">libre</a></td>'
        '<td class="free">disponible</td></tr></table>'
    ),
    "a div of free cells": (
        '<div id="calendar-legend"><table><tr><td class="free">libre 09:00</td></tr></table></div>'
    ),
}
IN_TABLE = {
    "a body row of samples": (
        '<tr><td class="status-1 free">libre</td><td class="status-0 busy">complet</td></tr>',
        "",
    ),
    "a body row that says Légende": (
        '<tr><td>Légende</td><td class="status-1 free"><a href="#">libre</a> 09:00</td></tr>',
        "",
    ),
    "a table foot": (
        "",
        '<tfoot><tr><td class="status-1 free"><a href="#">libre</a> 09:00</td></tr></tfoot>',
    ),
    "a caption with a step-5 link": (
        "",
        f'<caption>Légende : <a href="/booking/create/5001/5/{WEDNESDAY + 3600}">libre</a>'
        "</caption>",
    ),
    "a classed row": ('<tr class="legende"><td class="status-1 free">libre 10h00</td></tr>', ""),
}


@pytest.mark.parametrize("legend", list(LEGENDS))
def test_a_legend_beside_the_week_is_never_a_slot(legend: str) -> None:
    empty = answer(table(HEADER, f"<tr>{BUSY * 7}</tr>") + LEGENDS[legend])
    found = read_week(Page(empty))
    assert found is not None and found.free == 0
    assert weeks_finding([empty] * 6).status is not Status.AVAILABLE
    one = answer(table(HEADER, f"<tr>{BUSY * 2}{LINKED}</tr>") + LEGENDS[legend])
    assert weeks_finding([one]).slot_count == 1


@pytest.mark.parametrize("legend", list(IN_TABLE))
def test_a_legend_inside_the_week_table_is_never_a_slot(legend: str) -> None:
    rows, extra = IN_TABLE[legend]
    empty = answer(table(HEADER, f"<tr>{BUSY * 7}</tr>{rows}", extra))
    assert weeks_finding([empty] * 6).status is not Status.AVAILABLE
    one = answer(table(HEADER, f"<tr>{BUSY * 2}{LINKED}</tr>{rows}", extra))
    found = weeks_finding([one])
    assert (found.slot_count, found.earliest_slot) == (1, datetime.fromtimestamp(WEDNESDAY, UTC))


def test_a_free_cell_with_neither_time_nor_link_is_no_slot() -> None:
    bare = answer(table(HEADER, '<tr><td class="status-1 free">libre</td></tr>'))
    assert weeks_finding([bare]).status is not Status.AVAILABLE


# -- the offset the page writes -----------------------------------------------------------


def step4(body: str) -> Page:
    url = f"{SITE}/booking/create/5001/4"
    page = html(f'<h2>Choix d\'une plage</h2><div id="planning_calendar">{body}</div>')
    return Page(PageSnapshot(url=url, final_url=url, http_status=200, html=page))


@pytest.mark.parametrize(
    "script",
    [
        "var offset = 20424;",
        "var planningId = 4411; var dayOffset = 20424;",
        'var config = {"planning": 4411, "offset": "20424"};',
        "let startOffset=20424",
    ],
)
def test_the_offset_the_page_script_writes_is_the_origin(script: str) -> None:
    page = step4(f"<script>{script}</script>")
    assert endpoint_of(page, "4411") == Endpoint(f"{SITE}{AJAX}4411::", 20424)


def test_a_css_offset_is_not_an_origin() -> None:
    page = step4(
        "<style>a:focus { outline-offset: 2; }</style><script>var planningId = 1;</script>"
    )
    assert endpoint_of(page, "4411") == Endpoint(f"{SITE}{AJAX}4411::", None)
