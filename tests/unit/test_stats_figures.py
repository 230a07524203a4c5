"""Stats by definition: La Cimade's buckets and the periods without slot, on outcomes made here.

`monitor stats` on a database is tested in tests/integration/test_stats.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import T0

from monitor.domain import Status
from monitor.reports.stats import (
    Gap,
    bucket_of,
    humanize_duration,
    longest_without_slot,
)

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("status", "count", "ahead", "bucket"),
    [
        (Status.UNAVAILABLE, None, None, "no_date"),
        (Status.ANOMALY, None, None, None),
        (Status.MONITOR_ERROR, None, None, None),
        (Status.AVAILABLE, 4, None, None),
        (Status.AVAILABLE, 2, timedelta(days=30), "at_least_two_dates_within_a_month"),
        (Status.AVAILABLE, 1, timedelta(days=3), "one_date_within_a_month"),
        (Status.AVAILABLE, None, timedelta(days=3), "one_date_within_a_month"),
        (Status.AVAILABLE, 9, timedelta(days=30, seconds=1), "first_date_in_one_to_two_months"),
        (Status.AVAILABLE, 9, timedelta(days=60), "first_date_in_one_to_two_months"),
        (Status.AVAILABLE, 9, timedelta(days=60, seconds=1), "first_date_beyond_two_months"),
    ],
)
def test_it_puts_each_attempt_in_la_cimades_bucket(
    status: Status, count: int | None, ahead: timedelta | None, bucket: str | None
) -> None:
    earliest = None if ahead is None else T0 + ahead
    assert bucket_of(status, T0, count, earliest) == bucket


def test_it_measures_periods_without_slot_from_first_attempt_between_slots_and_to_the_end() -> None:
    end = T0 + 10 * DAY
    assert longest_without_slot(T0, [], end) == Gap(T0, end)
    assert longest_without_slot(T0, [T0 + 6 * DAY], end) == Gap(T0, T0 + 6 * DAY)
    slots = [T0 + 9 * DAY, T0 + DAY, T0 + 2 * DAY]  # any order
    assert longest_without_slot(T0, slots, end) == Gap(T0 + 2 * DAY, T0 + 9 * DAY)
    # an end before the data is ignored rather than giving a negative period
    assert longest_without_slot(T0, [T0 + DAY], T0) == Gap(T0, T0 + DAY)


def test_it_writes_periods_for_people() -> None:
    assert humanize_duration(timedelta(days=12, hours=3, minutes=5)) == "12 d 3 h"
    assert humanize_duration(timedelta(hours=3, minutes=20), "fr") == "3 h 20 min"
    assert humanize_duration(timedelta(days=2), "fr") == "2 j"
    assert humanize_duration(timedelta(seconds=30)) == "0 min"
