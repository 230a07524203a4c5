"""The status page's "when slots appeared" picture in a real browser: Debian's Chromium
through Playwright, the site written by `monitor publish` from a real SQLite record and
served on 127.0.0.1. Counts checked against the recorded openings (placed by hand in local
time here, independently of monitor.reports.week_hours), screenshots at phone and desktop
widths, contrast of every shade, a hostile procedure name kept as text.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from helpers import Database, an_outcome, run, write_config

from monitor.domain import Event, EventKind, Outcome, Reason, TargetState

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

PARIS = ZoneInfo("Europe/Paris")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
PHONE, DESKTOP = 390, 1280
HOSTILE = 'Titre <script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
BUSY, QUIET, NEVER = "92/remise-titre", "92/naturalisation", "92/accueil"
MONDAY_08, TUESDAY_00, WEDNESDAY_14 = 8, 24, 2 * 24 + 14
THURSDAY_10, FRIDAY_17 = 3 * 24 + 10, 4 * 24 + 17


def weeks_ago(weeks: int, weekday: int, hour: int, minute: int) -> datetime:
    """The local moment ``weekday`` (0 = Monday) ``hour:minute`` of the week ``weeks`` ago."""
    today = datetime.now(PARIS).date()
    monday = today - timedelta(days=today.weekday(), weeks=weeks)
    day = monday + timedelta(days=weekday)
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)
    return local.astimezone(UTC)


@dataclass
class Recorded:
    openings: dict[str, list[datetime]]


def record(database: Database, outcome: Outcome, *, opened: bool = False) -> None:
    events = [Event(EventKind.SLOTS_OPENED, outcome.target, outcome.finished_at)] if opened else []
    state = TargetState(
        outcome.target,
        outcome.status,
        outcome.reason,
        since=outcome.started_at,
        last_probe_at=outcome.started_at,
    )
    database.repository.record_outcome(outcome, state, events, lambda _e: ())


def record_weeks(database: Database) -> Recorded:
    """BUSY: probed every weekday hour from 07h to 20h for five weeks; slots appearing on
    five Mondays at 08h (seen again at 08:40, gone by 09h), three Tuesdays at 00h, and
    cancellations on a Wednesday at 14h and two Thursdays at 10h; QUIET (the hostile name):
    one Friday at 17h; NEVER: probes only."""
    slots: dict[str, Any] = {"reason": Reason.SLOTS, "slot_count": 2}
    openings: dict[str, list[datetime]] = {BUSY: [], QUIET: []}
    moments: list[tuple[datetime, str, dict[str, Any], bool]] = []
    for week in range(1, 6):
        moments += [
            (weeks_ago(week, 0, 7, 30), BUSY, {}, False),
            (weeks_ago(week, 0, 8, 10), BUSY, slots, True),
            (weeks_ago(week, 0, 8, 40), BUSY, slots, False),
            (weeks_ago(week, 0, 9, 10), BUSY, {}, False),
            (weeks_ago(week, 2, 14, 0), BUSY, {}, False),
            (weeks_ago(week, 2, 14, 0), NEVER, {}, False),
        ]
        moments += [
            (weeks_ago(week, day, hour, 45), BUSY, {}, False)
            for day in range(5)
            for hour in range(7, 21)
        ]
        if week == 1:
            moments.append((weeks_ago(week, 2, 14, 20), BUSY, slots, True))
        if week <= 2:
            moments.append((weeks_ago(week, 3, 10, 15), BUSY, slots, True))
        if week <= 3:
            moments += [
                (weeks_ago(week, 1, 0, 20), BUSY, slots, True),
                (weeks_ago(week, 1, 0, 50), BUSY, {}, False),
            ]
    moments += [
        (weeks_ago(2, 4, 16, 0), QUIET, {}, False),
        (weeks_ago(2, 4, 17, 5), QUIET, slots, True),
        (weeks_ago(2, 4, 18, 0), QUIET, {}, False),
    ]
    for at, target, changes, opened in sorted(moments, key=lambda m: m[0]):
        record(database, an_outcome(target, at=at, **changes), opened=opened)
        if opened:
            openings[target].append(at)
    return Recorded(openings)


@pytest.fixture
def served(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[str, Recorded]]:
    recorded = record_weeks(database)
    targets = [
        {"id": "remise-titre", "name": "Remise de titre de séjour"},
        {"id": "naturalisation", "name": HOSTILE},
        {"id": "accueil", "name": "Accueil des étrangers"},
    ]
    config = write_config(
        tmp_path / "prefectures.yaml",
        targets=[
            {**t, "platform": "legacy-booking", "url": f"https://example.gouv.fr/b/{i}"}
            for i, t in enumerate(targets)
        ],
        database=database.url,
        prefecture="92",
        prefecture_name="Préfecture des Hauts-de-Seine",
        evidence_dir=str(database.evidence_dir),
    )
    out = tmp_path / "public"
    result = run(capsys, "--config", str(config), "publish", str(out))
    assert result.code == 0, result.err
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/targets/92/", recorded
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


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
    outside: list[str] = []

    def refuse(route: Any) -> None:
        outside.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), refuse)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()
    assert outside == []  # nothing from elsewhere


def local_week_hour(moment: datetime) -> int:
    local = moment.astimezone(PARIS)
    return local.weekday() * 24 + local.hour


def drawn(page: Any) -> dict[int, tuple[int, int, int, str]]:
    cells = page.eval_on_selector_all(
        "#week-table tbody td",
        "tds => tds.map(td => [Number(td.dataset.weekHour), Number(td.dataset.openings), "
        "Number(td.dataset.withSlots), Number(td.dataset.probes), td.className])",
    )
    return {index: (o, s, p, kind) for index, o, s, p, kind in cells}


def test_each_hour_of_the_week_shows_when_slots_appeared(
    served: tuple[str, Recorded], page: Any
) -> None:
    base, recorded = served
    page.goto(base + "remise-titre.html")
    assert page.locator("#week").inner_text() == "Quand des créneaux sont apparus"
    assert page.locator("#week-table tbody tr").count() == 7
    assert page.locator("#week-table thead th").count() == 24
    cells = drawn(page)
    assert sorted(cells) == list(range(168))
    expected: dict[int, int] = {}
    for moment in recorded.openings[BUSY]:
        expected[local_week_hour(moment)] = expected.get(local_week_hour(moment), 0) + 1
    assert expected == {MONDAY_08: 5, TUESDAY_00: 3, WEDNESDAY_14: 1, THURSDAY_10: 2}
    assert {index: cell[0] for index, cell in cells.items() if cell[0]} == expected
    # (openings, probes with slots, probes, shade): the busiest hour darkest
    assert cells[MONDAY_08] == (5, 10, 15, "l4")
    assert cells[TUESDAY_00] == (3, 3, 6, "l3")
    assert cells[THURSDAY_10] == (2, 2, 7, "l2")
    assert cells[WEDNESDAY_14] == (1, 1, 11, "l1")
    assert cells[MONDAY_08 - 1] == (0, 0, 10, "l0")  # probed, nothing appeared
    assert cells[MONDAY_08 - 2] == (0, 0, 0, "none")  # never probed
    assert cells[5 * 24 + 12] == (0, 0, 0, "none")  # Saturday noon
    # the number is printed in each cell with openings, and a text says it all for readers
    monday = page.locator(f'#week-table td[data-week-hour="{MONDAY_08}"]')
    assert monday.locator("[aria-hidden=true]").inner_text() == "5"
    assert monday.locator(".sr").text_content() == (
        "lundi 8 h–9 h : 5 apparition(s) ; 15 tentative(s), dont 10 avec créneaux"
    )
    summary = page.locator("#week-summary").inner_text()
    assert summary == (
        "Des créneaux sont apparus 11 fois ; le plus souvent : lundi 8 h–9 h (5), "
        "mardi 0 h–1 h (3), jeudi 10 h–11 h (2)."
    )
    assert page.evaluate("document.scripts.length") == 0

    page.goto(base + "accueil.html")
    assert page.locator("#week-table").count() == 0
    assert page.locator("#week-none").inner_text() == (
        "Aucun créneau n'est apparu sur les 90 derniers jours."
    )


def test_a_hostile_procedure_name_stays_text(served: tuple[str, Recorded], page: Any) -> None:
    base, recorded = served
    page.goto(base + "naturalisation.html")
    assert page.evaluate("window.pwned === undefined")
    caption = page.locator("#week-table caption").text_content()
    assert HOSTILE in caption
    assert page.locator("#week-table caption script, #week-table caption img").count() == 0
    (moment,) = recorded.openings[QUIET]
    assert local_week_hour(moment) == FRIDAY_17
    assert drawn(page)[FRIDAY_17][:2] == (1, 1)
    assert "vendredi 17 h–18 h (1)" in page.locator("#week-summary").inner_text()


def _luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    a, b = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_it_reads_on_a_phone_and_on_a_desktop(
    served: tuple[str, Recorded], page: Any, tmp_path: Path
) -> None:
    base, _recorded = served
    for width in (PHONE, DESKTOP):
        page.set_viewport_size({"width": width, "height": 844 if width == PHONE else 900})
        page.goto(base + "remise-titre.html")
        section = page.locator("section[aria-labelledby=week]")
        section.screenshot(path=str(tmp_path / f"week-{width}.png"))
        page.screenshot(path=str(tmp_path / f"target-{width}.png"), full_page=True)
        assert (tmp_path / f"week-{width}.png").stat().st_size > 5_000
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"the page is {overflow}px wide at {width}px"
        table = page.locator("#week-table").bounding_box()
        assert table["width"] <= width
        cell = page.locator(f'#week-table td[data-week-hour="{MONDAY_08}"]').bounding_box()
        assert cell["width"] >= 10 and cell["height"] >= 20  # a finger's worth, a digit's
        # the busiest hour's digit fits its cell
        fits = page.eval_on_selector(
            f'#week-table td[data-week-hour="{MONDAY_08}"] [aria-hidden=true]',
            "s => s.getBoundingClientRect().width <= s.parentElement.getBoundingClientRect().width",
        )
        assert fits
        labels = page.eval_on_selector_all(
            "#week-table thead th span",
            "ss => ss.filter(s => s.getBoundingClientRect().width > 2).map(s => s.textContent)",
        )
        assert {"0", "6", "12", "18"} <= set(labels)
    # every shade with a number: its text at least 4.5:1 on it (WCAG AA)
    shades = page.eval_on_selector_all(
        ".week-legend .swatch, #week-table td",
        "els => els.map(e => [e.className, getComputedStyle(e).color, "
        "getComputedStyle(e).backgroundColor])",
    )
    levels = {name: (colour, background) for name, colour, background in shades}
    assert {"none", "l0", "l1", "l2", "l3", "l4"} <= set(levels)
    for name in ("l1", "l2", "l3", "l4"):
        colour, background = levels[name]
        assert contrast(colour, background) >= 4.5, name
    page.emulate_media(media="print")
    assert page.pdf(format="A4").startswith(b"%PDF")
