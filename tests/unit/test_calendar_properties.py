"""Generated week tables (Hypothesis): whatever the header's form, the legend's markup and the
cells, a week counts its free cells, dates the earliest, and is never available without one.

Each example is one endpoint answer built from the variations sites print (issue 25):

* the header in one of :data:`HEADERS` (full or abbreviated French names, with or without a
  dot, any case, numeric with or without the year, the English server variants, or no date
  at all but dated day columns), its spaces plain, non-breaking or narrow non-breaking;
* any week, new-year weeks drawn often, read any day from five weeks before it to its
  Sunday (the walk reads six weeks from the current one);
* the header in the table's top row or as its caption;
* cells free with a step-5 link, free without (the time in the cell, or in the row's own
  first cell, a ``th`` or an eighth ``td``), busy, closed or empty; now and then a week
  with no free cell at all;
* a legend from :data:`LEGENDS`, beside or inside the table, several reusing the free
  cells' classes, a link, a time.

Failing examples Hypothesis found are kept as plain tests at the end of this file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.domain import PageSnapshot, Status
from monitor.imitation.frdates import DAYS, ENGLISH_MONTHS, MONTHS, SHORT_DAYS, SHORT_MONTHS
from monitor.platforms.dates import PARIS
from monitor.platforms.legacy_calendar import read_week, weeks_finding
from monitor.platforms.page import Page

URL = "https://www.example-pref.gouv.fr/ezjscore/call/bookingserver::planning::assign::5::4::0"
Header = Callable[[date, date], str]


def _short(day: date, dot: bool = True) -> str:
    name, month = SHORT_DAYS[day.weekday()], SHORT_MONTHS[day.month - 1]
    return f"{name} {day.day} {month}" if dot else f"{name[:3]} {day.day} {month.rstrip('.')}"


def _long(day: date) -> str:
    number = "1er" if day.day == 1 else f"{day.day:02d}"
    return f"{DAYS[day.weekday()]} {number} {MONTHS[day.month - 1]} {day.year}"


#: Header forms, from the week's Monday and Sunday. "" is a header with no date: the day
#: columns carry the dates then.
HEADERS: dict[str, Header] = {
    "long": lambda m, s: f"Semaine du {_long(m)} au {_long(s)}",
    "week from": lambda m, s: f"Week from {_long(m)} to {_long(s)}",
    "week of": lambda m, s: f"Week of Monday {ENGLISH_MONTHS[m.month - 1]} {m.day}, {m.year}",
    "week of, short": lambda m, s: f"Week of Mon {ENGLISH_MONTHS[m.month - 1][:3]} {m.day}",
    "abbreviated": lambda m, s: f"Semaine du {_short(m)} au {_short(s)} {s.year}",
    "abbreviated, no year": lambda m, s: f"Semaine du {_short(m)} au {_short(s)}",
    "no dot": lambda m, s: f"semaine du {_short(m, dot=False)} au {_short(s, dot=False)}",
    "day": lambda m, s: _long(m).capitalize(),
    "numeric": lambda m, s: f"Semaine du {m:%d/%m/%Y} au {s:%d/%m/%Y}",
    "numeric, no year": lambda m, s: f"Du {m:%d/%m} au {s:%d/%m}",
    "numeric, two digits": lambda m, s: f"{m:%d/%m/%y} - {s:%d/%m/%y}",
    "columns": lambda m, s: "Planning de la semaine",
}
CASES = (str, str.upper, str.lower, str.capitalize)
SPACES = (" ", "\u00a0", "\u202f", "  ", "\n")
#: (before the table, inside its body, its foot or caption, after it): legends as drawn.
LEGENDS: tuple[tuple[str, str, str, str], ...] = (
    ("", "", "", ""),
    ("", "", "", '<div class="legende"><p>Légende</p><ul><li>libre</li><li>réservé</li></ul>'),
    (
        "",
        "",
        "",
        '<table class="legende"><tr><td class="status-1 free">libre</td>'
        '<td class="status-0 busy">réservé</td></tr></table>',
    ),
    (
        '<p>Légende :</p><table><tr><td class="status-1 free"><a href="#">plage libre</a></td>'
        '<td class="free">libre</td></tr></table>',
        "",
        "",
        "",
    ),
    ("", '<tr><td class="status-1 free">libre</td><td class="busy">complet</td></tr>', "", ""),
    (
        "",
        '<tr><td>Légende</td><td class="status-1 free"><a href="#">libre</a> 09:00</td></tr>',
        "",
        "",
    ),
    (
        "",
        "",
        '<tfoot><tr><td class="status-1 free"><a href="#">libre</a> 09:00</td></tr></tfoot>',
        "",
    ),
    ("", "", '<caption>Légende : <a href="/booking/create/5/5/1900000000">libre</a></caption>', ""),
    ("", '<tr class="legende"><td class="free">libre 10h00</td></tr>', "", ""),
    (
        "",
        "",
        "",
        '<div id="legend"><table><tr><td class="free">libre 08:00</td></tr></table></div>',
    ),
)
TIMES = (time(8, 0), time(9, 0), time(9, 30), time(10, 15), time(11, 30), time(14, 0))
KINDS = ("busy", "busy", "closed", "empty", "free linked", "free unlinked")


@dataclass(frozen=True)
class Drawn:
    """One generated week answer and what reading it must give."""

    html: str
    monday: date
    today: date
    free: tuple[datetime, ...]  #: when each free cell is, Paris time


def _cell(kind: str, at: datetime, row_head: bool, free_class: str) -> str:
    shown = f"{at:%H:%M}"
    if kind == "free linked":
        link = f"/booking/create/5/5/{int(at.timestamp())}"
        return f'<td class="{free_class}"><a href="{link}">plage libre</a> {shown}</td>'
    if kind == "free unlinked":
        return f'<td class="{free_class}">{"libre" if row_head else f"plage libre {at:%Hh%M}"}</td>'
    if kind == "busy":
        return f'<td class="status-0 busy">{shown}</td>'
    return '<td class="status-2 closed">fermé</td>' if kind == "closed" else "<td></td>"


@st.composite
def weeks(draw: st.DrawFn) -> Drawn:
    any_monday = st.dates(date(2001, 1, 1), date(2098, 12, 1)).map(
        lambda day: day - timedelta(days=day.weekday())
    )
    new_year = (
        st.integers(2001, 2098)
        .map(lambda y: date(y, 12, 31))
        .map(lambda day: day - timedelta(days=day.weekday()))
    )
    monday = draw(st.one_of(any_monday, new_year))
    sunday = monday + timedelta(days=6)
    today = monday - timedelta(days=draw(st.integers(-6, 35)))
    form = draw(st.sampled_from(sorted(HEADERS)))
    header = draw(st.sampled_from(CASES))(HEADERS[form](monday, sunday))
    header = header.replace(" ", draw(st.sampled_from(SPACES)))
    columns = "".join(
        f"<th>{SHORT_DAYS[d]}{f' {monday + timedelta(days=d):%d/%m}' if form == 'columns' else ''}"
        "</th>"
        for d in range(7)
    )
    row_head = draw(st.sampled_from(("", "th", "td")))  # the row's time: none, a th, a td
    free_class = draw(st.sampled_from(("status-1 free", "free")))
    full = draw(st.booleans())  # now and then a week without any free cell
    times = draw(st.lists(st.sampled_from(TIMES), min_size=1, max_size=4, unique=True))
    rows, free = [], []
    for clock in sorted(times):
        cells = f"<{row_head}>{clock:%H:%M}</{row_head}>" if row_head else ""
        for column in range(7):
            kind = draw(st.sampled_from(KINDS))
            kind = "busy" if full and kind.startswith("free") else kind
            at = datetime.combine(monday + timedelta(days=column), clock, tzinfo=PARIS)
            free += [at] if kind.startswith("free") else []
            cells += _cell(kind, at, bool(row_head), free_class)
        rows.append(f"<tr>{cells}</tr>")
    before, inside, foot, after = draw(st.sampled_from(LEGENDS))
    in_caption = "<caption" not in foot and draw(st.booleans())  # the header as a caption
    title = f"<caption>{header}</caption>" if in_caption else ""
    top = "" if in_caption else f'<tr><th colspan="7">{header}</th></tr>'
    head = f"{top}<tr>{'<th></th>' if row_head else ''}{columns}</tr>"
    html = (
        f'{before}<table class="calendrier">{title}<thead>{head}</thead>{foot}'
        f"<tbody>{''.join(rows)}{inside}</tbody></table>{after}"
    )
    return Drawn(html, monday, today, tuple(free))


def answer(html: str) -> PageSnapshot:
    return PageSnapshot(url=URL, final_url=URL, http_status=200, html=html)


@settings(max_examples=150, deadline=None)
@given(weeks())
def test_a_generated_week_counts_its_free_cells_and_dates_the_earliest(week: Drawn) -> None:
    found = read_week(Page(answer(week.html)), PARIS, week.today)
    assert found is not None
    assert found.first_day == week.monday, found.header
    assert found.free == len(week.free)
    assert sorted(found.moments) == sorted(week.free)


@settings(max_examples=150, deadline=None)
@given(weeks())
def test_weeks_without_a_free_cell_are_never_available(week: Drawn) -> None:
    found = weeks_finding([answer(week.html)], PARIS, week.today)
    if not week.free:
        assert found.status is not Status.AVAILABLE
    else:
        assert (found.status, found.slot_count) == (Status.AVAILABLE, len(week.free))
        assert found.earliest_slot == min(week.free).astimezone(UTC)


# -- examples Hypothesis found (on the calendar code before issue 25), kept as plain tests --

NEW_YEAR = date(2001, 12, 31)
FULL_ROW = '<td class="status-0 busy">08:00</td>' * 6
COLUMNS = "<tr>" + "".join(f"<th>{day}</th>" for day in SHORT_DAYS) + "</tr>"


def found_table(header: str, last_cell: str, caption: str = "", after: str = "") -> str:
    return (
        f'<table class="calendrier"><thead><tr><th colspan="7">{header}</th></tr>{COLUMNS}'
        f"</thead>{caption}<tbody><tr>{FULL_ROW}{last_cell}</tr></tbody></table>{after}"
    )


BUSY_CELL = '<td class="status-0 busy">08:00</td>'
ABBREVIATED = "Semaine du lun. 31 déc. au dim. 6 janv. 2002"
FREE_LEGEND = (
    '<table class="legende"><tr><td class="status-1 free">libre</td>'
    '<td class="status-0 busy">réservé</td></tr></table>'
)


def test_found_a_caption_legend_linking_step_5_is_no_slot() -> None:
    caption = '<caption>Légende : <a href="/booking/create/5/5/1900000000">libre</a></caption>'
    html = found_table(
        "Semaine du lundi 31 décembre 2001 au dimanche 06 janvier 2002", BUSY_CELL, caption
    )
    found = read_week(Page(answer(html)), PARIS, NEW_YEAR)
    assert found is not None and (found.free, found.moments) == (0, ())


def test_found_an_abbreviated_new_year_header_dates_an_unlinked_sunday_cell() -> None:
    html = found_table(ABBREVIATED, '<td class="status-1 free">plage libre 08h00</td>')
    found = read_week(Page(answer(html)), PARIS, NEW_YEAR)
    assert found is not None and found.first_day == NEW_YEAR
    assert found.moments == (datetime(2002, 1, 6, 7, 0, tzinfo=UTC),)


def test_found_a_legend_table_with_the_free_classes_adds_no_slot() -> None:
    linked = '<td class="status-1 free"><a href="/booking/create/5/5/1010300400">libre</a></td>'
    one = weeks_finding([answer(found_table(ABBREVIATED, linked, after=FREE_LEGEND))])
    assert (one.status, one.slot_count) == (Status.AVAILABLE, 1)
    none = weeks_finding([answer(found_table(ABBREVIATED, BUSY_CELL, after=FREE_LEGEND))])
    assert none.status is not Status.AVAILABLE
