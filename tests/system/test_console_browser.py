"""The operator console in a real browser: Debian's Chromium through Playwright opens the
console as an operator would (token, name, a waiting target, the captcha, a wrong code then
the right one), a second origin on another 127.0.0.1 port posts a form to it, and hostile
words stay inert. The console runs in the test's own event loop (uvicorn beside Playwright),
over the in-memory desk of tests/consoledesk.py.

Screenshots at phone (390 px) and desktop (1280 px) widths go to the test's tmp_path, or to
``$CONSOLE_SCREENSHOTS`` when set (the README shows the real daemon's console instead:
tests/system/test_assist_console_e2e.py's ``console-live-*.png``).
Nothing here touches the internet: any request off 127.0.0.1 is aborted.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from consoledesk import HOSTILE_NAME, HOSTILE_OUTCOME, ConsoleDesk
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from monitor.console import ConsoleServer, build_console

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

TOKEN = "browser-test-token-5d1c9e"
NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
WAITING = "75/titre-sejour"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE, DESKTOP = 390, 1280


@dataclass
class Running:
    url: str
    desk: ConsoleDesk
    browser: Any


@pytest.fixture
async def running(request: pytest.FixtureRequest, chromium_path: str) -> AsyncIterator[Running]:
    """The console over the fake desk; with the hostile target when parametrized True."""
    from playwright.async_api import async_playwright

    desk = ConsoleDesk(lambda: NOW, hostile=getattr(request, "param", False))
    app = build_console(
        desk,
        token=TOKEN,
        node="node-a",
        status_page_url="http://127.0.0.1:9/statut/",
        now=lambda: NOW,
    )
    server = ConsoleServer(app, "127.0.0.1:0")
    await server.start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=chromium_path, args=LAUNCH_ARGS
            )
            try:
                yield Running(server.url, desk, browser)
            finally:
                await browser.close()
    finally:
        await server.stop()


async def new_page(running: Running, width: int = DESKTOP) -> Any:
    context = await running.browser.new_context(viewport={"width": width, "height": 900})
    await context.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())
    return await context.new_page()


def shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def image_loaded(page: Any, selector: str) -> bool:
    return bool(
        await page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0")
    )


async def log_in_and_name(running: Running, page: Any, name: str = "Amina") -> None:
    await page.goto(f"{running.url}?token={TOKEN}")
    assert page.url == f"{running.url}operateur"
    await page.fill("#name", name)
    await page.click("form[action='/operateur'] button")
    await page.wait_for_url(running.url)


async def test_an_operator_answers_a_captcha_and_sees_the_session_live(
    running: Running, tmp_path: Path
) -> None:
    page = await new_page(running)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))

    # Without the token: 401, a page that says how to get in, and nothing else loads.
    first = await page.goto(running.url)
    assert first is not None and first.status == 401
    assert await page.is_visible("input#token")
    style = await page.context.request.get(f"{running.url}static/console.css")
    assert style.status == 401

    # The token once: a cookie the page's scripts cannot read, the address without it.
    await page.goto(f"{running.url}?token={TOKEN}")
    assert TOKEN not in page.url
    cookies = {c["name"]: c for c in await page.context.cookies()}
    login = cookies["console_login"]
    assert login["httpOnly"] and login["sameSite"] == "Strict"
    assert TOKEN not in login["value"]
    assert await page.evaluate("document.cookie") == ""

    # The name, asked once, then shown on every page.
    assert page.url == f"{running.url}operateur"
    await page.fill("#name", "Amina")
    await page.click("form[action='/operateur'] button")
    await page.wait_for_url(running.url)
    await page.reload()
    assert page.url == running.url  # not asked again
    assert await page.inner_text("#operator") == "Amina"
    assert TOKEN not in await page.content()

    # The waiting target, with its button.
    card = page.locator(f"#waiting article[data-target='{WAITING}']")
    assert "en attente d'une personne" in await card.inner_text()
    await page.set_viewport_size({"width": DESKTOP, "height": 900})
    await page.screenshot(
        path=str(shots_dir(tmp_path) / "console-index-desktop.png"), full_page=True
    )
    await card.locator("button.open").click()

    # The captcha, as the desk gives it: the image loaded, the audio, the page's screenshot.
    await page.wait_for_url(f"{running.url}captcha/{WAITING}")
    assert await image_loaded(page, "#captcha")
    assert await page.get_attribute("#captcha", "src") == f"/image/{WAITING}?n=1"
    assert await page.is_visible("audio#captcha-audio")
    await page.click("details summary")
    assert await image_loaded(page, "#screenshot")
    assert running.desk.acts == [("open", WAITING, "Amina")]

    # A wrong code: the new image, and "code refusé".
    await page.fill("#code", "00000" if running.desk.codes[WAITING] != "00000" else "11111")
    await page.click("#answer button")
    await page.wait_for_selector("#rejected")
    assert "Code refusé" in await page.inner_text("#rejected")
    assert await page.get_attribute("#captcha", "src") == f"/image/{WAITING}?n=2"
    assert await image_loaded(page, "#captcha")
    await page.set_viewport_size({"width": PHONE, "height": 844})
    await page.screenshot(
        path=str(shots_dir(tmp_path) / "console-captcha-phone.png"), full_page=True
    )

    # The right code: back on the index, the session live.
    await page.fill("#code", running.desk.codes[WAITING])
    await page.click("#answer button")
    await page.wait_for_url(running.url)
    live = page.locator(f"#current article[data-target='{WAITING}']")
    assert "session active" in await live.inner_text()
    assert "1 faite, 5 restantes" in await live.locator(".reads").inner_text()
    await page.screenshot(path=str(shots_dir(tmp_path) / "console-index-phone.png"), full_page=True)
    assert [act[0] for act in running.desk.acts] == ["open", "answer", "answer"]
    assert all(act[-1] == "Amina" for act in running.desk.acts)
    assert dialogs == []


async def test_a_form_posted_from_another_origin_is_refused(running: Running) -> None:
    """A page on another 127.0.0.1 port (same site, other origin: the login cookie goes
    with it, SameSite or not) posts the console's form: 403, and the desk is not called."""

    async def attack(request: Request) -> HTMLResponse:
        return HTMLResponse(
            f"""<!doctype html><body><form id="f" method="post"
            action="{running.url}ouvrir/{WAITING}"><input name="csrf" value="guess"></form>
            <script>document.getElementById("f").submit()</script></body>"""
        )

    attacker = ConsoleServer(Starlette(routes=[Route("/", attack)]), "127.0.0.1:0")
    await attacker.start()
    try:
        page = await new_page(running)
        await log_in_and_name(running, page)
        async with page.expect_response(f"{running.url}ouvrir/{WAITING}") as posted:
            await page.goto(attacker.url)
        response = await posted.value
        assert response.status == 403
        sent = await response.request.all_headers()
        assert "console_login=" in sent.get("cookie", "")  # same site: the cookie went along
        assert sent["origin"] == attacker.url.rstrip("/")  # what refused it
        await page.wait_for_load_state()
        assert "Refusé" in await page.inner_text("body")
    finally:
        await attacker.stop()
    assert running.desk.acts == []


@pytest.mark.parametrize("running", [True], indirect=True, ids=["hostile"])
async def test_hostile_words_are_inert(running: Running, tmp_path: Path) -> None:
    page = await new_page(running)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await log_in_and_name(running, page, name="<img src=x onerror=alert(4)>")
    card = page.locator("article[data-target='93/hostile']")
    assert await card.locator(".name").inner_text() == HOSTILE_NAME
    assert HOSTILE_OUTCOME in await card.locator(".last-outcome").inner_text()
    assert await page.inner_text("#operator") == "<img src=x onerror=alert(4)>"
    injected = await page.evaluate(
        "document.querySelectorAll('#injected, #injected-b, #injected-svg, script, "
        "main img, header img').length"
    )
    assert injected == 0
    await page.set_viewport_size({"width": PHONE, "height": 844})
    await page.screenshot(path=str(tmp_path / "hostile-phone.png"), full_page=True)
    assert dialogs == []
