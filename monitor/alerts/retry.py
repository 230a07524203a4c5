"""The retry schedule: when a delivery that failed for a passing reason is tried again.

A transient failure (the provider is down, the SMTP server refuses for now) comes back after
30 s, doubling up to 1 h between tries, until 24 h after the event occurred; past that the
news is stale and the delivery is ``failed``, as a permanent failure is at once. The
dispatcher asks :meth:`RetryPolicy.next_attempt` after each transient failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off for transient failures, bounded in time."""

    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=24)  #: counted from the event's occurred_at

    def next_attempt(self, attempts: int, now: datetime, occurred_at: datetime) -> datetime | None:
        """When to try again after the ``attempts``-th failure; None: give up now."""
        deadline = occurred_at + self.give_up_after
        if now >= deadline:
            return None
        delay = self.first_delay
        for _ in range(max(0, attempts - 1)):  # doubling stepwise never overflows timedelta
            if delay >= self.max_delay:
                break
            delay *= 2
        return min(now + min(delay, self.max_delay), deadline)
