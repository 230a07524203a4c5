"""When the desk asks again for a person: ``should_ask`` (issue 27)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerts.policy import should_ask

NOW = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
EVERY = timedelta(hours=2)


@pytest.mark.parametrize(
    ("last_asked", "expected"),
    [
        (None, True),  # never asked
        (NOW - EVERY, True),  # exactly ask_every ago
        (NOW - EVERY - timedelta(seconds=1), True),
        (NOW - EVERY + timedelta(seconds=1), False),
        (NOW, False),
        (NOW + timedelta(minutes=5), False),  # a clock set back: wait
    ],
)
def test_it_asks_again_at_most_every_ask_every(last_asked: datetime | None, expected: bool) -> None:
    assert should_ask(last_asked, NOW, EVERY) is expected


def test_it_refuses_an_interval_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="ask_every must be positive"):
        should_ask(None, NOW, timedelta(0))
