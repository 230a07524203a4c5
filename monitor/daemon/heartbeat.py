"""The heartbeat's rule: how often the daemon beats, and when a beat is stale.

Pure, and apart from the daemon's health machinery (monitor.daemon.health), so that
``monitor status --heartbeat``, run by systemd every minute, imports only this.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.store.coordination import NodeBeat

#: The heartbeat is written at least this often, whatever the intervals.
MAX_HEARTBEAT_PERIOD = timedelta(minutes=1)


def smallest_interval(config: Config) -> timedelta:
    """The smallest interval of the enabled targets (the schedule's default if none): the
    unit of the rules below."""
    return min(
        (target.interval for target in config.targets()), default=config.settings.schedule.interval
    )


def heartbeat_period(smallest_interval: timedelta) -> timedelta:
    """How often the daemon beats: half the smallest interval, at least once a minute."""
    return min(smallest_interval / 2, MAX_HEARTBEAT_PERIOD)


def stale_after(smallest_interval: timedelta) -> timedelta:
    """A heartbeat older than this means the daemon is stuck or gone."""
    return 3 * smallest_interval


def heartbeat_is_stale(
    last_beat: datetime | None, *, now: datetime, smallest_interval: timedelta
) -> bool:
    """``monitor status --heartbeat``'s rule: missing, or older than 3× the smallest interval."""
    return last_beat is None or now - last_beat > stale_after(smallest_interval)


def stale_nodes(
    beats: Sequence[NodeBeat], *, now: datetime, smallest_interval: timedelta
) -> list[str]:
    """The nodes among ``beats`` whose heartbeat is stale, by the rule above."""
    return [
        beat.node
        for beat in beats
        if heartbeat_is_stale(beat.beat_at, now=now, smallest_interval=smallest_interval)
    ]
