"""What a site sends is the site's (issue 25): its bad redirects, addresses and charsets are
anomalies naming what it sent, never the monitor's own ``monitor_error/internal``.

Each case is a real page of a local site (tests/sitefixture.py) read by the real http engine.
Before the fix, the redirects raised httpx's ``InvalidURL`` (or an ``ExceptionGroup`` for a
port over 65535) and the charsets a ``LookupError``, each recorded as ``monitor_error``.
The charsets and Retry-After headers read as data: tests/unit/test_site_answer_reading.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from browsers import chromium_or_none
from checkrun import monitor, write_config
from helpers import migrated
from sitefixture import Reply, Site, redirect, serve

from monitor.errors import ProbeError
from monitor.probes.http import HttpEngine

NO_SLOT = "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous"


@pytest.fixture
def site() -> Iterator[Site]:
    with serve({}) as running:
        yield running


@pytest.fixture
async def engine() -> AsyncIterator[HttpEngine]:
    running = HttpEngine(user_agent="prefecture-monitor/test", timeout=5.0)
    yield running
    await running.aclose()


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("javascript:alert(1)", "scheme"),
        ("data:text/html,<h1>créneaux disponibles</h1>", "scheme"),
        ("mailto:rdv@prefecture.gouv.fr", "scheme"),
        ("about:blank", "scheme"),
        ("http://127.0.0.1:70000/booking", "malformed"),
        ("http://127.0.0.1:99999999999999999999/", "malformed"),
        ("http://[::1/booking", "malformed"),
    ],
)
async def test_a_redirect_nobody_can_follow_is_blocked_naming_what_the_site_sent(
    site: Site, engine: HttpEngine, location: str, why: str
) -> None:
    site.routes["/start"] = redirect(location)
    async with engine.session() as session:
        with pytest.raises(ProbeError) as raised:
            await session.open(site.url("/start"))
    assert raised.value.reason == "blocked"
    assert raised.value.detail.code == "destination_refused"
    assert raised.value.detail.args == {"url": location, "why": why}
    assert [r.path for r in site.received] == ["/start"]  # nothing sent after it


@pytest.mark.parametrize(
    ("action", "why"),
    [
        ("javascript:void(0)", "scheme"),
        ("mailto:rdv@prefecture.gouv.fr", "scheme"),
        ("http://127.0.0.1:70000/go", "malformed"),
        ("http://[::1/go", "malformed"),
    ],
)
async def test_a_form_whose_action_is_no_web_address_is_blocked(
    site: Site, engine: HttpEngine, action: str, why: str
) -> None:
    site.routes["/form"] = Reply(
        f'<form method=post action="{action}"><button id=go name=b value=1>Go</button></form>'
    )
    async with engine.session() as session:
        await session.open(site.url("/form"))
        with pytest.raises(ProbeError) as raised:
            await session.submit(button="#go")
    assert raised.value.reason == "blocked"
    assert raised.value.detail.args["why"] == why
    assert raised.value.detail.args["url"].startswith(action.split(":")[0])


async def test_a_link_or_base_that_is_no_address_does_nothing_as_in_a_browser(
    site: Site, engine: HttpEngine
) -> None:
    site.routes["/links"] = Reply(
        '<base href="http://[::1"><a id=bad href="http://127.0.0.1:70000/x">x</a>'
        '<a id=good href="/next">suite</a>'
    )
    site.routes["/next"] = Reply("<p>suite</p>")
    async with engine.session() as session:
        page = await session.open(site.url("/links"))
        assert await session.click("#bad") is page
        assert "suite" in (await session.click("#good")).html  # against the page's own URL


@pytest.mark.parametrize(
    ("content_type", "meta"),
    [
        ("text/html; charset=zlib_codec", ""),
        ("text/html; charset=base64", ""),
        ("text/html; charset=rot13", ""),
        ("text/html; charset=hex", ""),
        ("text/html; charset=idna", ""),
        ("text/html; charset=utf-7", ""),
        ("text/html; charset=unicode_escape", ""),
        ("text/html; charset=no-such-charset", ""),
        ("text/html", "<meta charset=base64>"),
        ("text/html", '<meta http-equiv="Content-Type" content="text/html; charset=zlib_codec">'),
        ("text/html", "<meta charset=uu_codec>"),
    ],
)
async def test_a_charset_that_is_no_text_encoding_is_ignored_as_browsers_do(
    site: Site, engine: HttpEngine, content_type: str, meta: str
) -> None:
    body = f"{meta}<p>{NO_SLOT}</p><p>préfecture</p>".encode()
    site.routes["/page"] = Reply(body, content_type=content_type)
    async with engine.session() as session:
        page = await session.open(site.url("/page"))
    assert NO_SLOT in page.html and "préfecture" in page.html  # read as UTF-8


# --- the whole probe, both engines: an anomaly, never monitor_error ------------------------

SITE_FAULTS = {
    "javascript": (redirect("javascript:alert(1)"), "blocked"),
    "mailto": (redirect("mailto:rdv@prefecture.gouv.fr"), "blocked"),
    "about": (redirect("about:blank"), "blocked"),
    "port": (redirect("http://127.0.0.1:70000/booking"), None),
    "zlib": (Reply(b"<p>x</p>", content_type="text/html; charset=zlib_codec"), None),
    "base64": (Reply(b"<meta charset=base64><p>x</p>", content_type="text/html"), None),
}


@pytest.mark.timeout(300)
def test_monitor_check_records_what_a_site_sends_as_the_sites_anomaly(tmp_path: Path) -> None:
    chromium = chromium_or_none()
    engines = ("http", "browser") if chromium else ("http",)
    routes = {f"/{name}/booking/create/1": reply for name, (reply, _) in SITE_FAULTS.items()}
    with serve(routes) as running:
        config = write_config(
            tmp_path / "prefectures.yaml",
            targets=[
                {
                    "id": f"{name}-{engine}",
                    "name": name,
                    "platform": "legacy-booking",
                    "url": running.url(f"/{name}/booking/create/1"),
                    "engine": engine,
                }
                for name in SITE_FAULTS
                for engine in engines
            ],
            database=migrated(tmp_path / "monitor.db"),
            evidence_dir=tmp_path / "evidence",
            probe_timeout="20s",
            chromium=chromium,
        )
        done = monitor("--config", str(config), "check", "--format", "json")
    assert done.code == 0, done.stderr
    assert "Traceback" not in done.stderr
    rows = {row["target"].split("/", 1)[1]: row for row in done.rows()}
    for name, (_reply, reason) in SITE_FAULTS.items():
        for engine in engines:
            row = rows[f"{name}-{engine}"]
            assert row["status"] == "anomaly", (name, engine, row["reason"], row["detail"])
            if reason is not None:
                assert row["reason"] == reason, (name, engine, row["detail"])
    for name in ("javascript", "port"):
        assert rows[f"{name}-http"]["detail_code"] == "destination_refused"
