"""The heartbeat's rule: how often the daemon beats, and when a beat is stale.

Pure, and apart from the daemon's health machinery (monitor.daemon.health), so that
``monitor status --heartbeat``, run by systemd every minute, imports only this.
"""

from __future__ import annotations

from datetime import datetime, timedelta

#: The heartbeat is written at least this often, whatever the intervals.
MAX_HEARTBEAT_PERIOD = timedelta(minutes=1)


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
