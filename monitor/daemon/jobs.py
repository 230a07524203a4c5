"""APScheduler's side of the daemon: the trigger of a target's grid, and job options.

The times themselves come from :mod:`monitor.daemon.cadence` (pure); this module adapts them to
APScheduler 3 and holds the numbers the scheduler derives from a config.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger

from monitor.config import Config, Target
from monitor.config.durations import ActiveHours, format_duration
from monitor.daemon.cadence import Cadence, next_fire
from monitor.daemon.focus import WeekPlan

__all__ = [
    "CadenceTrigger",
    "guard_window",
    "misfire_grace",
    "warn_about_host_budgets",
]

log = logging.getLogger(__name__)


class CadenceTrigger(BaseTrigger):  # type: ignore[misc]  # apscheduler is untyped
    """A target's fire times (see :mod:`monitor.daemon.cadence`), or its week plan's with
    ``schedule.focus: learned`` (:mod:`monitor.daemon.focus`, docs/contract.md#learned-schedule);
    ``not_before`` is set by the daemon after a run (back-off, Retry-After) and cleared when
    it no longer applies; it wins over both.

    A learned target's fire time is its own slot (the plan's times are the same on every
    node). ``floor``: no run before it, set when a new plan replaces one (daily, reload) to
    keep ``min_interval`` after the last run of the old plan.
    """

    def __init__(
        self,
        cadence: Cadence,
        active_hours: ActiveHours | None,
        tz: tzinfo,
        not_before: datetime | None = None,
        *,
        plan: WeekPlan | None = None,
        floor: datetime | None = None,
    ) -> None:
        self.cadence = cadence
        self.active_hours = active_hours
        self.tz = tz
        self.not_before = not_before
        self.plan = plan
        self.floor = floor
        self.last_fire: datetime | None = None  #: the latest run APScheduler reported

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        after = previous_fire_time if previous_fire_time is not None else now
        if previous_fire_time is not None:
            self.last_fire = previous_fire_time
        if self.plan is not None:
            floor = after.astimezone(UTC)
            if previous_fire_time is not None:  # a run just now under another plan's meter
                floor = max(floor, floor + self.shortest_gap - timedelta(microseconds=1))
            for bound in (self.not_before, self.floor):
                if bound is not None:
                    floor = max(floor, bound - timedelta(microseconds=1))
            return self.plan.next_after(floor)
        found = next_fire(
            self.cadence,
            after.astimezone(UTC),
            not_before=self.not_before,
            active_hours=self.active_hours,
            tz=self.tz,
        )
        return None if found is None else found[1]

    def slot_of(self, now: datetime) -> datetime:
        """The claim key of the run due at ``now``."""
        if self.plan is not None:
            return self.plan.at_or_before(now)
        return self.cadence.slot_of(now)

    @property
    def shortest_gap(self) -> timedelta:
        """The shortest time between two runs (the misfire grace is a quarter of it)."""
        if self.plan is None:
            return self.cadence.interval
        return min(gap for gap in self.plan.gaps if gap is not None)

    def __str__(self) -> str:
        if self.plan is not None:
            gaps = [gap for gap in self.plan.gaps if gap is not None]
            return f"learned, every {format_duration(min(gaps))} to {format_duration(max(gaps))}"
        return (
            f"every {format_duration(self.cadence.interval)} "
            f"± {format_duration(self.cadence.spread)}"
        )


def misfire_grace(interval: timedelta) -> int:
    """Seconds a run may start late: absorbs a busy loop, not a suspend (APScheduler wants
    a positive integer)."""
    return max(1, int(min(interval / 4, timedelta(minutes=1)).total_seconds()))


def guard_window(config: Config) -> float:
    """The own-fault guard's window: the longest interval, and a half."""
    longest = max(
        (target.interval for target in config.targets()), default=config.settings.schedule.interval
    )
    return longest.total_seconds() * 1.5


def warn_about_host_budgets(config: Config) -> None:
    """A host with more targets than its gap allows in one interval cannot keep cadence."""
    gap = config.settings.politeness.per_host_min_gap
    by_host: dict[str, list[Target]] = {}
    for target in config.targets():
        by_host.setdefault(target.host, []).append(target)
    for host, targets in by_host.items():
        # Each probe makes at least one request; most make two to five.
        needed = gap * len(targets)
        # A learned target may probe every min_interval in its hot hours.
        shortest = min(
            target.min_interval if target.focus == "learned" else target.interval
            for target in targets
        )
        if gap > timedelta(0) and needed >= shortest:
            log.warning(
                "host %s: %d targets need at least %s per round at one request every %s, "
                "more than their shortest interval %s: probes will run late or be skipped",
                host,
                len(targets),
                format_duration(needed),
                format_duration(gap),
                format_duration(shortest),
            )
