"""The end-to-end run of bench/release_windows.py: the real daemon, the imitation, mail.

One generated timeline (``--e2e-shape``, seed 1) is played, with time compressed, on the
imitation's legacy calendar (``python -m monitor.imitation``, its own process): before each
probe the bench sets the form's scenario over the admin API (``POST /_imitation/scenario``:
``slots`` with ``count`` = the timeline's free slots at that moment, or ``no_slot``).

The daemon is the real one, built by :func:`monitor.daemon.compose.build_daemon`: the http
engine walking the legacy flow and its calendar weeks, classification, evidence files, the
outcome row, its chain and its events in SQLite, the outbox, the notification loop,
Apprise, and an aiosmtpd server on 127.0.0.1 that stamps each message's arrival. Two parts
are handed in instead of the real ones, through the composition root's own parameters:

* the clock: a virtual one (``tests/fakeclock.py``) that jumps from one probe to the next,
  so a week passes in half a minute; what runs at each probe runs in real time;
* the schedule: :class:`DrivenSchedule`, which runs the target at the probe times the
  replay computed with the real schedule code (the cadence grid for ``even``, the learned
  plan recomputed each midnight from what the simulated monitor recorded for ``learned``),
  through :meth:`Daemon.run_slot`, the step APScheduler calls. The daemon's own
  ``focus: learned`` (:mod:`monitor.daemon.plans`) is not what places them: it learns from
  the start times of the outcomes that opened slots, which the probe stamps with the
  machine's clock, and a virtual clock cannot move that one. The replay computes the same
  plans (``focus.learned_plan``) from the same history, the probes that saw slots open.

The daemon starts 12 hours (virtual) before the measured days, so that the target's state
at their start is its own; ``alerts.remind_every`` is 0, since a reminder of slots still
open is a ``slots_opened`` too and no new alert.

Slot → email, per alert: (virtual time of the probe that saw the slots − when they appeared)
+ (real time the SMTP server accepted the message − real time the probe began). The first
part is the schedule's, the second the pipeline's (the probe itself, recording, dispatch,
Apprise, SMTP), measured, not scaled.
"""

from __future__ import annotations

import asyncio
import math
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml
from aiosmtpd.controller import Controller
from release_replay import Probe, percentile, replay
from release_timelines import Opening, Shape, Timeline, generate

if TYPE_CHECKING:
    from release_windows import Settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakeclock import FakeClock  # noqa: E402

from monitor.config import load_config  # noqa: E402
from monitor.daemon.components import Components  # noqa: E402
from monitor.daemon.compose import build_daemon  # noqa: E402
from monitor.daemon.jobs import CadenceTrigger  # noqa: E402
from monitor.daemon.schedule import ProbeHost  # noqa: E402
from monitor.domain import EventKind, Status  # noqa: E402
from monitor.store import Recorded, Repository, create_engine_for, upgrade  # noqa: E402

KEY = "2801"  #: the legacy form's id on the imitation
PREFECTURE, TARGET = "b", "e2e"
TARGET_ID = f"{PREFECTURE}/{TARGET}"  #: as the config qualifies it
MAIL_WAIT = 30.0
#: Probed before the measured days, not measured: the target's state is then the daemon's.
WARM_UP = timedelta(hours=12)


class Inbox:
    """An aiosmtpd handler that stamps each accepted message with ``time.time()``."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.changed:
            self.arrivals.append(time.time())
            self.changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.arrivals) >= count, timeout)


class DrivenSchedule:
    """A :class:`monitor.daemon.schedule.Schedule` whose runs the bench starts, one by one."""

    def __init__(self) -> None:
        self.host: ProbeHost | None = None
        self.started = asyncio.Event()
        self.moved: list[tuple[str, datetime | None]] = []
        self._stopped = asyncio.Event()

    def rebuild(self, triggers: Mapping[str, CadenceTrigger]) -> None:
        pass  # the probe times come from the replay

    async def start(self, host: ProbeHost) -> None:
        self.host = host
        self.started.set()

    async def run(self) -> None:
        await self._stopped.wait()

    def move(self, target_id: str, trigger: CadenceTrigger) -> None:
        self.moved.append((target_id, trigger.not_before))  # back-off: reported, not expected

    def stop_taking_work(self) -> None:
        self._stopped.set()

    async def close(self) -> None:
        pass


@dataclass
class Alert:
    schedule_delay: float  #: seconds of virtual time, from the slots' appearance to the probe
    pipeline: float  #: real seconds, from the probe's start to the SMTP server's acceptance
    short: bool

    @property
    def total(self) -> float:
        return self.schedule_delay + self.pipeline


@dataclass
class Run:
    name: str
    probes: int = 0
    requests: int = 0
    wrong: int = 0  #: outcomes that disagree with the timeline (available iff free slots)
    statuses: dict[str, int] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    events: int = 0
    mails: int = 0
    short_total: int = 0
    short_seen: int = 0
    releases: int = 0
    real_seconds: float = 0.0
    virtual_seconds: float = 0.0


def free_port() -> int:
    # aiosmtpd's Controller connects to its port to check it started, so port 0 will not do.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _opening_at(openings: Sequence[Opening], moment: datetime) -> Opening | None:
    for opening in openings:
        if opening.start <= moment < opening.end:
            return opening
    return None


def _write_config(directory: Path, base_url: str, smtp_port: int, interval: timedelta) -> Path:
    config = {
        "version": 1,
        "settings": {
            "database": f"sqlite:///{directory / 'monitor.db'}",
            "evidence_dir": str(directory / "evidence"),
            "user_agent": "prefecture-monitor/bench (+https://example.invalid)",
            "timezone": "Europe/Paris",
            "schedule": {"interval": f"{int(interval.total_seconds())}s", "jitter": "0s"},
            "politeness": {"per_host_concurrency": 1, "per_host_min_gap": "0s"},
            "probe_timeout": "20s",
            "connectivity_check": [],
            # A reminder of slots still open is a slots_opened too: not a new alert here.
            "alerts": {"remind_every": "0"},
        },
        "channels": [
            {
                "id": "mail",
                "url": f"mailto://127.0.0.1:{smtp_port}?mode=insecure"
                "&from=monitor@example.org&to=alerts@example.org",
                "events": ["slots_opened"],
            }
        ],
        "prefectures": [
            {
                "id": PREFECTURE,
                "name": "Préfecture du banc d'essai",
                "targets": [
                    {
                        "id": TARGET,
                        "name": "Titre de séjour",
                        "platform": "legacy-booking",
                        "engine": "http",
                        "url": f"{base_url}/booking/create/{KEY}",
                    }
                ],
            }
        ],
    }
    path = directory / "prefectures.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


async def _drive(
    run: Run,
    timeline: Timeline,
    probes: Sequence[Probe],
    *,
    base_url: str,
    inbox: Inbox,
    config_path: Path,
    short: timedelta,
    since: datetime,
) -> None:
    config = load_config(config_path, env={})
    url = config.settings.database
    upgrade(url)
    engine = create_engine_for(url)
    repository = Repository(engine)
    clock = FakeClock(start=probes[0].at - timedelta(seconds=1))
    schedule = DrivenSchedule()
    parts = Components.default(config, repository, "bench")
    recorded: list[Recorded] = []
    record = parts.record

    def keep(*args: Any, **kwargs: Any) -> Recorded:
        result = record(*args, **kwargs)
        recorded.append(result)
        return result

    parts.record = keep
    daemon = build_daemon(
        config,
        repository,
        node="bench",
        reload_config=lambda: config,
        components=parts,
        schedule=schedule,
        clock=clock,
    )
    openings = timeline.openings()
    running = asyncio.create_task(daemon.run())
    began = time.monotonic()
    try:
        await asyncio.wait_for(schedule.started.wait(), 30)
        host = schedule.host
        assert host is not None
        shown: int | None = None
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as admin:
            for probe in probes:
                await clock.advance((probe.at - clock.now()).total_seconds())
                if probe.free != shown:
                    body = {"key": KEY, "scenario": "slots", "params": {"count": probe.free}}
                    if probe.free == 0:
                        body = {"key": KEY, "scenario": "no_slot", "params": {}}
                    (await admin.post("/_imitation/scenario", json=body)).raise_for_status()
                    shown = probe.free
                started = time.time()
                await host.run_slot(TARGET_ID, probe.at)
                run.probes += 1
                outcome = recorded[-1].outcome
                run.statuses[str(outcome.status)] = run.statuses.get(str(outcome.status), 0) + 1
                run.wrong += (outcome.status is Status.AVAILABLE) != (probe.free > 0)
                if any(e.kind is EventKind.SLOTS_OPENED for e in recorded[-1].events):
                    run.events += 1
                    if await asyncio.to_thread(inbox.wait_for, run.events, MAIL_WAIT):
                        run.mails += 1
                        opening = _opening_at(openings, probe.at)
                        # An opening under way when the run starts is not timed from it.
                        if opening is not None and opening.start >= since:
                            run.alerts.append(
                                Alert(
                                    (probe.at - opening.start).total_seconds(),
                                    inbox.arrivals[run.events - 1] - started,
                                    opening.duration < short,
                                )
                            )
            log = (await admin.get("/_imitation/requests")).json()
        run.requests = sum(1 for entry in log if entry["path"].startswith("/booking/"))
    finally:
        daemon.request_stop()
        code = await asyncio.wait_for(running, timeout=60)
        engine.dispose()
    run.real_seconds = time.monotonic() - began
    run.virtual_seconds = (probes[-1].at - probes[0].at).total_seconds()  # warm-up included
    if code != 0:
        raise RuntimeError(f"the daemon stopped with exit code {code}")


def _imitation() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor.imitation", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    base_url = process.stdout.readline().strip()
    if not base_url.startswith("http://"):
        process.terminate()
        raise RuntimeError(f"the imitation did not start: {base_url!r}")
    return process, base_url


def _one(
    name: str,
    timeline: Timeline,
    probes: Sequence[Probe],
    *,
    since: datetime,
    interval: timedelta,
    short: timedelta,
) -> Run:
    """Run the daemon through ``probes``; what appeared from ``since`` on is measured (the
    probes before it are a warm-up, so that the target's state is the daemon's own)."""
    run = Run(name)
    window = list(probes)
    end = window[-1].at
    for opening in timeline.openings():
        if since <= opening.start <= end:
            if opening.duration < short:
                run.short_total += 1
                run.short_seen += any(opening.start <= p.at < opening.end for p in window)
            else:
                run.releases += 1
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    process, base_url = _imitation()
    try:
        with tempfile.TemporaryDirectory(prefix="release-e2e-") as directory:
            path = _write_config(Path(directory), base_url, port, interval)
            asyncio.run(
                _drive(
                    run,
                    timeline,
                    window,
                    base_url=base_url,
                    inbox=inbox,
                    config_path=path,
                    short=short,
                    since=since,
                )
            )
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        controller.stop()
    return run


def _seconds(values: Sequence[float], share: float, unit: float = 60.0, suffix: str = "min") -> str:
    value = percentile(values, share)
    return "-" if math.isnan(value) else f"{value / unit:.{1 if unit > 1 else 3}f} {suffix}"


def end_to_end(settings: Settings, *, shape: Shape, days: float) -> list[str]:
    """Both schedules on ``days`` of ``shape`` after the learning weeks; the table's lines."""
    from release_windows import TARGET, schedules  # the same schedules as the replay

    weeks = settings.learn_weeks + math.ceil(days / 7)
    timeline = generate(shape, weeks=weeks, seed=1, zone=settings.zone)
    since = timeline.start + timedelta(weeks=settings.learn_weeks)
    until = since + timedelta(days=days)
    runs: list[Run] = []
    for name, replan in schedules(settings, f"{TARGET}/{timeline.name}").items():
        if name == "even plan":
            continue
        walked = replay(timeline, replan)
        window = [p for p in walked.probes if since - WARM_UP <= p.at < until]
        runs.append(
            _one(
                name,
                timeline,
                window,
                since=since,
                interval=settings.interval,
                short=settings.short,
            )
        )
    lines = [
        f"end to end: {shape.name} (seed 1), {days:g} days after {settings.learn_weeks} weeks "
        "of learning; the real daemon (http engine) on the imitation's legacy calendar, "
        "mail to aiosmtpd on 127.0.0.1",
        "",
        "| schedule | probes | HTTP requests | outcomes (wrong) | slots_opened / mails "
        "| releases alerted | short-lived alerted / seen | slot → email: median | p95 "
        "| of which pipeline: median | p95 | virtual days in real s |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        releases = [a.total for a in run.alerts if not a.short]
        shorts = [a for a in run.alerts if a.short]
        pipeline = [a.pipeline for a in run.alerts]
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(run.statuses.items()))
        lines.append(
            f"| {run.name} | {run.probes} | {run.requests} | {statuses} ({run.wrong}) "
            f"| {run.events} / {run.mails} | {len(releases)}/{run.releases} "
            f"| {len(shorts)} / {run.short_seen} of {run.short_total} "
            f"| {_seconds(releases, 0.5)} | {_seconds(releases, 0.95)} "
            f"| {_seconds(pipeline, 0.5, 1.0, 's')} | {_seconds(pipeline, 0.95, 1.0, 's')} "
            f"| {run.virtual_seconds / 86400:.2f} in {run.real_seconds:.0f} s "
            f"(×{run.virtual_seconds / max(run.real_seconds, 1e-9):.0f}) |"
        )
    lines.append("")
    return lines
