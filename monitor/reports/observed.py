"""No status outlives its evidence: whether a target's last status is still observed.

A target's status is what its site last showed. ``monitor_error`` outcomes (our own faults)
say nothing about the site and leave that status as it was, which is right for a moment and
wrong for good: a site that only produced ``monitor_error`` since slots were seen would show
"slots available" forever. So a status is current only while it is observed
(docs/contract.md#not-observed): once a target has had no site outcome for two of its
intervals, ``status``, the status page and the open data say since when it has not been
observed instead.

Two intervals, counted from the last site outcome's start, plus a grace of one probe's
longest run (``probe_timeout``: the outcome due then may still be on its way); when the target
is backing off after anomalies (its next probe put off to ``next_probe``), until one interval
after that probe. Outside a target's ``active_hours`` nothing is probed, so a night without
probes is a night not observed, and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from monitor.domain import Status
from monitor.store.engine import database_errors
from monitor.store.rows import outcomes

#: How many intervals without a site outcome make a status no longer current.
INTERVALS_OBSERVED = 2


@dataclass(frozen=True)
class Observation:
    """Whether a target's status is current, and its last site outcome."""

    current: bool
    last_site_at: datetime | None  #: the latest outcome that was not monitor_error

    @property
    def not_observed_since(self) -> datetime | None:
        """Since when the site has not been observed (None: it is, or it never was)."""
        return None if self.current else self.last_site_at


#: A target whose site never gave an outcome.
NEVER_OBSERVED = Observation(current=False, last_site_at=None)


def observation(
    last_site_at: datetime | None,
    *,
    interval: timedelta,
    now: datetime,
    next_probe: datetime | None = None,
    grace: timedelta = timedelta(0),
) -> Observation:
    """Whether the status a site outcome at ``last_site_at`` left is still current at ``now``.

    Pure. ``interval`` is the target's; ``next_probe`` its back-off time, if any;
    ``grace`` how long a probe may take before its outcome is recorded.
    """
    if last_site_at is None:
        return NEVER_OBSERVED
    deadline = last_site_at + INTERVALS_OBSERVED * interval + grace
    if next_probe is not None:
        deadline = max(deadline, next_probe + interval + grace)
    return Observation(current=now <= deadline, last_site_at=last_site_at)


def last_site_outcomes(engine: Engine, targets: Sequence[str]) -> dict[str, datetime]:
    """Each target's latest ``started_at`` that is not ``monitor_error`` (absent: none).

    One indexed look-up per target (``ix_outcomes_target_started_at``), read from the
    newest row back to the first site outcome.
    """
    found: dict[str, datetime] = {}
    with database_errors(engine.url), engine.connect() as connection:
        for target in targets:
            latest = connection.execute(
                select(outcomes.c.started_at)
                .where(
                    outcomes.c.target == target,
                    outcomes.c.status != str(Status.MONITOR_ERROR),
                )
                .order_by(outcomes.c.started_at.desc())
                .limit(1)
            ).scalar_one_or_none()
            if latest is not None:
                found[target] = latest
    return found
