"""`monitor publish`: the static status page and open data, from a database of known rows.

Every figure is checked against values computed per attempt in tests/publishrig.py from
the outcomes recorded through the real repository. The browser checks are in
test_publish_browser.py; the daemon's regeneration in test_publish_daemon.py.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import threading
import time
from pathlib import Path

import pytest
from helpers import Database, an_outcome, run
from publishrig import (
    HOSTILE,
    NOW,
    PARIS,
    KnownSite,
    expected_anomaly_share,
    expected_days_without_slot,
    expected_hour_status,
    french_percent,
    local_day,
    record_known,
)
from selectolax.parser import HTMLParser

from monitor.domain import Reason, Status
from monitor.publish.refresh import SiteRefresher


@pytest.fixture
def known(database: Database, tmp_path: Path) -> KnownSite:
    return record_known(database, tmp_path)


@pytest.fixture
def site(known: KnownSite, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    out = tmp_path / "public"
    result = run(capsys, "--config", str(known.config_path), "publish", str(out))
    assert result.code == 0, result.err
    assert "published 4 targets" in result.out
    return out


def html(path: Path) -> HTMLParser:
    return HTMLParser(path.read_text(encoding="utf-8"))


def index_rows(out: Path) -> dict[str, dict[str, str]]:
    rows = {}
    for row in html(out / "index.html").css("#targets tbody tr"):
        cells = {
            cell.attributes.get("data-field") or str(n): cell.text(strip=True)
            for n, cell in enumerate(row.css("td"))
        }
        cells["status"] = row.attributes["data-status"] or ""
        cells["href"] = row.css_first("a").attributes["href"] or ""
        rows[row.attributes["data-target"] or ""] = cells
    return rows


def drawn_hours(page: HTMLParser) -> dict[tuple[str, int], str]:
    """The chart's status of every (day, hour), each hour drawn exactly once."""
    drawn: dict[tuple[str, int], str] = {}
    for rect in page.css("svg.timeline g.cells rect"):
        first, last = (int(h) for h in (rect.attributes["data-hours"] or "").split("-"))
        for hour in range(first, last + 1):
            key = (rect.attributes["data-day"] or "", hour)
            assert key not in drawn, f"hour {key} drawn twice"
            drawn[key] = rect.attributes["data-status"] or ""
    return drawn


def test_it_lists_every_configured_target_with_its_current_status(
    site: Path, known: KnownSite
) -> None:
    rows = index_rows(site)
    assert list(rows) == ["92/remise-titre", "92/naturalisation", "75/titre", "75/jamais"]
    for target, outcomes in known.outcomes.items():
        assert rows[target]["status"] == str(outcomes[-1].status)
    assert rows["75/jamais"]["status"] == "none"
    assert rows["75/jamais"]["days_without_slot"] == "—"
    for target, row in rows.items():
        prefecture, local = target.split("/")
        assert row["href"] == f"targets/{prefecture}/{local}.html"
        assert (site / row["href"]).is_file()


def test_it_counts_days_without_slot_and_the_share_of_anomalies_over_90_days(
    site: Path, known: KnownSite
) -> None:
    rows = index_rows(site)
    for target in known.outcomes:
        window = known.in_window(target)
        assert int(rows[target]["days_without_slot"]) == expected_days_without_slot(window)
        assert rows[target]["anomaly_share"] == french_percent(expected_anomaly_share(window))
    # the slot 100 days ago is outside the window: it changes neither figure
    assert len(known.outcomes["92/remise-titre"]) == len(known.in_window("92/remise-titre")) + 1


def test_it_shows_since_when_and_the_last_slot_in_local_time(site: Path, known: KnownSite) -> None:
    page = html(site / "targets/92/remise-titre.html")
    outcomes = known.outcomes["92/remise-titre"]
    last_slot = max(o.started_at for o in outcomes if o.status is Status.AVAILABLE)
    shown = page.css_first("#last-slot time")
    assert shown.attributes["datetime"] == last_slot.isoformat(timespec="seconds")
    assert shown.text() == last_slot.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def test_it_draws_every_hour_of_90_days_with_its_status(site: Path, known: KnownSite) -> None:
    for target in ("92/remise-titre", "92/naturalisation", "75/titre", "75/jamais"):
        prefecture, local = target.split("/")
        drawn = drawn_hours(html(site / f"targets/{prefecture}/{local}.html"))
        assert len(drawn) == 90 * 24
        expected = {
            (day.isoformat(), hour): status
            for (day, hour), status in expected_hour_status(known.in_window(target)).items()
        }
        assert {key: drawn[key] for key in expected} == expected
        assert all(status == "none" for key, status in drawn.items() if key not in expected)


def test_it_lists_anomaly_periods_between_healthy_outcomes_with_their_reasons(
    site: Path,
) -> None:
    page = html(site / "targets/92/remise-titre.html")
    periods = [
        (row.attributes["data-attempts"], row.css("td")[-1].text())
        for row in page.css("#period-table tbody tr")
    ]
    # newest first; the monitor's own fault (network_down) neither ends nor joins a period
    assert periods == [
        ("3", "le site ne répond pas à temps (3)"),
        ("4", "le site est surchargé (3); le site renvoie une erreur (1)"),
        ("1", "l'accès est refusé ou limité (1)"),
    ]
    ongoing = html(site / "targets/92/naturalisation.html").css("#period-table tbody tr")
    assert len(ongoing) == 1
    assert ongoing[0].attributes["data-attempts"] == "14"
    assert "en cours" in ongoing[0].text()


def test_it_gives_la_cimades_buckets(site: Path, known: KnownSite) -> None:
    page = html(site / "targets/92/remise-titre.html")
    buckets = {
        cell.attributes["data-bucket"]: int(cell.text()) for cell in page.css("[data-bucket]")
    }
    window = known.in_window("92/remise-titre")
    assert buckets == {
        "at_least_two_dates_within_a_month": 1,
        "one_date_within_a_month": 0,
        "first_date_in_one_to_two_months": 1,
        "first_date_beyond_two_months": 0,
        "no_date": sum(o.status is Status.UNAVAILABLE for o in window),
    }


def test_it_writes_what_pages_said_as_text_never_as_markup(site: Path) -> None:
    source = (site / "targets/92/naturalisation.html").read_text(encoding="utf-8")
    assert "<script>window.pwned" not in source and "<img src=x" not in source
    assert html(site / "targets/92/naturalisation.html").css_first("#last-message").text() == (
        HOSTILE
    )
    assert "Naturalisation &lt;b&gt;décret&lt;/b&gt;" in source


def test_it_publishes_the_latest_screenshot_with_an_alt_text(site: Path, known: KnownSite) -> None:
    page = html(site / "targets/75/titre.html")
    image = page.css_first("img.screenshot")
    shot = next(p for p in known.outcomes["75/titre"][-1].evidence if p.endswith(".png"))
    assert image.attributes["src"] == f"../../shots/{Path(shot).name}"
    assert (site / "shots" / Path(shot).name).read_bytes() == (
        Path(os.getcwd()) / "var/evidence" / shot
    ).read_bytes()
    assert "Titre de séjour" in (image.attributes["alt"] or "")
    assert html(site / "targets/92/remise-titre.html").css_first("img.screenshot") is None


def test_it_writes_daily_open_data_per_target_and_departement(site: Path, known: KnownSite) -> None:
    window = known.in_window("92/remise-titre")
    with (site / "data/targets/92/remise-titre.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    per_day: dict[str, list[Status]] = {}
    for outcome in window:
        per_day.setdefault(local_day(outcome).isoformat(), []).append(outcome.status)
    assert [row["date"] for row in rows] == sorted(per_day)
    for row in rows:
        statuses = per_day[row["date"]]
        assert int(row["attempts"]) == len(statuses)
        for status in Status:
            assert int(row[str(status)]) == statuses.count(status)
        assert row["slot_seen"] == ("true" if Status.AVAILABLE in statuses else "false")
    assert sum(int(row["reason_overloaded"]) for row in rows) == 3
    departement = json.loads((site / "data/departements/92.json").read_text(encoding="utf-8"))
    assert departement["licence"] == "Licence Ouverte 2.0 (test)"
    targets = {row["target"] for row in departement["rows"]}
    assert targets == {"92/remise-titre", "92/naturalisation"}
    everything = json.loads((site / "data/all.json").read_text(encoding="utf-8"))
    assert len(everything["rows"]) == sum(
        len({local_day(o) for o in known.in_window(t)}) for t in known.outcomes
    )
    schema = json.loads((site / "data/schema.json").read_text(encoding="utf-8"))
    assert [field["name"] for field in schema["fields"]] == list(rows[0])


def test_its_open_data_holds_no_url_detail_or_secret(site: Path) -> None:
    files = [file for file in (site / "data").rglob("*") if file.is_file()]
    assert files  # else nothing below is checked
    for file in files:
        text = file.read_text(encoding="utf-8")
        assert "s3cret" not in text and "://" not in text and "pwned" not in text, file


def test_it_writes_english_with_language_en(
    known: KnownSite, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "en"
    result = run(
        capsys, "--config", str(known.config_path), "publish", str(out), "--language", "en"
    )
    assert result.code == 0, result.err
    page = html(out / "index.html")
    assert page.css_first("html").attributes["lang"] == "en"
    assert "site anomaly" in page.text()
    share = expected_anomaly_share(known.in_window("92/naturalisation"))
    assert index_rows(out)["92/naturalisation"]["anomaly_share"] == f"{share * 100:.1f} %"


def test_it_switches_the_whole_site_at_once_and_keeps_the_previous_generation(
    known: KnownSite, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "public"
    generations = []
    for _ in range(3):
        assert run(capsys, "--config", str(known.config_path), "publish", str(out)).code == 0
        assert out.is_symlink()
        generations.append(out.resolve())
    assert len(set(generations)) == 3
    left = sorted(p.name for p in tmp_path.glob(".public.*"))
    assert left == sorted(g.name for g in generations[1:])  # current and the one before
    assert (out / "index.html").is_file()


def test_it_refuses_a_directory_it_did_not_make(
    known: KnownSite, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = run(capsys, "--config", str(known.config_path), "publish", str(tmp_path / "mine"))
    assert result.code == 2 and "not a site made by monitor publish" in result.err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_it_needs_an_outdir_from_the_command_or_the_settings(
    known: KnownSite, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, "--config", str(known.config_path), "publish")
    assert result.code == 2 and "settings.publish.dir" in result.err


def test_it_refuses_an_unknown_publish_setting(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "version: 1\nsettings:\n  publish: {folder: x}\nprefectures:\n"
        "  - id: '92'\n    name: P\n    targets:\n      - {id: a, name: A, "
        "platform: legacy-booking, url: 'https://x.example/booking/create/1'}\n"
    )
    result = run(capsys, "--config", str(path), "publish", str(tmp_path / "out"))
    assert result.code == 2 and "settings.publish.folder" in result.err


# -- the refresher -----------------------------------------------------------------------


async def test_the_refresher_folds_pokes_into_one_publication_per_gap() -> None:
    starts: list[float] = []

    def publish_once() -> None:
        starts.append(time.monotonic())

    refresher = SiteRefresher(publish_once, min_gap=0.6)
    for _ in range(20):
        refresher.poke()
        await asyncio.sleep(0.01)
    await asyncio.sleep(1.0)
    await refresher.aclose()
    assert len(starts) == 2  # one at once, one for every poke after it, after the gap
    assert starts[1] - starts[0] >= 0.6


async def test_the_refresher_publishes_in_a_thread_without_holding_the_event_loop() -> None:
    threads: list[str] = []

    def slow_publish() -> None:
        threads.append(threading.current_thread().name)
        time.sleep(0.5)

    refresher = SiteRefresher(slow_publish, min_gap=0.1)
    refresher.poke()
    ticks = 0
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        ticks += 1
    await asyncio.sleep(0.1)
    await refresher.aclose()
    assert threads and threads[0] != threading.current_thread().name
    assert ticks >= 15  # the loop kept turning while the site was written
    assert refresher.publications == 1


@pytest.mark.postgres
def test_it_publishes_the_same_figures_from_postgresql(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pg import create_database, shared_pg_url

    from monitor.config import load_config
    from monitor.publish.site import SiteOptions, publish
    from monitor.store import Repository, create_engine_for, upgrade

    url = create_database(shared_pg_url(request.config), "publish_site")
    upgrade(url)
    engine = create_engine_for(url)
    monkeypatch.chdir(tmp_path)
    try:
        database = Database(url, tmp_path, Repository(engine), tmp_path / "var" / "evidence")
        known = record_known(database, tmp_path)
        config = load_config(known.config_path, env={})
        options = SiteOptions("fr", None, PARIS, database.evidence_dir)
        publish(config.targets(), database.repository, tmp_path / "public", options)
    finally:
        engine.dispose()
    rows = index_rows(tmp_path / "public")
    for target in known.outcomes:
        window = known.in_window(target)
        assert rows[target]["status"] == str(known.outcomes[target][-1].status)
        assert int(rows[target]["days_without_slot"]) == expected_days_without_slot(window)
        assert rows[target]["anomaly_share"] == french_percent(expected_anomaly_share(window))
    page = html(tmp_path / "public/targets/92/remise-titre.html")
    expected = expected_hour_status(known.in_window("92/remise-titre"))
    drawn = drawn_hours(page)
    assert {(d.isoformat(), h): s for (d, h), s in expected.items()} == {
        key: status for key, status in drawn.items() if status != "none"
    }
    periods = [r.attributes["data-attempts"] for r in page.css("#period-table tbody tr")]
    assert periods == ["3", "4", "1"]


def test_it_removes_only_the_generations_it_made_never_a_users_folder_beside_outdir(
    known: KnownSite, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Before issue 25, every directory named .public.* was an old generation to remove.
    out = tmp_path / "public"
    backup = tmp_path / ".public.backup"
    backup.mkdir()
    (backup / "index.html").write_text("my own copy")
    look_alike = tmp_path / ".public.20260101T000000-abcdef"  # named like one, unmarked
    look_alike.mkdir()
    (look_alike / "notes.txt").write_text("mine too")
    for _ in range(4):
        assert run(capsys, "--config", str(known.config_path), "publish", str(out)).code == 0
    assert (backup / "index.html").read_text() == "my own copy"
    assert (look_alike / "notes.txt").read_text() == "mine too"
    own = [p for p in tmp_path.glob(".public.*") if (p / ".monitor-publish").is_file()]
    assert len(own) == 2 and out.resolve() in own  # the current one and the one before


ESCAPES = "\x1b[31mcréneaux disponibles\x1b[0m \x9b2J\x07 \u202eelbinopsid\u202c \u2066x\u2069"


def test_a_pages_control_characters_never_reach_the_published_html(
    known: KnownSite, database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Before issue 25, the page's raw ESC[31m and U+202E reached the published HTML.
    database.record(an_outcome("75/jamais", NOW, Reason.UNRECOGNIZED, detail=ESCAPES))
    out = tmp_path / "public"
    assert run(capsys, "--config", str(known.config_path), "publish", str(out)).code == 0
    for page in (out / "index.html", out / "targets/75/jamais.html"):
        source = page.read_text(encoding="utf-8")
        for control in ("\x1b", "\x9b", "\x07", "\u202e", "\u202c", "\u2066", "\u2069"):
            assert control not in source, (page.name, repr(control))
    message = html(out / "targets/75/jamais.html").css_first("#last-message").text()
    assert "\ufffd[31mcréneaux disponibles\ufffd[0m" in message
    assert "90\u00a0j" in (out / "index.html").read_text(encoding="utf-8")  # spaces are kept
