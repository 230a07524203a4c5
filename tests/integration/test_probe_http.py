"""The HTTP engine against a real local server: cookies, forms, redirects, gate, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from sitefixture import Received, Reply, Route, Site, redirect, serve, unused_port

from monitor.details import record_line
from monitor.errors import MonitorFault, ProbeError
from monitor.probes.base import ProbeEngine
from monitor.probes.forms import ParsedPage
from monitor.probes.http import HttpEngine

USER_AGENT = "prefecture-monitor/test (+https://example.invalid)"

BOOKING_FORM = """<!doctype html><html><body>
<form id="search" action="/search"><input name="q" value="x"><button>Chercher</button></form>
<form id="FormBookingCreate" method="post" action="/booking/create/1/1">
  <input type="hidden" name="token" value="abc123">
  <input type="checkbox" name="condition" id="condition" value="on">
  <input type="checkbox" name="newsletter" value="yes">
  <fieldset disabled><input name="locked" value="no"></fieldset>
  <select name="planning"><option value="4411">Guichet 1</option>
    <option value="4412">Guichet 2</option></select>
  <textarea name="note">bonjour</textarea>
  <input type="submit" name="nextButton" value="Effectuer une demande de rendez-vous">
  <input type="submit" name="other" value="Autre">
</form></body></html>"""


def cookie_pages() -> dict[str, Route]:
    def show(request: Received) -> Reply:
        return Reply(f"<p id=cookie>{request.headers.get('cookie', 'none')}</p>")

    return {
        "/set": Reply("<p>set</p>", headers={"Set-Cookie": "eZSESSID=s1; Path=/"}),
        "/show": show,
    }


@pytest.fixture
def site() -> Iterator[Site]:
    with serve() as running:
        yield running


@pytest.fixture
async def engine() -> AsyncIterator[HttpEngine]:
    engine = HttpEngine(user_agent=USER_AGENT, timeout=2.0)
    yield engine
    await engine.aclose()


def test_it_satisfies_the_probe_engine_protocol() -> None:
    engine: ProbeEngine = HttpEngine(user_agent=USER_AGENT, timeout=1)
    assert engine.kind == "http"


async def test_it_keeps_cookies_within_a_session_and_not_across_sessions(
    site: Site, engine: HttpEngine
) -> None:
    site.routes.update(cookie_pages())
    async with engine.session() as session:
        await session.open(site.url("/set"))
        shown = await session.open(site.url("/show"))
        assert "eZSESSID=s1" in shown.html
    async with engine.session() as session:
        shown = await session.open(site.url("/show"))
        assert "eZSESSID" not in shown.html
        assert "none" in shown.html


async def test_it_posts_hidden_fields_the_checked_box_and_the_pressed_button(
    site: Site, engine: HttpEngine
) -> None:
    site.routes["/booking/create/1"] = Reply(BOOKING_FORM)
    site.routes["/booking/create/1/1"] = Reply("<p>choix du guichet</p>")
    async with engine.session() as session:
        await session.open(site.url("/booking/create/1"))
        await session.select("select[name=planning]", "Guichet 2")
        page = await session.submit(
            button="input[name=nextButton]", fields={"condition": "on", "note": "merci"}
        )
    assert page.http_status == 200
    assert page.final_url == site.url("/booking/create/1/1")
    posted = site.requests_to("/booking/create/1/1")[0]
    assert posted.method == "POST"
    assert posted.headers["content-type"] == "application/x-www-form-urlencoded"
    assert posted.form_pairs == [
        ("token", "abc123"),
        ("condition", "on"),
        ("planning", "4412"),
        ("note", "merci"),
        ("nextButton", "Effectuer une demande de rendez-vous"),
    ]
    assert posted.headers["referer"] == site.url("/booking/create/1")


async def test_it_sends_values_set_by_fill_and_check_with_the_next_submit(
    site: Site, engine: HttpEngine
) -> None:
    site.routes["/form"] = Reply(BOOKING_FORM)
    async with engine.session() as session:
        await session.open(site.url("/form"))
        await session.check("#condition")
        await session.fill("textarea[name=note]", "à bientôt")
        await session.click("input[name=other]")
    posted = site.requests_to("/booking/create/1/1")[0].form
    assert posted["condition"] == ["on"]
    assert posted["note"] == ["à bientôt"]
    assert posted["other"] == ["Autre"]
    assert "nextButton" not in posted and "newsletter" not in posted and "locked" not in posted


async def test_it_sends_a_get_form_as_a_query_string(site: Site, engine: HttpEngine) -> None:
    site.routes["/form"] = Reply(BOOKING_FORM)
    site.routes["/search"] = Reply("<p>results</p>")
    async with engine.session() as session:
        await session.open(site.url("/form"))
        page = await session.submit(button="#search button", fields={"q": "titre de séjour"})
    assert page.url == site.url("/search?q=titre+de+s%C3%A9jour")
    assert site.requests_to("/search")[0].query == {"q": ["titre de séjour"]}


async def test_it_follows_redirects_and_passes_every_hop_through_the_gate(
    site: Site, engine: HttpEngine
) -> None:
    site.routes.update(
        {"/a": redirect("/b"), "/b": redirect("/c", 301), "/c": Reply("<p id=end>fin</p>")}
    )
    gated: list[str] = []

    async def gate(url: str) -> None:
        gated.append(url)

    async with engine.session(gate=gate) as session:
        page = await session.open(site.url("/a"))
    assert (page.url, page.final_url, page.http_status) == (site.url("/a"), site.url("/c"), 200)
    assert gated == [site.url("/a"), site.url("/b"), site.url("/c")]
    assert [r.path for r in site.received] == ["/a", "/b", "/c"]


async def test_a_gate_that_raises_aborts_before_anything_is_sent(
    site: Site, engine: HttpEngine
) -> None:
    async def refuse(url: str) -> None:
        raise ProbeError("blocked", f"gate closed for {url}")

    async with engine.session(gate=refuse) as session:
        with pytest.raises(ProbeError, match="gate closed"):
            await session.open(site.url("/a"))
    assert site.received == []


async def test_time_spent_in_the_gate_does_not_count_against_the_request_timeout(
    site: Site,
) -> None:
    site.routes["/"] = Reply("<p>ok</p>")

    async def slow_gate(url: str) -> None:
        await asyncio.sleep(0.6)  # longer than the engine's whole request timeout

    engine = HttpEngine(user_agent=USER_AGENT, timeout=0.5)
    async with engine.session(gate=slow_gate) as session:
        assert (await session.open(site.url("/"))).http_status == 200
    await engine.aclose()


async def test_it_reports_a_redirect_loop_as_http_error(site: Site, engine: HttpEngine) -> None:
    site.routes["/loop"] = redirect("/loop")
    async with engine.session() as session:
        with pytest.raises(ProbeError) as caught:
            await session.open(site.url("/loop"))
    assert caught.value.reason == "http_error"
    assert "redirects" in record_line(caught.value.detail)


async def test_it_maps_a_slow_answer_to_a_timeout(site: Site) -> None:
    site.routes["/slow"] = Reply("<p>late</p>", delay=2)
    engine = HttpEngine(user_agent=USER_AGENT, timeout=0.5)
    async with engine.session() as session:
        with pytest.raises(ProbeError) as caught:
            await session.open(site.url("/slow"))
    await engine.aclose()
    assert caught.value.reason == "timeout"
    assert f"127.0.0.1:{site.port}" in record_line(caught.value.detail)
    assert not isinstance(caught.value, MonitorFault)


async def test_it_maps_a_connection_reset_to_connection(site: Site, engine: HttpEngine) -> None:
    site.routes["/reset"] = Reply(reset=True)
    async with engine.session() as session:
        with pytest.raises(ProbeError) as caught:
            await session.open(site.url("/reset"))
    assert caught.value.reason == "connection"
    assert f"connection reset by 127.0.0.1:{site.port}" in record_line(caught.value.detail)
    assert caught.value.__cause__ is not None


async def test_it_maps_a_refused_port_to_connection(engine: HttpEngine) -> None:
    port = unused_port()
    async with engine.session() as session:
        with pytest.raises(ProbeError) as caught:
            await session.open(f"http://127.0.0.1:{port}/")
    assert caught.value.reason == "connection"
    assert f"connection refused by 127.0.0.1:{port}" in record_line(caught.value.detail)


async def test_it_returns_a_502_page_as_a_snapshot(site: Site, engine: HttpEngine) -> None:
    site.routes["/down"] = Reply("<h1>502 Bad Gateway</h1>", status=502)
    async with engine.session() as session:
        page = await session.open(site.url("/down"))
        final = await session.final_snapshot("desk-1")
    assert page.http_status == 502
    assert "Bad Gateway" in page.html
    assert (final.label, final.screenshot) == ("desk-1", None)


async def test_it_keeps_the_retry_after_header_as_sent(site: Site, engine: HttpEngine) -> None:
    limited = Reply("<h1>429 Too Many Requests</h1>", status=429, headers={"Retry-After": "120"})
    site.routes["/limited"] = limited
    site.routes["/to-limited"] = redirect("/limited")
    date = "Wed, 21 Oct 2026 07:28:00 GMT"
    site.routes["/busy"] = Reply("<h1>503</h1>", status=503, headers={"Retry-After": date})
    site.routes["/ok"] = Reply("<p>ok</p>")
    async with engine.session() as session:
        refused = await session.open(site.url("/to-limited"))
        final = await session.final_snapshot("desk")
        busy = await session.fetch("/busy")
        fine = await session.open(site.url("/ok"))
    assert (refused.url, refused.http_status, refused.retry_after) == (
        site.url("/to-limited"),
        429,
        "120",
    )
    assert final.retry_after == "120"
    assert (busy.http_status, busy.retry_after) == (503, date)
    assert fine.retry_after is None


async def test_it_sends_the_configured_user_agent_and_french_accept_language(
    site: Site, engine: HttpEngine
) -> None:
    site.routes["/"] = Reply("<p>ok</p>")
    async with engine.session() as session:
        await session.open(site.url("/"))
    headers = site.received[0].headers
    assert headers["user-agent"] == USER_AGENT
    assert headers["accept-language"] == "fr-FR,fr;q=0.9"


async def test_it_follows_a_link_when_clicking_it(site: Site, engine: HttpEngine) -> None:
    site.routes["/"] = Reply('<base href="/sub/"><div id=banner><a href="next?x=1">OK</a></div>')
    site.routes["/sub/next"] = Reply("<p>suite</p>")
    async with engine.session() as session:
        await session.open(site.url("/"))
        page = await session.click("#banner a")
    assert page.final_url == site.url("/sub/next?x=1")
    assert "suite" in page.html


async def test_clicking_a_javascript_only_button_leaves_the_page_as_it_is(
    site: Site, engine: HttpEngine
) -> None:
    site.routes["/"] = Reply('<button type=button id=accept onclick="hide()">OK</button>')
    async with engine.session() as session:
        before = await session.open(site.url("/"))
        assert await session.click("#accept") is before
    assert len(site.received) == 1


async def test_a_missing_element_is_unrecognized(site: Site, engine: HttpEngine) -> None:
    site.routes["/"] = Reply("<p>Le site a changé</p>")
    async with engine.session() as session:
        await session.open(site.url("/"))
        assert (await session.wait_for("p")).http_status == 200
        for attempt in (
            session.wait_for("td.free a"),
            session.submit(button="input[name=nextButton]"),
            session.check("#condition"),
        ):
            with pytest.raises(ProbeError) as caught:
                await attempt
            assert caught.value.reason == "unrecognized"


async def test_a_field_the_form_lacks_is_unrecognized(site: Site, engine: HttpEngine) -> None:
    site.routes["/form"] = Reply(BOOKING_FORM)
    async with engine.session() as session:
        await session.open(site.url("/form"))
        with pytest.raises(ProbeError, match="has no field 'captcha'") as caught:
            await session.submit(button="input[name=nextButton]", fields={"captcha": "x"})
        assert caught.value.reason == "unrecognized"
        # A desk the page no longer offers is a changed page too, not a value to post.
        with pytest.raises(ProbeError, match="no option '9999'") as caught:
            await session.submit(button="input[name=nextButton]", fields={"planning": "9999"})
        assert caught.value.reason == "unrecognized"
    assert site.requests_to("/booking/create/1/1") == []


async def test_it_fetches_without_changing_the_current_page(site: Site, engine: HttpEngine) -> None:
    site.routes.update(cookie_pages())
    site.routes["/api/slots"] = lambda r: Reply(
        '{"slots": []}', content_type="application/json", headers={}
    )
    async with engine.session() as session:
        page = await session.open(site.url("/set"))
        data = await session.fetch("/api/slots")
        assert session.current() is page
    assert data.html == '{"slots": []}'
    assert site.requests_to("/api/slots")[0].headers["cookie"] == "eZSESSID=s1"


async def test_it_decodes_the_declared_charset_and_replaces_undecodable_bytes(
    site: Site, engine: HttpEngine
) -> None:
    latin = "<p>Il n'existe plus de plage horaire libre pour votre demande de rendez-vous</p>"
    site.routes["/header"] = Reply(
        "<p>préfecture</p>".encode("latin-1"), content_type="text/html; charset=ISO-8859-1"
    )
    site.routes["/meta"] = Reply(
        ('<meta charset="windows-1252">' + latin + "<p>été</p>").encode("cp1252"),
        content_type="text/html",
    )
    site.routes["/broken"] = Reply(b"<p>caf\xe9</p>", content_type="text/html")
    async with engine.session() as session:
        assert "préfecture" in (await session.open(site.url("/header"))).html
        assert "été" in (await session.open(site.url("/meta"))).html
        assert "caf\ufffd" in (await session.open(site.url("/broken"))).html


def test_a_form_entry_list_follows_the_html_rules() -> None:
    html = """<form id=f method=post action="/go" enctype="multipart/form-data">
      <input name=a value=1><input type=radio name=r value=x checked>
      <input type=radio name=r value=y><select name=m multiple>
      <option selected>p</option><option value="">q</option><option selected value=z>r</option>
      </select><select name=s><option value="" disabled>--</option></select>
      <button name=b value=v formaction="other" formmethod="get">Go</button></form>
      <input form=f name=outside value=o><input name=stray value=no>"""
    page = ParsedPage(html, "http://example.test/dir/page?x=1#frag")
    posted = page.submission(button="button", fields={"r": "y"})
    assert posted.method == "GET"
    assert posted.url.startswith("http://example.test/dir/other?a=1&r=y&m=p&m=z")
    assert posted.entries == (
        ("a", "1"),
        ("r", "y"),
        ("m", "p"),
        ("m", "z"),
        ("b", "v"),
        ("outside", "o"),
    )
    no_action = ParsedPage("<form method=post><input type=image name=map></form>", page.url)
    submitted = no_action.submission(button="input")
    assert submitted.url == "http://example.test/dir/page?x=1"
    assert submitted.entries == (("map.x", "0"), ("map.y", "0"))


def test_identical_forms_and_buttons_are_told_apart() -> None:
    """Two forms with the same HTML are two forms, their buttons two buttons (selectolax's
    ``==`` compares the HTML: both forms' fields were sent, the button's name twice)."""
    form = "<form method=post action=/go><input name=a value=1><button name=b value=v>Go</button>"
    page = ParsedPage(form + "</form>" + form + "</form>", "http://x.test/")
    assert page.submission(button="button").entries == (("a", "1"), ("b", "v"))


def test_remembered_destinations_never_clear_a_refused_one() -> None:
    """The engine remembers the (target, URL) pairs the destination rules allowed."""
    from monitor.probes.http import _refused

    target = "https://www.example-pref.gouv.fr/booking/create/5001"
    for _ in range(2):  # the second time from memory
        assert _refused(target, target + "/1") is None
        assert _refused(target, target + "/" + "a" * 5000) is None  # too long to remember
        refused = _refused(target, "http://127.0.0.1:8080/admin")
        assert refused is not None
        assert (refused.code, refused.args["why"]) == ("destination_refused", "internal")
        assert _refused("http://127.0.0.1:8080/", "http://127.0.0.1:8080/admin") is None
