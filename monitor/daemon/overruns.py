"""Runs skipped because the target's previous run is still going.

A run lasts past its target's next turn when its host is paused (a 429's Retry-After) or
slow; APScheduler then skips the turn (``max_instances=1``: never two runs of one target)
and logs a WARNING each time. With a host paused for minutes that is a line per target per
turn: 11,681 of them in an hour of ``bench/soak.py``, burying the rest of the log. Here
instead: a counter in the metrics, one INFO line when a target's turns start being
skipped, and one with the count when its run ends.
"""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES

from monitor.daemon import metrics

log = logging.getLogger(__name__)

_SKIPPED = 'Execution of job "%s" skipped'


class _WithoutSkippedRuns(logging.Filter):
    """Drops APScheduler's own line for a skipped run (:class:`Overruns` says it once)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_SKIPPED)


def apscheduler_logger() -> logging.Logger:
    """The logger to give APScheduler: its own, without the skipped-run lines."""
    logger = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, _WithoutSkippedRuns) for f in logger.filters):
        logger.addFilter(_WithoutSkippedRuns())
    return logger


class Overruns:
    """Counts each target's skipped turns while its run goes on."""

    def __init__(self) -> None:
        self._skipped: dict[str, int] = {}

    def watch(self, scheduler: Any) -> None:
        """Listen to an APScheduler scheduler's skipped runs (job ids are target ids)."""
        scheduler.add_listener(lambda event: self.skipped(event.job_id), EVENT_JOB_MAX_INSTANCES)

    def skipped(self, target_id: str) -> None:
        metrics.run_skipped()
        count = self._skipped.get(target_id, 0) + 1
        self._skipped[target_id] = count
        if count == 1:
            log.info(
                "%s: its run is still going; its next turns are skipped until it ends", target_id
            )

    def ended(self, target_id: str) -> None:
        """A run of the target ended (whatever its result)."""
        count = self._skipped.pop(target_id, 0)
        if count:
            log.info("%s: run ended; %d turn(s) skipped while it went on", target_id, count)
