"""Hostile pages: a booking page that sends the monitor to its own network is not followed.

The rule is a pure function (``refusal``), tested as a table in tests/unit/test_destinations.py.
The engines are tested here against a real local site reached through a *public-looking*
name, ``prefecture.test``, mapped to 127.0.0.1 (httpx: a patched resolver; Chromium:
``--host-resolver-rules``), whose pages redirect to loopback, private and non-http
addresses. Nothing is ever sent off loopback: the refused destination is refused before the
gate, and each test's gate raises on any host that is not loopback or ``prefecture.test``,
so a broken rule fails the test at the gate (which precedes every request in both engines)
instead of sending anything.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from browsers import chromium_or_none
from sitefixture import Reply, Site, redirect, serve

from monitor.details import record_line
from monitor.errors import ProbeError
from monitor.probes import browser as browser_module
from monitor.probes.browser import BrowserEngine
from monitor.probes.http import HttpEngine

USER_AGENT = "prefecture-monitor/test (+https://example.invalid)"
NAME = "prefecture.test"  #: a public-looking name the tests map to 127.0.0.1


# --- the engines ------------------------------------------------------------------------


def hostile_site_routes(port_holder: dict[str, int]) -> dict[str, Any]:
    """Pages that redirect to a loopback page of the same site, [::1], 10.x and file://."""

    def to_secret(_request: Any) -> Reply:
        return redirect(f"http://127.0.0.1:{port_holder['port']}/secret")

    def to_localhost(_request: Any) -> Reply:
        return redirect(f"http://localhost:{port_holder['port']}/secret")

    def to_ipv6(_request: Any) -> Reply:
        return redirect(f"http://[::1]:{port_holder['port']}/secret")

    return {
        "/to-loopback": to_secret,
        "/to-localhost": to_localhost,
        "/to-ipv6": to_ipv6,
        "/to-private": redirect("http://10.255.255.1/admin"),
        "/to-file": redirect("file:///etc/passwd"),
        "/to-ftp": redirect("ftp://127.0.0.1/"),
        "/hop": redirect("/to-loopback"),
        "/ok": Reply("<h1>Prendre rendez-vous</h1>"),
        "/secret": Reply("<h1>the admin page of the monitor's own network</h1>"),
        "/link": Reply('<a id="next" href="http://127.0.0.1:1/">suite</a>'),
    }


@pytest.fixture
def hostile() -> Iterator[Site]:
    holder: dict[str, int] = {}
    with serve(hostile_site_routes(holder)) as site:
        holder["port"] = site.port
        yield site


def public_url(site: Site, path: str) -> str:
    return f"http://{NAME}:{site.port}{path}"


async def loopback_only_gate(url: str) -> None:
    """The engines' gate precedes every request: refuse to send anything off loopback."""
    host = urlsplit(url).hostname
    if host not in {NAME, "127.0.0.1"}:
        raise AssertionError(f"the engine was about to request {url}")


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``prefecture.test`` resolves to 127.0.0.1 in this process; any other name fails."""
    real = socket.getaddrinfo
    looked_up: list[str] = []

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        looked_up.append(name)
        if name == NAME:
            return real("127.0.0.1", *args, **kwargs)
        if name in {"127.0.0.1", "localhost", "::1"}:
            return real(name, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"{name}: not resolved in tests")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


@pytest.fixture
async def http_engine() -> AsyncIterator[HttpEngine]:
    engine = HttpEngine(user_agent=USER_AGENT, timeout=5.0)
    yield engine
    await engine.aclose()


HOSTILE_PATHS = [
    ("/to-loopback", "internal", "/secret"),
    ("/to-localhost", "internal", "/secret"),
    ("/to-ipv6", "internal", "/secret"),
    ("/hop", "internal", "/secret"),
    ("/to-private", "internal", "/admin"),
    ("/to-file", "scheme", None),
    ("/to-ftp", "scheme", None),
]


@pytest.mark.parametrize(("path", "why", "never"), HOSTILE_PATHS)
async def test_the_http_engine_refuses_a_redirect_off_the_public_web(
    hostile: Site, http_engine: HttpEngine, resolver: list[str], path: str, why: str, never: str
) -> None:
    async with http_engine.session(gate=loopback_only_gate) as session:
        with pytest.raises(ProbeError) as raised:
            await session.open(public_url(hostile, path))
    assert raised.value.reason == "blocked"
    assert raised.value.detail.code == "destination_refused"
    assert raised.value.detail.args["why"] == why
    assert "10.255.255.1" not in resolver
    if never:
        assert hostile.requests_to(never) == []


async def test_the_http_engine_follows_a_public_target_to_its_own_pages(
    hostile: Site, http_engine: HttpEngine, resolver: list[str]
) -> None:
    async with http_engine.session(gate=loopback_only_gate) as session:
        page = await session.open(public_url(hostile, "/ok"))
    assert "Prendre rendez-vous" in page.html
    assert page.final_url == public_url(hostile, "/ok")


async def test_the_http_engine_refuses_a_link_to_an_internal_address(
    hostile: Site, http_engine: HttpEngine, resolver: list[str]
) -> None:
    async with http_engine.session(gate=loopback_only_gate) as session:
        await session.open(public_url(hostile, "/link"))
        with pytest.raises(ProbeError) as raised:
            await session.click("#next")
    assert raised.value.reason == "blocked"


async def test_the_http_engine_follows_an_internal_target_to_internal_addresses(
    hostile: Site, http_engine: HttpEngine
) -> None:
    # The imitation's case: the target's own host is loopback, so loopback is fine.
    async with http_engine.session() as session:
        page = await session.open(hostile.url("/to-loopback"))
    assert page.final_url == hostile.url("/secret")
    assert len(hostile.requests_to("/secret")) == 1


# --- the browser engine -------------------------------------------------------------------


CHROMIUM = chromium_or_none()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser_engine() -> AsyncIterator[BrowserEngine]:
    assert CHROMIUM is not None
    patch = pytest.MonkeyPatch()
    # Chromium resolves the public-looking name to loopback; IP literals are not mapped.
    patch.setattr(
        browser_module,
        "CHROMIUM_FLAGS",
        (*browser_module.CHROMIUM_FLAGS, f"--host-resolver-rules=MAP {NAME} 127.0.0.1"),
    )
    engine = BrowserEngine(executable_path=CHROMIUM, user_agent=USER_AGENT, timeout=10.0)
    try:
        yield engine
    finally:
        await engine.aclose()
        patch.undo()


@needs_chromium
@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("path", "why", "never"), HOSTILE_PATHS)
async def test_the_browser_engine_refuses_a_redirect_off_the_public_web(
    hostile: Site, browser_engine: BrowserEngine, path: str, why: str, never: str
) -> None:
    async with browser_engine.session(gate=loopback_only_gate) as session:
        with pytest.raises(ProbeError) as raised:
            await session.open(public_url(hostile, path))
    assert raised.value.reason == "blocked", record_line(raised.value.detail)
    assert raised.value.detail.code == "destination_refused"
    assert raised.value.detail.args["why"] == why
    if never:
        assert hostile.requests_to(never) == []


@needs_chromium
@pytest.mark.asyncio(loop_scope="module")
async def test_the_browser_engine_loads_a_public_target_and_refuses_an_internal_link(
    hostile: Site, browser_engine: BrowserEngine
) -> None:
    async with browser_engine.session(gate=loopback_only_gate) as session:
        page = await session.open(public_url(hostile, "/ok"))
        assert "Prendre rendez-vous" in page.html
        await session.open(public_url(hostile, "/link"))
        with pytest.raises(ProbeError) as raised:
            await session.click("#next")
        assert raised.value.reason == "blocked"
        with pytest.raises(ProbeError) as fetched:
            await session.fetch(f"http://127.0.0.1:{hostile.port}/secret")
        assert fetched.value.reason == "blocked"
    assert hostile.requests_to("/secret") == []


@needs_chromium
@pytest.mark.asyncio(loop_scope="module")
async def test_the_browser_engine_follows_an_internal_target_to_internal_addresses(
    hostile: Site, browser_engine: BrowserEngine
) -> None:
    async with browser_engine.session() as session:
        page = await session.open(hostile.url("/to-localhost"))
    assert urlsplit(page.final_url).path == "/secret"
