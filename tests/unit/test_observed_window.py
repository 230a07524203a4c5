"""No status outlives its evidence (issue 25): the window in which a status is current.

What `monitor status` and the published page say past it is tested in
tests/system/test_observed.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.reports.observed import observation

NOW = datetime.now(UTC).replace(second=0, microsecond=0)

INTERVAL = timedelta(minutes=10)


@pytest.mark.parametrize(
    ("last_site", "next_probe", "current"),
    [
        (NOW - timedelta(minutes=5), None, True),
        (NOW - 2 * INTERVAL, None, True),
        (NOW - 2 * INTERVAL - timedelta(seconds=1), None, False),
        (NOW - timedelta(days=3), None, False),
        (None, None, False),
        # Backing off after anomalies: observed until one interval after the next probe.
        (NOW - timedelta(hours=1), NOW + timedelta(minutes=30), True),
        (NOW - timedelta(hours=2), NOW - timedelta(minutes=11), False),
    ],
)
def test_a_status_is_current_for_two_intervals_after_the_last_site_outcome(
    last_site: datetime | None, next_probe: datetime | None, current: bool
) -> None:
    seen = observation(last_site, interval=INTERVAL, now=NOW, next_probe=next_probe)
    assert seen.current is current
    assert seen.not_observed_since == (None if current else last_site)


def test_the_outcome_due_may_take_a_probe_timeout_to_arrive() -> None:
    last = NOW - 2 * INTERVAL - timedelta(seconds=30)  # the second probe is still running
    grace = timedelta(seconds=45)
    assert observation(last, interval=INTERVAL, now=NOW, grace=grace).current
    late = NOW - 2 * INTERVAL - timedelta(seconds=46)
    assert not observation(late, interval=INTERVAL, now=NOW, grace=grace).current
