"""The daemon on a fake clock: back-off, Retry-After pauses, reloads and one run per target.

Real SQLite, the real recorder and politeness gate; fake engines and a fake ``observe``
whose observations are stamped by the fake clock (:mod:`fakeclock`); a hand-driven
schedule (APScheduler keeps real time, so the schedule's step, :meth:`Daemon.run_slot`, is
called directly). Minutes of back-off pass in milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from daemonrig import daemon_config, load, outcomes_of, rdvsp_path
from fakeclock import FakeClock
from handrig import HandSchedule, NoEngines, until
from helpers import migrated

from monitor.attempt.record import record_attempt
from monitor.config import Target
from monitor.daemon.components import Components
from monitor.daemon.compose import build_daemon
from monitor.daemon.scheduler import Daemon
from monitor.domain import Detail, Finding, Observation, PageSnapshot, Reason, Status
from monitor.probes.base import RequestGate
from monitor.store import Repository, create_engine_for

HOST = "h.example"
INTERVAL = timedelta(minutes=10)


Answer = Callable[[Target, datetime], Observation]


class Site:
    """A fake ``observe``: each probe goes through the gate, then gets ``answer``'s page."""

    def __init__(self, clock: FakeClock, answer: Answer) -> None:
        self.clock = clock
        self.answer = answer
        self.probed: list[str] = []
        self.hold: asyncio.Event | None = None  #: set: probes wait for it before answering

    async def __call__(
        self, target: Target, engine: Any, *, timeout: float, gate: RequestGate
    ) -> Observation:
        await gate(target.url)
        self.probed.append(target.id)
        if self.hold is not None:
            await self.hold.wait()
        return self.answer(target, self.clock.now())


def timed_out(target: Target, now: datetime) -> Observation:
    return Observation(
        target=target.id,
        engine=target.engine,
        url=target.url,
        started_at=now,
        finished_at=now,
        failure=Finding(
            Status.ANOMALY,
            Reason.TIMEOUT,
            Detail("probe_timeout", {"seconds": 10.0, "held": None}),
        ),
    )


def too_many_requests(retry_after: str) -> Answer:
    def answer(target: Target, now: datetime) -> Observation:
        page = PageSnapshot(target.url, target.url, 429, "", retry_after=retry_after)
        return Observation(
            target=target.id,
            engine=target.engine,
            url=target.url,
            started_at=now,
            finished_at=now,
            pages=(page,),
            failure=Finding(
                Status.ANOMALY, Reason.OVERLOADED, Detail("overloaded", {"status": 429})
            ),
        )

    return answer


def targets(*keys: str) -> list[dict[str, Any]]:
    return [
        {"id": key, "platform": "rdv-service-public", "url": f"http://{HOST}{rdvsp_path(key)}"}
        for key in keys
    ]


class Rig:
    def __init__(self, tmp_path: Path, answer: Answer, keys: tuple[str, ...] = ("a", "b")):
        self.tmp_path = tmp_path
        self.database = migrated(tmp_path / "db.sqlite")
        self.config_path = self.write(keys)
        self.repository = Repository(create_engine_for(self.database))
        self.clock = FakeClock()
        self.site = Site(self.clock, answer)
        self.schedule = HandSchedule()

    def write(self, keys: tuple[str, ...], gap: str = "0s") -> Path:
        return daemon_config(
            self.tmp_path / "c.yaml",
            targets=targets(*keys),
            database=self.database,
            interval="10m",
            gap=gap,
        )

    def daemon(self, *, once: bool = False) -> Daemon:
        parts = Components(
            engines=NoEngines(), observe=self.site, record=record_attempt, dispatcher=None
        )
        return build_daemon(
            load(self.config_path),
            self.repository,
            node="test",
            reload_config=lambda: load(self.config_path),
            once=once,
            components=parts,
            schedule=self.schedule,
            clock=self.clock,
        )


async def started(rig: Rig) -> tuple[Daemon, asyncio.Task[int]]:
    daemon = rig.daemon()
    running = asyncio.create_task(daemon.run())
    await until(lambda: rig.schedule.host is not None)
    return daemon, running


async def stopped(daemon: Daemon, running: asyncio.Task[int]) -> int:
    daemon.request_stop()
    return await asyncio.wait_for(running, timeout=30)


async def test_anomalies_back_off_doubling_from_the_interval(tmp_path: Path) -> None:
    rig = Rig(tmp_path, timed_out)
    daemon, running = await started(rig)
    first = rig.clock.now()
    await daemon.run_slot("t/a", None)
    assert rig.schedule.moves == [("t/a", first + INTERVAL)]
    trigger = rig.schedule.rebuilds[-1]["t/a"]
    assert trigger.get_next_fire_time(None, first) >= first + INTERVAL
    await rig.clock.advance(INTERVAL.total_seconds())
    second = rig.clock.now()
    await daemon.run_slot("t/a", None)
    assert rig.schedule.moves[-1] == ("t/a", second + 2 * INTERVAL)
    assert rig.repository.next_probes()["t/a"] == second + 2 * INTERVAL
    assert rig.site.probed == ["t/a", "t/a"]
    assert await stopped(daemon, running) == 0
    assert [o.reason for o in outcomes_of(rig.repository, "t/a")] == [Reason.TIMEOUT] * 2


async def test_a_429_leaves_the_host_alone_for_its_retry_after(tmp_path: Path) -> None:
    rig = Rig(tmp_path, too_many_requests("120"))
    daemon, running = await started(rig)
    now = rig.clock.now()
    await daemon.run_slot("t/a", None)
    assert daemon.politeness.paused_for(HOST) == 120
    assert rig.schedule.moves == [("t/a", now + INTERVAL)]  # back-off beyond the pause
    # Another target of the host waits for the pause, without a request.
    await daemon.run_slot("t/b", None)
    assert rig.site.probed == ["t/a"]
    assert rig.schedule.moves[-1] == ("t/b", now + timedelta(seconds=120))
    await rig.clock.advance(119)
    await daemon.run_slot("t/b", None)
    assert rig.site.probed == ["t/a"]
    await rig.clock.advance(1)
    await daemon.run_slot("t/b", None)
    assert rig.site.probed == ["t/a", "t/b"]
    assert await stopped(daemon, running) == 0


async def test_a_probe_already_past_the_gate_waits_for_the_pause(tmp_path: Path) -> None:
    rig = Rig(tmp_path, timed_out)
    daemon, running = await started(rig)
    daemon.politeness.pause(HOST, 30)
    # The pause comes after the daemon's own check: the gate holds the probe back.
    probing = asyncio.create_task(daemon.runner.run(daemon.target("t/a"), rig.clock.now()))
    await until(lambda: rig.clock.sleepers > 0)
    assert rig.site.probed == []
    await rig.clock.advance(30)
    await asyncio.wait_for(probing, timeout=20)
    assert rig.site.probed == ["t/a"]
    assert await stopped(daemon, running) == 0


async def test_a_reload_rebuilds_the_jobs_and_the_gate_and_a_bad_one_keeps_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rig = Rig(tmp_path, timed_out)
    daemon, running = await started(rig)
    assert set(rig.schedule.rebuilds[-1]) == {"t/a", "t/b"}
    rig.write(("a", "b", "c"), gap="2s")
    daemon.request_reload()  # what SIGHUP calls
    await until(lambda: len(rig.schedule.rebuilds) == 2)
    assert set(rig.schedule.rebuilds[-1]) == {"t/a", "t/b", "t/c"}
    assert daemon.target("t/c") is not None
    assert daemon.politeness.per_host_min_gap == 2
    assert daemon.runner.config is daemon.config
    rig.config_path.write_text("version: 1\nsettings: [not, a, mapping]\n")
    with caplog.at_level(logging.ERROR, logger="monitor"):
        daemon.request_reload()
        await until(lambda: any("not reloaded" in r.getMessage() for r in caplog.records))
    assert len(rig.schedule.rebuilds) == 2
    assert daemon.target("t/c") is not None
    assert await stopped(daemon, running) == 0


async def test_a_slot_is_probed_once_however_often_it_is_started(tmp_path: Path) -> None:
    rig = Rig(tmp_path, timed_out)
    daemon, running = await started(rig)
    rig.site.hold = asyncio.Event()
    slot = rig.clock.now()
    first = asyncio.create_task(daemon.run_slot("t/a", slot))
    await until(lambda: rig.site.probed == ["t/a"])
    await daemon.run_slot("t/a", slot)  # a second start of the same slot: claimed already
    rig.site.hold.set()
    await asyncio.wait_for(first, timeout=20)
    assert rig.site.probed == ["t/a"]
    assert len(outcomes_of(rig.repository, "t/a")) == 1
    assert await stopped(daemon, running) == 0


async def test_once_probes_each_target_once_except_those_backing_off(tmp_path: Path) -> None:
    rig = Rig(tmp_path, timed_out, keys=("a", "b", "c"))
    later = rig.clock.now() + timedelta(minutes=5)
    rig.repository.schedule_next_probe("t/b", later)
    daemon = rig.daemon(once=True)
    assert await asyncio.wait_for(daemon.run(), timeout=30) == 0
    assert sorted(rig.site.probed) == ["t/a", "t/c"]
    assert rig.schedule.host is None  # a round needs no schedule

    await rig.clock.advance(5 * 60)
    rig.site.probed.clear()
    assert await asyncio.wait_for(rig.daemon(once=True).run(), timeout=30) == 0
    assert sorted(rig.site.probed) == ["t/b"]  # a and c: backing off after their timeout
