"""The time expressions of the config file and the command line, as tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.config.durations import (
    ActiveHours,
    Jitter,
    format_duration,
    parse_active_hours,
    parse_duration,
    parse_jitter,
    parse_when,
)

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("0", timedelta(0)),
        ("0s", timedelta(0)),
        ("1h30m", timedelta(minutes=90)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        (" 15m ", timedelta(minutes=15)),
        ("90s", timedelta(seconds=90)),
        ("0.5s", timedelta(milliseconds=500)),
        ("1.5s", timedelta(seconds=1.5)),
        ("0.1s", timedelta(milliseconds=100)),
        ("0.001s", timedelta(milliseconds=1)),
        ("0.0004s", timedelta(0)),  # rounded to the millisecond
        ("0.0015s", timedelta(milliseconds=2)),  # half to even
        ("2.25s", timedelta(milliseconds=2250)),
        ("0.0s", timedelta(0)),
        ("1.5m", timedelta(seconds=90)),
        ("0.25h", timedelta(minutes=15)),
        ("1.5d", timedelta(hours=36)),
        ("1.23456m", timedelta(milliseconds=74_074)),  # 74.0736 s, to the millisecond
        ("1h0.5m", timedelta(minutes=60, seconds=30)),
        ("1m0.5s", timedelta(seconds=60.5)),
    ],
)
def test_it_parses_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "-5m",
        "10 minutes",
        "10",
        "0.5",
        ".5s",
        "5.s",
        "1,5s",
        "1.5.5s",
        "-0.5s",
        "1e3s",
        "5M",
        "m",
        "10x",
        "1m1h",
        "1h1h",
        "ten",
        "99" * 20,
    ],
)
def test_it_rejects_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_it_rejects_a_number_where_a_duration_string_is_expected() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(600)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=30), "30s"),
        (timedelta(seconds=90), "90s"),
        (timedelta(minutes=10), "10m"),
        (timedelta(minutes=90), "90m"),
        (timedelta(hours=2), "2h"),
        (timedelta(hours=36), "36h"),
        (timedelta(days=1), "1d"),
        (timedelta(days=14), "14d"),
        (timedelta(seconds=1.5), "1.5s"),
        (timedelta(milliseconds=500), "0.5s"),
        (timedelta(milliseconds=1), "0.001s"),
        (timedelta(minutes=1, milliseconds=1), "60.001s"),
        (timedelta(days=2, milliseconds=250), "172800.25s"),
        (timedelta(microseconds=1), "0.000001s"),  # exact, not rounded away
        (timedelta(seconds=1, microseconds=999_999), "1.999999s"),
        (timedelta(minutes=-5), "-5m"),
        (timedelta(seconds=-0.5), "-0.5s"),
    ],
)
def test_it_formats_durations_in_the_largest_exact_unit(value: timedelta, expected: str) -> None:
    assert format_duration(value) == expected


@pytest.mark.parametrize(
    "text", ["0s", "45s", "15m", "2h", "1d", "90m", "25h", "86399s", "0.5s", "1.5s", "0.001s"]
)
def test_it_round_trips_durations_as_written(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize("text", ["1.5m", "0.25h", "1.5d", "1.23456m", "0.0004s", "2.5h30m"])
def test_every_parsed_duration_formats_to_text_that_parses_back_to_it(text: str) -> None:
    parsed = parse_duration(text)
    assert parse_duration(format_duration(parsed)) == parsed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20%", Jitter(fraction=0.2)),
        ("0%", Jitter(fraction=0.0)),
        ("100%", Jitter(fraction=1.0)),
        ("12.5%", Jitter(fraction=0.125)),
        ("30s", Jitter(duration=timedelta(seconds=30))),
        ("1.5s", Jitter(duration=timedelta(seconds=1.5))),
        ("0", Jitter(duration=timedelta(0))),
        ("0s", Jitter(duration=timedelta(0))),
    ],
)
def test_it_parses_jitter_as_a_percentage_or_a_duration(text: str, expected: Jitter) -> None:
    assert parse_jitter(text) == expected


@pytest.mark.parametrize("text", ["101%", "-5%", "%", "20 percent", "1,5h", ""])
def test_it_rejects_bad_jitter(text: str) -> None:
    with pytest.raises(ValueError):
        parse_jitter(text)


@pytest.mark.parametrize(
    ("jitter", "interval", "spread"),
    [
        (Jitter(fraction=0.2), timedelta(minutes=10), timedelta(minutes=2)),
        (Jitter(fraction=0.0), timedelta(minutes=10), timedelta(0)),
        (Jitter(duration=timedelta(seconds=30)), timedelta(minutes=10), timedelta(seconds=30)),
        (Jitter(duration=timedelta(minutes=5)), timedelta(minutes=1), timedelta(minutes=1)),
    ],
)
def test_it_spreads_an_interval_by_at_most_the_interval(
    jitter: Jitter, interval: timedelta, spread: timedelta
) -> None:
    assert jitter.spread(interval) == spread


def test_it_refuses_a_jitter_that_is_both_or_neither() -> None:
    with pytest.raises(ValueError):
        Jitter()
    with pytest.raises(ValueError):
        Jitter(fraction=0.1, duration=timedelta(seconds=1))


@pytest.mark.parametrize(
    ("jitter", "text"),
    [(Jitter(fraction=0.2), "20%"), (Jitter(duration=timedelta(seconds=30)), "30s")],
)
def test_it_prints_jitter_as_written(jitter: Jitter, text: str) -> None:
    assert str(jitter) == text


@pytest.mark.parametrize(
    ("window", "moment", "inside"),
    [
        ("07:00-21:00", time(7, 0), True),
        ("07:00-21:00", time(12, 0), True),
        ("07:00-21:00", time(20, 59), True),
        ("07:00-21:00", time(21, 0), False),
        ("07:00-21:00", time(6, 59), False),
        ("22:00-06:00", time(23, 30), True),
        ("22:00-06:00", time(0, 0), True),
        ("22:00-06:00", time(5, 59), True),
        ("22:00-06:00", time(6, 0), False),
        ("22:00-06:00", time(12, 0), False),
        ("7:30-24:00", time(23, 59), True),
        ("7:30-24:00", time(7, 29), False),
    ],
)
def test_it_tells_whether_a_local_time_is_within_active_hours(
    window: str, moment: time, inside: bool
) -> None:
    assert parse_active_hours(window).contains(moment) is inside


def test_it_accepts_a_datetime_for_active_hours() -> None:
    hours = parse_active_hours("07:00-21:00")
    assert hours.contains(datetime(2026, 1, 1, 8, 0, tzinfo=PARIS))
    assert str(hours) == "07:00-21:00"
    assert str(ActiveHours(time(22), time(0))) == "22:00-24:00"


@pytest.mark.parametrize(
    "text", ["25:00-26:00", "07:00-07:00", "07:60-21:00", "7-21", "07:00", "garbage", ""]
)
def test_it_rejects_bad_active_hours(text: str) -> None:
    with pytest.raises(ValueError):
        parse_active_hours(text)


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2026-11-01", PARIS, datetime(2026, 10, 31, 23, 0, tzinfo=UTC)),
        ("2026-07-01", "Europe/Paris", datetime(2026, 6, 30, 22, 0, tzinfo=UTC)),
        ("2026-11-01", UTC, datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T08:30", PARIS, datetime(2026, 11, 1, 7, 30, tzinfo=UTC)),
        ("2026-11-01 08:30:00", PARIS, datetime(2026, 11, 1, 7, 30, tzinfo=UTC)),
        ("2026-11-01T08:30Z", PARIS, datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        ("2026-11-01T08:30+02:00", PARIS, datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
        ("7d", PARIS, NOW - timedelta(days=7)),
        ("12h", PARIS, NOW - timedelta(hours=12)),
        ("now", PARIS, NOW),
        ("today", PARIS, datetime(2026, 11, 22, 23, 0, tzinfo=UTC)),
    ],
)
def test_it_parses_cli_time_bounds_into_aware_utc(
    text: str, tz: ZoneInfo | str, expected: datetime
) -> None:
    result = parse_when(text, NOW, tz)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "7 days", "-7d", ""])
def test_it_rejects_bad_cli_time_bounds(text: str) -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_when(text, NOW, PARIS)


def test_it_needs_an_aware_now_and_a_known_zone() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("7d", datetime(2026, 1, 1), PARIS)
    with pytest.raises(ValueError, match="time zone"):
        parse_when("2026-01-01", NOW, "Mars/Olympus")
