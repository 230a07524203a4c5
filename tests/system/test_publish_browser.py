"""The published site in a real browser: Debian's Chromium through Playwright, the site
served by a local HTTP server on 127.0.0.1, figures checked against the recorded rows.

Screenshots at phone (390 px) and desktop (1280 px) widths are saved in the test's
tmp_path. Nothing here touches the internet: the only server is the local one.
"""

from __future__ import annotations

import functools
import http.server
import itertools
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Database, run
from publishrig import (
    KnownSite,
    expected_anomaly_share,
    expected_days_without_slot,
    expected_hour_status,
    french_percent,
    record_known,
)

from monitor.domain import Status

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE, DESKTOP = 390, 1280
STATUS_TEXT = {
    "available": "créneaux disponibles",
    "unavailable": "pas de créneau",
    "anomaly": "anomalie du site",
    "none": "aucune tentative",
}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[str, KnownSite]]:
    """The known database published to tmp_path/public and served on 127.0.0.1."""
    known = record_known(database, tmp_path)
    out = tmp_path / "public"
    result = run(capsys, "--config", str(known.config_path), "publish", str(out))
    assert result.code == 0, result.err
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", known
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": DESKTOP, "height": 900})
    # Only the local server: any other request would be a bug (or the internet).
    context.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def visible_targets(page: Any) -> list[str]:
    return list(
        page.eval_on_selector_all(
            "#targets tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.dataset.target)"
        )
    )


def test_the_index_shows_every_target_with_its_status_and_leads_to_its_page(
    served: tuple[str, KnownSite], page: Any
) -> None:
    base, known = served
    page.goto(base)
    assert visible_targets(page) == [
        "92/remise-titre",
        "92/naturalisation",
        "75/titre",
        "75/jamais",
    ]
    for target in ("92/remise-titre", "92/naturalisation", "75/titre", "75/jamais"):
        rows = known.outcomes.get(target)
        status = "none" if rows is None else str(rows[-1].status)
        badge = page.locator(f'tr[data-target="{target}"] .status')
        assert badge.get_attribute("class") == f"status {status}"
        assert badge.inner_text() == STATUS_TEXT[status]
        if rows is not None:
            window = known.in_window(target)
            row = page.locator(f'tr[data-target="{target}"]')
            days = row.locator('[data-field="days_without_slot"]').inner_text()
            assert int(days) == expected_days_without_slot(window)
            share = row.locator('[data-field="anomaly_share"]').inner_text()
            assert share == french_percent(expected_anomaly_share(window))

    page.get_by_role("link", name="Remise de titre de séjour").click()
    page.wait_for_url("**/targets/92/remise-titre.html")
    assert "Remise de titre de séjour" in page.locator("h1").inner_text()
    window = known.in_window("92/remise-titre")
    assert page.locator('#summary [data-field="attempts"]').inner_text() == str(len(window))
    drawn = page.eval_on_selector_all(
        "svg.timeline g.cells rect",
        "rects => rects.map(r => [r.dataset.day, r.dataset.hours, r.dataset.status])",
    )
    hours = {}
    for day, span, status in drawn:
        first, last = (int(h) for h in span.split("-"))
        hours.update({(day, hour): status for hour in range(first, last + 1)})
    expected = expected_hour_status(window)
    assert {(d.isoformat(), h): s for (d, h), s in expected.items()} == {
        key: status for key, status in hours.items() if status != "none"
    }
    assert page.locator("svg.timeline").bounding_box()["width"] > 600

    page.goto(base + "targets/75/titre.html")
    loaded = page.eval_on_selector("img.screenshot", "img => img.complete && img.naturalWidth")
    assert loaded == 320  # the recorded PNG, served from the site


def test_the_index_filters_and_sorts_in_the_page(served: tuple[str, KnownSite], page: Any) -> None:
    base, known = served
    page.goto(base)
    page.get_by_label("Filtrer").fill("police")
    assert visible_targets(page) == ["75/titre", "75/jamais"]
    assert page.locator("#shown").inner_text() == "2"
    page.get_by_label("Filtrer").fill("")
    page.get_by_label("État").select_option("anomaly")
    assert visible_targets(page) == ["92/naturalisation"]
    page.get_by_label("État").select_option("")
    page.get_by_label("Filtrer").fill("92 titre")
    assert visible_targets(page) == ["92/remise-titre"]
    page.get_by_label("Filtrer").fill("")

    page.get_by_role("button", name=re.compile("Jours sans créneau")).click()
    days = {
        target: expected_days_without_slot(known.in_window(target)) for target in known.outcomes
    }
    # Targets with as many days are in the order of their ids, whichever way the sort goes.
    ascending = sorted(days, key=lambda target: (days[target], target))
    descending = sorted(days, key=lambda target: (-days[target], target))
    assert visible_targets(page) == ["75/jamais", *ascending]  # never probed sorts first
    page.get_by_role("button", name=re.compile("Jours sans créneau")).click()
    assert visible_targets(page) == [*descending, "75/jamais"]
    header = page.locator("th", has=page.get_by_role("button", name=re.compile("Jours sans")))
    assert header.get_attribute("aria-sort") == "descending"


def test_it_reads_on_a_phone_and_on_a_desktop(
    served: tuple[str, KnownSite], page: Any, tmp_path: Path
) -> None:
    base, _known = served
    for width in (PHONE, DESKTOP):
        page.set_viewport_size({"width": width, "height": 844 if width == PHONE else 900})
        for name, path in (("index", ""), ("target", "targets/92/remise-titre.html")):
            page.goto(base + path)
            shot = tmp_path / f"{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width, f"{name} is {overflow}px wide at {width}px"
            if name == "target":
                frame = page.locator(".chart-scroll").bounding_box()
                chart = page.locator("svg.timeline").bounding_box()
                assert frame["width"] <= width
                assert chart["width"] >= 600 and chart["height"] > 150  # readable: it scrolls
                # the latest day is in view without scrolling (the frame starts at its end)
                latest = page.locator("svg.timeline g.cells rect").last.bounding_box()
                assert 0 <= latest["x"] < width
    page.emulate_media(media="print")
    assert page.pdf(format="A4").startswith(b"%PDF")


def _luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """The WCAG 2 contrast ratio of two CSS rgb() colours."""
    a, b = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_it_meets_basic_accessibility(served: tuple[str, KnownSite], page: Any) -> None:
    base, _known = served
    for path in ("", "targets/92/remise-titre.html", "targets/75/titre.html", "data.html"):
        page.goto(base + path)
        assert page.locator("html").get_attribute("lang") == "fr"
        assert page.title()
        levels = page.eval_on_selector_all(
            "h1, h2, h3, h4", "hs => hs.map(h => Number(h.tagName[1]))"
        )
        assert levels[0] == 1 and levels.count(1) == 1, path
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), path
        alts = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.getAttribute('alt'))")
        assert all(alt and alt.strip() for alt in alts), path
        unlabelled = page.eval_on_selector_all(
            "input, select", "els => els.filter(e => !e.labels || !e.labels.length).length"
        )
        assert unlabelled == 0, path
    page.goto(base + "targets/92/remise-titre.html")
    assert page.locator("svg.timeline").get_attribute("role") == "img"
    assert page.locator("svg.timeline > title").text_content()

    # every status badge: its text against its background, AA for normal text
    page.goto(base)
    badges = page.eval_on_selector_all(
        ".status",
        "els => els.map(e => [e.className, getComputedStyle(e).color, "
        "getComputedStyle(e).backgroundColor])",
    )
    assert {name.split()[1] for name, _, _ in badges} == {
        "available", "unavailable", "anomaly", "none"
    }  # fmt: skip
    for name, colour, background in badges:
        assert contrast(colour, background) >= 4.5, name
    # the chart's marks against the page, WCAG 1.4.11 (non-text contrast)
    page.goto(base + "targets/92/remise-titre.html")
    fills = page.eval_on_selector_all(
        "svg.timeline g.legend rect", "rs => rs.map(r => getComputedStyle(r).fill)"
    )
    page_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    strong = fills[:4]  # the four statuses; the fifth is "no attempt"
    assert len(fills) == 5
    for fill in strong:
        assert contrast(fill, page_background) >= 3.0, fill
        assert contrast(fill, "rgb(255, 255, 255)") >= 4.5, f"white on {fill}"


def test_what_a_page_said_never_runs_as_a_script(served: tuple[str, KnownSite], page: Any) -> None:
    base, _known = served
    page.goto(base + "targets/92/naturalisation.html")
    assert page.evaluate("window.pwned === undefined")
    assert "<script>window.pwned=1</script>" in page.locator("#last-message").inner_text()
    assert page.locator("#last-message script, #last-message img").count() == 0
    assert Status.ANOMALY.value == page.locator("#current-status").get_attribute("data-status")
