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

__all__ = [
    "CadenceTrigger",
    "guard_window",
    "misfire_grace",
    "warn_about_host_budgets",
]

log = logging.getLogger(__name__)


class CadenceTrigger(BaseTrigger):  # type: ignore[misc]  # apscheduler is untyped
    """A target's fire times (see :mod:`monitor.daemon.cadence`); ``not_before`` is set by the
    daemon after a run (back-off, Retry-After) and cleared when it no longer applies."""

    def __init__(
        self,
        cadence: Cadence,
        active_hours: ActiveHours | None,
        tz: tzinfo,
        not_before: datetime | None = None,
    ) -> None:
        self.cadence = cadence
        self.active_hours = active_hours
        self.tz = tz
        self.not_before = not_before

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        after = previous_fire_time if previous_fire_time is not None else now
        found = next_fire(
            self.cadence,
            after.astimezone(UTC),
            not_before=self.not_before,
            active_hours=self.active_hours,
            tz=self.tz,
        )
        return None if found is None else found[1]

    def __str__(self) -> str:
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
        shortest = min(target.interval for target in targets)
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
