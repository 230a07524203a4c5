"""Assisted sessions, end to end below the console: the daemon's desk in real Chromium on
the real imitation of RDV Préfecture, recording in a real SQLite file.

The test plays the person: it reads the captcha's code from the imitation's control side
(nothing in the product does) and types it through the desk, as the console would. The
daemon runs on a fake clock (:mod:`fakeclock`), so re-reads ten minutes apart pass in
milliseconds; its schedule is driven by hand (APScheduler keeps real time), so an ordinary
probe of the target is :meth:`Daemon.run_slot`. Nothing here measures time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from daemonrig import daemon_config, load, outcomes_of
from fakeclock import FakeClock
from handrig import HandSchedule, until
from helpers import migrated
from sqlalchemy import select

from monitor.assist import pace
from monitor.assist.desk import AssistDesk
from monitor.assist.views import AnswerResult, DeskRefusal, EndReason, SessionState
from monitor.attempt.probe import observe
from monitor.attempt.record import record_attempt
from monitor.config import Config
from monitor.daemon.components import Components
from monitor.daemon.compose import build_daemon
from monitor.daemon.scheduler import Daemon
from monitor.domain import Reason, Status
from monitor.imitation import ImitationSite
from monitor.probes.engines import Engines
from monitor.store import Repository, create_engine_for
from monitor.store.rows import assist_sessions, deliveries, events

KEY = "8801"
TARGET = "t/sejour"
OPERATOR = "Camille"
CONSOLE_URL = "http://127.0.0.1:8470/"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_REREADS = 2
REREAD = timedelta(minutes=10)


#: The browser works in real time: a page waited for gets this long under load.
BROWSER_SECONDS = 60.0


async def until_within(condition: Callable[[], bool]) -> None:
    await until(condition, BROWSER_SECONDS)


@dataclass
class Rig:
    site: ImitationSite
    daemon: Daemon
    desk: AssistDesk
    clock: FakeClock
    repository: Repository
    engines: Engines
    daemon_task: asyncio.Task[int]
    config_path: Path
    reloaded: int = 0  #: reloads the desk has taken in (config reread, sessions kept or ended)

    def code(self) -> str:
        """What the person reads in the image (the imitation's control side)."""
        code = self.site.captcha_code(KEY)
        assert code is not None, "no captcha issued yet"
        return code

    def rows(self, table: Any) -> list[Any]:
        with self.repository.engine.connect() as connection:
            return list(connection.execute(select(table).order_by(table.c.id)).all())

    def outbox(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(event kind, channel, payload) of every delivery written."""
        sent = self.rows(deliveries)  # first: an event is written with its deliveries
        kinds = {row.id: row for row in self.rows(events)}
        return [
            (kinds[row.event_id].kind, row.channel_id, _payload(kinds[row.event_id].payload))
            for row in sent
        ]

    async def reread(self) -> None:
        """Move the clock to the next read and wait (real time) until it is recorded."""

        def read_done() -> bool:
            (view,) = self.desk.sessions()
            if view.state is SessionState.ENDED:
                return True
            # Recorded and the next one planned: the read is over.
            return view.next_read is not None and view.next_read > self.clock.now()

        await self.advance_until(REREAD, read_done)

    async def advance_until(self, first: timedelta, condition: Callable[[], bool]) -> None:
        """Move the clock on by ``first``, then a minute at a time while ``condition`` waits
        for the desk's browser work (real time): the desk may have planned its sleep just
        before the clock moved."""
        await self.clock.advance(first.total_seconds())
        async with asyncio.timeout(60):
            while not condition():
                for _ in range(10):
                    await asyncio.sleep(0.05)
                    if condition():
                        return
                await self.clock.advance(60)


def _payload(value: Any) -> dict[str, Any]:
    loaded = json.loads(value) if isinstance(value, str) else value
    assert isinstance(loaded, dict)
    return loaded


@asynccontextmanager
async def daemon_rig(tmp_path: Path, chromium_path: str) -> AsyncIterator[Rig]:
    with ImitationSite() as site:
        site.set_scenario(KEY, "captcha_wall")
        database = migrated(tmp_path / "monitor.db")
        config_path = daemon_config(
            tmp_path / "prefectures.yaml",
            targets=[
                {
                    "id": "sejour",
                    "platform": "rdv-prefecture",
                    "url": site.url(f"/rdvpref/reservation/demarche/{KEY}/"),
                    "assist": True,
                    "interval": "1h",
                }
            ],
            database=database,
            probe_timeout="30s",
            channels=[
                {
                    "id": "volunteers",
                    "url": "json://127.0.0.1:9/",
                    "events": ["slots_opened", "assist_needed"],
                }
            ],
        )
        text = config_path.read_text()
        config_path.write_text(
            text.replace(
                "settings:\n",
                "settings:\n"
                f"  browser: {{executable_path: {json.dumps(chromium_path)}}}\n"
                '  console: {token: "not-a-real-token"}\n'
                f"  assist: {{reread: 10m, max_rereads: {MAX_REREADS}, ask_every: 2h}}\n",
                1,
            )
        )
        config = load(config_path)
        repository = Repository(create_engine_for(database))
        clock = FakeClock()
        engines = Engines(config.settings)
        components = Components(
            engines=engines, observe=observe, record=record_attempt, dispatcher=None
        )
        daemon = build_daemon(
            config,
            repository,
            node="node-a",
            reload_config=lambda: load(config_path),
            components=components,
            schedule=HandSchedule(),
            clock=clock,
        )
        assert daemon.desk is not None
        running = asyncio.create_task(daemon.run())
        rig = Rig(site, daemon, daemon.desk, clock, repository, engines, running, config_path)
        taken_in = daemon.desk.reconfigure

        async def counted(config: Config) -> None:
            await taken_in(config)
            rig.reloaded += 1

        daemon.desk.reconfigure = counted  # type: ignore[method-assign]
        try:
            yield rig
        finally:
            daemon.request_stop()
            assert await asyncio.wait_for(running, timeout=60) == 0
            repository.engine.dispose()


async def act(
    work: Callable[[], Awaitable[Any]],
) -> Any:
    async with asyncio.timeout(90):
        return await work()


def test_a_session_from_the_captcha_to_reads_used(tmp_path: Path, chromium_path: str) -> None:
    async def scenario() -> None:
        async with daemon_rig(tmp_path, chromium_path) as rig:
            # At start, nobody holds the target: a person is asked, with the console's address.
            await until_within(lambda: any(kind == "assist_needed" for kind, _, _ in rig.outbox()))
            asked = [payload for kind, _, payload in rig.outbox() if kind == "assist_needed"]
            assert asked == [{"console_url": CONSOLE_URL}]
            (view,) = rig.desk.sessions()
            assert (view.state, view.target_id, view.node) == (
                SessionState.WAITING,
                TARGET,
                "node-a",
            )

            view = await act(lambda: rig.desk.open(TARGET, OPERATOR))
            assert view.state is SessionState.CHALLENGE and view.operator == OPERATOR
            first = rig.desk.challenge(TARGET)
            assert first is not None and first.number == 1 and not first.rejected
            assert first.image.startswith(PNG_MAGIC) and first.image_type == "image/png"
            assert first.screenshot.startswith(PNG_MAGIC)
            assert first.audio is not None and first.audio.startswith(b"RIFF")
            assert first.audio_type == "audio/wav"
            with pytest.raises(DeskRefusal):
                await rig.desk.open(TARGET, "Someone else")  # one session per target

            # While the session is open, the ordinary schedule leaves the target alone.
            await rig.daemon.run_slot(TARGET, None)
            assert outcomes_of(rig.repository, TARGET) == []

            wrong = "WRONG" if rig.code() != "WRONG" else "OTHER"
            result = await act(lambda: rig.desk.answer(TARGET, wrong, OPERATOR))
            assert result is AnswerResult.REJECTED
            second = rig.desk.challenge(TARGET)
            assert second is not None and second.number == 2 and second.rejected
            assert second.image.startswith(PNG_MAGIC) and second.image != first.image
            assert outcomes_of(rig.repository, TARGET) == []  # a rejected code is no read

            code = rig.code()
            result = await act(lambda: rig.desk.answer(TARGET, code, OPERATOR))
            assert result is AnswerResult.ACCEPTED
            (view,) = rig.desk.sessions()
            assert view.state is SessionState.LIVE
            assert (view.reads_done, view.reads_left) == (1, MAX_REREADS)
            assert view.next_read == rig.clock.now() + REREAD
            (read,) = outcomes_of(rig.repository, TARGET)
            assert (read.status, read.reason) == (Status.UNAVAILABLE, Reason.NO_SLOT)
            assert read.assisted_by == OPERATOR and read.node == "node-a"
            assert read.evidence and read.chain
            assert rig.desk.challenge(TARGET) is None

            rig.site.set_scenario(KEY, "captcha_wall", slot_count=3)
            await rig.reread()
            reads = outcomes_of(rig.repository, TARGET)
            assert [(o.status, o.reason) for o in reads] == [
                (Status.UNAVAILABLE, Reason.NO_SLOT),
                (Status.AVAILABLE, Reason.SLOTS),
            ]
            assert reads[-1].slot_count == 3 and reads[-1].assisted_by == OPERATOR
            assert ("slots_opened", "volunteers") in [(k, c) for k, c, _ in rig.outbox()]
            assert rig.desk.sessions()[0].reads_left == MAX_REREADS - 1

            await rig.reread()
            (view,) = rig.desk.sessions()
            assert view.state is SessionState.ENDED and view.end_reason is EndReason.READS_USED
            assert view.reads_done == 1 + MAX_REREADS and view.reads_left == 0
            assert len(outcomes_of(rig.repository, TARGET)) == 1 + MAX_REREADS
            (row,) = rig.rows(assist_sessions)
            assert (row.target, row.node, row.operator) == (TARGET, "node-a", OPERATOR)
            assert (row.end_reason, row.reads) == ("reads_used", 1 + MAX_REREADS)
            await until_within(lambda: [k for k, _, _ in rig.outbox()].count("assist_needed") == 2)
            last = [p for k, _, p in rig.outbox() if k == "assist_needed"][-1]
            assert last["console_url"] == CONSOLE_URL and last["end_reason"] == "reads_used"

            # Between sessions the ordinary probes go on and record the barrier.
            await rig.daemon.run_slot(TARGET, None)
            barrier = outcomes_of(rig.repository, TARGET)[-1]
            assert (barrier.status, barrier.reason) == (Status.ANOMALY, Reason.CAPTCHA)
            assert barrier.assisted_by is None

    asyncio.run(scenario())


@pytest.mark.parametrize("lost_to", ["cgu", "root"])
def test_sent_back_to_the_captcha_ends_the_session_and_is_no_anomaly(
    tmp_path: Path, chromium_path: str, lost_to: str
) -> None:
    async def scenario() -> None:
        async with daemon_rig(tmp_path, chromium_path) as rig:
            await act(lambda: rig.desk.open(TARGET, OPERATOR))
            code = rig.code()
            assert await act(lambda: rig.desk.answer(TARGET, code, OPERATOR)) is (
                AnswerResult.ACCEPTED
            )
            # The site lets the session read /creneau/ once (the read after the captcha),
            # then sends it back to /cgu/ or to the root.
            rig.site.set_scenario(KEY, "captcha_wall", session_reads=1, lost_to=lost_to)
            await rig.reread()
            (view,) = rig.desk.sessions()
            assert view.state is SessionState.ENDED and view.end_reason is EndReason.SENT_BACK
            reads = outcomes_of(rig.repository, TARGET)
            assert [(o.status, o.reason) for o in reads] == [(Status.UNAVAILABLE, Reason.NO_SLOT)]
            (row,) = rig.rows(assist_sessions)
            assert (row.end_reason, row.reads) == ("sent_back", 1)
            await until_within(lambda: [k for k, _, _ in rig.outbox()].count("assist_needed") == 2)

            # A new session can be opened at once, and the daemon's stop ends it "stopped".
            view = await act(lambda: rig.desk.open(TARGET, "Dominique"))
            assert view.state is SessionState.CHALLENGE

        rows = _rows_after(tmp_path)
        assert [(r.operator, r.end_reason) for r in rows] == [
            (OPERATOR, "sent_back"),
            ("Dominique", "stopped"),
        ]

    asyncio.run(scenario())


def _rows_after(tmp_path: Path) -> list[Any]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(select(assist_sessions).order_by(assist_sessions.c.id)).all()
            )
    finally:
        engine.dispose()


def test_an_unanswered_captcha_is_abandoned_and_a_reload_keeps_or_stops_a_session(
    tmp_path: Path, chromium_path: str
) -> None:
    async def scenario() -> None:
        async with daemon_rig(tmp_path, chromium_path) as rig:
            await act(lambda: rig.desk.open(TARGET, OPERATOR))
            browser = rig.engines.browser  # launched by the opening
            assert browser is not None and browser.contexts_open == 1
            await rig.advance_until(
                pace.ABANDON_AFTER, lambda: rig.desk.sessions()[0].state is SessionState.ENDED
            )
            (view,) = rig.desk.sessions()
            assert view.end_reason is EndReason.ABANDONED and view.reads_done == 0
            assert rig.desk.challenge(TARGET) is None
            assert browser.contexts_open == 0  # its context is closed
            assert outcomes_of(rig.repository, TARGET) == []
            with pytest.raises(DeskRefusal):
                await rig.desk.answer(TARGET, rig.code(), OPERATOR)  # nothing waits for it

            await act(lambda: rig.desk.open(TARGET, "Dominique"))
            # A reload that leaves the target as it was keeps the person's session.
            reloads = rig.reloaded
            rig.daemon.request_reload()
            await until_within(lambda: rig.reloaded > reloads)
            assert rig.desk.sessions()[0].state is SessionState.CHALLENGE
            assert browser.contexts_open == 1
            # One that moves its address ends it: the captcha was for the old one.
            rig.config_path.write_text(
                rig.config_path.read_text().replace(f"/demarche/{KEY}/", f"/demarche/{KEY}0/")
            )
            rig.daemon.request_reload()
            await until_within(lambda: rig.desk.sessions()[0].state is SessionState.ENDED)
            assert rig.desk.sessions()[0].end_reason is EndReason.STOPPED
            assert browser.contexts_open == 0
            rows = rig.rows(assist_sessions)
            assert [(r.operator, r.end_reason) for r in rows] == [
                (OPERATOR, "abandoned"),
                ("Dominique", "stopped"),
            ]

    asyncio.run(scenario())


def test_a_failing_browser_ends_the_session_and_the_daemon_goes_on(
    tmp_path: Path, chromium_path: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with daemon_rig(tmp_path, chromium_path) as rig:
            await act(lambda: rig.desk.open(TARGET, OPERATOR))
            code = rig.code()
            assert await act(lambda: rig.desk.answer(TARGET, code, OPERATOR)) is (
                AnswerResult.ACCEPTED
            )
            browser = rig.engines.browser
            assert browser is not None
            await browser.aclose()  # Chromium gone under the live session
            await rig.reread()
            (view,) = rig.desk.sessions()
            assert view.state is SessionState.ENDED
            assert view.end_reason is EndReason.BROWSER_FAILED
            reads = outcomes_of(rig.repository, TARGET)
            assert [(o.status, o.reason) for o in reads] == [(Status.UNAVAILABLE, Reason.NO_SLOT)]
            assert not rig.daemon_task.done()  # the daemon goes on

    asyncio.run(scenario())
    assert "assisted session ended, the browser failed" in caplog.text


def test_a_session_live_on_another_node_holds_the_target(
    tmp_path: Path, chromium_path: str
) -> None:
    async def scenario() -> None:
        async with daemon_rig(tmp_path, chromium_path) as rig:
            rig.repository.open_assist_session(TARGET, "node-b", "Zoé", rig.clock.now())
            # Its reads are the target's probes: this node's schedule leaves it alone...
            await rig.daemon.run_slot(TARGET, None)
            assert outcomes_of(rig.repository, TARGET) == []
            # ...and no second session opens here; the console shows where it is.
            with pytest.raises(DeskRefusal, match="node-b"):
                await rig.desk.open(TARGET, OPERATOR)
            (view,) = rig.desk.sessions()
            assert view.node == "node-b" and view.state is SessionState.WAITING
            assert rig.engines.browser is None  # no context was opened for it
            for code, who in (("", OPERATOR), ("A\x00B", OPERATOR), ("ABC", " ")):
                with pytest.raises(DeskRefusal):
                    await rig.desk.answer(TARGET, code, who)

    asyncio.run(scenario())
