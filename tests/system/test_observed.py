"""No status outlives its evidence (issue 25): a target whose site has given no outcome for
two of its intervals (only ``monitor_error``, or nothing) is shown "not observed since …" by
``monitor status`` (table and machine formats) and the published page, never its last status
as if current.

The issue's scenario: slots were seen, then the site only produced ``monitor_error``; before
the fix ``status`` and the public page kept showing "créneaux disponibles" indefinitely. The
outcomes are recorded through the real repository with the real alert policy's states.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import Database, an_outcome, run
from selectolax.lexbor import LexborHTMLParser

from monitor.alerts.policy import AlertPolicy, apply_outcome
from monitor.domain import Outcome, Reason, Status

#: The issue's target: slots an hour ago, only monitor errors since.
STALE = "92/titre"
#: Slots 15 minutes ago, a monitor error since: still within two intervals.
FRESH = "92/frais"
#: Nothing but monitor errors, ever.
BROKEN = "92/casse"
PARIS_FORMAT = "%d/%m/%Y %H:%M"


def monitor_error(target: str, at: datetime) -> Outcome:
    return an_outcome(
        target, at, Reason.INTERNAL, detail="unexpected LookupError while reading the page"
    )


def record_with_policy(database: Database, outcomes: list[Outcome], seeded_at: datetime) -> None:
    """Store each outcome with the state and events the real alert policy gives."""
    for outcome in outcomes:
        database.repository.record_probe(
            outcome,
            lambda state, o=outcome: apply_outcome(state, o, policy=AlertPolicy(), now=seeded_at),
            lambda _event: (),
            now=seeded_at,
        )


@pytest.fixture
def seeded_at() -> datetime:
    """The time the commands' outcomes are seeded around: the real clock when the test
    runs (the commands read it), not when the module was imported, minutes earlier."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


@pytest.fixture
def config(database: Database, tmp_path: Path, seeded_at: datetime) -> Path:
    slots = {"slot_count": 3, "earliest_slot": seeded_at + timedelta(days=12)}
    stale = [an_outcome(STALE, seeded_at - timedelta(minutes=60), Reason.SLOTS, **slots)]
    stale += [monitor_error(STALE, seeded_at - timedelta(minutes=m)) for m in (50, 40, 30, 20, 10)]
    fresh = [
        an_outcome(FRESH, seeded_at - timedelta(minutes=15), Reason.SLOTS, **slots),
        monitor_error(FRESH, seeded_at - timedelta(minutes=5)),
    ]
    broken = [monitor_error(BROKEN, seeded_at - timedelta(minutes=m)) for m in (30, 20, 10)]
    record_with_policy(database, stale + fresh + broken, seeded_at)
    document: dict[str, Any] = {
        "version": 1,
        "settings": {
            "database": database.url,
            "evidence_dir": str(database.evidence_dir),
            "connectivity_check": [],
            "schedule": {"interval": "10m"},
        },
        "prefectures": [
            {
                "id": "92",
                "name": "Préfecture des Hauts-de-Seine",
                "targets": [
                    {
                        "id": local,
                        "name": f"Démarche {local}",
                        "platform": "legacy-booking",
                        "url": f"https://www.example-prefecture.gouv.fr/booking/create/{local}",
                    }
                    for local in ("titre", "frais", "casse")
                ],
            }
        ],
    }
    path = tmp_path / "prefectures.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    return path


def test_status_json_says_since_when_the_site_is_not_observed(
    config: Path, capsys: pytest.CaptureFixture[str], seeded_at: datetime
) -> None:
    result = run(capsys, "--config", str(config), "status", "--format", "json")
    assert result.code == 0, result.err
    rows = {row["target"]: row for row in json.loads(result.out)}
    stale = rows[STALE]
    assert stale["status"] is None and stale["reason"] is None  # not "available"
    assert stale["observed"] is False
    assert stale["not_observed_since"] == (seeded_at - timedelta(minutes=60)).isoformat()
    assert stale["since"] == stale["not_observed_since"]
    assert (stale["last_status"], stale["last_reason"]) == ("available", "slots")
    assert stale["last_probe"] == (seeded_at - timedelta(minutes=10)).isoformat()
    assert stale["streak"] == 0  # no current status, no streak of it
    fresh = rows[FRESH]
    assert (fresh["status"], fresh["observed"], fresh["not_observed_since"]) == (
        "available",
        True,
        None,
    )
    broken = rows[BROKEN]
    assert broken["status"] is None and broken["observed"] is False
    assert broken["not_observed_since"] is None and broken["last_status"] is None


def test_status_table_says_not_observed_rather_than_the_last_status(
    config: Path, capsys: pytest.CaptureFixture[str], seeded_at: datetime
) -> None:
    result = run(capsys, "--config", str(config), "status")
    assert result.code == 0, result.err
    lines = {line.split()[0]: line for line in result.out.splitlines() if line.startswith("92/")}
    assert "not observed" in lines[STALE] and "available" not in lines[STALE]
    local = (seeded_at - timedelta(minutes=60)).astimezone(_paris()).strftime("%Y-%m-%d %H:%M:%S")
    assert local in lines[STALE]  # since when
    assert "available" in lines[FRESH] and "not observed" not in lines[FRESH]
    assert "never observed" in lines[BROKEN]


def _paris() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Paris")


@pytest.fixture
def published(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Path]:
    out = tmp_path / "public"
    result = run(capsys, "--config", str(config), "publish", str(out))
    assert result.code == 0, result.err
    yield out


def test_the_public_page_says_not_observed_since_and_never_slots_available(
    published: Path, seeded_at: datetime
) -> None:
    index = LexborHTMLParser((published / "index.html").read_text(encoding="utf-8"))
    row = index.css_first(f'tr[data-target="{STALE}"]')
    assert row is not None
    assert row.attributes["data-status"] == "not_observed"
    status_cell, since_cell = row.css("td")[2], row.css("td")[3]
    assert status_cell.text(strip=True) == "non observée"
    since = (seeded_at - timedelta(minutes=60)).astimezone(_paris()).strftime(PARIS_FORMAT)
    assert since_cell.text(strip=True) == since
    fresh = index.css_first(f'tr[data-target="{FRESH}"]')
    assert fresh is not None and fresh.attributes["data-status"] == "available"
    broken = index.css_first(f'tr[data-target="{BROKEN}"]')
    assert broken is not None and broken.attributes["data-status"] == "not_observed"

    page = LexborHTMLParser(
        (published / "targets" / "92" / "titre.html").read_text(encoding="utf-8")
    )
    current = page.css_first("#current-status")
    assert current is not None and current.text(strip=True) == "non observée"
    now_section = page.css_first('section[aria-labelledby="now"]')
    assert now_section is not None
    assert "créneaux disponibles" not in now_section.text().lower()
    observed = page.css_first("#not-observed-since")
    assert observed is not None and since in observed.text()
    assert Status.AVAILABLE.value not in (current.attributes.get("data-status") or "")


@pytest.mark.browser
def test_the_public_page_renders_not_observed_in_chromium(
    published: Path, chromium_path: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
                "file://") else route.abort())  # fmt: skip
            tab.goto((published / "targets" / "92" / "titre.html").resolve().as_uri())
            badge = tab.locator("#current-status")
            assert badge.inner_text() == "non observée"
            assert badge.is_visible()
            assert "Non observée depuis le" in tab.locator("dl.facts").inner_text()
            tab.screenshot(path=str(tmp_path / "not-observed-target.png"), full_page=True)
            tab.goto((published / "index.html").resolve().as_uri())
            assert tab.locator(f'tr[data-target="{STALE}"] .status').inner_text() == (
                "non observée"
            )
            tab.screenshot(path=str(tmp_path / "not-observed-index.png"), full_page=True)
        finally:
            browser.close()


def test_the_open_data_says_not_observed_since_never_the_last_status(
    published: Path, seeded_at: datetime
) -> None:
    document = json.loads((published / "data" / "current.json").read_text(encoding="utf-8"))
    rows = {row["target"]: row for row in document["rows"]}
    last_site = (seeded_at - timedelta(minutes=60)).isoformat(timespec="seconds")
    assert rows[STALE]["status"] == "not_observed" and rows[STALE]["reason"] is None
    assert rows[STALE]["observed"] is False
    assert rows[STALE]["not_observed_since"] == rows[STALE]["since"] == last_site
    assert rows[STALE]["last_slot_seen"] == last_site  # a fact of the past, dated
    assert (rows[FRESH]["status"], rows[FRESH]["reason"], rows[FRESH]["observed"]) == (
        "available",
        "slots",
        True,
    )
    assert rows[BROKEN]["status"] == "not_observed" and rows[BROKEN]["since"] is None
    assert [f["name"] for f in document["fields"]] == list(rows[STALE])
    with (published / "data" / "current.csv").open(encoding="utf-8", newline="") as file:
        table = {row["target"]: row for row in csv.DictReader(file)}
    assert table[STALE]["status"] == "not_observed" and table[STALE]["reason"] == ""
    assert table[STALE]["observed"] == "false"
    assert table[STALE]["not_observed_since"] == last_site
    assert table[FRESH]["status"] == "available"
