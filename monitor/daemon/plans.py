"""The learned targets' week plans (docs/contract.md#learned-schedule, ``schedule.focus``), and when
each target probes next.

:func:`plans_for` and :func:`upcoming` are pure: the week plan of every ``learned`` target
from its prefecture's ``slots_opened`` times over the hours each target watched its page
(:mod:`monitor.daemon.focus`), and a target's
next probe time and current cadence (even or learned; back-off's ``not_before`` wins).
:class:`PlanBook` keeps the daemon's plans current: read from the store and computed in a
worker thread (never on the event loop), at start, after a reload and once a local day.
``monitor status`` calls the same functions, so it shows the daemon's plan.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol

from monitor.config import Config, Target
from monitor.daemon.cadence import Cadence, next_fire
from monitor.daemon.clock import SYSTEM_CLOCK, Clock
from monitor.daemon.focus import HISTORY, WeekPlan, learned_plan, phase_of

__all__ = ["LEARNED", "NextProbe", "PlanBook", "SlotTimes", "plans_for", "read_plans", "upcoming"]

log = logging.getLogger(__name__)

LEARNED = "learned"


class SlotTimes(Protocol):
    """When slots first appeared, per target (``Repository.slots_opened_times``), and the
    hours each target watched its page (``Repository.watched_hours``)."""

    def slots_opened_times(
        self, target_ids: Collection[str] | None, since: datetime | None
    ) -> Mapping[str, list[datetime]]: ...

    def watched_hours(
        self, target_ids: Collection[str] | None, since: datetime | None
    ) -> Mapping[str, list[datetime]]: ...


def _learned(targets: Sequence[Target]) -> list[Target]:
    return [target for target in targets if target.focus == LEARNED]


def plans_for(
    learned: Sequence[Target],
    everyone: Sequence[Target],
    times: Mapping[str, Sequence[datetime]],
    *,
    zone: tzinfo,
    now: datetime,
    watched: Mapping[str, Sequence[datetime]] | None = None,
) -> dict[str, WeekPlan]:
    """The week plan of each target of ``learned``: its own times, pooled with those of the
    other targets of ``everyone`` in its prefecture, each over the hours it watched
    (``watched``; None: every hour, as for a store that does not know)."""
    plans: dict[str, WeekPlan] = {}
    for target in learned:
        others = [
            other.id
            for other in everyone
            if other.prefecture == target.prefecture and other.id != target.id
        ]
        pooled = [moment for other in others for moment in times.get(other, ())]
        plans[target.id] = learned_plan(
            times.get(target.id, ()),
            pooled,
            interval=target.interval,
            active_hours=target.active_hours,
            zone=zone,
            min_interval=target.min_interval,
            max_interval=target.max_interval,
            now=now,
            phase=phase_of(target.id),
            own_probed=None if watched is None else watched.get(target.id, ()),
            pooled_probed=None
            if watched is None
            else [hour for other in others for hour in watched.get(other, ())],
        )
    return plans


def read_plans(config: Config, store: SlotTimes, now: datetime) -> dict[str, WeekPlan]:
    """The learned targets' plans from the store (blocking: a thread's work)."""
    everyone = config.targets(include_disabled=True)
    learned = _learned(config.targets())
    if not learned:
        return {}
    prefectures = {target.prefecture for target in learned}
    ids = [target.id for target in everyone if target.prefecture in prefectures]
    since = now - HISTORY - timedelta(days=1)
    times = store.slots_opened_times(ids, since)
    watched = store.watched_hours(ids, since)
    plans = plans_for(learned, everyone, times, zone=config.settings.tz, now=now, watched=watched)
    for plan in plans.values():
        # Fills focus.py's caches here, in the thread: the triggers' first next_after on
        # the event loop then finds them warm (a cold one walks the clock changes since 2000).
        plan.next_after(now)
    return plans


@dataclass(frozen=True)
class NextProbe:
    """A target's next probe time and the gap between probes then (None: none found)."""

    at: datetime | None
    cadence: timedelta | None


def upcoming(
    target: Target,
    plan: WeekPlan | None,
    *,
    now: datetime,
    not_before: datetime | None,
    zone: tzinfo,
) -> NextProbe:
    """When ``target`` probes next after ``now`` (not before ``not_before``), and its cadence
    then: its plan's if it has one, else its interval's grid (docs/contract.md#learned-schedule)."""
    floor = now if not_before is None else max(now, not_before - timedelta(microseconds=1))
    if plan is not None:
        at = plan.next_after(floor)
        return NextProbe(at, plan.cadence_at(at))
    cadence = Cadence.of(target.id, target.interval, target.jitter)
    found = next_fire(
        cadence, now, not_before=not_before, active_hours=target.active_hours, tz=zone
    )
    return NextProbe(None, None) if found is None else NextProbe(found[1], target.interval)


class PlanBook:
    """The daemon's current week plans, one per ``learned`` target."""

    def __init__(self, store: SlotTimes, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._store = store
        self._clock = clock
        self._plans: dict[str, WeekPlan] = {}
        self._day: date | None = None

    def plan(self, target: Target) -> WeekPlan | None:
        """The target's plan; None for an even target (or a learned one not planned yet,
        which probes evenly meanwhile)."""
        return self._plans.get(target.id) if target.focus == LEARNED else None

    async def refresh(self, config: Config) -> bool:
        """Compute every learned target's plan again, in a thread; whether any changed. On a
        database error the plans in force are kept (logged)."""
        now = self._clock.now().astimezone(UTC)
        self._day = now.astimezone(config.settings.tz).date()
        before = self._plans
        if not _learned(config.targets()):
            self._plans = {}
            return bool(before)
        try:
            self._plans = await asyncio.to_thread(read_plans, config, self._store, now)
        except Exception as error:
            log.error("learned schedules not recomputed, keeping the current ones: %s", error)
            return False
        log.info("learned schedules computed for %d targets", len(self._plans))
        return self._plans != before

    async def refresh_daily(self, config: Config) -> bool:
        """:meth:`refresh` when the local day has changed since the last one; whether a plan
        changed (the daemon then rebuilds its jobs; even targets' never change)."""
        today = self._clock.now().astimezone(config.settings.tz).date()
        if today == self._day:
            return False
        return await self.refresh(config)
