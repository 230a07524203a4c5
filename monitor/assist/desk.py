"""The daemon's assisted sessions: one browser context per ``assist: true`` target, the
captcha shown to a person, their code typed once, the slot page re-read at a person's pace
(docs/contract.md#assisted-sessions, docs/architecture.md#assisted-sessions).

    open(target, operator)    the démarche opened as the platform's flow does, up to /cgu/;
                              its captcha captured as the page has it → CHALLENGE
    answer(target, code, …)   the code typed into #captchaFormulaireExtInput and submitted,
                              once: /cgu/?error=invalidCaptcha → REJECTED, a new image;
                              /creneau/ → its page recorded (assisted_by) → LIVE
    every settings.assist.reread, at most max_rereads times: /creneau/ reloaded in the same
                              context, through the politeness gate, and recorded
    sent back to /cgu/ or the root, reads used up, captcha unanswered, browser failed,
    daemon stopped            → the session ends with its EndReason; assist_needed is sent

The desk never answers, retries or guesses a code, never sends one anywhere but the page it
was shown for, and never selects a slot. Each read holds a host slot of the daemon's
politeness gate, as a probe does, and is bounded by ``probe_timeout`` (time held at the gate
not counted). A failing browser ends the session (``browser_failed``, one log line); no
exception leaves the desk's loop. Time is the clock handed in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from monitor.alerts.policy import should_ask
from monitor.assist import pace
from monitor.assist.capture import (
    ANSWER_FIELD,
    SUBMIT_BUTTON,
    CaptchaParts,
    captcha_parts,
    decode_data_url,
)
from monitor.assist.pace import Place
from monitor.assist.views import (
    AnswerResult,
    Challenge,
    Desk,
    DeskRefusal,
    EndReason,
    SessionState,
    SessionView,
)
from monitor.attempt.classify import Recognised, recognise_all
from monitor.attempt.probe import failure_finding
from monitor.attempt.record import Record
from monitor.config import Config, Settings, Target
from monitor.domain import Engine, Finding, Observation, PageSnapshot, Status
from monitor.errors import DatabaseError, MonitorFault, ProbeError
from monitor.platforms import rdv_prefecture
from monitor.platforms.common import FlowOptions, settle
from monitor.platforms.worker import off_loop
from monitor.probes.base import ProbeEngine, RequestGate
from monitor.probes.browser import BrowserSession
from monitor.store.assist import SessionTaken
from monitor.store.ports import AssistRecords, Recorder

__all__ = ["AssistDesk", "DeskParts", "DeskStore"]

log = logging.getLogger(__name__)

#: The longest code a person may type (CaptchEtat's are 4 to 8 characters).
MAX_CODE_LENGTH = 32
MAX_OPERATOR_LENGTH = 80
#: The desk's loop wakes at least this often (seconds) to look at other nodes' sessions.
LOOK_AROUND = 60.0
#: Seconds an opening waits for the desk to have started (the daemon's first steps).
STARTING_WAIT = 30.0
#: Seconds to close a context at the stop.
CLOSE_WAIT = 5.0


# -- what the desk is handed -----------------------------------------------------------------


class DeskStore(AssistRecords, Recorder, Protocol):
    """The repository as the desk uses it: assisted sessions' rows and the record path."""


class Ticket(Protocol):
    @property
    def gate(self) -> RequestGate: ...


class Gatekeeper(Protocol):
    """The daemon's politeness gate (monitor.daemon.politeness.Politeness)."""

    def probe(self, host: str) -> AbstractAsyncContextManager[Ticket, bool | None]: ...

    async def wait_turn(self, host: str) -> float: ...


class Clock(Protocol):
    """monitor.daemon.clock.Clock."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class Browsers(Protocol):
    async def get(self, kind: Engine) -> ProbeEngine: ...


@dataclass(frozen=True)
class DeskParts:
    """Everything the desk works with, handed in by monitor.daemon.compose."""

    config: Callable[[], Config]  #: the config in force (updated on reload)
    store: DeskStore
    engines: Browsers
    politeness: Gatekeeper
    record: Record
    clock: Clock
    node: str
    #: called after a record or an ask wrote deliveries (the notification loop's poke)
    on_written: Callable[[], None] = lambda: None
    #: the console's address as served (its real port when ``listen`` asks for port 0);
    #: None: ``settings.console.url``
    console_url: Callable[[], str] | None = None


# -- one target's session ----------------------------------------------------------------------


class _Gate:
    """The gate of a long-lived context: the current read's ticket, else a turn at the host."""

    def __init__(self, politeness: Gatekeeper, host: str) -> None:
        self._politeness = politeness
        self._host = host
        self.current: RequestGate | None = None

    async def __call__(self, url: str) -> None:
        if self.current is not None:
            await self.current(url)
        else:  # the page's own requests between reads: still one at a time, gaps kept
            await self._politeness.wait_turn(self._host)


@dataclass(eq=False)
class _Session:
    target: Target
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    state: SessionState = SessionState.WAITING
    session_id: int | None = None
    operator: str | None = None
    opened_at: datetime | None = None
    reads: int = 0  #: pages of /creneau/ recorded in this session (the first one included)
    slot_url: str | None = None  #: the /creneau/ address the site opened
    next_read: datetime | None = None
    last_outcome: str | None = None
    last_outcome_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: EndReason | None = None
    challenge: Challenge | None = None
    asked_at: datetime | None = None
    browser: BrowserSession | None = None
    stack: AsyncExitStack | None = None
    gate: _Gate | None = None
    reading: asyncio.Task[None] | None = None
    ending: bool = False  #: its end is being recorded

    @property
    def rereads(self) -> int:
        return max(0, self.reads - 1)

    @property
    def busy(self) -> bool:
        return self.state in (
            SessionState.OPENING,
            SessionState.CHALLENGE,
            SessionState.SUBMITTING,
            SessionState.LIVE,
        )


class _Ended(Exception):
    """The session ended during an act (already recorded); the act says so."""


# -- the desk -------------------------------------------------------------------------------------


class AssistDesk:
    """The :class:`monitor.assist.views.Desk` of one daemon node."""

    def __init__(self, parts: DeskParts) -> None:
        self._parts = parts
        self._sessions: dict[str, _Session] = {}
        self._elsewhere: dict[str, str] = {}  #: live sessions of other nodes: target -> node
        self._wake = asyncio.Event()
        #: Set once the last run's leftovers are ended: no session opens before that.
        self._ready = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._closing = False
        self._adopt(parts.config())

    # -- the Desk interface --------------------------------------------------------------------

    def sessions(self) -> Sequence[SessionView]:
        ordered = sorted(self._sessions.values(), key=lambda s: (s.target.prefecture, s.target.id))
        return [self._view(session) for session in ordered]

    def challenge(self, target_id: str) -> Challenge | None:
        session = self._sessions.get(target_id)
        if session is None or session.state is not SessionState.CHALLENGE:
            return None
        return session.challenge

    async def open(self, target_id: str, operator: str) -> SessionView:
        session = self._known(target_id)
        who = _operator(operator)
        if self._closing:
            raise DeskRefusal("The monitor is stopping; open the session again once it is back.")
        try:
            await asyncio.wait_for(self._ready.wait(), STARTING_WAIT)
        except TimeoutError:
            raise DeskRefusal("The monitor is still starting; try again in a moment.") from None
        if session.busy or session.lock.locked():
            raise DeskRefusal(f"A session of {session.target.name} is already {session.state}.")
        await self._look_around()
        node = self._elsewhere.get(target_id)
        if node is not None:
            raise DeskRefusal(f"A session of {session.target.name} is live on node {node}.")
        async with session.lock:
            now = self._now()
            try:
                session_id = await self._db(
                    self._parts.store.open_assist_session, target_id, self._parts.node, who, now
                )
            except SessionTaken as taken:
                raise DeskRefusal(str(taken)) from None
            except DatabaseError as error:
                raise DeskRefusal(f"The database is unavailable: {error}") from None
            _begin(session, session_id, who, now)
            log.info("%s: assisted session opened by %s", target_id, who)
            try:
                await self._open_page(session)
            except _Ended:
                pass
            except Exception as error:
                log.error("%s: opening failed: %s", target_id, error, exc_info=True)
                await self._end(session, EndReason.BROWSER_FAILED)
                raise DeskRefusal("The monitor's browser failed; see the daemon's log.") from error
        self._wake.set()
        return self._view(session)

    async def answer(self, target_id: str, code: str, operator: str) -> AnswerResult:
        session = self._known(target_id)
        typed = _code(code)
        who = _operator(operator)
        if session.state is not SessionState.CHALLENGE or session.lock.locked():
            raise DeskRefusal(f"No captcha of {session.target.name} is waiting for a code.")
        async with session.lock:
            if session.state is not SessionState.CHALLENGE:
                raise DeskRefusal(f"No captcha of {session.target.name} is waiting for a code.")
            session.state = SessionState.SUBMITTING
            log.info("%s: %s answered captcha %s", target_id, who, _number(session))
            try:
                result = await self._submit(session, typed)
            except _Ended:
                result = AnswerResult.OTHER
            except Exception as error:
                log.error("%s: answering failed: %s", target_id, error, exc_info=True)
                await self._end(session, EndReason.BROWSER_FAILED)
                raise DeskRefusal("The monitor's browser failed; see the daemon's log.") from error
        self._wake.set()
        return result

    # -- the daemon's side ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the desk's loop: assist_needed for targets without a live session, then
        re-reads, abandoned captchas and repeated asks on schedule."""
        if self._loop is not None or not self._sessions:
            return
        try:
            # Sessions this node left live when it was killed: their contexts are gone.
            left = await self._db(
                self._parts.store.end_node_assist_sessions,
                self._parts.node,
                str(EndReason.STOPPED),
                self._now(),
            )
            for target_id in left:
                log.info(
                    "%s: assisted session left open by the last run ended (stopped)", target_id
                )
            for session in self._sessions.values():
                session.asked_at = await self._db(
                    self._parts.store.last_asked_for_assist, session.target.id
                )
        except DatabaseError as error:
            log.warning("assisted sessions: the last run's records not read: %s", error)
        self._ready.set()
        self._loop = asyncio.create_task(self._run(), name="assist-desk")

    async def skips(self, target_id: str) -> bool:
        """Whether the ordinary schedule leaves ``target_id`` alone: a session of it is
        open here or live on another node (its reads are then the target's probes)."""
        session = self._sessions.get(target_id)
        if session is None:
            return False
        if session.busy:
            return True
        try:
            live = await asyncio.to_thread(self._parts.store.live_assist_sessions)
        except DatabaseError:
            return False  # the probe's own claim then meets the same database
        return target_id in live

    async def reconfigure(self, config: Config) -> None:
        """A reloaded config: a session whose target left the config, is no longer assisted
        or now has another address ends ``stopped``; the others go on (a person answered a
        captcha for them), with their target as the config now writes it."""
        assisted = {target.id: target for target in config.targets() if target.assist}
        for session in list(self._sessions.values()):
            now = assisted.get(session.target.id)
            if now is None or now.url != session.target.url:
                await self._end_session(session, EndReason.STOPPED)
        self._adopt(config)
        self._wake.set()
        if self._loop is None:
            await self.start()

    async def aclose(self) -> None:
        """The daemon stops: sessions end ``stopped``, contexts are closed, the loop ends."""
        self._closing = True
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        await self._end_all(EndReason.STOPPED)

    # -- the loop ------------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._closing:
            try:
                wake_at = await self._turn()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the desk must never take the daemon down
                log.error("assisted sessions: %s", error, exc_info=True)
                wake_at = self._now() + timedelta(seconds=LOOK_AROUND)
            wait = max(0.0, (wake_at - self._now()).total_seconds())
            waking = asyncio.ensure_future(self._wake.wait())
            sleeping = asyncio.ensure_future(self._parts.clock.sleep(wait))
            try:
                await asyncio.wait({waking, sleeping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waking.cancel()
                sleeping.cancel()
            self._wake.clear()

    async def _turn(self) -> datetime:
        """One look at every session; returns when the next thing is due."""
        await self._look_around()
        settings = self._parts.config().settings
        now = self._now()
        dues: list[datetime] = []
        for session in list(self._sessions.values()):
            if session.state is SessionState.LIVE and session.next_read is not None:
                if session.next_read <= now and session.reading is None:
                    session.reading = asyncio.create_task(
                        self._reread(session), name=f"assist-read {session.target.id}"
                    )
                elif session.next_read > now:
                    dues.append(session.next_read)
            elif session.state is SessionState.CHALLENGE and session.challenge is not None:
                shown = session.challenge.shown_at
                if pace.abandoned(shown, now) and not session.lock.locked():
                    async with session.lock:
                        if session.state is SessionState.CHALLENGE:
                            await self._end(session, EndReason.ABANDONED)
                    continue
                dues.append(shown + pace.ABANDON_AFTER)
            if not session.busy and session.target.id not in self._elsewhere:
                every = settings.assist.ask_every
                if should_ask(session.asked_at, now, every):
                    await self._ask(session, settings)
                if session.asked_at is not None:
                    dues.append(session.asked_at + every)
        return pace.next_wake(now, dues, timedelta(seconds=LOOK_AROUND))

    async def _look_around(self) -> None:
        try:
            live = await asyncio.to_thread(self._parts.store.live_assist_sessions)
        except DatabaseError as error:
            log.warning("assisted sessions: other nodes' sessions not read: %s", error)
            return
        self._elsewhere = {
            target: node
            for target, node in live.items()
            if node != self._parts.node and target in self._sessions
        }

    async def _ask(self, session: _Session, settings: Settings) -> None:
        """assist_needed for ``session``'s target, with the console's address."""
        console = settings.console
        if console is None:  # the config refuses assist without a console; a reload race
            return
        now = self._now()
        session.asked_at = now  # before the write: the loop must not ask a second time
        address = console.url if self._parts.console_url is None else self._parts.console_url()
        try:
            asked = await self._db(
                self._parts.store.ask_for_assist,
                session.target.id,
                console_url=address,
                channels=self._parts.config().channels,
                now=now,
            )
        except DatabaseError as error:
            log.warning("%s: assist_needed not sent: %s", session.target.id, error)
            return
        if asked:
            log.info("%s: assist_needed sent (%s)", session.target.id, address)
            self._parts.on_written()

    # -- opening and answering -------------------------------------------------------------

    async def _open_page(self, session: _Session) -> None:
        """A new context on the démarche, walked as the platform's flow does, to /cgu/."""
        target = session.target
        parts = self._parts
        try:
            engine = await parts.engines.get(Engine.BROWSER)
            gate = _Gate(parts.politeness, target.host)
            stack = AsyncExitStack()
            browser = await stack.enter_async_context(engine.session(gate=gate))
        except (ProbeError, OSError) as error:
            await self._fail(session, error)
            raise _Ended from error
        if not isinstance(browser, BrowserSession):  # pragma: no cover - engines' contract
            await stack.aclose()
            await self._fail(session, TypeError("the browser engine gave no browser session"))
            raise _Ended
        session.stack, session.browser, session.gate = stack, browser, gate

        async def walk(browser: BrowserSession, options: FlowOptions) -> PageSnapshot:
            (page,) = await rdv_prefecture.flow(browser, target, options)
            return page

        await self._at_captcha(session, walk, rejected=False)

    async def _submit(self, session: _Session, code: str) -> AnswerResult:
        """Type ``code`` and press the form's button, once; what the site answered."""

        async def press(browser: BrowserSession, options: FlowOptions) -> PageSnapshot:
            await browser.fill(ANSWER_FIELD, code)
            after = await browser.click(SUBMIT_BUTTON)
            if pace.place_of(after.final_url) is Place.CAPTCHA:
                await settle(browser, rdv_prefecture.CGU_RENDERED, options)
            return await browser.final_snapshot()

        page, started = await self._act(session, press)
        where = pace.place_of(page.final_url)
        if where is Place.CAPTCHA:
            parts = await off_loop(lambda: captcha_parts(page.html, page.final_url))
            if parts.has_field:
                rejected = pace.is_rejected(page.final_url)
                await self._show(session, page, parts, rejected=rejected)
                return AnswerResult.REJECTED if rejected else AnswerResult.OTHER
        if where is Place.SLOTS:
            session.slot_url = page.final_url
            await self._judge(session, page, started)
            return AnswerResult.ACCEPTED
        if where is not Place.ROOT:
            await self._judge(session, page, started, last=True)
        await self._end(session, EndReason.SENT_BACK)
        return AnswerResult.OTHER

    async def _at_captcha(
        self,
        session: _Session,
        step: Callable[[BrowserSession, FlowOptions], Awaitable[PageSnapshot]],
        *,
        rejected: bool,
    ) -> None:
        page, started = await self._act(session, step)
        parts = await off_loop(lambda: captcha_parts(page.html, page.final_url))
        if parts.has_field and parts.image is not None:
            await self._show(session, page, parts, rejected=rejected)
            return
        # No captcha to show (a gate, maintenance, a block): what the site said is a read.
        await self._judge(session, page, started, last=True)
        await self._end(session, EndReason.SENT_BACK)
        raise _Ended

    async def _show(
        self, session: _Session, page: PageSnapshot, parts: CaptchaParts, *, rejected: bool
    ) -> None:
        """The captcha as the page has it: image bytes, audio, screenshot → CHALLENGE."""
        image = await self._media(session, parts.image, "image")
        if image is None:
            await self._fail(session, ValueError("the captcha image could not be read"))
            raise _Ended
        audio = await self._media(session, parts.audio, "audio")
        number = 1 if session.challenge is None else session.challenge.number + 1
        session.challenge = Challenge(
            target_id=session.target.id,
            number=number,
            image=image[1],
            image_type=image[0],
            audio=audio[1] if audio else None,
            audio_type=audio[0] if audio else None,
            screenshot=page.screenshot or b"",
            rejected=rejected,
            shown_at=self._now(),
        )
        session.state = SessionState.CHALLENGE

    async def _media(
        self, session: _Session, src: str | None, kind: str
    ) -> tuple[str, bytes] | None:
        """An image or sound of the page: a data: URL decoded, else fetched in its context."""
        if src is None:
            return None
        if src.startswith("data:"):
            return await off_loop(lambda: decode_data_url(src, kind), name="captcha media")
        browser = session.browser
        if browser is None:
            return None

        async def fetch() -> tuple[int, str | None, bytes]:
            assert browser is not None
            return await browser.fetch_media(src)

        try:
            status, media_type, body = await self._within(session, fetch)
        except ProbeError as error:
            log.warning("%s: the captcha's %s not fetched: %s", session.target.id, kind, error)
            return None
        declared = (media_type or "").split(";")[0].strip().lower()
        if status != 200 or not declared.startswith(kind + "/") or not body:
            return None
        return declared, body

    # -- reading /creneau/ ---------------------------------------------------------------------

    async def _reread(self, session: _Session) -> None:
        try:
            async with session.lock:
                if session.state is not SessionState.LIVE or session.slot_url is None:
                    return
                url = session.slot_url

                async def reload(browser: BrowserSession, options: FlowOptions) -> PageSnapshot:
                    await browser.open(url)
                    return await browser.final_snapshot()

                page, started = await self._act(session, reload)
                if pace.place_of(page.final_url) in (Place.CAPTCHA, Place.ROOT):
                    log.info("%s: the site sent the session back", session.target.id)
                    await self._end(session, EndReason.SENT_BACK)
                    return
                await self._judge(session, page, started)
        except _Ended:
            pass
        except Exception as error:  # never out of the desk
            log.error("%s: assisted read failed: %s", session.target.id, error, exc_info=True)
            with contextlib.suppress(Exception):
                await self._end(session, EndReason.BROWSER_FAILED)
        finally:
            session.reading = None
            self._wake.set()

    async def _judge(
        self, session: _Session, page: PageSnapshot, started: datetime, *, last: bool = False
    ) -> None:
        """Recognise and record one page of the session, as the runner records a probe."""
        target = session.target
        findings = await off_loop(lambda: recognise_all(target, (page,)))
        observation = Recognised(
            target=target.id,
            engine=Engine.BROWSER,
            url=target.url,
            started_at=started,
            finished_at=self._now(),
            pages=(page,),
            findings=findings,
        )
        await self._store(session, observation)
        if last:
            return
        settings = self._parts.config().settings
        ending = pace.end_after_read(Place.SLOTS, session.rereads, settings.assist.max_rereads)
        if ending is not None:
            await self._end(session, ending)
            return
        session.state = SessionState.LIVE
        session.challenge = None
        session.next_read = self._now() + settings.assist.reread

    async def _store(self, session: _Session, observation: Observation) -> None:
        config = self._parts.config()
        operator = session.operator
        future = asyncio.ensure_future(
            asyncio.to_thread(
                self._parts.record,
                self._parts.store,
                session.target,
                observation,
                settings=config.settings,
                channels=config.channels,
                now=self._now(),
                node=self._parts.node,
                assisted_by=operator,
            )
        )
        try:
            recorded = await asyncio.shield(future)  # once begun, the transaction completes
        except DatabaseError as error:
            log.error("%s: assisted read not recorded: %s", session.target.id, error)
            return
        outcome = recorded.outcome
        session.reads += 1
        session.last_outcome = f"{outcome.status}/{outcome.reason}"
        session.last_outcome_at = outcome.finished_at
        self._parts.on_written()

    # -- browser work, bounded -----------------------------------------------------------------

    async def _act(
        self,
        session: _Session,
        step: Callable[[BrowserSession, FlowOptions], Awaitable[PageSnapshot]],
    ) -> tuple[PageSnapshot, datetime]:
        """``step`` on the session's page, holding a host slot, under ``probe_timeout``.

        A timeout or a network failure is what the site did: recorded as a probe's would be,
        and the session ends (its page is no longer where a person left it). A failure of
        the monitor's browser ends it ``browser_failed``.
        """
        browser = session.browser
        if browser is None:
            await self._end(session, EndReason.BROWSER_FAILED)
            raise _Ended
        started = self._now()
        timeout = self._parts.config().settings.probe_timeout.total_seconds()
        options = FlowOptions(render_wait=min(10.0, timeout * 0.4))
        try:
            try:
                page = await self._within(session, lambda: step(browser, options))
            except Exception as error:
                if session.ending or session.state is SessionState.ENDED:  # cut by an end
                    raise _Ended from error
                raise
        except MonitorFault as error:
            await self._fail(session, error)
            raise _Ended from error
        except (ProbeError, TimeoutError) as error:
            finding = failure_finding(error, timeout=timeout)
            if finding.status is Status.MONITOR_ERROR:
                await self._fail(session, error)
                raise _Ended from error
            await self._failed_read(session, started, finding)
            await self._end(session, EndReason.SENT_BACK)
            raise _Ended from error
        return page, started

    async def _within(self, session: _Session, work: Callable[[], Awaitable[Any]]) -> Any:
        """``work`` holding a host slot and a global slot, as a probe does, under the
        probe timeout; the gate's waits are not counted in it."""
        gate = session.gate
        timeout = self._parts.config().settings.probe_timeout.total_seconds()
        async with self._parts.politeness.probe(session.target.host) as ticket:
            held = _HeldGate(ticket.gate)
            if gate is not None:
                gate.current = held
            try:
                async with asyncio.timeout(timeout) as deadline:
                    held.deadline = deadline
                    return await work()
            finally:
                if gate is not None:
                    gate.current = None

    async def _failed_read(self, session: _Session, started: datetime, finding: Finding) -> None:
        browser = session.browser
        pages: tuple[PageSnapshot, ...] = ()
        if browser is not None:
            with contextlib.suppress(Exception):
                pages = (browser.current(),)
        observation = Observation(
            target=session.target.id,
            engine=Engine.BROWSER,
            url=session.target.url,
            started_at=started,
            finished_at=self._now(),
            pages=pages,
            failure=finding,
        )
        await self._store(session, observation)

    # -- ending ---------------------------------------------------------------------------------

    async def _fail(self, session: _Session, error: BaseException) -> None:
        log.error("%s: assisted session ended, the browser failed: %s", session.target.id, error)
        await self._end(session, EndReason.BROWSER_FAILED)

    async def _end(self, session: _Session, reason: EndReason) -> None:
        """Close the context, record the end with its reason, and ask for a new session."""
        if session.ending or (not session.busy and session.stack is None):
            return
        session.ending = True  # an act the closing cuts short records nothing
        now = self._now()
        try:
            await _close(session)
            if session.session_id is not None:
                try:
                    await self._db(
                        self._parts.store.end_assist_session,
                        session.session_id,
                        str(reason),
                        session.reads,
                        now,
                    )
                except DatabaseError as error:
                    log.error("%s: the session's end not recorded: %s", session.target.id, error)
        finally:
            # Shown ended once its end is recorded.
            session.state = SessionState.ENDED
            session.end_reason = reason
            session.ended_at = now
            session.next_read = None
            session.challenge = None
            session.slot_url = None
            session.ending = False
        log.info(
            "%s: assisted session ended (%s) after %d reads",
            session.target.id,
            reason,
            session.reads,
        )
        if reason is not EndReason.STOPPED:  # nobody holds the target any more: ask now
            await self._ask(session, self._parts.config().settings)

    async def _end_all(self, reason: EndReason) -> None:
        for session in list(self._sessions.values()):
            await self._end_session(session, reason)

    async def _end_session(self, session: _Session, reason: EndReason) -> None:
        """End ``session`` now, its read in progress cancelled, if it is opening or live."""
        if session.reading is not None:
            session.reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await session.reading
        if session.busy or session.stack is not None:
            await self._end(session, reason)

    # -- helpers ----------------------------------------------------------------------------

    def _adopt(self, config: Config) -> None:
        old = self._sessions
        self._sessions = {}
        for target in config.targets():
            if target.assist:
                session = old.get(target.id) or _Session(target)
                session.target = target
                self._sessions[target.id] = session

    def _known(self, target_id: str) -> _Session:
        session = self._sessions.get(target_id)
        if session is None:
            raise DeskRefusal(f"No target {target_id!r} is watched in assisted sessions.")
        return session

    def _now(self) -> datetime:
        return self._parts.clock.now()

    async def _db(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(call, *args, **kwargs)

    def _view(self, session: _Session) -> SessionView:
        target = session.target
        max_rereads = self._parts.config().settings.assist.max_rereads
        node = self._elsewhere.get(target.id, self._parts.node)
        return SessionView(
            target_id=target.id,
            target_name=target.name,
            prefecture=target.prefecture,
            prefecture_name=target.prefecture_name,
            state=session.state,
            operator=session.operator,
            opened_at=session.opened_at,
            reads_done=session.reads,
            reads_left=pace.reads_left(session.rereads, max_rereads),
            next_read=session.next_read if session.state is SessionState.LIVE else None,
            last_outcome=session.last_outcome,
            last_outcome_at=session.last_outcome_at,
            ended_at=session.ended_at,
            end_reason=session.end_reason,
            node=node,
        )


class _HeldGate:
    """A ticket's gate that stops the act's deadline while any request waits at it (the
    time the politeness gate holds requests back is not the site's)."""

    def __init__(self, gate: RequestGate) -> None:
        self._gate = gate
        self.deadline: asyncio.Timeout | None = None
        self._waiting = 0
        self._left: float | None = None  #: seconds the suspended deadline had left

    async def __call__(self, url: str) -> None:
        loop = asyncio.get_running_loop()
        self._waiting += 1
        deadline = self.deadline
        if self._waiting == 1 and deadline is not None and not deadline.expired():
            when = deadline.when()
            if when is not None:
                self._left = when - loop.time()
                deadline.reschedule(None)
        try:
            await self._gate(url)
        finally:
            self._waiting -= 1
            left, deadline = self._left, self.deadline
            if self._waiting == 0 and left is not None:
                self._left = None
                if deadline is not None and not deadline.expired():
                    deadline.reschedule(loop.time() + max(0.0, left))


def _begin(session: _Session, session_id: int, operator: str, now: datetime) -> None:
    session.session_id = session_id
    session.operator = operator
    session.opened_at = now
    session.state = SessionState.OPENING
    session.reads = 0
    session.challenge = None
    session.ended_at = None
    session.end_reason = None
    session.next_read = None
    session.last_outcome = None
    session.last_outcome_at = None


async def _close(session: _Session) -> None:
    stack, session.stack, session.browser, session.gate = session.stack, None, None, None
    if stack is None:
        return
    try:
        async with asyncio.timeout(CLOSE_WAIT):
            await stack.aclose()
    except Exception as error:  # a dead browser: nothing left to release
        log.debug("%s: closing the context: %s", session.target.id, error)


def _number(session: _Session) -> int:
    return session.challenge.number if session.challenge is not None else 0


def _operator(name: str) -> str:
    who = " ".join(name.split())
    if not who:
        raise DeskRefusal("Give your name: it is kept with what you do.")
    if len(who) > MAX_OPERATOR_LENGTH or not who.isprintable():
        raise DeskRefusal(f"A name is at most {MAX_OPERATOR_LENGTH} printable characters.")
    return who


def _code(code: str) -> str:
    typed = code.strip()
    if not typed:
        raise DeskRefusal("Type the code the image shows.")
    if len(typed) > MAX_CODE_LENGTH or not typed.isprintable():
        raise DeskRefusal(f"A code is at most {MAX_CODE_LENGTH} printable characters.")
    return typed


if TYPE_CHECKING:

    def _is_a_desk(desk: AssistDesk) -> Desk:
        """mypy checks that the desk is the console's :class:`~monitor.assist.views.Desk`."""
        return desk
