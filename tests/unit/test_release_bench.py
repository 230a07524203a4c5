"""The release-window bench's own pure parts (bench/release_timelines.py, release_replay.py):
generated timelines, the CSV reader and its messages, the replay and its figures."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from release_replay import (
    CadenceSchedule,
    Measured,
    Probe,
    measure,
    percentile,
    replay,
)
from release_timelines import (
    SHAPES,
    Timeline,
    TimelineError,
    generate,
    parse_csv,
    to_csv,
)
from release_windows import verdicts

from monitor.config.durations import parse_active_hours, parse_jitter
from monitor.daemon.cadence import Cadence, next_fire

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 1, 5, 0, 0, tzinfo=PARIS).astimezone(UTC)  # a Monday, local midnight


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def timeline(*changes: tuple[float, int], end: float) -> Timeline:
    return Timeline("t", PARIS, tuple((at(m), n) for m, n in changes), at(end))


# -- timelines -----------------------------------------------------------------------------------


def test_a_timeline_is_a_step_function_and_its_openings_are_its_stretches_with_slots() -> None:
    t = timeline((0, 0), (10, 3), (20, 1), (30, 0), (50, 2), end=60)
    assert [t.free_at(at(m)) for m in (-1, 0, 10, 15, 20, 29.9, 30, 55, 60)] == [
        0,
        0,
        3,
        3,
        1,
        1,
        0,
        2,
        0,
    ]
    openings = t.openings()
    assert [(o.start, o.end, o.peak) for o in openings] == [
        (at(10), at(30), 3),
        (at(50), at(60), 2),  # still open at the end: it ends with the timeline
    ]


def test_the_same_seed_gives_the_same_weeks_and_another_seed_others() -> None:
    shape = SHAPES["monday-thursday"]
    first = generate(shape, weeks=2, seed=1)
    assert generate(shape, weeks=2, seed=1) == first
    assert generate(shape, weeks=2, seed=2).changes != first.changes
    assert (first.start, first.end) == (T0, T0 + timedelta(weeks=2))


def test_monday_thursday_releases_at_its_local_hours_and_cancellations_last_3_to_20_minutes() -> (
    None
):
    t = generate(SHAPES["monday-thursday"], weeks=4, seed=3)
    long = [o for o in t.openings() if o.duration >= timedelta(hours=2)]
    assert len(long) == 8  # two batches a week, each drained within 30 h
    for week in range(4):
        for day, hour, minute in ((0, 0, 5), (3, 8, 50)):
            release = datetime(2026, 1, 5 + 7 * week + day, hour, minute, tzinfo=PARIS)
            # Released within 3 minutes of its hour (a cancellation may be open already).
            assert t.free_at(release - timedelta(seconds=1)) <= 2
            assert t.free_at(release + timedelta(minutes=3)) >= 30
    short = [o for o in t.openings() if o.duration < timedelta(hours=2)]
    assert short, "cancellations come back between the batches"
    for opening in short:
        # A lone cancellation, or two overlapping ones: from 3 minutes to under 40.
        assert timedelta(minutes=3) <= opening.duration < timedelta(minutes=40)
        local = opening.start.astimezone(PARIS)
        assert local.weekday() < 5 and 8 <= local.hour < 18  # the shape's office hours


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_shape_has_releases_and_short_lived_slots(name: str) -> None:
    t = generate(SHAPES[name], weeks=3, seed=1)
    durations = [o.duration for o in t.openings()]
    assert any(d < timedelta(minutes=30) for d in durations)
    assert any(d >= timedelta(hours=1) for d in durations)
    assert all(n >= 0 for _, n in t.changes)


# -- CSV -------------------------------------------------------------------------------------------


def test_a_hand_written_csv_is_read_in_local_time() -> None:
    text = (
        "local time,free slots\n"
        "# watched by hand from the préfecture's page\n"
        "2026-01-05 00:00,0\n"
        "\n"
        "2026-01-05T00:05,12\n"
        "05/01/2026 09:30,0\n"
        "2026-01-05 10:00:30+01:00,0\n"
        "2026-01-05 11:00,1\n"
        "2026-01-05 11:07,0\n"
        "2026-01-06 00:00,0\n"
    )
    t = parse_csv(text, source="watched.csv")
    assert t.start == T0
    assert t.end == T0 + timedelta(days=1)
    assert t.changes == ((at(0), 0), (at(5), 12), (at(570), 0), (at(660), 1), (at(667), 0))
    assert [o.duration for o in t.openings()] == [timedelta(minutes=565), timedelta(minutes=7)]


def test_a_generated_timeline_survives_the_csv_round_trip() -> None:
    t = generate(SHAPES["midnight"], weeks=2, seed=5)
    again = parse_csv(to_csv(t), source="export.csv")
    assert (again.changes, again.end) == (t.changes, t.end)


def test_the_hour_repeated_when_clocks_go_back_is_read_in_order() -> None:
    text = "2026-10-25 02:30,1\n2026-10-25 01:50,0\n2026-10-25 04:00,0\n"
    with pytest.raises(
        TimelineError, match=r"w\.csv:2: 2026-10-25 01:50 is not after the row of line 1"
    ):
        parse_csv(text, source="w.csv")
    t = parse_csv(
        "2026-10-25 02:30,1\n2026-10-25 02:40,2\n2026-10-25 02:20,0\n2026-10-25 04:00,0\n",
        source="w.csv",
    )
    # 02:20 after 02:40 is the second 02:20 (UTC+1), 50 minutes after the first 02:30 (UTC+2).
    assert [m - t.start for m, _ in t.changes] == [
        timedelta(0),
        timedelta(minutes=10),
        timedelta(minutes=50),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "2026-01-05 00:00,0\n2026-01-05 01:00;3\n2026-01-06 00:00,0\n",
            r"f\.csv:2: 1 columns, expected 2: local time,free slots",
        ),
        ("2026-01-05 00:00,0,x\n", r"f\.csv:1: 3 columns, expected 2"),
        (
            "local time,free slots\n5 janvier 00:00,1\n",
            r"f\.csv:2: '5 janvier 00:00' is not a time: write YYYY-MM-DD HH:MM",
        ),
        (
            "2026-01-05 00:00,0\n2026-01-05 01:00,-2\n",
            r"f\.csv:2: free slots '-2' is not a whole number >= 0",
        ),
        (
            "2026-01-05 00:00,0\n2026-01-05 01:00,2.5\n",
            r"f\.csv:2: free slots '2\.5' is not a whole number",
        ),
        (
            "2026-01-05 00:00,0\n2026-01-05 00:00,3\n",
            r"f\.csv:2: 2026-01-05 00:00 is not after the row of line 1",
        ),
        (
            "2026-03-29 02:30,1\n2026-03-29 04:00,0\n",
            r"f\.csv:1: 2026-03-29 02:30 does not exist in Europe/Paris",
        ),
        (
            "# nothing\n\nlocal time,free slots\n2026-01-05 00:00,0\n",
            r"f\.csv: 1 row\(s\); a timeline needs at least two",
        ),
        ("2026-01-05 00:00,0\nlocal time,free slots\n", r"f\.csv:2: 'local time' is not a time"),
        ("", r"f\.csv: 0 row\(s\)"),
    ],
)
def test_a_bad_row_is_refused_with_its_line_and_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(TimelineError, match=message):
        parse_csv(text, source="f.csv")


# -- replay ----------------------------------------------------------------------------------------


class Every:
    """A schedule probing every ``minutes`` from T0 (plus ``shift``)."""

    def __init__(self, minutes: float, shift: float = 0.0) -> None:
        self.step = timedelta(minutes=minutes)
        self.origin = at(shift)

    def next_after(self, moment: datetime) -> datetime:
        k = (moment - self.origin) // self.step + 1
        return self.origin + k * self.step


def test_the_replay_probes_the_schedule_sees_the_slots_and_opens_as_the_alert_policy_does() -> None:
    t = timeline((0, 0), (12, 2), (25, 0), (41, 1), (45, 0), (52, 3), (75, 0), end=120)
    walked = replay(t, lambda opened, probed, now: Every(10))
    assert [(p.at, p.free) for p in walked.probes[:9]] == [
        (at(0), 0),
        (at(10), 0),
        (at(20), 2),
        (at(30), 0),
        (at(40), 0),
        (at(50), 0),
        (at(60), 3),
        (at(70), 3),
        (at(80), 0),
    ]
    assert walked.opened == (at(20), at(60))
    # One probe without slots between two openings continues the first (close_after 2).
    flap = timeline((0, 0), (15, 1), (25, 0), (35, 1), (50, 0), end=60)
    assert replay(flap, lambda opened, probed, now: Every(10)).opened == (at(20),)
    assert replay(flap, lambda opened, probed, now: Every(10), close_after=1).opened == (
        at(20),
        at(40),
    )


def test_the_schedule_is_computed_again_each_local_midnight_from_what_was_recorded() -> None:
    t = timeline((0, 0), (60, 5), (180, 0), (24 * 60 + 60, 4), (24 * 60 + 120, 0), end=3 * 24 * 60)
    calls: list[tuple[tuple[datetime, ...], int, datetime]] = []

    def replan(opened: Sequence[datetime], probed: Sequence[datetime], now: datetime) -> Every:
        assert all(moment < now for moment in probed)
        calls.append((tuple(opened), len(probed), now))
        return Every(30, shift=7)

    walked = replay(t, replan)
    assert [now for _, _, now in calls] == [T0, T0 + timedelta(days=1), T0 + timedelta(days=2)]
    assert [opened for opened, _, _ in calls] == [(), (at(67),), (at(67), at(24 * 60 + 67))]
    assert [probed for _, probed, _ in calls] == [0, 48, 96]  # every probe made so far
    assert walked.plans == 3
    assert walked.probes[0].at == at(7)
    assert len(walked.probes) == 3 * 48


def test_the_figures_count_short_lived_slots_caught_and_release_delays_of_the_measured_part() -> (
    None
):
    t = timeline(
        (0, 0),
        (3, 9),  # a release before the measured part: not counted
        (200, 0),
        (1005, 1),  # short, seen by the probe at 1010
        (1013, 0),
        (1101, 1),  # short, between two probes: missed
        (1109, 0),
        (1212, 20),  # a release seen 8 minutes late
        (1500, 0),
        (1605, 4),  # a release seen 5 minutes late
        (1700, 0),
        end=2000,
    )
    probes = [Probe(at(m), t.free_at(at(m))) for m in range(5, 2000, 15)]
    measured = measure(t, probes, since=at(900), short=timedelta(minutes=30))
    assert (measured.short_total, measured.short_caught) == (2, 1)
    assert (measured.releases, measured.releases_missed) == (2, 0)
    assert measured.release_delays == (8 * 60.0, 5 * 60.0)
    assert measured.median_delay == 5 * 60.0
    assert measured.p95_delay == 8 * 60.0
    assert measured.probes == len([m for m in range(5, 2000, 15) if m >= 900])
    total = measured + measured
    assert (total.short_caught, total.releases, total.weeks) == (2, 4, 2 * measured.weeks)


def test_a_release_no_probe_saw_is_missed_not_a_delay() -> None:
    t = timeline((0, 0), (100, 5), (160, 0), end=300)
    measured = measure(
        t, [Probe(at(90), 0), Probe(at(170), 0)], since=T0, short=timedelta(minutes=30)
    )
    assert (measured.releases, measured.releases_missed, measured.release_delays) == (1, 1, ())


def test_nearest_rank_percentiles() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.0
    assert percentile(list(map(float, range(1, 21))), 0.95) == 19.0
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.5) != percentile([], 0.5)  # NaN


def test_the_even_schedule_is_the_daemons_own_cadence_grid() -> None:
    hours = parse_active_hours("07:00-21:00")
    jitter = parse_jitter("20%")
    interval = timedelta(minutes=15)
    schedule = CadenceSchedule.of("75/x", interval, jitter, hours, PARIS)
    cadence = Cadence.of("75/x", interval, jitter)
    moment = T0
    for _ in range(200):
        found = next_fire(cadence, moment, active_hours=hours, tz=PARIS)
        assert found is not None
        assert schedule.next_after(moment) == found[1]
        moment = found[1]
    assert hours.contains(moment.astimezone(PARIS))


def figures(probes: int, caught: int, delays: tuple[float, ...]) -> Measured:
    return Measured(probes, 1.0, 100, caught, len(delays), delays, 0)


def test_learned_meets_the_goals_only_at_half_the_delay_and_half_as_many_again_caught() -> None:
    even = figures(672, 40, (600.0, 480.0, 420.0))
    met = {"even": even, "learned": figures(670, 60, (240.0, 270.0, 200.0))}
    slower = {"even": even, "learned": figures(670, 60, (280.0, 300.0, 200.0))}
    fewer = {"even": even, "learned": figures(670, 59, (240.0, 270.0, 200.0))}
    dearer = {"even": even, "learned": figures(700, 60, (240.0, 270.0, 200.0))}
    rows = verdicts({"met": met, "slower": slower, "fewer": fewer, "dearer": dearer})[2:]
    assert [row.split(" | ")[-1] for row in rows] == ["met |", "missed |", "missed |", "missed |"]
    assert rows[0] == "| met | 0.997 | 2.00× | 1.50× | met |"
