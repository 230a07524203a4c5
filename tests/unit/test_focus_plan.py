"""The week plans of monitor/daemon/focus.py: the even budget kept, the caps held, the slots'
hours favoured, and probe times that any node computes alike (issue 28, item 2).

Tables first, then Hypothesis properties over histories, windows and caps.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config.durations import ActiveHours, parse_active_hours, parse_jitter
from monitor.daemon.cadence import Cadence
from monitor.daemon.focus import (
    HOURS_PER_WEEK,
    WeekPlan,
    even_plan,
    hour_of_week,
    learned_plan,
    phase_of,
)
from monitor.daemon.jobs import CadenceTrigger

PARIS = ZoneInfo("Europe/Paris")
DAY = parse_active_hours("07:00-21:00")
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)  # a Monday
MIN, MAX = timedelta(minutes=2), timedelta(hours=2)
QUARTER = timedelta(minutes=15)


def _paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)  # type: ignore[misc]


def _weekly(hour: int, weeks: int, *, minute: int = 5, before: datetime = NOW) -> list[datetime]:
    """One event a week for ``weeks`` weeks, at local hour ``hour`` of the week."""
    monday = _paris(2026, 11, 30)  # the Monday before NOW's
    base = monday + timedelta(hours=hour, minutes=minute)
    return [base - timedelta(weeks=k) for k in range(weeks) if base - timedelta(weeks=k) < before]


def _learn(
    own: list[datetime],
    pooled: list[datetime] | None = None,
    *,
    interval: timedelta = QUARTER,
    hours: ActiveHours | None = DAY,
    now: datetime = NOW,
    low: timedelta = MIN,
) -> WeekPlan:
    return learned_plan(
        own,
        pooled or [],
        interval=interval,
        active_hours=hours,
        zone=PARIS,
        min_interval=low,
        max_interval=MAX,
        now=now,
    )


def _times(plan: WeekPlan, start: datetime, end: datetime) -> Iterator[datetime]:
    moment = plan.next_after(start)
    while moment < end:
        yield moment
        moment = plan.next_after(moment)


# --- hour of the week --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (_paris(2026, 12, 7, 0, 0), 0),  # Monday 00h
        (_paris(2026, 12, 13, 23, 59), 167),  # Sunday 23h
        (datetime(2026, 12, 6, 23, 30, tzinfo=UTC), 0),  # Sunday in UTC, Monday in Paris
        (_paris(2026, 7, 8, 9, 0), 57),  # summer time: Wednesday 09h local
    ],
)
def test_hour_of_week_counts_local_hours_from_monday(moment: datetime, expected: int) -> None:
    assert hour_of_week(moment, PARIS) == expected


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        hour_of_week(datetime(2026, 12, 7), PARIS)


# --- the even plan -------------------------------------------------------------------------


def test_even_plan_probes_every_interval_within_active_hours() -> None:
    plan = even_plan(interval=QUARTER, active_hours=DAY, zone=PARIS, phase=0.25)
    assert plan.probes_per_week() == pytest.approx(7 * 14 * 4)
    times = list(_times(plan, _paris(2026, 12, 7), _paris(2026, 12, 14)))
    assert len(times) == 7 * 14 * 4
    assert times[0] == _paris(2026, 12, 7, 7, 3, 45)  # a quarter of a gap into the window
    for earlier, later in pairwise(times):
        assert later - earlier in (QUARTER, QUARTER + timedelta(hours=10))


@pytest.mark.parametrize(
    ("monday", "real_hours"),
    [((2026, 3, 23), 167), ((2026, 10, 19), 169), ((2026, 12, 7), 168)],
    ids=["spring-forward", "fall-back", "plain"],
)
def test_dst_weeks_probe_every_real_hour_at_its_gap(
    monday: tuple[int, int, int], real_hours: int
) -> None:
    plan = even_plan(interval=QUARTER, active_hours=None, zone=PARIS, phase=0.5)
    start = _paris(*monday)
    times = list(_times(plan, start, start + timedelta(hours=real_hours)))
    assert len(times) == real_hours * 4
    assert {later - earlier for earlier, later in pairwise(times)} == {QUARTER}


def test_a_day_window_is_not_touched_by_a_dst_week() -> None:
    plan = even_plan(interval=QUARTER, active_hours=DAY, zone=PARIS)
    start = _paris(2026, 3, 23)
    assert len(list(_times(plan, start, start + timedelta(weeks=1)))) == 7 * 14 * 4


# --- the learned plan: budget, caps, shape -------------------------------------------------


def test_no_history_is_the_even_plan() -> None:
    assert _learn([]) == even_plan(interval=QUARTER, active_hours=DAY, zone=PARIS)


@pytest.mark.parametrize(
    ("own", "pooled"),
    [
        (_weekly(8, 10), []),  # Monday 08h, ten weeks
        (_weekly(8, 2), []),  # thin
        ([], _weekly(24 + 10, 6)),  # only the prefecture's
        (_weekly(8, 10) + _weekly(3 * 24 + 15, 10), _weekly(24 + 10, 6)),
        ([NOW - timedelta(hours=k * 7) for k in range(1, 200)], []),  # everywhere
    ],
    ids=["monday-8h", "thin", "pooled-only", "two-peaks-and-pool", "spread"],
)
def test_learned_plan_keeps_the_budget_and_the_caps(
    own: list[datetime], pooled: list[datetime]
) -> None:
    plan = _learn(own, pooled)
    budget = even_plan(interval=QUARTER, active_hours=DAY, zone=PARIS).probes_per_week()
    assert plan.probes_per_week() <= budget
    assert plan.probes_per_week() > budget * 0.98  # whole seconds lose a little, no more
    active = [gap for gap in plan.gaps if gap is not None]
    assert len(active) == 7 * 14
    assert all(MIN <= gap <= MAX for gap in active)
    assert all(plan.gaps[h] is None for h in range(HOURS_PER_WEEK) if not 7 <= h % 24 < 21)


def test_hot_hours_get_the_short_gaps() -> None:
    plan = _learn(_weekly(8, 10))  # Monday 08:05 for ten weeks
    hot, cold = plan.gaps[8], plan.gaps[2 * 24 + 15]
    assert hot is not None and cold is not None
    assert hot < QUARTER < cold
    assert plan.gaps[8] == min(gap for gap in plan.gaps if gap is not None)


def test_thin_own_history_is_shaped_by_the_prefecture() -> None:
    pooled = _weekly(24 + 10, 8)  # the other targets: Tuesday 10h
    low = timedelta(seconds=10)  # caps out of the way: the shape shows
    thin = _learn(_weekly(3 * 24 + 15, 1), pooled, low=low)  # one event of its own, Thursday 15h
    assert thin.gaps[24 + 10] == min(gap for gap in thin.gaps if gap is not None)
    thick = _learn(_weekly(3 * 24 + 15, 12), pooled, low=low)  # twelve of its own
    hot, pool_hour = thick.gaps[3 * 24 + 15], thick.gaps[24 + 10]
    assert hot is not None and pool_hour is not None
    assert hot == min(gap for gap in thick.gaps if gap is not None)
    assert hot < pool_hour


def test_recent_weeks_weigh_more() -> None:
    old = [_weekly(9, 1)[0] - timedelta(weeks=15 + k) for k in range(3)]  # Monday 09h, long ago
    recent = _weekly(2 * 24 + 16, 3)  # Wednesday 16h, the last three weeks
    plan = _learn(old + recent)
    then, lately = plan.gaps[9], plan.gaps[2 * 24 + 16]
    assert then is not None and lately is not None
    assert lately < then


def test_todays_events_wait_for_tomorrow() -> None:
    today = _paris(2026, 12, 7, 9, 5)
    morning = _learn(_weekly(8, 3), now=_paris(2026, 12, 7, 8))
    evening = _learn([*_weekly(8, 3), today], now=_paris(2026, 12, 7, 20))
    assert morning == evening


def test_one_hour_window() -> None:
    hour = parse_active_hours("08:30-09:30")
    plan = _learn(_weekly(8, 6, minute=40), hours=hour)
    budget = even_plan(interval=QUARTER, active_hours=hour, zone=PARIS).probes_per_week()
    assert budget == pytest.approx(7 * 4)
    assert budget * 0.98 < plan.probes_per_week() <= budget
    assert [h for h, gap in enumerate(plan.gaps) if gap is not None] == [
        day * 24 + h for day in range(7) for h in (8, 9)
    ]
    times = list(_times(plan, _paris(2026, 12, 7), _paris(2026, 12, 14)))
    assert all(hour.contains(moment.astimezone(PARIS)) for moment in times)
    monday = [t for t in times if t < _paris(2026, 12, 8)]
    assert len(monday) > 4  # the hot Monday takes more than its even share


@pytest.mark.parametrize(
    ("interval", "low", "high", "message"),
    [
        (QUARTER, timedelta(hours=3), MAX, "min_interval .* longer than max_interval"),
        (timedelta(hours=3), MIN, MAX, "between min_interval"),
        (timedelta(minutes=1), MIN, MAX, "between min_interval"),
        (QUARTER, timedelta(0), MAX, "min_interval must be positive"),
    ],
)
def test_bad_caps_are_named(
    interval: timedelta, low: timedelta, high: timedelta, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        learned_plan(
            [],
            [],
            interval=interval,
            active_hours=DAY,
            zone=PARIS,
            min_interval=low,
            max_interval=high,
            now=NOW,
        )


# --- the estimator: exposure, hour of the day, noise --------------------------------------


def _hours_between(start: datetime, end: datetime) -> list[datetime]:
    count = (end - start) // timedelta(hours=1)
    return [start + timedelta(hours=k) for k in range(count)]


def test_openings_count_per_hour_watched() -> None:
    """Two openings in an hour watched two weeks say more than two in an hour watched eight."""
    start = _paris(2026, 11, 30) - timedelta(weeks=8)
    watched = [
        hour
        for hour in _hours_between(start, _paris(2026, 11, 30))
        # Wednesday 10h was watched only the last two weeks (the monitor was stopped then)
        if hour_of_week(hour, PARIS) != 2 * 24 + 10 or hour > NOW - timedelta(weeks=2)
    ]
    often, seldom = 24 + 10, 2 * 24 + 10  # Tuesday 10h, Wednesday 10h
    own = _weekly(often, 2) + _weekly(seldom, 2)
    low = timedelta(seconds=10)
    counted = _learn(own, low=low)  # no record of the hours watched: every hour
    assert counted.gaps[often] == counted.gaps[seldom]
    plan = learned_plan(
        own,
        [],
        interval=QUARTER,
        active_hours=DAY,
        zone=PARIS,
        min_interval=low,
        max_interval=MAX,
        now=NOW,
        own_probed=watched,
    )
    busy, quiet = plan.gaps[seldom], plan.gaps[often]
    assert busy is not None and quiet is not None
    assert busy < quiet


def test_openings_spread_evenly_give_the_even_plan() -> None:
    """No rhythm to learn: every active hour had one opening a week."""
    rng = random.Random(5)
    monday = _paris(2026, 11, 30)
    own = [
        monday - timedelta(weeks=week) + timedelta(hours=hour, minutes=rng.randrange(60))
        for week in range(1, 7)
        for hour in range(HOURS_PER_WEEK)
        if 7 <= hour % 24 < 21
    ]
    watched = _hours_between(monday - timedelta(weeks=6), monday)
    for probed in (None, watched):
        plan = learned_plan(
            own,
            [],
            interval=QUARTER,
            active_hours=DAY,
            zone=PARIS,
            min_interval=MIN,
            max_interval=MAX,
            now=NOW,
            own_probed=probed,
        )
        gaps = {gap for gap in plan.gaps if gap is not None}
        assert max(gaps) - min(gaps) <= QUARTER * 0.05, gaps


def test_random_openings_stay_near_the_even_plan() -> None:
    """Openings at random hours: most hours keep a gap near the even one."""
    rng = random.Random(11)
    own = [NOW - timedelta(minutes=rng.randrange(24 * 60, 8 * 7 * 24 * 60)) for _ in range(120)]
    plan = _learn(own, hours=None)
    gaps = sorted(gap for gap in plan.gaps if gap is not None)
    assert QUARTER * 0.8 <= gaps[len(gaps) // 2] <= QUARTER * 1.25
    assert gaps[len(gaps) // 10] >= QUARTER / 3  # no hour made hot by a chance cluster
    assert gaps[-1] <= QUARTER * 4


def test_office_hours_learned_on_some_weekdays_carry_to_the_others() -> None:
    """Cancellations Monday to Thursday 09h-17h: Friday's office hours get more probes
    than its night and than the weekend, though Friday never had one."""
    rng = random.Random(3)
    monday = _paris(2026, 11, 30)
    own = [
        monday
        - timedelta(weeks=week)
        + timedelta(days=rng.randrange(4), hours=rng.randrange(9, 17), minutes=rng.randrange(60))
        for week in range(1, 4)
        for _ in range(6)
    ]
    plan = _learn(own, hours=None)
    friday_noon, friday_night, saturday_noon = (
        plan.gaps[4 * 24 + 12],
        plan.gaps[4 * 24 + 3],
        plan.gaps[5 * 24 + 12],
    )
    assert friday_noon is not None and friday_night is not None and saturday_noon is not None
    assert friday_noon < friday_night
    assert friday_noon < saturday_noon


def test_a_weekly_release_keeps_its_own_hour_of_the_week() -> None:
    """Monday 00h every week among daytime cancellations: Monday 00h, not every 00h."""
    rng = random.Random(8)
    monday = _paris(2026, 11, 30)
    cancellations = [
        monday
        - timedelta(weeks=week)
        + timedelta(days=rng.randrange(5), hours=rng.randrange(9, 17), minutes=rng.randrange(60))
        for week in range(1, 5)
        for _ in range(20)
    ]
    plan = _learn(_weekly(0, 5) + cancellations, hours=None)
    release, tuesday = plan.gaps[0], plan.gaps[24]
    assert release is not None and tuesday is not None
    assert release <= QUARTER / 3
    assert release * 3 < tuesday


# --- probe times ---------------------------------------------------------------------------


def test_probe_times_do_not_depend_on_where_one_starts() -> None:
    plan = _learn(_weekly(8, 10) + _weekly(24 + 19, 4))
    start = _paris(2026, 12, 7)
    whole = list(_times(plan, start, start + timedelta(days=3)))
    middle = whole[len(whole) // 2]
    again = list(_times(plan, middle - timedelta(seconds=1), start + timedelta(days=3)))
    assert again == whole[len(whole) // 2 :]
    assert all(plan.next_after(t) > t for t in whole)
    assert plan.next_after(middle - timedelta(microseconds=1)) == middle


def test_the_phase_spreads_targets() -> None:
    first = even_plan(interval=QUARTER, active_hours=DAY, zone=PARIS, phase=phase_of("92/a"))
    second = even_plan(interval=QUARTER, active_hours=DAY, zone=PARIS, phase=phase_of("92/b"))
    assert phase_of("92/a") == phase_of("92/a") != phase_of("92/b")
    assert first.next_after(NOW) != second.next_after(NOW)


def test_a_learned_target_probes_its_hot_hour_more_and_the_week_the_same() -> None:
    learned = _learn(_weekly(8, 10))
    even = even_plan(interval=QUARTER, active_hours=DAY, zone=PARIS)
    start = _paris(2026, 12, 7)
    hot = (start + timedelta(hours=8), start + timedelta(hours=9))
    learned_times = list(_times(learned, start, start + timedelta(weeks=1)))
    even_times = list(_times(even, start, start + timedelta(weeks=1)))
    assert sum(hot[0] <= t < hot[1] for t in learned_times) > sum(
        hot[0] <= t < hot[1] for t in even_times
    )
    assert len(even_times) * 0.98 <= len(learned_times) <= len(even_times) + 1


# --- properties ------------------------------------------------------------------------------


def _active_seconds(hours: ActiveHours, start: datetime, end: datetime) -> float:
    """Active time between two instants, minute by minute (windows are minute-aligned)."""
    total = 0.0
    moment = start
    while moment < end:
        step = min(end, moment.replace(second=0, microsecond=0) + timedelta(minutes=1))
        if hours.contains(moment.astimezone(PARIS)):
            total += (step - moment).total_seconds()
        moment = step
    return total


windows = st.builds(
    lambda start, length: ActiveHours(
        (datetime(2000, 1, 1) + timedelta(minutes=start)).time(),
        (datetime(2000, 1, 1) + timedelta(minutes=start + length)).time(),
    ),
    st.integers(0, 24 * 60 - 1),
    st.integers(30, 24 * 60 - 1),
)
histories = st.lists(
    st.integers(1, 20 * 7 * 24 * 60).map(lambda m: NOW - timedelta(minutes=m)), max_size=60
)


@settings(max_examples=40, deadline=None)
@given(
    own=histories,
    pooled=histories,
    hours=windows,
    low=st.integers(1, 20),
    interval_steps=st.integers(0, 100),
    high=st.integers(60, 240),
    weeks_back=st.integers(0, 52),
    watched=st.none() | histories,
)
def test_budget_and_caps_hold_for_any_history(
    own: list[datetime],
    pooled: list[datetime],
    hours: ActiveHours,
    low: int,
    interval_steps: int,
    high: int,
    weeks_back: int,
    watched: list[datetime] | None,
) -> None:
    min_interval, max_interval = timedelta(minutes=low), timedelta(minutes=high)
    interval = min_interval + (max_interval - min_interval) * interval_steps / 100
    now = NOW - timedelta(weeks=weeks_back)  # some of them DST weeks
    plan = learned_plan(
        [t - timedelta(weeks=weeks_back) for t in own],
        [t - timedelta(weeks=weeks_back) for t in pooled],
        interval=interval,
        active_hours=hours,
        zone=PARIS,
        min_interval=min_interval,
        max_interval=max_interval,
        now=now,
        own_probed=None if watched is None else [t - timedelta(weeks=weeks_back) for t in watched],
    )
    budget = even_plan(interval=interval, active_hours=hours, zone=PARIS).probes_per_week()
    assert plan.probes_per_week() <= budget * (1 + 1e-12)
    # The whole budget is spent: only each gap's rounding up to the second is lost.
    assert plan.probes_per_week() >= budget * (1 - 1 / min_interval.total_seconds()) - 1e-6
    assert all(min_interval <= gap <= max_interval for gap in plan.gaps if gap is not None)
    times = list(_times(plan, now, now + timedelta(days=4)))
    hair = timedelta(microseconds=2)
    for earlier, later in pairwise(times):
        assert later - earlier >= min_interval - hair
        assert _active_seconds(hours, earlier, later) <= (max_interval + hair).total_seconds()
    assert all(hours.contains(t.astimezone(PARIS)) for t in times)


def test_the_slot_of_a_moment_is_the_last_probe_time_not_after_it() -> None:
    plan = _learn(_weekly(8, 10))
    start = _paris(2026, 12, 7, 6)
    first = plan.next_after(start)
    second = plan.next_after(first)
    assert plan.at_or_before(first) == first
    assert plan.at_or_before(second - timedelta(microseconds=1)) == first
    assert plan.at_or_before(start) < start - timedelta(hours=8)  # last night's last probe


def test_a_trigger_keeps_the_plans_shortest_gap_after_a_run_under_another_plan() -> None:
    """A plan replaced at a run (daily, reload) restarts its meter elsewhere: the next run
    still waits the new plan's shortest gap after the one just made."""
    plan = _learn(_weekly(8, 10), hours=None)
    trigger = CadenceTrigger(Cadence.of("t", QUARTER, parse_jitter("0s")), None, PARIS, plan=plan)
    first = plan.next_after(_paris(2026, 12, 7, 8))
    second = plan.next_after(first)
    just_run = second - (second - first) / 3  # the old plan's run, closer than any gap here
    assert trigger.get_next_fire_time(just_run, just_run) >= just_run + trigger.shortest_gap
    assert trigger.get_next_fire_time(None, first) == second  # within one plan: its own times


@settings(max_examples=25, deadline=None)
@given(
    own=histories,
    hours=windows,
    low=st.integers(1, 20),
    interval_steps=st.integers(0, 100),
    watched=st.none() | histories,
)
def test_a_plans_week_of_probe_times_is_the_even_count_within_rounding(
    own: list[datetime],
    hours: ActiveHours,
    low: int,
    interval_steps: int,
    watched: list[datetime] | None,
) -> None:
    """Counted probe by probe over a real week (no clock change), not only as a rate."""
    min_interval, max_interval = timedelta(minutes=low), MAX
    interval = min_interval + (max_interval - min_interval) * interval_steps / 100
    plan = learned_plan(
        own,
        [],
        interval=interval,
        active_hours=hours,
        zone=PARIS,
        min_interval=min_interval,
        max_interval=max_interval,
        now=NOW,
        own_probed=watched,
    )
    even = even_plan(interval=interval, active_hours=hours, zone=PARIS)
    monday = _paris(2026, 12, 7)
    week = (monday, monday + timedelta(weeks=1))
    counted, even_counted = len(list(_times(plan, *week))), len(list(_times(even, *week)))
    lost = even.probes_per_week() / min_interval.total_seconds()  # rounding gaps up
    assert even_counted - lost - 2 <= counted <= even_counted + 1
