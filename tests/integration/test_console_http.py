"""The console over real HTTP: uvicorn on 127.0.0.1 inside the test's event loop, the fake
desk of tests/consoledesk.py behind it, httpx as the client.

What a browser cannot show easily is checked here: every path answers 401 without the
login, the token is in no page, cookie or log line, every response carries the security
headers, forms need their CSRF token and the console's own origin, the images are the
desk's bytes, a taken port is one clear error.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from consoledesk import HOSTILE_NAME, ConsoleDesk

from monitor.assist.views import SessionState
from monitor.console import ConsoleServer, ConsoleUnavailable, build_console
from monitor.console.app import SECURITY_HEADERS

TOKEN = "t0ken-for-the-console-tests-7f3a"
NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
WAITING = "75/titre-sejour"


@dataclass
class Console:
    url: str
    desk: ConsoleDesk
    server: ConsoleServer
    bodies: list[str]

    def client(self, cookies: dict[str, str] | None = None) -> httpx.AsyncClient:
        """A client whose every response (body and headers) is kept for the token check."""

        async def keep(response: httpx.Response) -> None:
            await response.aread()
            self.bodies.append(response.text)
            self.bodies.append(str(response.headers))

        return httpx.AsyncClient(
            base_url=self.url, event_hooks={"response": [keep]}, timeout=10, cookies=cookies
        )


@pytest.fixture
async def console(caplog: pytest.LogCaptureFixture) -> AsyncIterator[Console]:
    caplog.set_level(logging.DEBUG)
    desk = ConsoleDesk(lambda: NOW, hostile=True)
    app = build_console(
        desk, token=TOKEN, node="node-a", status_page_url="https://status.example/", now=lambda: NOW
    )
    server = ConsoleServer(app, "127.0.0.1:0")
    await server.start()
    found = Console(server.url, desk, server, [])
    try:
        yield found
    finally:
        await server.stop()
    # Whatever happened in the test: the token is in no log line, page or header.
    assert TOKEN not in caplog.text
    assert all(TOKEN not in body for body in found.bodies)


async def log_in(client: httpx.AsyncClient, name: str | None = "Amina") -> str:
    """Takes ``client`` past the token (and the name form, when ``name``): its CSRF token."""
    response = await client.get("/", params={"token": TOKEN})
    assert response.status_code == 303
    page = await client.get("/operateur")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None
    if name is not None:
        named = await client.post("/operateur", data={"csrf": csrf[1], "name": name})
        assert named.status_code == 303, named.text
    return csrf[1]


def assert_guarded(response: httpx.Response) -> None:
    for header, value in SECURITY_HEADERS:
        if header == "content-security-policy" and response.headers.get("content-type", "") \
                .startswith(("image/", "audio/")):  # fmt: skip
            assert response.headers[header] == "default-src 'none'; sandbox"
        else:
            assert response.headers[header] == value, header


PATHS = [
    ("GET", "/"),
    ("GET", "/operateur"),
    ("GET", "/static/console.css"),
    ("GET", f"/captcha/{WAITING}"),
    ("GET", f"/image/{WAITING}"),
    ("GET", f"/audio/{WAITING}"),
    ("GET", f"/capture/{WAITING}"),
    ("GET", "/no/such/page"),
    ("POST", f"/ouvrir/{WAITING}"),
    ("POST", f"/code/{WAITING}"),
    ("POST", "/operateur"),
]


async def test_without_the_login_every_path_answers_401_with_how_to_get_in(
    console: Console,
) -> None:
    # A captcha is waiting, so that its image would be there to take.
    await console.desk.open(WAITING, "Amina")
    async with console.client() as client:
        for method, path in PATHS:
            response = await client.request(method, path, data={"csrf": "x", "code": "1"})
            assert response.status_code == 401, (method, path)
            assert "text/html" in response.headers["content-type"]
            assert "?token=" in response.text and 'action="/login"' in response.text
            assert_guarded(response)
    async with console.client(cookies={"console_login": "abc.def"}) as forger:
        assert (await forger.get("/")).status_code == 401
    assert console.desk.acts == [("open", WAITING, "Amina")]  # only the test's own


async def test_the_token_in_the_address_sets_a_cookie_and_leaves_the_address(
    console: Console,
) -> None:
    async with console.client() as client:
        wrong = await client.get("/", params={"token": TOKEN[:-1]})
        assert wrong.status_code == 401 and "pas le bon" in wrong.text
        assert "set-cookie" not in wrong.headers

        response = await client.get(f"/captcha/{WAITING}", params={"token": TOKEN, "x": "1"})
        assert response.status_code == 303
        assert response.headers["location"] == f"/captcha/{WAITING}"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("console_login=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain http on loopback

        index = await client.get("/")
        assert index.status_code == 303 and index.headers["location"] == "/operateur"
        assert (await client.get("/operateur")).status_code == 200
        assert (await client.get("/static/console.css")).status_code == 200


async def test_the_token_redirect_stays_on_the_console(console: Console) -> None:
    async with console.client() as client:
        response = await client.get(f"{console.url}/evil.example/", params={"token": TOKEN})
        assert response.status_code == 303
        assert response.headers["location"] == "/evil.example/"


async def test_the_login_form_sets_the_same_cookie(console: Console) -> None:
    async with console.client() as client:
        refused = await client.post("/login", data={"token": "nope"})
        assert refused.status_code == 401 and "pas le bon" in refused.text
        response = await client.post("/login", data={"token": TOKEN})
        assert response.status_code == 303 and response.headers["location"] == "/"
        assert "HttpOnly" in response.headers["set-cookie"]
        assert (await client.get("/operateur")).status_code == 200


async def test_behind_a_tls_proxy_the_cookies_are_secure(console: Console) -> None:
    async with console.client() as client:
        response = await client.get(
            "/", params={"token": TOKEN}, headers={"x-forwarded-proto": "https"}
        )
        assert "Secure" in response.headers["set-cookie"]


async def test_the_name_is_asked_once_validated_and_given_to_the_desk(console: Console) -> None:
    async with console.client() as client:
        csrf = await log_in(client, name=None)
        for bad, says in (("", "Indiquez"), ("x" * 61, "60 au plus"), ("a\u202eb", "U+202E")):
            response = await client.post("/operateur", data={"csrf": csrf, "name": bad})
            assert response.status_code == 400 and says in response.text
        done = await client.post("/operateur", data={"csrf": csrf, "name": "  Élodie  "})
        assert done.status_code == 303
        index = await client.get("/")
        assert index.status_code == 200 and '<span id="operator">Élodie</span>' in index.text
        opened = await client.post(f"/ouvrir/{WAITING}", data={"csrf": csrf})
        assert opened.status_code == 303
        assert opened.headers["location"] == f"/captcha/{WAITING}"
        code = console.desk.codes[WAITING]
        answered = await client.post(f"/code/{WAITING}", data={"csrf": csrf, "code": code})
        assert answered.status_code == 303 and answered.headers["location"] == "/"
    assert console.desk.acts == [("open", WAITING, "Élodie"), ("answer", WAITING, code, "Élodie")]


async def test_forms_need_their_csrf_token_and_the_consoles_origin(console: Console) -> None:
    async with console.client() as client:
        csrf = await log_in(client)
        attempts = [
            ({"code": "1"}, {}),
            ({"csrf": "0" * 64}, {}),
            ({"csrf": csrf}, {"origin": "http://127.0.0.1:1"}),
            ({"csrf": csrf}, {"origin": "null"}),
            ({"csrf": csrf}, {"sec-fetch-site": "same-site"}),
            ({"csrf": csrf}, {"sec-fetch-site": "cross-site", "origin": console.url[:-1]}),
        ]
        for data, headers in attempts:
            response = await client.post(f"/ouvrir/{WAITING}", data=data, headers=headers)
            assert response.status_code == 403, (data, headers)
            assert_guarded(response)
        assert console.desk.acts == []
        same = {"origin": console.url[:-1], "sec-fetch-site": "same-origin"}
        allowed = await client.post(f"/ouvrir/{WAITING}", data={"csrf": csrf}, headers=same)
        assert allowed.status_code == 303
    assert console.desk.acts == [("open", WAITING, "Amina")]


async def test_another_logins_csrf_token_does_not_pass(console: Console) -> None:
    async with console.client() as first, console.client() as second:
        csrf = await log_in(first)
        await log_in(second, name="Bruno")
        response = await second.post(f"/ouvrir/{WAITING}", data={"csrf": csrf})
        assert response.status_code == 403
    assert console.desk.acts == []


async def test_bad_forms_are_refused_saying_why(console: Console) -> None:
    async with console.client() as client:
        csrf = await log_in(client)
        big = await client.post("/operateur", data={"csrf": csrf, "name": "x" * 5000})
        assert big.status_code == 413
        json = await client.post("/operateur", json={"csrf": csrf, "name": "x"})
        assert json.status_code == 415 and "formulaire" in json.text.lower()
        await client.post(f"/ouvrir/{WAITING}", data={"csrf": csrf})
        for code, says in (
            ("", "Tapez le code"),
            ("1" * 41, "40 au plus"),
            ("12\x1b3", "invisible"),
        ):
            response = await client.post(f"/code/{WAITING}", data={"csrf": csrf, "code": code})
            assert response.status_code == 400 and says in response.text
            assert 'id="captcha"' in response.text  # the image is still there to answer
    assert [act[0] for act in console.desk.acts] == ["open"]


async def test_the_desks_refusal_is_shown_to_the_person(console: Console) -> None:
    async with console.client() as client:
        csrf = await log_in(client)
        await client.post(f"/ouvrir/{WAITING}", data={"csrf": csrf})
        again = await client.post(f"/ouvrir/{WAITING}", data={"csrf": csrf})
        assert again.status_code == 409
        assert "Une session est déjà ouverte sur cette démarche." in again.text
        letters = await client.post(f"/code/{WAITING}", data={"csrf": csrf, "code": "abc"})
        assert letters.status_code == 409
        assert "n&#39;a que des chiffres" in letters.text
        assert 'id="captcha"' in letters.text  # still on the captcha, to type it again
        ended = await client.post("/code/92/naturalisation", data={"csrf": csrf, "code": "1"})
        assert ended.status_code == 409 and "Aucun captcha n&#39;attend" in ended.text
        unknown = await client.post("/ouvrir/00/none", data={"csrf": csrf})
        assert unknown.status_code == 404


async def test_a_slow_act_is_followed_by_a_page_that_waits_for_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Under the politeness gate an opening takes half a minute: the form answers at once,
    and the captcha page says what the desk is doing, refreshing itself, until it is done."""
    desk = ConsoleDesk(lambda: NOW)
    desk.hold = asyncio.Event()
    app = build_console(
        desk, token=TOKEN, node="n", status_page_url=None, now=lambda: NOW, act_grace=0.05
    )
    server = ConsoleServer(app, "127.0.0.1:0")
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            csrf = await log_in(client)
            opened = await client.post(f"/ouvrir/{WAITING}", data={"csrf": csrf})
            assert opened.status_code == 303
            assert opened.headers["location"] == f"/captcha/{WAITING}"
            waiting = await client.get(f"/captcha/{WAITING}")
            assert 'id="waiting-desk"' in waiting.text and "ouvre la démarche" in waiting.text
            assert 'http-equiv="refresh"' in waiting.text and 'id="captcha"' not in waiting.text
            desk.hold.set()
            async with asyncio.timeout(10):
                while desk.challenge(WAITING) is None:
                    await asyncio.sleep(0.01)
            shown = await client.get(f"/captcha/{WAITING}")
            assert 'id="captcha"' in shown.text and 'http-equiv="refresh"' not in shown.text

            desk.hold.clear()
            sent = await client.post(
                f"/code/{WAITING}", data={"csrf": csrf, "code": desk.codes[WAITING]}
            )
            assert sent.status_code == 303 and sent.headers["location"] == f"/captcha/{WAITING}"
            submitting = await client.get(f"/captcha/{WAITING}")
            assert "attend sa réponse" in submitting.text
            desk.hold.set()
            async with asyncio.timeout(10):
                while desk.targets[WAITING].view.state is not SessionState.LIVE:
                    await asyncio.sleep(0.01)
            live = await client.get(f"/captcha/{WAITING}")
            assert live.status_code == 303 and live.headers["location"] == "/"
    finally:
        await server.stop()
    assert TOKEN not in caplog.text


async def test_the_captcha_is_the_desks_bytes_with_its_media_type(console: Console) -> None:
    async with console.client() as client:
        csrf = await log_in(client)
        missing = await client.get(f"/image/{WAITING}")
        assert missing.status_code == 404
        await client.post(f"/ouvrir/{WAITING}", data={"csrf": csrf})
        challenge = console.desk.challenge(WAITING)
        assert challenge is not None and challenge.audio is not None
        image = await client.get(f"/image/{WAITING}", params={"n": 1})
        audio = await client.get(f"/audio/{WAITING}")
        shot = await client.get(f"/capture/{WAITING}")
        for response, content, kind in (
            (image, challenge.image, "image/png"),
            (audio, challenge.audio, "audio/wav"),
            (shot, challenge.screenshot, "image/png"),
        ):
            assert response.status_code == 200
            assert response.content == content
            assert response.headers["content-type"] == kind
            assert response.headers["cache-control"] == "no-store"
            assert_guarded(response)
        page = await client.get(f"/captcha/{WAITING}")
        assert f'src="/image/{WAITING}?n=1"' in page.text and "<audio" in page.text


async def test_an_image_of_another_type_is_never_served(console: Console) -> None:
    async with console.client() as client:
        csrf = await log_in(client)
        console.desk.image_type = "image/svg+xml"
        await client.post(f"/ouvrir/{WAITING}", data={"csrf": csrf})
        image = await client.get(f"/image/{WAITING}")
        assert image.status_code == 415 and "svg" not in image.headers["content-type"]
        page = await client.get(f"/captcha/{WAITING}")
        assert 'id="captcha-unshown"' in page.text and "<details open>" in page.text


async def test_hostile_words_are_text_in_the_page(console: Console) -> None:
    async with console.client() as client:
        await log_in(client)
        index = await client.get("/")
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in index.text
    assert HOSTILE_NAME not in index.text
    assert "<img src=x" not in index.text and "<svg" not in index.text and "<b id" not in index.text
    assert "\u202e" not in index.text  # the bidirectional override is shown as �


async def test_the_index_shows_each_session_and_links_the_status_page(console: Console) -> None:
    async with console.client() as client:
        csrf = await log_in(client)
        index = await client.get("/")
        assert '<meta http-equiv="refresh" content="30">' in index.text
        assert 'href="https://status.example/"' in index.text
        assert "Attendent une personne (3)" in index.text
        assert "toutes les lectures prévues ont été faites" in index.text
        assert "07/12/2026 10:25" in index.text  # ended 5 min before NOW, Paris time
        await client.post(f"/ouvrir/{WAITING}", data={"csrf": csrf})
        code = console.desk.codes[WAITING]
        await client.post(f"/code/{WAITING}", data={"csrf": csrf, "code": code})
        live = await client.get("/")
    states = {view.target_id: view.state for view in console.desk.sessions()}
    assert states[WAITING] is SessionState.LIVE
    current = live.text.split('id="current"', 1)[1]
    assert "session active" in current and "1 faite, 5 restantes" in current
    assert "07/12/2026 10:40" in current  # the next read, Paris time


async def test_a_taken_port_is_one_clear_error(console: Console) -> None:
    port = console.url.rsplit(":", 1)[1].rstrip("/")
    second = ConsoleServer(build_console(
        console.desk, token=TOKEN, node="n", status_page_url=None, now=lambda: NOW,
    ), f"127.0.0.1:{port}")  # fmt: skip
    with pytest.raises(ConsoleUnavailable, match=r"already taken.*settings\.console\.listen"):
        await second.start()
    with pytest.raises(ConsoleUnavailable, match="not an IPv6 address"):
        ConsoleServer(build_console(
            console.desk, token=TOKEN, node="n", status_page_url=None, now=lambda: NOW,
        ), "[127.0.0.1]:1")  # fmt: skip


async def test_stop_frees_the_port() -> None:
    desk = ConsoleDesk(lambda: NOW)
    app = build_console(desk, token=TOKEN, node="n", status_page_url=None, now=lambda: NOW)
    server = ConsoleServer(app, "127.0.0.1:0")
    await server.start()
    port = int(server.url.rsplit(":", 1)[1].rstrip("/"))
    async with httpx.AsyncClient() as client:
        assert (await client.get(server.url)).status_code == 401
    await server.stop()
    assert server.url == f"http://127.0.0.1:{port}/"
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))  # free again
    await server.stop()  # a second stop does nothing


def _ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6(), reason="no IPv6 loopback on this machine")
async def test_it_listens_on_ipv6_loopback() -> None:
    desk = ConsoleDesk(lambda: NOW)
    app = build_console(desk, token=TOKEN, node="n", status_page_url=None, now=lambda: NOW)
    server = ConsoleServer(app, "[::1]:0")
    await server.start()
    try:
        assert server.url.startswith("http://[::1]:")
        async with httpx.AsyncClient() as client:
            response = await client.get(server.url, params={"token": TOKEN})
            assert response.status_code == 303
    finally:
        await server.stop()


async def test_wrong_tokens_are_throttled_but_a_logged_in_browser_goes_on(
    console: Console,
) -> None:
    async with console.client() as operator, console.client() as guesser:
        await log_in(operator)
        for attempt in range(10):
            refused = await guesser.get("/", params={"token": f"guess-{attempt}"})
            assert refused.status_code == 401
        blocked = await guesser.post("/login", data={"token": TOKEN})
        assert blocked.status_code == 429 and "réessayez dans une minute" in blocked.text
        assert "set-cookie" not in blocked.headers
        assert (await operator.get("/")).status_code == 200


async def test_a_fault_of_the_desk_is_a_guarded_500_and_one_log_line(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    async with console.client() as client:
        csrf = await log_in(client)
        console.desk.fault = RuntimeError("the desk's browser vanished")
        response = await client.post(f"/ouvrir/{WAITING}", data={"csrf": csrf})
        assert response.status_code == 500 and "Erreur de la console" in response.text
        assert_guarded(response)
        assert (await client.get("/")).status_code == 200  # the console goes on
    failures = [r for r in caplog.records if r.name == "monitor.console" and r.exc_info]
    assert [r.getMessage() for r in failures] == [f"console: POST /ouvrir/{WAITING} failed"]


async def test_leaving_forgets_the_login_and_the_name(console: Console) -> None:
    async with console.client() as client:
        csrf = await log_in(client)
        assert (await client.post("/sortir", data={"code": "1"})).status_code == 403
        left = await client.post("/sortir", data={"csrf": csrf})
        assert left.status_code == 200 and "Vous êtes sorti" in left.text
        assert 'console_login=""' in left.headers.get_list("set-cookie")[0]
        assert (await client.get("/")).status_code == 401
