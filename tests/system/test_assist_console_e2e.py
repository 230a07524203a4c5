"""Assisted sessions end to end, through the operator console as a person uses it.

Everything is real but the daemon's clock: the daemon (``build_daemon`` with its real
engines, recorder and dispatcher) serves its console on a free 127.0.0.1 port, Debian's
Chromium drives the imitation of RDV Préfecture for the desk, a second Chromium (through
Playwright) is the operator's phone or desktop, the records go to a real SQLite file, and
the alerts to a real SMTP server on loopback through Apprise's ``mailto://``.

The daemon runs on a fake clock (:mod:`fakeclock`) so that re-reads ten minutes apart and
``assist.ask_every`` pass at once; its ordinary schedule is driven by hand (the tests call
``Daemon.run_slot``). uvicorn, Playwright, the imitation and the SMTP server keep real
time. The test plays the person: it reads the captcha's code from the imitation's control
side (nothing in the product does). It waits on conditions (rows, mails, selectors), never
on fixed sleeps, and measures no time.

Screenshots of the real console at phone (390 px) and desktop (1280 px) widths go to the
test's tmp_path, or to ``$CONSOLE_SCREENSHOTS`` when set (``CONSOLE_SCREENSHOTS=docs/img``
renews the README's ``console-live-*.png``).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from daemonrig import load, outcomes_of
from fakeclock import FakeClock
from handrig import HandSchedule
from helpers import migrated, write_config
from smtp_server import ReceivedMail, SMTPServer
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from monitor.assist.views import EndReason, SessionState
from monitor.console import ConsoleServer
from monitor.daemon.components import Components
from monitor.daemon.compose import build_daemon
from monitor.daemon.scheduler import Daemon
from monitor.domain import Reason, Status
from monitor.imitation import ImitationSite
from monitor.store import Repository, create_engine_for
from monitor.store.rows import assist_sessions, events

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

KEY = "8802"
TARGET = "93/titre-sejour"
TOKEN = "e2e-console-token-7f3a2b"
OPERATOR = "Camille"
MAX_REREADS = 2
REREAD = timedelta(minutes=10)
ASK_EVERY = timedelta(hours=2)
HOSTILE_KEY = "8803"
HOSTILE_NAME = '<img src=x onerror=alert(1)><script>alert(2)</script>"><b id=injected>x</b>'
HOSTILE_TARGET = "93/hostile"
PHONE, DESKTOP = 390, 1280
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Subjects of the mails, as the channel's language (French, the default) writes them.
ASK_SUBJECT, SLOTS_SUBJECT = "Session assistée demandée", "Créneaux disponibles"
#: How the console's index says why a session ended (monitor/console/wording.py).
SAID = {
    EndReason.READS_USED: "toutes les lectures prévues ont été faites",
    EndReason.SENT_BACK: "le site a renvoyé la session au début",
}


@dataclass
class Live:
    """A running daemon, its console, the site, the mailbox and the operator's browser."""

    site: ImitationSite
    smtp: SMTPServer
    daemon: Daemon
    clock: FakeClock
    repository: Repository
    browser: Any

    @property
    def url(self) -> str:
        assert self.daemon.console is not None
        return self.daemon.console.url

    def code(self, key: str = KEY) -> str:
        """What the person reads in the image (the imitation's control side)."""
        code = self.site.captcha_code(key)
        assert code is not None, "no captcha issued yet"
        return code

    def rows(self, table: Any) -> list[Any]:
        with self.repository.engine.connect() as connection:
            return list(connection.execute(select(table).order_by(table.c.id)).all())

    def state(self, target: str = TARGET) -> Any:
        assert self.daemon.desk is not None
        return next(v for v in self.daemon.desk.sessions() if v.target_id == target)

    async def mails(self, count: int) -> list[ReceivedMail]:
        """Wait (real time, off the loop the daemon runs in) for ``count`` mails in all."""
        return await asyncio.to_thread(self.smtp.wait_for, count, 60.0)

    async def reread(self) -> None:
        """Move the clock to the session's next read and wait until it is recorded."""

        def read_done() -> bool:
            view = self.state()
            if view.state is SessionState.ENDED:
                return True
            return view.next_read is not None and view.next_read > self.clock.now()

        await self.advance_until(REREAD, read_done)

    async def advance_until(self, first: timedelta, condition: Callable[[], bool]) -> None:
        """Move the clock by ``first``, then a minute at a time while ``condition`` waits for
        the desk's browser work (real time): the desk may plan its sleep after the move."""
        await self.clock.advance(first.total_seconds())
        async with asyncio.timeout(90):
            while not condition():
                for _ in range(10):
                    await asyncio.sleep(0.05)
                    if condition():
                        return
                await self.clock.advance(60)

    async def page(self, width: int = DESKTOP) -> Any:
        context = await self.browser.new_context(viewport={"width": width, "height": 900})
        await context.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())
        page = await context.new_page()
        page.set_default_timeout(90_000)  # opening walks the site in the desk's browser
        return page

    async def log_in(self, page: Any, name: str = OPERATOR) -> None:
        await page.goto(f"{self.url}?token={TOKEN}")
        assert page.url == f"{self.url}operateur"
        await page.fill("#name", name)
        await page.click("form[action='/operateur'] button")
        await page.wait_for_url(self.url)


def targets(site: ImitationSite, hostile: bool) -> list[dict[str, Any]]:
    chosen = [
        {
            "id": "titre-sejour",
            "name": "Titre de séjour : première demande",
            "platform": "rdv-prefecture",
            "url": site.url(f"/rdvpref/reservation/demarche/{KEY}/"),
            "assist": True,
        }
    ]
    if hostile:
        chosen.append(
            {
                "id": "hostile",
                "name": HOSTILE_NAME,
                "platform": "rdv-prefecture",
                "url": site.url(f"/rdvpref/reservation/demarche/{HOSTILE_KEY}/"),
                "assist": True,
            }
        )
    return chosen


@asynccontextmanager
async def live_daemon(
    tmp_path: Path, chromium_path: str, *, hostile: bool = False
) -> AsyncIterator[Live]:
    from playwright.async_api import async_playwright

    with ImitationSite() as site, SMTPServer() as smtp:
        site.set_scenario(KEY, "captcha_wall")
        site.set_scenario(HOSTILE_KEY, "captcha_wall")
        database = migrated(tmp_path / "monitor.db")
        config_path = write_config(
            tmp_path / "prefectures.yaml",
            targets=targets(site, hostile),
            database=database,
            prefecture="93",
            prefecture_name="Préfecture de la Seine-Saint-Denis",
            channels=[
                {
                    "id": "volunteers",
                    "url": smtp.url("benevoles@example.org"),
                    "events": ["slots_opened", "assist_needed"],
                }
            ],
            schedule={"interval": "1h", "jitter": "0s"},
            politeness={"per_host_concurrency": 1, "per_host_min_gap": "0s", "backoff_max": "1h"},
            probe_timeout="30s",
            browser={"executable_path": chromium_path},
            console={"listen": "127.0.0.1:0", "token": TOKEN},
            assist={"reread": "10m", "max_rereads": MAX_REREADS, "ask_every": "2h"},
        )
        config = load(config_path)
        repository = Repository(create_engine_for(database))
        clock = FakeClock()
        daemon = build_daemon(
            config,
            repository,
            node="node-a",
            reload_config=lambda: load(config_path),
            components=Components.default(config, repository, "node-a"),  # the real dispatcher
            schedule=HandSchedule(),
            clock=clock,
        )
        assert daemon.desk is not None and daemon.console is not None
        running = asyncio.create_task(daemon.run())
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=chromium_path, args=LAUNCH_ARGS
                )
                try:
                    yield Live(site, smtp, daemon, clock, repository, browser)
                finally:
                    await browser.close()
        finally:
            daemon.request_stop()
            assert await asyncio.wait_for(running, timeout=60) == 0
            repository.engine.dispose()


def shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def shoot(page: Any, tmp_path: Path, name: str, width: int) -> None:
    await page.set_viewport_size({"width": width, "height": 844 if width == PHONE else 900})
    await page.screenshot(path=str(shots_dir(tmp_path) / name), full_page=True)


async def image_loaded(page: Any, selector: str) -> bool:
    return bool(
        await page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0")
    )


def asks(mails: Sequence[ReceivedMail]) -> list[ReceivedMail]:
    return [mail for mail in mails if ASK_SUBJECT in mail.subject]


def slot_mails(mails: Sequence[ReceivedMail]) -> list[ReceivedMail]:
    return [mail for mail in mails if SLOTS_SUBJECT in mail.subject]


def ask_times(live: Live) -> list[Any]:
    return [row.occurred_at for row in live.rows(events) if row.kind == "assist_needed"]


def card(page: Any, section: str, target: str = TARGET) -> Any:
    return page.locator(f"#{section} article[data-target='{target}']")


async def answer_through_the_console(live: Live, page: Any, tmp_path: Path | None) -> None:
    """On the index: open a session, see the captcha, a wrong code then the right one."""
    await card(page, "waiting").locator("button.open").click()
    await page.wait_for_url(f"{live.url}captcha/{TARGET}")
    assert await image_loaded(page, "#captcha")
    assert await page.get_attribute("#captcha", "src") == f"/image/{TARGET}?n=1"
    assert await page.is_visible("audio#captcha-audio")  # the imitation offers the sound
    audio = await page.context.request.get(f"{live.url}audio/{TARGET}?n=1")
    assert audio.status == 200 and (await audio.body()).startswith(b"RIFF")
    await page.click("details summary")
    assert await image_loaded(page, "#screenshot")

    first = live.code()
    await page.fill("#code", "WRONG1" if first != "WRONG1" else "WRONG2")
    await page.click("#answer button")
    await page.wait_for_selector("#rejected")
    assert "Code refusé" in await page.inner_text("#rejected")
    assert await page.get_attribute("#captcha", "src") == f"/image/{TARGET}?n=2"
    assert await image_loaded(page, "#captcha")
    second = live.code()
    assert second != first  # the site issued a new captcha, and the console shows it
    if tmp_path is not None:
        await shoot(page, tmp_path, "console-live-captcha-desktop.png", DESKTOP)
        await shoot(page, tmp_path, "console-live-captcha-phone.png", PHONE)
    assert outcomes_of(live.repository, TARGET) == []  # a rejected code is no read

    await page.fill("#code", second)
    await page.click("#answer button")
    await page.wait_for_url(live.url)


async def test_an_operator_holds_a_session_from_the_console_until_its_reads_are_used(
    tmp_path: Path, chromium_path: str
) -> None:
    async with live_daemon(tmp_path, chromium_path) as live:
        # Nobody holds the target: the volunteers are asked by mail, with the real address.
        (asked,) = asks(await live.mails(1))
        assert not live.url.endswith(":0/")
        assert live.url in asked.text

        page = await live.page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        first = await page.goto(live.url)
        assert first is not None and first.status == 401
        assert await page.is_visible("input#token")
        await live.log_in(page)
        assert TOKEN not in page.url
        assert "console_login" in {c["name"] for c in await page.context.cookies()}
        await page.reload()
        assert page.url == live.url  # the name is not asked again
        assert await page.inner_text("#operator") == OPERATOR
        assert "en attente d'une personne" in await card(page, "waiting").inner_text()

        await answer_through_the_console(live, page, tmp_path)
        live_card = card(page, "current")
        assert "session active" in await live_card.inner_text()
        assert await live_card.locator(".reads").inner_text() == "1 faite, 2 restantes"
        assert OPERATOR in await live_card.locator(".operator").inner_text()
        assert "pas de créneau" in await live_card.locator(".last-outcome").inner_text()
        await shoot(page, tmp_path, "console-live-index-desktop.png", DESKTOP)
        await shoot(page, tmp_path, "console-live-index-phone.png", PHONE)

        (read,) = outcomes_of(live.repository, TARGET)
        assert (read.status, read.reason) == (Status.UNAVAILABLE, Reason.NO_SLOT)
        assert read.assisted_by == OPERATOR and read.evidence

        # The site offers slots; the next read, ten (fake) minutes on, sees them.
        live.site.set_scenario(KEY, "captcha_wall", slot_count=3)
        await live.reread()
        reads = outcomes_of(live.repository, TARGET)
        assert [(o.status, o.reason) for o in reads][-1] == (Status.AVAILABLE, Reason.SLOTS)
        assert reads[-1].slot_count == 3 and reads[-1].assisted_by == OPERATOR
        (opened,) = slot_mails(await live.mails(2))
        assert "Titre de séjour" in opened.text
        await page.reload()
        assert await card(page, "current").locator(".reads").inner_text() == (
            "2 faites, 1 restante"
        )

        # The last read: the session ends, said on the index and recorded.
        await live.reread()
        assert live.state().end_reason is EndReason.READS_USED
        assert len(outcomes_of(live.repository, TARGET)) == 1 + MAX_REREADS
        (row,) = live.rows(assist_sessions)
        assert (row.operator, row.end_reason, row.reads) == (OPERATOR, "reads_used", 3)
        await page.reload()
        ended = card(page, "waiting")
        assert await ended.locator(".end-reason").inner_text() == SAID[EndReason.READS_USED]
        assert "session terminée" in await ended.inner_text()

        # Asked again at once, with the console's address; then not before ask_every.
        again = asks(await live.mails(3))[-1]
        assert live.url in again.text
        await live.clock.advance((ASK_EVERY / 2).total_seconds())
        assert len(ask_times(live)) == 2
        # On by the rest, then a minute at a time: the desk may plan its sleep just after a
        # move of the clock (its turn reads the database in a thread).
        await live.advance_until(ASK_EVERY / 2, lambda: len(ask_times(live)) == 3)
        reminder = asks(await live.mails(4))[-1]
        assert live.url in reminder.text
        times = ask_times(live)
        assert len(times) == 3 and times[2] - times[1] >= ASK_EVERY

        # A new session, opened from the console: the captcha shown again.
        await page.reload()
        await card(page, "waiting").locator("button.open").click()
        await page.wait_for_url(f"{live.url}captcha/{TARGET}")
        assert await image_loaded(page, "#captcha")
        assert live.state().state is SessionState.CHALLENGE
        assert live.state().operator == OPERATOR
        assert dialogs == []


async def test_the_site_sending_the_session_back_ends_it_without_an_anomaly(
    tmp_path: Path, chromium_path: str
) -> None:
    async with live_daemon(tmp_path, chromium_path) as live:
        await live.mails(1)
        page = await live.page(PHONE)
        await live.log_in(page, "Dominique")
        await answer_through_the_console(live, page, None)
        assert "session active" in await card(page, "current").inner_text()

        # The site lets the session read /creneau/ once (the read after the captcha).
        live.site.set_scenario(KEY, "captcha_wall", session_reads=1, lost_to="cgu")
        await live.reread()
        assert live.state().end_reason is EndReason.SENT_BACK
        reads = outcomes_of(live.repository, TARGET)
        assert [(o.status, o.reason) for o in reads] == [(Status.UNAVAILABLE, Reason.NO_SLOT)]
        (row,) = live.rows(assist_sessions)
        assert (row.operator, row.end_reason, row.reads) == ("Dominique", "sent_back", 1)
        await page.reload()
        ended = card(page, "waiting")
        assert await ended.locator(".end-reason").inner_text() == SAID[EndReason.SENT_BACK]
        again = asks(await live.mails(2))[-1]
        assert live.url in again.text
        kinds = [row.kind for row in live.rows(events)]
        assert "anomaly_started" not in kinds


async def test_cross_site_posts_and_hostile_names_do_nothing_over_the_real_daemon(
    tmp_path: Path, chromium_path: str
) -> None:
    async with live_daemon(tmp_path, chromium_path, hostile=True) as live:

        async def attack(request: Request) -> HTMLResponse:
            return HTMLResponse(
                f"""<!doctype html><body><form id="f" method="post"
                action="{live.url}ouvrir/{TARGET}"><input name="csrf" value="guess"></form>
                <script>document.getElementById("f").submit()</script></body>"""
            )

        attacker = ConsoleServer(Starlette(routes=[Route("/", attack)]), "127.0.0.1:0")
        await attacker.start()
        try:
            page = await live.page()
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: dialogs.append(dialog.message))
            await live.log_in(page)

            # Hostile words in a target's name stay words.
            hostile = card(page, "waiting", HOSTILE_TARGET)
            assert await hostile.locator(".name").inner_text() == HOSTILE_NAME
            injected = await page.evaluate(
                "document.querySelectorAll('#injected, script, main img, header img').length"
            )
            assert injected == 0

            async with page.expect_response(f"{live.url}ouvrir/{TARGET}") as posted:
                await page.goto(attacker.url)
            response = await posted.value
            assert response.status == 403
            sent = await response.request.all_headers()
            assert "console_login=" in sent.get("cookie", "")  # the cookie went along
            await page.wait_for_load_state()
            assert "Refusé" in await page.inner_text("body")

            # The hostile target's captcha page too.
            await page.goto(live.url)
            await card(page, "waiting", HOSTILE_TARGET).locator("button.open").click()
            await page.wait_for_url(re.compile(r"/captcha/93/hostile$"))
            assert await page.inner_text("h1.name") == HOSTILE_NAME
            assert await image_loaded(page, "#captcha")
            injected = await page.evaluate(
                "document.querySelectorAll('#injected, script, header img').length"
            )
            assert injected == 0
            assert dialogs == []
        finally:
            await attacker.stop()
        # Nothing was opened for the target the forged form named.
        assert live.state().state is SessionState.WAITING
        assert [row.target for row in live.rows(assist_sessions)] == [HOSTILE_TARGET]
