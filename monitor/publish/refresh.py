"""The daemon's status page: regenerated after probes, coalesced, off the event loop.

The daemon calls :meth:`SiteRefresher.poke` after each probe it records. The first poke
starts a publication at once; pokes while one runs, or within ``min_gap`` of the end of
the last one, are folded into a single next publication, which starts when the gap is
over (measured from the end, so that a slow worker thread or a long publication never
brings two starts closer than ``min_gap``). A publication runs in a worker thread (its
SQL and file writing never hold the event loop, so probes go on), and a failed one is
logged, never fatal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from monitor.config import Config
from monitor.publish.site import Publication, SiteOptions, publish
from monitor.store.ports import StatusReads

log = logging.getLogger(__name__)


class SiteRefresher:
    """Runs ``publish_once`` after pokes, ``min_gap`` seconds apart at least."""

    def __init__(self, publish_once: Callable[[], object], *, min_gap: float) -> None:
        self._publish_once = publish_once
        self._min_gap = min_gap
        self._last_end: float | None = None
        self._pending = False
        self._task: asyncio.Task[None] | None = None
        self.publications = 0  #: how many completed (for the logs and the tests)

    def publish_now(self) -> None:
        """Publish at once in this thread (``run --once``, after the loop has ended)."""
        self._publish_once()
        self.publications += 1

    def poke(self) -> None:
        """Something new was recorded: publish now, or once the gap is over."""
        self._pending = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="publish")

    async def _run(self) -> None:
        while self._pending:
            if self._last_end is not None:
                wait = self._last_end + self._min_gap - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            self._pending = False
            try:
                await asyncio.to_thread(self._publish_once)
            except Exception as error:  # the next poke may succeed; probing goes on
                log.error("status page not published: %s", error, exc_info=True)
            else:
                self.publications += 1
            finally:
                self._last_end = time.monotonic()

    async def aclose(self) -> None:
        """At shutdown: drop a publication waiting for its gap; one under way completes in
        its thread (it is atomic: the site switches whole, or not at all)."""
        task = self._task
        if task is None or task.done():
            return
        self._pending = False
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def refresher_for(
    config: Callable[[], Config], repository: StatusReads, out: Path, *, min_gap: float
) -> SiteRefresher:
    """The daemon's refresher: each publication reads the config in force at the time
    (``config()``: language, licence and targets follow a SIGHUP reload)."""

    published: list[Publication] = []  # the latest: routine publications log at DEBUG

    def publish_once() -> Publication:
        current = config()
        settings = current.settings.publish
        options = SiteOptions(
            language=settings.language,
            licence=settings.licence or None,
            tz=current.settings.tz,
            evidence_dir=current.settings.evidence_dir,
            grace=current.settings.probe_timeout,
        )
        publication = publish(current.targets(), repository, out, options)
        log.log(
            logging.DEBUG if published else logging.INFO,
            "status page published in %s: %d targets in %.1fs",
            out,
            publication.targets,
            publication.seconds,
        )
        published.append(publication)
        del published[:-1]
        return publication

    return SiteRefresher(publish_once, min_gap=min_gap)
