"""The scheduling math, pure: when each target is probed, and the key of each probe.

Every target has a grid of *nominal slots*, fixed by its id and interval alone::

    nominal(k) = EPOCH + offset(target) + k * interval
    fire(k)    = nominal(k) + jitter(target, k),   jitter in [-spread, +spread)

* ``offset`` is a hash of the target id modulo the interval, so the first probes after a
  start are spread over the first interval instead of all firing at once, and two targets
  keep the same relative phase for ever (their probes never bunch up later either).
* ``jitter`` is a hash of (target id, k) mapped onto ``[-spread, +spread)``: pseudo-random,
  but the same on every node and after every restart, so a run's fire time, its slot and
  its claim row agree everywhere. It shifts each run around its nominal time and never
  stretches the period (APScheduler 3's own ``jitter`` delays every run by up to the
  jitter, which lengthens the mean period by half the jitter).
* ``spread`` is the configured jitter (``Jitter.spread``) capped at half the interval, so
  consecutive fire times keep their order and a fire time maps back to one slot.
* The *slot* of a run, the key of its claim row, is ``nominal(k)``: the scheduled time
  truncated to the target's grid. Two nodes scheduling the same target compute the same
  slot, so only one of them probes it (see ``Repository.claim_probe``).

Runs whose fire time is outside ``active_hours`` (local time in ``settings.timezone``)
are skipped, as are runs before a ``not_before`` time (back-off, ``Retry-After``): the grid
never moves, the scheduler only skips slots.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from monitor.config.durations import ActiveHours, Jitter

__all__ = [
    "EPOCH",
    "Cadence",
    "first_active_moment",
    "jitter_of",
    "next_fire",
    "offset_of",
    "spread_of",
]

#: The origin of every grid (UTC).
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

#: next_fire gives up after skipping this many windows or slots (a misconfiguration guard:
#: active hours always recur daily, so a real search never comes near it).
_MAX_STEPS = 10_000


def _unit_hash(*parts: str) -> float:
    """A stable number in [0, 1) from strings (not Python's salted ``hash``)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def offset_of(target_id: str, interval: timedelta) -> timedelta:
    """The target's deterministic phase within its interval, in whole microseconds."""
    micro = int(_unit_hash("offset", target_id) * (interval // timedelta(microseconds=1)))
    return timedelta(microseconds=micro)


def spread_of(jitter: Jitter, interval: timedelta) -> timedelta:
    """The largest shift of a run from its nominal time: the jitter, at most interval / 2."""
    return min(jitter.spread(interval), interval / 2)


def jitter_of(target_id: str, k: int, spread: timedelta) -> timedelta:
    """The shift of run ``k`` of a target, in ``[-spread, +spread)``."""
    unit = _unit_hash("jitter", target_id, str(k))
    micro = int((2 * unit - 1) * (spread // timedelta(microseconds=1)))
    return timedelta(microseconds=micro)


@dataclass(frozen=True)
class Cadence:
    """One target's grid: everything needed to compute its fire times and slots."""

    target: str
    interval: timedelta
    spread: timedelta
    offset: timedelta

    @classmethod
    def of(cls, target_id: str, interval: timedelta, jitter: Jitter) -> Cadence:
        if interval <= timedelta(0):
            raise ValueError(f"interval of {target_id} must be positive, got {interval}")
        return cls(
            target=target_id,
            interval=interval,
            spread=spread_of(jitter, interval),
            offset=offset_of(target_id, interval),
        )

    @property
    def anchor(self) -> datetime:
        return EPOCH + self.offset

    def nominal(self, k: int) -> datetime:
        """Slot ``k``'s nominal time: the key of its claim row."""
        return self.anchor + k * self.interval

    def fire(self, k: int) -> datetime:
        """When run ``k`` actually starts: the nominal time plus its jitter."""
        return self.nominal(k) + jitter_of(self.target, k, self.spread)

    def index_at_or_before(self, moment: datetime) -> int:
        """The last slot whose nominal time is not after ``moment``."""
        return (moment - self.anchor) // self.interval

    def slot_due(self, now: datetime) -> int:
        """The run a job firing at ``now`` is for: the last k with ``fire(k) <= now``.

        Exact because fire times increase with k (spread < interval / 2 each side), and a
        job only ever runs at or after its fire time and before the next one's (a late job
        that passed the next fire time is coalesced into that later run).
        """
        k = self.index_at_or_before(now) + 1
        while self.fire(k) > now:
            k -= 1
        return k

    def slot_of(self, now: datetime) -> datetime:
        """The claim key of the run due at ``now``."""
        return self.nominal(self.slot_due(now))


def _aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")


def first_active_moment(moment: datetime, hours: ActiveHours, tz: tzinfo) -> datetime:
    """``moment`` if it is inside the window, else the next start of the window (UTC)."""
    local = moment.astimezone(tz)
    if hours.contains(local):
        return moment
    start = datetime.combine(local.date(), hours.start, tzinfo=tz)
    if start <= local:
        start = datetime.combine(local.date() + timedelta(days=1), hours.start, tzinfo=tz)
    # A start that does not exist that day (DST gap) resolves to a real instant via UTC.
    return start.astimezone(UTC)


def next_fire(
    cadence: Cadence,
    after: datetime,
    *,
    not_before: datetime | None = None,
    active_hours: ActiveHours | None = None,
    tz: tzinfo = UTC,
) -> tuple[int, datetime] | None:
    """The first run strictly after ``after``, not before ``not_before``, in active hours.

    Returns ``(k, fire time)``, or None if none is found (cannot happen with a valid window).
    """
    _aware(after, "after")
    floor = after
    if not_before is not None:
        _aware(not_before, "not_before")
        # "not before T" is "after T minus a hair": fire(k) == T is allowed.
        floor = max(floor, not_before - timedelta(microseconds=1))
    k = cadence.index_at_or_before(floor)
    for _ in range(_MAX_STEPS):
        while cadence.fire(k) <= floor:
            k += 1
        fire = cadence.fire(k)
        if active_hours is None or active_hours.contains(fire.astimezone(tz)):
            return k, fire
        # Jump to the next opening of the window instead of walking slot by slot.
        opening = first_active_moment(fire, active_hours, tz)
        floor = max(floor, opening - cadence.spread - timedelta(microseconds=1))
        k = max(k + 1, cadence.index_at_or_before(floor))
    return None
