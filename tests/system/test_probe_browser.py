"""The browser engine with a real Chromium against a real local server.

Skipped, with the reason shown, only when no Chromium can be found on the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from browsers import chromium_or_none
from playwright.async_api import async_playwright
from sitefixture import Received, Reply, Route, Site, redirect, serve, unused_port

from monitor.details import record_line
from monitor.errors import MonitorFault, ProbeError
from monitor.probes.base import ProbeEngine
from monitor.probes.browser import ENGINE_DISABLED_FEATURES, BrowserEngine

CHROMIUM = chromium_or_none()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (see monitor.probes.chromium)"),
    pytest.mark.timeout(60),
    pytest.mark.asyncio(loop_scope="module"),
]
USER_AGENT = "prefecture-monitor/test (+https://example.invalid)"

JS_PAGE = """<!doctype html><html><body><div id="app">chargement…</div><script>
document.getElementById('app').innerHTML = '<p class="rendered">Choisissez un créneau</p>';
fetch('/api/slots').then(r => r.json()).then(slots => {
  const table = document.createElement('table');
  for (const s of slots) table.innerHTML += '<tr><td class="free"><a>' + s + '</a></td></tr>';
  document.body.appendChild(table);
});
</script></body></html>"""

#: Content that arrives after load: by a fetch still in flight, by a fetch a timer starts.
LATE_PAGES = {
    "in_flight": "fetch('/api/late').then(r => r.text()).then(t => { show(t); });",
    "timer": "setTimeout(() => fetch('/api/slots').then(r => r.text()).then(show), 300);",
    "polling": "setInterval(() => fetch('/api/slots').then(r => r.text()).then(show), 100);",
}


def late_page(script: str) -> str:
    return (
        "<!doctype html><html><body><p id=late>aucun créneau</p><script>"
        "function show(t) { document.getElementById('late').textContent = t; }"
        f"window.addEventListener('load', () => {{ {script} }});</script></body></html>"
    )


FORM_PAGE = """<!doctype html><html><body>
<form id="search" action="/search"><input name="name" value="wrong form"></form>
<form id="FormBookingCreate" method="post" action="/posted">
  <input type="hidden" name="token" value="abc123">
  <label><input type="checkbox" name="condition" value="on"> J'accepte</label>
  <input type="text" name="name">
  <select name="planning"><option value="4411">Guichet 1</option>
    <option value="4412">Guichet 2</option></select>
  <input type="submit" name="nextButton" value="Effectuer une demande">
</form></body></html>"""


def echo_form(request: Received) -> Reply:
    pairs = "".join(f"<li>{name}={value}</li>" for name, value in request.form_pairs)
    return Reply(f"<h1>reçu</h1><ul id=posted>{pairs}</ul>")


def pages() -> dict[str, Route]:
    return {
        "/js": Reply(JS_PAGE),
        "/api/slots": Reply('["12/05 09:00", "12/05 09:30"]', content_type="application/json"),
        "/api/late": Reply("créneau du 12/05 (lent)", delay=0.8),
        **{f"/late/{name}": Reply(late_page(script)) for name, script in LATE_PAGES.items()},
        "/form": Reply(FORM_PAGE),
        "/posted": echo_form,
        "/a": redirect("/b"),
        "/b": redirect("/c", 301),
        "/c": Reply("<p id=end>fin</p>"),
        "/slow": Reply("<p>lent</p>", delay=0.4),
        "/very-slow": Reply("<p>trop lent</p>", delay=3),
        "/reset": Reply(reset=True),
        "/down": Reply("<h1>502 Bad Gateway</h1>", status=502),
        "/limited": Reply(
            "<h1>429 Too Many Requests</h1>", status=429, headers={"Retry-After": "120"}
        ),
        "/to-limited": redirect("/limited"),
        "/cookie": Reply("<p>cookie</p>", headers={"Set-Cookie": "SESSION=s1; Path=/"}),
        "/whoami": lambda r: Reply(f"<p id=c>{r.headers.get('cookie', 'none')}</p>"),
        "/links": Reply('<a id=next href="/c">suite</a><button id=js onclick="1">x</button>'),
        # A button enabled only after the step has given up on it: it must never be clicked.
        "/late-button": Reply(
            "<form action=/posted method=post><button id=late disabled>Go</button></form>"
            "<script>setTimeout(() => { document.getElementById('late').disabled = false; },"
            " 1500);</script>"
        ),
        "/broken-form": Reply('<form method=post action="/reset"><button id=go>Go</button></form>'),
    }


@pytest.fixture
def site() -> Iterator[Site]:
    with serve(pages()) as running:
        yield running


def make_engine(
    *, timeout: float = 5.0, max_contexts: int = 4, recycle_after: int = 200
) -> BrowserEngine:
    assert CHROMIUM is not None
    return BrowserEngine(
        executable_path=CHROMIUM,
        user_agent=USER_AGENT,
        timeout=timeout,
        max_contexts=max_contexts,
        recycle_after=recycle_after,
    )


# One Chromium shared by the tests that do not count launches or break the browser, as the
# daemon shares one: launching per test would make this file several times slower.
@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def engine() -> AsyncIterator[BrowserEngine]:
    engine = make_engine()
    yield engine
    await engine.aclose()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def impatient_engine() -> AsyncIterator[BrowserEngine]:
    """A shared engine whose requests time out after a second."""
    engine = make_engine(timeout=1.0)
    yield engine
    await engine.aclose()


@pytest_asyncio.fixture(loop_scope="module")
async def own_engine() -> AsyncIterator[BrowserEngine]:
    """An engine for this test alone, for tests that count launches or kill Chromium."""
    engine = make_engine()
    yield engine
    await engine.aclose()


def chromium_processes() -> set[int]:
    """Main Chromium processes descending from this Python process (not their helpers)."""
    parents: dict[int, int] = {}
    commands: dict[int, list[bytes]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])

    def descends_from_us(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == os.getpid():
                return True
        return False

    return {
        pid
        for pid, args in commands.items()
        if args
        and b"chrom" in Path(args[0].decode(errors="replace")).name.encode()
        # Helpers rewrite their command line as one string; any --type= marks a helper.
        and b"--type=" not in b" ".join(args)
        and descends_from_us(pid)
    }


def helper_command_lines(browser_pid: int) -> list[str]:
    """The command lines of the live processes under one main Chromium process."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found = []
    for pid in parents:
        ancestor = parents[pid]
        while ancestor > 1 and ancestor != browser_pid:
            ancestor = parents.get(ancestor, 0)
        if ancestor == browser_pid:
            with contextlib.suppress(OSError):
                cmdline = (Path("/proc") / str(pid) / "cmdline").read_bytes()
                found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def disabled_features(browser_pid: int) -> set[str]:
    """The features a Chromium runs with switched off, as it passes them to its helpers."""
    for line in helper_command_lines(browser_pid):
        switch = re.search(r"--disable-features=(\S+)", line)
        if "--type=" in line and switch:
            return set(switch.group(1).split(","))
    raise AssertionError(f"no helper of Chromium {browser_pid} says which features are off")


async def the_new_chromium(before: set[int]) -> int:
    """The main Chromium process started since ``before``.

    A helper just forked still has the main process's command line for a moment.
    """
    for _ in range(50):
        new = chromium_processes() - before
        if len(new) == 1:
            return new.pop()
        await asyncio.sleep(0.1)
    raise AssertionError(f"not one new Chromium but {sorted(new)}")


async def launch_and_find_pid(engine: BrowserEngine, site: Site) -> int:
    """Make ``engine`` launch its Chromium and return that process's id."""
    before = chromium_processes()
    async with engine.session() as session:
        await session.open(site.url("/c"))
    (pid,) = chromium_processes() - before
    return pid


async def test_it_satisfies_the_probe_engine_protocol() -> None:
    engine: ProbeEngine = make_engine()
    assert engine.kind == "browser"


async def test_it_shows_javascript_built_content_in_the_snapshot(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        page = await session.open(site.url("/js"))
    assert 'class="rendered"' in page.html
    assert page.html.count("<a>12/05") == 2  # slots filled in after an XHR
    assert (page.url, page.final_url, page.http_status) == (site.url("/js"), site.url("/js"), 200)


async def test_a_step_waits_for_the_fetch_its_page_started_at_load(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        page = await session.open(site.url("/late/in_flight"))
    assert "créneau du 12/05 (lent)" in page.html  # 0.8 s in flight, over the step's window


async def test_the_evidence_waits_for_a_fetch_a_timer_starts_after_load(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/late/timer"))
        final = await session.final_snapshot()
    assert "12/05 09:00" in final.html and "aucun créneau" not in final.html


async def test_a_page_that_never_stops_polling_is_read_as_it_is(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/late/polling"))
        final = await session.final_snapshot()
    assert "12/05 09:00" in final.html
    assert len(site.requests_to("/api/slots")) >= 3  # it kept polling while we waited


async def test_it_fills_and_posts_a_form_on_submit(site: Site, engine: BrowserEngine) -> None:
    async with engine.session() as session:
        await session.open(site.url("/form"))
        page = await session.submit(
            button="input[name=nextButton]",
            fields={"condition": "yes", "name": "Dupont", "planning": "Guichet 2"},
        )
    posted = site.requests_to("/posted")[0]
    assert posted.method == "POST"
    assert posted.form_pairs == [
        ("token", "abc123"),
        ("condition", "on"),
        ("name", "Dupont"),
        ("planning", "4412"),
        ("nextButton", "Effectuer une demande"),
    ]
    assert (page.final_url, page.http_status) == (site.url("/posted"), 200)
    assert "reçu" in page.html


async def test_fill_check_and_select_set_the_fields_a_click_then_posts(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/form"))
        await session.check("#FormBookingCreate input[name=condition]")
        await session.fill("#FormBookingCreate input[name=name]", "Martin")
        await session.select("select[name=planning]", "4412")
        page = await session.click("input[name=nextButton]")
    assert page.final_url == site.url("/posted")
    assert site.requests_to("/posted")[0].form == {
        "token": ["abc123"],
        "condition": ["on"],
        "name": ["Martin"],
        "planning": ["4412"],
        "nextButton": ["Effectuer une demande"],
    }


async def test_a_form_post_the_server_resets_is_a_connection_anomaly(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/broken-form"))
        with pytest.raises(ProbeError) as caught:
            await session.click("#go")
    assert caught.value.reason == "connection"
    assert "net::ERR_" in record_line(caught.value.detail)
    assert site.url("/reset") in record_line(caught.value.detail)


async def test_a_field_the_form_lacks_is_unrecognized(site: Site, engine: BrowserEngine) -> None:
    async with engine.session() as session:
        await session.open(site.url("/form"))
        with pytest.raises(ProbeError) as caught:
            await session.submit(button="input[name=nextButton]", fields={"captcha": "x"})
        assert caught.value.reason == "unrecognized"
        assert caught.value.detail.code == "no_field"
        assert caught.value.detail.args["name"] == "captcha"
        with pytest.raises(ProbeError, match="no option '9999'") as caught:
            await session.submit(button="input[name=nextButton]", fields={"planning": "9999"})
        assert caught.value.reason == "unrecognized"
    assert site.requests_to("/posted") == []


async def test_it_takes_a_full_page_png_screenshot(site: Site, engine: BrowserEngine) -> None:
    async with engine.session() as session:
        await session.open(site.url("/js"))
        final = await session.final_snapshot("desk-4411")
    assert final.screenshot is not None
    assert final.screenshot.startswith(b"\x89PNG\r\n\x1a\n")
    assert final.label == "desk-4411"
    assert "Choisissez un créneau" in final.html


async def test_no_probe_window_preloads_the_address_bar_popup(
    site: Site, own_engine: BrowserEngine
) -> None:
    # Since Chromium 151 every window (Playwright opens one per context, so per probe)
    # preloads chrome://omnibox-popup.top-chrome in a renderer of about 40 MiB; the engine's
    # --disable-features switches that off (bench/results/chromium-memory.md).
    browser_pid = await launch_and_find_pid(own_engine, site)
    async with own_engine.session() as one, own_engine.session() as two:
        await one.open(site.url("/c"))
        await two.open(site.url("/js"))
        assert own_engine._current is not None
        cdp = await own_engine._current.browser.new_browser_cdp_session()
        targets = (await cdp.send("Target.getTargets"))["targetInfos"]
        helpers = helper_command_lines(browser_pid)
    pages = sorted(t["url"] for t in targets if t["type"] == "page")
    assert pages == [site.url("/c"), site.url("/js")]
    assert not [t["url"] for t in targets if "omnibox-popup" in t["url"]]
    assert not [line for line in helpers if "--top-chrome-webui" in line]


async def test_its_disabled_features_still_cover_those_playwright_disables(
    site: Site, own_engine: BrowserEngine
) -> None:
    # Chromium keeps only the last --disable-features switch: the engine's replaces
    # Playwright's, so it must repeat every feature Playwright switches off (some keep
    # Playwright's request interception and plain-HTTP navigations working).
    before = chromium_processes()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            bare_pid = await the_new_chromium(before)
            page = await browser.new_page()
            await page.goto(site.url("/c"))
            by_playwright = disabled_features(bare_pid)
        finally:
            await browser.close()
    browser_pid = await launch_and_find_pid(own_engine, site)
    async with own_engine.session() as session:
        await session.open(site.url("/c"))
        by_the_engine = disabled_features(browser_pid)
    missing = by_playwright - by_the_engine
    assert not missing, f"add {sorted(missing)} to PLAYWRIGHT_DISABLED_FEATURES"
    assert set(ENGINE_DISABLED_FEATURES) <= by_the_engine


async def test_it_launches_chromium_once_for_five_sequential_sessions(
    site: Site, own_engine: BrowserEngine
) -> None:
    for _ in range(5):
        async with own_engine.session() as session:
            assert (await session.open(site.url("/c"))).http_status == 200
    assert own_engine.launch_count == 1
    assert own_engine.sessions_opened == 5
    assert own_engine.contexts_open == 0


async def test_it_launches_once_and_opens_at_most_two_contexts_for_six_concurrent_sessions(
    site: Site,
) -> None:
    engine = make_engine(max_contexts=2)

    async def probe() -> int | None:
        async with engine.session() as session:
            return (await session.open(site.url("/slow"))).http_status

    try:
        statuses = await asyncio.gather(*(probe() for _ in range(6)))
    finally:
        await engine.aclose()
    assert statuses == [200] * 6
    assert engine.launch_count == 1
    assert engine.peak_contexts == 2
    assert site.peak_in_flight <= 2
    assert len(site.requests_to("/slow")) == 6


async def test_it_relaunches_after_the_chromium_process_is_killed(
    site: Site, own_engine: BrowserEngine
) -> None:
    os.kill(await launch_and_find_pid(own_engine, site), signal.SIGKILL)
    async with own_engine.session() as session:
        assert (await session.open(site.url("/c"))).http_status == 200
    assert own_engine.launch_count == 2


async def test_it_relaunches_after_the_browser_is_closed_behind_its_back(
    site: Site, own_engine: BrowserEngine
) -> None:
    async with own_engine.session() as session:
        await session.open(site.url("/c"))
    assert own_engine._current is not None
    await own_engine._current.browser.close()
    async with own_engine.session() as session:
        assert (await session.open(site.url("/c"))).http_status == 200
    assert own_engine.launch_count == 2


async def test_a_probe_running_when_chromium_dies_is_a_browser_crash(
    site: Site, own_engine: BrowserEngine
) -> None:
    browser_pid = await launch_and_find_pid(own_engine, site)
    async with own_engine.session() as session:
        await session.open(site.url("/c"))
        os.kill(browser_pid, signal.SIGKILL)
        with pytest.raises(MonitorFault) as caught:
            await session.open(site.url("/c"))
    assert caught.value.reason == "browser_crash"
    assert own_engine.contexts_open == 0


async def test_it_closes_the_context_even_when_the_flow_raises(
    site: Site, engine: BrowserEngine
) -> None:
    with pytest.raises(RuntimeError, match="flow bug"):
        async with engine.session() as session:
            await session.open(site.url("/c"))
            raise RuntimeError("flow bug")
    assert engine.contexts_open == 0
    assert engine._current is not None
    assert engine._current.browser.contexts == []


async def test_it_recycles_the_browser_once_in_flight_sessions_end(
    site: Site,
) -> None:
    engine = make_engine(recycle_after=1)
    try:
        async with engine.session() as first:
            await first.open(site.url("/c"))
            assert engine._current is not None
            old_browser = engine._current.browser
            async with engine.session() as second:
                assert (await second.open(site.url("/c"))).http_status == 200
            assert engine.launch_count == 2
            # The retired browser still serves the probe that was using it.
            assert (await first.open(site.url("/b"))).http_status == 200
            assert old_browser.is_connected()
        assert not old_browser.is_connected()
    finally:
        await engine.aclose()


async def test_it_passes_navigations_redirects_and_form_posts_through_the_gate(
    site: Site, engine: BrowserEngine
) -> None:
    gated: list[str] = []

    async def gate(url: str) -> None:
        gated.append(url)

    async with engine.session(gate=gate) as session:
        page = await session.open(site.url("/a"))
        assert (page.url, page.final_url) == (site.url("/a"), site.url("/c"))
        await session.open(site.url("/form"))
        await session.submit(button="input[name=nextButton]")
        fetched = await session.fetch("/a")
    assert (fetched.url, fetched.final_url) == (site.url("/a"), site.url("/c"))
    a, b, c = site.url("/a"), site.url("/b"), site.url("/c")
    assert gated == [a, b, c, site.url("/form"), site.url("/posted"), a, b, c]


async def test_a_gate_that_raises_aborts_the_navigation_with_its_own_exception(
    site: Site, engine: BrowserEngine
) -> None:
    class Stop(Exception):
        pass

    async def gate(url: str) -> None:
        if url.endswith("/b"):
            raise Stop(url)

    async with engine.session(gate=gate) as session:
        with pytest.raises(Stop):
            await session.open(site.url("/a"))
    assert site.requests_to("/b") == []


async def test_time_spent_in_the_gate_does_not_count_against_the_timeout(
    site: Site, impatient_engine: BrowserEngine
) -> None:
    async def slow_gate(url: str) -> None:
        await asyncio.sleep(1.2)  # longer than the engine's whole request timeout

    async with impatient_engine.session(gate=slow_gate) as session:
        assert (await session.open(site.url("/form"))).http_status == 200
        page = await session.submit(button="input[name=nextButton]")
    assert (page.final_url, page.http_status) == (site.url("/posted"), 200)


async def test_it_maps_a_slow_page_to_a_timeout(
    site: Site, impatient_engine: BrowserEngine
) -> None:
    async with impatient_engine.session() as session:
        with pytest.raises(ProbeError) as caught:
            await session.open(site.url("/very-slow"))
    assert caught.value.reason == "timeout"
    assert site.url("/very-slow") in record_line(caught.value.detail)
    assert not isinstance(caught.value, MonitorFault)


async def test_it_maps_refused_and_reset_connections_to_connection(
    site: Site, engine: BrowserEngine
) -> None:
    refused = f"http://127.0.0.1:{unused_port()}/"
    async with engine.session() as session:
        with pytest.raises(ProbeError) as caught:
            await session.open(refused)
        assert caught.value.reason == "connection"
        assert "net::ERR_CONNECTION_REFUSED" in record_line(caught.value.detail)
        with pytest.raises(ProbeError) as caught:
            await session.open(site.url("/reset"))
        assert caught.value.reason == "connection"
        assert "net::ERR_" in record_line(caught.value.detail)
        with pytest.raises(ProbeError) as caught:
            await session.fetch(refused)
        assert caught.value.reason == "connection"


async def test_it_returns_a_502_page_as_a_snapshot(site: Site, engine: BrowserEngine) -> None:
    async with engine.session() as session:
        page = await session.open(site.url("/down"))
    assert page.http_status == 502
    assert "Bad Gateway" in page.html


async def test_it_keeps_the_retry_after_header_of_the_page_and_of_a_fetch(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        plain = await session.open(site.url("/c"))
        refused = await session.open(site.url("/to-limited"))  # behind a redirect
        final = await session.final_snapshot("desk")
        fetched = await session.fetch("/limited")
        again = await session.open(site.url("/c"))
    assert plain.retry_after is None
    assert (refused.url, refused.http_status, refused.retry_after) == (
        site.url("/to-limited"),
        429,
        "120",
    )
    assert final.retry_after == "120"
    assert (fetched.http_status, fetched.retry_after) == (429, "120")
    assert again.retry_after is None  # a header of the page before is not carried over


async def test_wait_for_is_unrecognized_when_the_selector_never_appears(
    site: Site, impatient_engine: BrowserEngine
) -> None:
    async with impatient_engine.session() as session:
        await session.open(site.url("/js"))
        assert "rendered" in (await session.wait_for("p.rendered")).html
        with pytest.raises(ProbeError) as caught:
            await session.wait_for("td.no-such-thing")
    assert caught.value.reason == "unrecognized"


async def test_clicking_follows_links_and_stays_put_on_script_buttons(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/links"))
        same = await session.click("#js")
        assert same.final_url == site.url("/links")
        page = await session.click("#next")
    assert (page.url, page.final_url, page.http_status) == (site.url("/c"), site.url("/c"), 200)


async def test_a_click_given_up_on_is_never_made_later(
    site: Site, impatient_engine: BrowserEngine
) -> None:
    async with impatient_engine.session() as session:
        await session.open(site.url("/late-button"))
        with pytest.raises(ProbeError) as caught:
            await session.click("#late")  # disabled for 1.5 s, the step's timeout is 1 s
        assert caught.value.reason == "timeout"
        await asyncio.sleep(1.5)  # the button is enabled meanwhile: no click may be pending
        still = await session.wait_for("#late")
    assert still.final_url == site.url("/late-button")
    assert site.requests_to("/posted") == []


async def test_fetch_shares_the_cookies_and_keeps_the_current_page(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        page = await session.open(site.url("/cookie"))
        fetched = await session.fetch("/whoami")
        assert session.current() == page
    assert "SESSION=s1" in fetched.html


async def test_it_sends_the_configured_user_agent_and_french_accept_language(
    site: Site, engine: BrowserEngine
) -> None:
    async with engine.session() as session:
        await session.open(site.url("/c"))
    headers = site.requests_to("/c")[0].headers
    assert headers["user-agent"] == USER_AGENT
    assert headers["accept-language"] == "fr-FR"
