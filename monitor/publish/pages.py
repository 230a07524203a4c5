"""What each page shows, read from the database once per publication.

:func:`collect` joins the configured targets (every one is listed, even one never probed)
with their stored state, the window's totals (monitor.reports.stats_query), the daily and hourly
figures and anomaly periods (monitor.publish.figures over monitor.publish.query), the hours
of the week when slots appeared (monitor.reports.week_hours_query), the latest outcome and
the latest screenshot.

No status outlives its evidence (monitor.reports.observed): a target without a site outcome
for two of its intervals shows ``not_observed``, since its last site outcome, never its last
status as if current.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.config import Target
from monitor.domain import Outcome, Status, TargetState
from monitor.publish import query
from monitor.publish.figures import (
    NOT_OBSERVED,
    NOT_PROBED,
    AnomalyPeriod,
    DayFigures,
    anomaly_periods,
    daily_figures,
    days_without_slot,
    hourly_counts,
    window_days,
    window_start,
)
from monitor.publish.opendata import TargetIdentity
from monitor.reports.observed import (
    NEVER_OBSERVED,
    Observation,
    last_site_outcomes,
    observation,
)
from monitor.reports.stats import GroupStats
from monitor.reports.stats_query import collect_stats
from monitor.reports.week_hours import WeekFigures
from monitor.reports.week_hours_query import collect_week_hours
from monitor.store.ports import StatusReads


@dataclass(frozen=True)
class TargetPage:
    """One target's figures, for its row in the index and its own page."""

    target: Target
    state: TargetState | None
    stats: GroupStats | None  #: over the window; None: no attempt in it
    days: dict[date, DayFigures]
    hours: dict[tuple[date, int], Counter[Status]]
    periods: list[AnomalyPeriod]  #: oldest first
    latest: Outcome | None
    screenshot: Outcome | None
    observed: Observation = NEVER_OBSERVED
    week: WeekFigures | None = None  #: per hour of the week, over the window

    @property
    def status(self) -> str:
        """The current status; ``none`` for a target never probed, ``not_observed`` for one
        whose site has not been observed for two intervals (or only gave monitor errors)."""
        if self.state is None or self.state.last_probe_at is None:
            return NOT_PROBED
        if self.state.status is None or not self.observed.current:
            return NOT_OBSERVED
        return str(self.state.status)

    @property
    def since(self) -> datetime | None:
        """Since when the status shown holds: the status's start, or for ``not_observed``
        the last site outcome (None: the site was never observed)."""
        if self.status == NOT_OBSERVED:
            return self.observed.last_site_at
        return None if self.state is None or self.status == NOT_PROBED else self.state.since

    @property
    def days_without_slot(self) -> int:
        return days_without_slot(self.days.values())

    @property
    def anomaly_share(self) -> float | None:
        return None if self.stats is None else self.stats.share(Status.ANOMALY)

    @property
    def page(self) -> str:
        """The page's path in the site."""
        return f"targets/{self.target.prefecture}/{self.target.local_id}.html"

    @property
    def data_stem(self) -> str:
        """Its open data files' path without the extension."""
        return f"data/targets/{self.target.prefecture}/{self.target.local_id}"

    @property
    def identity(self) -> TargetIdentity:
        return TargetIdentity(
            target=self.target.id,
            prefecture=self.target.prefecture,
            prefecture_name=self.target.prefecture_name,
            procedure=self.target.name,
        )

    @property
    def screenshot_file(self) -> str | None:
        """The evidence path of the latest screenshot (relative to the evidence dir)."""
        if self.screenshot is None:
            return None
        return next(path for path in self.screenshot.evidence if path.endswith(".png"))


@dataclass(frozen=True)
class Window:
    now: datetime
    start: datetime
    days: list[date]


def window_of(now: datetime, tz: ZoneInfo) -> Window:
    return Window(now=now, start=window_start(now, tz), days=window_days(now, tz))


def collect(
    targets: Sequence[Target],
    repository: StatusReads,
    *,
    tz: ZoneInfo,
    window: Window,
    grace: timedelta = timedelta(0),
) -> list[TargetPage]:
    """Every configured target's page, in config order."""
    engine = repository.engine
    since = window.start
    totals = {
        stats.key: stats
        for stats in collect_stats(engine, by="target", since=since, tz=tz, now=window.now)
    }
    hours = query.hour_counts(engine, since)
    days = daily_figures(hours, query.slots_seen(engine, since), tz)
    grid = hourly_counts(hours, tz)
    weeks = {week.key: week for week in collect_week_hours(engine, repository, since=since, tz=tz)}
    changes = query.changes(engine, since)
    states = {state.target: state for state in repository.states()}
    ids = [target.id for target in targets]
    latest = repository.latest_outcomes(ids)
    screenshots = query.latest_with_screenshot(engine, ids)
    last_site = last_site_outcomes(engine, ids)
    backoffs = repository.next_probes()
    pages = []
    for target in targets:
        stats = totals.get(target.id)
        site_attempts = 0 if stats is None else stats.site_attempts
        pages.append(
            TargetPage(
                target=target,
                state=states.get(target.id),
                stats=stats,
                days=days.get(target.id, {}),
                hours=grid.get(target.id, {}),
                periods=anomaly_periods(changes.get(target.id, []), site_attempts),
                latest=latest.get(target.id),
                screenshot=screenshots.get(target.id),
                observed=observation(
                    last_site.get(target.id),
                    interval=target.longest_gap,
                    now=window.now,
                    next_probe=backoffs.get(target.id),
                    grace=grace,
                ),
                week=weeks.get(target.id),
            )
        )
    return pages
