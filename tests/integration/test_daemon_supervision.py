"""The daemon supervises the parts it is handed: one that dies stops it, said in one line.

A schedule whose worker raises (as a fleet node's procrastinate worker would when its
database connection breaks for good), and one whose worker returns on its own: either way
the daemon stops with exit code 1, a runtime failure (docs/contract.md#exit-codes), and
one ERROR line naming the part and what happened. Real SQLite; no probe runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from daemonrig import daemon_config, load
from helpers import migrated

from monitor.daemon.components import Components
from monitor.daemon.compose import build_daemon
from monitor.daemon.jobs import CadenceTrigger
from monitor.daemon.schedule import ProbeHost
from monitor.domain import Engine
from monitor.store import Repository, create_engine_for


class DyingSchedule:
    """A schedule whose worker ends before the stop: raising ``error``, or returning."""

    def __init__(self, error: Exception | None) -> None:
        self.error = error
        self.closed = False
        self.go = asyncio.Event()

    def rebuild(self, triggers: Mapping[str, CadenceTrigger]) -> None:
        pass

    async def start(self, host: ProbeHost) -> None:
        pass

    async def run(self) -> None:
        await self.go.wait()
        if self.error is not None:
            raise self.error

    def move(self, target_id: str, trigger: CadenceTrigger) -> None:
        pass

    def stop_taking_work(self) -> None:
        pass

    async def close(self) -> None:
        self.closed = True


class NoEngines:
    closed = False

    async def get(self, kind: Engine) -> Any:
        raise AssertionError("no probe runs here")

    async def aclose(self) -> None:
        NoEngines.closed = True


async def never(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("no probe runs here")


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            RuntimeError("the queue's connection is gone"),
            'schedule died, stopping the daemon: RuntimeError("the queue\'s connection is gone")',
        ),
        (None, "schedule ended unexpectedly, stopping the daemon"),
    ],
)
async def test_a_part_that_dies_stops_the_daemon_with_exit_code_1(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, error: Exception | None, line: str
) -> None:
    database = migrated(tmp_path / "db.sqlite")
    config = load(
        daemon_config(
            tmp_path / "c.yaml",
            targets=[{"id": "a", "platform": "rdv-service-public", "url": "http://h.example/"}],
            database=database,
            interval="10m",
        )
    )
    schedule = DyingSchedule(error)
    engines = NoEngines()
    daemon = build_daemon(
        config,
        Repository(create_engine_for(database)),
        node="test",
        reload_config=lambda: config,
        components=Components(engines=engines, observe=never, record=never, dispatcher=None),
        schedule=schedule,
    )
    with caplog.at_level(logging.INFO, logger="monitor"):
        running = asyncio.create_task(daemon.run())
        schedule.go.set()
        code = await asyncio.wait_for(running, timeout=30)
    assert code == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [line]
    assert schedule.closed and engines.closed, "the other parts were stopped as usual"
    assert "stopped" in [r.getMessage() for r in caplog.records]


async def test_a_stop_asked_for_is_not_a_death(tmp_path: Path) -> None:
    database = migrated(tmp_path / "db.sqlite")
    config = load(daemon_config(tmp_path / "c.yaml", targets=[], database=database, interval="10m"))
    schedule = DyingSchedule(None)  # returns once told to go, as at a stop
    daemon = build_daemon(
        config,
        Repository(create_engine_for(database)),
        node="test",
        reload_config=lambda: config,
        components=Components(engines=NoEngines(), observe=never, record=never, dispatcher=None),
        schedule=schedule,
    )
    running = asyncio.create_task(daemon.run())
    await asyncio.sleep(0)
    daemon.request_stop()
    schedule.go.set()
    assert await asyncio.wait_for(running, timeout=30) == 0
