"""A daemon whose schedule is driven by hand, for tests on a fake clock.

APScheduler keeps real time, so tests that move a :class:`fakeclock.FakeClock` hand the
daemon a :class:`HandSchedule`, which starts no run by itself, and call
:meth:`monitor.daemon.scheduler.Daemon.run_slot` (or read the triggers it was given).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from monitor.daemon.jobs import CadenceTrigger
from monitor.daemon.schedule import ProbeHost
from monitor.domain import Engine


class HandSchedule:
    """A :class:`monitor.daemon.schedule.Schedule` that starts no run by itself; it keeps
    the host it was started with, every set of triggers and every move."""

    def __init__(self) -> None:
        self.host: ProbeHost | None = None
        self.rebuilds: list[dict[str, CadenceTrigger]] = []
        self.moves: list[tuple[str, datetime | None]] = []
        self.stopped = asyncio.Event()

    def rebuild(self, triggers: Mapping[str, CadenceTrigger]) -> None:
        self.rebuilds.append(dict(triggers))

    async def start(self, host: ProbeHost) -> None:
        self.host = host

    async def run(self) -> None:
        await self.stopped.wait()

    def move(self, target_id: str, trigger: CadenceTrigger) -> None:
        self.moves.append((target_id, trigger.not_before))

    def stop_taking_work(self) -> None:
        self.stopped.set()

    async def close(self) -> None:
        pass


class NoEngines:
    """Engines for a fake ``observe`` that needs none."""

    async def get(self, kind: Engine) -> Any:
        return object()

    async def aclose(self) -> None:
        pass


async def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wait in real time for work done in threads or a browser to show; fails after
    ``seconds``. Not a timing: the condition is what is waited for."""
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)
