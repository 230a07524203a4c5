"""Hours of the week by definition (monitor.reports.week_hours): local time through zoneinfo
across both changes of time in Paris, the rollup's arithmetic held to it, the tallies and
the table's folding. `monitor stats --by hour` on a database is tested in
tests/integration/test_stats_by_hour.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.reports.week_hours import (
    HOUR_FIELDS,
    HOURS_IN_WEEK,
    TableLine,
    WeekFigures,
    WeekTallies,
    hour_label,
    hour_rows,
    table_lines,
    week_figures,
    week_hour,
    week_hour_of_utc_hour,
    weekday_of,
)
from monitor.store.rollup import HOUR, hour_of, moment_of

PARIS = ZoneInfo("Europe/Paris")
SUN = 6 * 24


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2026, 3, 2, 7, 0), 8),  # Monday, winter: UTC+1
        (utc(2026, 3, 1, 22, 59, 59), SUN + 23),  # Sunday 23:59:59 local
        (utc(2026, 3, 1, 23, 0), 0),  # Monday 00:00 local, still Sunday in UTC
        (utc(2026, 3, 30, 6, 0), 8),  # Monday, summer: UTC+2
        # 2026-03-29: at 01:00 UTC, 02:00 CET becomes 03:00 CEST; local 02h never happens
        (utc(2026, 3, 29, 0, 59, 59, 999_999), SUN + 1),
        (utc(2026, 3, 29, 1, 0), SUN + 3),
        # 2026-10-25: at 01:00 UTC, 03:00 CEST becomes 02:00 CET; local 02h happens twice
        (utc(2026, 10, 25, 0, 0), SUN + 2),
        (utc(2026, 10, 25, 0, 59), SUN + 2),
        (utc(2026, 10, 25, 1, 0), SUN + 2),
        (utc(2026, 10, 25, 1, 59), SUN + 2),
        (utc(2026, 10, 25, 2, 0), SUN + 3),
    ],
)
def test_a_moment_falls_in_its_local_hour_of_the_week(moment: datetime, expected: int) -> None:
    assert week_hour(moment, PARIS) == expected


def test_the_gap_and_the_doubled_hour_over_a_year_of_probes() -> None:
    """A probe every 10 minutes for 52 weeks from a Monday: each hour of the week gets 52
    hours of probes, but Sunday 02h loses the spring one and gains the autumn's second."""
    start = datetime(2026, 1, 5, 0, 0, tzinfo=PARIS).astimezone(UTC)
    moments = [start + timedelta(minutes=10 * step) for step in range(6 * 24 * 7 * 52)]
    figures = week_figures((("92/a", "92", m, False) for m in moments), {}, PARIS)[0]
    assert figures.total_probes == len(moments)
    assert set(figures.probes) == {52 * 6}  # -1 hour in March, +1 in October: even
    spring = [m for m in moments if m.date() == datetime(2026, 3, 29).date()]
    assert {week_hour(m, PARIS) for m in spring} >= {SUN + 1, SUN + 3}
    assert SUN + 2 not in {week_hour(m, PARIS) for m in spring if m.hour < 2}
    autumn = [m for m in moments if utc(2026, 10, 25, 0) <= m < utc(2026, 10, 25, 2)]
    assert {week_hour(m, PARIS) for m in autumn} == {SUN + 2}  # 12 probes in one local hour


#: Zones whose offsets are whole hours and change at whole UTC hours: France's (metropolitan
#: and overseas) and a few of both hemispheres' with summer time.
WHOLE_HOUR_ZONES = [
    "Europe/Paris",
    "America/Cayenne",
    "America/Martinique",
    "America/Miquelon",
    "Indian/Reunion",
    "Indian/Mayotte",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "America/New_York",
    "Australia/Sydney",
    "UTC",
]


def _changes(zone: str, first_year: int = 2024, last_year: int = 2028) -> list[datetime]:
    """The UTC hours at which ``zone``'s offset changes, over a few years."""
    tz = ZoneInfo(zone)
    hour = datetime(first_year, 1, 1, tzinfo=UTC)
    previous = hour.astimezone(tz).utcoffset()
    found = []
    while hour.year <= last_year:
        offset = hour.astimezone(tz).utcoffset()
        if offset != previous:
            found.append(hour)
        previous, hour = offset, hour + HOUR
    return found


CHANGES = sorted(
    change
    for zone in ("Europe/Paris", "America/Miquelon", "America/New_York", "Australia/Sydney")
    for change in _changes(zone)
)
#: Any moment, or one within three hours of a change of time somewhere (where it matters).
moments = st.one_of(
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2080, 1, 1), timezones=st.just(UTC)
    ),
    st.builds(
        lambda change, seconds: change + timedelta(seconds=seconds),
        st.sampled_from(CHANGES),
        st.floats(-3 * 3600, 3 * 3600, allow_nan=False),
    ),
)


@settings(max_examples=400, deadline=None)
@given(moment=moments, zone=st.sampled_from(WHOLE_HOUR_ZONES))
def test_the_rollups_arithmetic_is_the_local_time_of_the_utc_hour(
    moment: datetime, zone: str
) -> None:
    """What SQL computes from a UTC hour number and the offset at its start is the local
    hour of the week of every moment in that hour: the rollup's counts are exact."""
    tz = ZoneInfo(zone)
    hour = hour_of(moment)
    offset = moment_of(hour).astimezone(tz).utcoffset()
    assert offset is not None
    expected = week_hour_of_utc_hour(hour, offset // timedelta(minutes=1))
    assert week_hour(moment, tz) == expected
    assert week_hour(moment_of(hour), tz) == week_hour(
        moment_of(hour) + HOUR - timedelta(microseconds=1), tz
    )


@settings(max_examples=200, deadline=None)
@given(moment=moments, zone=st.sampled_from(WHOLE_HOUR_ZONES), weeks=st.integers(1, 600))
def test_a_week_later_at_the_same_local_time_is_the_same_hour(
    moment: datetime, zone: str, weeks: int
) -> None:
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz).replace(tzinfo=None) + timedelta(weeks=weeks)
    later = local.replace(tzinfo=tz)  # wall-clock arithmetic: the same weekday and hour
    if later.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local:  # not in a gap
        assert week_hour(later, tz) == week_hour(moment, tz)


def test_a_half_hour_offset_is_refused_by_the_rollups_arithmetic() -> None:
    with pytest.raises(ValueError, match="330 min"):
        week_hour_of_utc_hour(0, 330)
    # so the hour of the week of a Kolkata moment comes from local time only
    assert week_hour(utc(2026, 3, 1, 18, 29), ZoneInfo("Asia/Kolkata")) == SUN + 23
    assert week_hour(utc(2026, 3, 1, 18, 30), ZoneInfo("Asia/Kolkata")) == 0


@pytest.mark.parametrize(
    ("first", "last", "language", "label"),
    [
        (0, None, "en", "Mon 00h–01h"),
        (23, None, "en", "Mon 23h–24h"),
        (SUN + 23, None, "fr", "dim 23h–24h"),
        (21, 30, "en", "Mon 21h–Tue 07h"),
        (10, SUN, "en", "Mon 10h–Sun 01h"),
        (SUN + 4, HOURS_IN_WEEK - 1, "en", "Sun 04h–24h"),
        (0, HOURS_IN_WEEK - 1, "en", "Mon 00h–Sun 24h"),
        (21, 23, "fr", "lun 21h–24h"),
    ],
)
def test_hours_are_labelled_for_people(
    first: int, last: int | None, language: str, label: str
) -> None:
    assert hour_label(first, last, language) == label


def test_weekdays_are_iso_numbers() -> None:
    assert [weekday_of(index) for index in (0, 23, 24, SUN, HOURS_IN_WEEK - 1)] == [1, 1, 2, 7, 7]


def figures_with(**hours: tuple[int, int, int]) -> WeekFigures:
    """A target's figures with (probes, with slots, openings) at the hours named ``h<N>``."""
    probes, slots, openings = [0] * HOURS_IN_WEEK, [0] * HOURS_IN_WEEK, [0] * HOURS_IN_WEEK
    for name, (p, s, o) in hours.items():
        index = int(name[1:])
        probes[index], slots[index], openings[index] = p, s, o
    return WeekFigures("92/a", "92", tuple(probes), tuple(slots), tuple(openings))


def test_the_table_folds_each_run_of_hours_without_a_probe() -> None:
    group = figures_with(h8=(12, 5, 3), h9=(12, 0, 0), h167=(1, 0, 0))
    assert table_lines(group) == [
        TableLine(0, 7, 0, 0, 0),
        TableLine(8, 8, 12, 5, 3),
        TableLine(9, 9, 12, 0, 0),
        TableLine(10, 166, 0, 0, 0),
        TableLine(167, 167, 1, 0, 0),
    ]
    assert [line.quiet for line in table_lines(group)] == [True, False, False, True, False]
    assert table_lines(figures_with()) == [TableLine(0, 167, 0, 0, 0)]
    every = WeekFigures("92/a", "92", (1,) * 168, (0,) * 168, (0,) * 168)
    assert len(table_lines(every)) == HOURS_IN_WEEK


def test_tallies_add_counts_openings_and_pool_a_prefecture() -> None:
    tallies = WeekTallies(PARIS)
    tallies.add_probes("92/a", "92", 8, 10, 4)
    tallies.add_probe("92/a", "92", utc(2026, 3, 2, 7, 30), True)  # Monday 08h
    tallies.add_probe("92/b", "92", utc(2026, 3, 3, 7, 30), False)  # Tuesday 08h
    tallies.add_probe("75/c", "75", utc(2026, 3, 3, 7, 30), True)
    tallies.add_openings("92/a", [utc(2026, 3, 2, 7, 30), utc(2026, 3, 9, 7, 1)])
    with pytest.raises(ValueError, match="168"):
        tallies.add_probes("92/a", "92", HOURS_IN_WEEK, 1, 0)

    pooled, c, a, b = tallies.finish(pool="92")
    assert (pooled.key, c.key, a.key, b.key) == ("92/*", "75/c", "92/a", "92/b")
    assert pooled.pooled and not any(f.pooled for f in (a, b, c))
    assert (a.probes[8], a.with_slots[8], a.openings[8]) == (11, 5, 2)
    assert (b.probes[32], b.with_slots[32]) == (1, 0)
    assert pooled.probes[8] == 11 and pooled.probes[32] == 1 and pooled.total_openings == 2
    assert pooled.total_probes == a.total_probes + b.total_probes
    assert a.busiest() == [8] and b.busiest() == []
    assert [f.key for f in tallies.finish()] == ["75/c", "92/a", "92/b"]
    assert WeekTallies(PARIS).finish(pool="92") == []


def test_busiest_hours_are_the_most_openings_then_the_earliest() -> None:
    group = figures_with(h30=(5, 2, 2), h8=(5, 2, 2), h100=(9, 9, 4), h2=(1, 1, 1))
    assert group.busiest() == [100, 8, 30]
    assert group.busiest(limit=10) == [100, 8, 30, 2]


def test_machine_rows_hold_every_hour_of_every_group() -> None:
    pooled = WeekFigures("92/*", "92", (1,) * 168, (0,) * 168, (0,) * 168, pooled=True)
    rows = list(hour_rows([pooled, figures_with(h8=(12, 5, 3))], "Europe/Paris"))
    assert len(rows) == 2 * HOURS_IN_WEEK
    assert all(tuple(row) == HOUR_FIELDS for row in rows)
    assert rows[0]["target"] is None and rows[0]["prefecture"] == "92"
    assert rows[HOURS_IN_WEEK + 8] == {
        "target": "92/a",
        "prefecture": "92",
        "timezone": "Europe/Paris",
        "week_hour": 8,
        "weekday": 1,
        "hour": 8,
        "probes": 12,
        "probes_with_slots": 5,
        "slots_opened": 3,
    }
