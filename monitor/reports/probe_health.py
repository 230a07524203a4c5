"""Whether the daemon's own probes say it works: the second half of ``status --heartbeat``.

A fresh heartbeat says the daemon's loop turns, not that its probes do: a daemon whose
browser cannot launch beats on while every browser probe is ``monitor_error/browser_crash``
(issue 31). So ``status --heartbeat`` also reads the latest probes made since the daemon
started (older ones were another daemon's, perhaps one with the fault since fixed), and
calls the daemon unhealthy when

* its last :data:`UNHEALTHY_AFTER` probes were all ``monitor_error``, or
* its last :data:`UNHEALTHY_AFTER` browser-engine probes were all
  ``monitor_error/browser_crash`` (the browser cannot launch, or dies on every page), even
  while its HTTP probes work.

With a node judged (``--node``, ``$MONITOR_NODE``, a daemon running here) these are that
node's own probes (each outcome's ``node``); without one, the fleet's since its latest node
started.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine as Database
from sqlalchemy import select

from monitor.domain import Engine, Reason, Status
from monitor.store.engine import database_errors
from monitor.store.rows import outcomes

#: How many probes in a row, all the monitor's own fault, make a daemon unhealthy. A
#: constant, not a setting: one or two happen to a healthy daemon (a Chromium relaunched, a
#: blip on its own network); five in a row, with no answer from any site between them, is
#: a daemon that cannot do its work, and a daemon with a handful of targets shows it
#: within a round or two.
UNHEALTHY_AFTER = 5


@dataclass(frozen=True)
class ProbeMark:
    """What the rule needs of one outcome: its engine, status and reason."""

    engine: str
    status: str
    reason: str


def recent_probes(
    database: Database,
    *,
    since: datetime,
    engine: Engine | None = None,
    node: str | None = None,
) -> list[ProbeMark]:
    """The latest :data:`UNHEALTHY_AFTER` outcomes started at or after ``since`` (of one
    ``engine``, by one ``node``, if given), newest first."""
    query = select(outcomes.c.engine, outcomes.c.status, outcomes.c.reason).where(
        outcomes.c.started_at >= since
    )
    if engine is not None:
        query = query.where(outcomes.c.engine == engine.value)
    if node is not None:
        query = query.where(outcomes.c.node == node)
    query = query.order_by(outcomes.c.started_at.desc(), outcomes.c.id.desc()).limit(
        UNHEALTHY_AFTER
    )
    with database_errors(database.url), database.connect() as connection:
        return [ProbeMark(row.engine, row.status, row.reason) for row in connection.execute(query)]


def unhealthy_because(
    latest: Sequence[ProbeMark], latest_browser: Sequence[ProbeMark]
) -> str | None:
    """Why the daemon is unhealthy, in words, or None: ``latest`` are its newest probes,
    ``latest_browser`` its newest browser-engine probes (at most :data:`UNHEALTHY_AFTER`
    each, newest first)."""
    if len(latest) >= UNHEALTHY_AFTER and all(_own_fault(mark) for mark in latest):
        return f"the last {len(latest)} probes were {_reasons(latest)}"
    crashed = [mark for mark in latest_browser if mark.reason == Reason.BROWSER_CRASH.value]
    if len(latest_browser) >= UNHEALTHY_AFTER and len(crashed) == len(latest_browser):
        return (
            f"the last {len(latest_browser)} browser probes were "
            f"{Status.MONITOR_ERROR.value}/{Reason.BROWSER_CRASH.value} "
            "(the browser cannot launch, or dies on every page)"
        )
    return None


def _own_fault(mark: ProbeMark) -> bool:
    return mark.status == Status.MONITOR_ERROR.value


def _reasons(marks: Sequence[ProbeMark]) -> str:
    """``monitor_error/browser_crash``, or ``monitor_error (3 browser_crash, 2 internal)``."""
    counts = Counter(mark.reason for mark in marks)
    if len(counts) == 1:
        return f"{Status.MONITOR_ERROR.value}/{next(iter(counts))}"
    parts = ", ".join(f"{n} {reason}" for reason, n in counts.most_common())
    return f"{Status.MONITOR_ERROR.value} ({parts})"
