"""`monitor evidence`: the dossier's files, manifest, escaping, and how it renders in Chromium."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from helpers import NO_SLOT, T0, TARGET, Database, an_outcome, png_bytes, run
from wording import english_in

from monitor.details import record_line
from monitor.domain import Detail, Engine, Outcome, Reason

CHROMIUM = "/usr/bin/chromium"
PNG_OUT = Path("/tmp/dossier.png")
HOSTILE = "<script>alert('x')</script> & « Service surchargé »"
OPERATOR = "Camille <b>B.</b> & co"  #: as typed in the console: text, never markup


NO_SLOT_SAID = Detail(
    "by_desk",
    {
        "desks": (
            Detail("desk", {"label": "12083", "finding": Detail("page_says", {"text": NO_SLOT})}),
            Detail("desk", {"label": "12084", "finding": Detail("page_says", {"text": NO_SLOT})}),
        )
    },
)
CAPTCHA = Detail(
    "captcha",
    {"refused": False, "text": "Saisissez le code de sécurité", "url": "https://rdv.example/"},
)
NETWORK_DOWN = Detail(
    "network_down",
    {
        "why": Detail("every_host_failing"),
        "seen": Detail(
            "network_code",
            {"code": "net::ERR_NAME_NOT_RESOLVED", "doing": Detail("doing.load", {"url": "x"})},
        ),
    },
)


def overloaded(heading: str) -> Detail:
    return Detail(
        "retry_after",
        {"finding": Detail("overloaded", {"status": 503, "heading": heading}), "after": "120"},
    )


def slots(count: int, earliest: datetime) -> Detail:
    return Detail(
        "calendar_free_cells",
        {
            "free": count,
            "weeks": 6,
            "first": "Semaine du lundi 2 mars 2026",
            "last": "Semaine du lundi 6 avril 2026",
            "earliest": earliest.isoformat(),
        },
    )


@dataclass
class Dossier:
    out: Path
    outcomes: list[Outcome]


def record_week(database: Database) -> list[Outcome]:
    """Three days of a browser target: no slot, captcha, an overload whose page says
    something hostile, slots, a monitor error; every page saved with a screenshot."""
    earliest = T0 + timedelta(days=12)
    plan = [
        (0, Reason.NO_SLOT, {}, NO_SLOT_SAID),
        (2, Reason.CAPTCHA, {}, CAPTCHA),
        (4, Reason.NO_SLOT, {}, NO_SLOT_SAID),
        (24, Reason.OVERLOADED, {"http_status": 503}, overloaded(HOSTILE)),
        (26, Reason.NO_SLOT, {}, NO_SLOT_SAID),
        (27, Reason.NETWORK_DOWN, {}, NETWORK_DOWN),
        (49, Reason.SLOTS, {"slot_count": 2, "earliest_slot": earliest}, slots(2, earliest)),
        (50, Reason.NO_SLOT, {}, NO_SLOT_SAID),
    ]
    stored = []
    for index, (hours, reason, changes, said) in enumerate(plan):
        outcome = an_outcome(
            at=T0 + timedelta(hours=hours),
            reason=reason,
            engine=Engine.BROWSER,
            detail=record_line(said),
            structured=said,
            node="paris-1" if index % 2 else None,  # by a daemon node, or as rows before 0004
            # the slot page is read only in a session a person opened (since 0005)
            assisted_by=OPERATOR if reason is Reason.SLOTS else None,
            **changes,
        )
        if reason is Reason.NETWORK_DOWN:
            stored.append(database.record(outcome))
        else:
            page = f"<html><body><h1>Préfecture</h1><p>{reason.value} {index}</p></body></html>"
            stored.append(database.record(outcome, html=page, png=png_bytes(seed=index)))
        database.record(an_outcome("75/titre", at=T0 + timedelta(hours=hours)))
    return stored


@pytest.fixture
def dossier(database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Dossier:
    outcomes = record_week(database)
    # The first attempt's screenshot was pruned: the dossier says so instead of failing.
    result = run(
        capsys,
        "db",
        "prune",
        "--before",
        "2026-03-02T09:30",
        "--evidence-dir",
        str(database.evidence_dir),
    )
    assert result.code == 0, result.err
    out = tmp_path / "dossier-92"
    result = run(
        capsys,
        "evidence",
        TARGET,
        "--since",
        "2026-03-01",
        "--until",
        "2026-03-05",
        "--out",
        str(out),
        "--zip",
        "--evidence-dir",
        str(database.evidence_dir),
    )
    assert result.code == 0, result.err
    assert f"{len(outcomes)} attempt(s) of {TARGET}" in result.out
    return Dossier(out, outcomes)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_manifest_lists_every_file_with_its_hash(dossier: Dossier) -> None:
    manifest = json.loads((dossier.out / "manifest.json").read_text())

    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    on_disk = {
        path.relative_to(dossier.out).as_posix(): sha256(path)
        for path in dossier.out.rglob("*")
        if path.is_file() and path.name != "manifest.json"
    }
    assert listed == on_disk
    assert {"index.html", "outcomes.json", "verify_dossier.py"} <= set(listed)
    assert manifest["outcome_ids"] == [o.id for o in dossier.outcomes]
    assert manifest["last_chain"] == dossier.outcomes[-1].chain == manifest["chain_head"]
    assert manifest["previous_chain"] is None  # the target's very first attempt is in
    pruned = [e for e in manifest["evidence_not_included"] if e["state"] == "pruned"]
    assert len(pruned) == 2  # the first attempt's page and screenshot


def test_evidence_files_are_copied_under_their_digest(dossier: Dossier) -> None:
    paths = [path for outcome in dossier.outcomes[1:] for path in outcome.evidence]
    assert paths  # else nothing below is checked
    for path in paths:
        copy = dossier.out / "evidence" / path
        assert sha256(copy) == Path(path).name.split(".")[0]


def test_the_shipped_script_verifies_the_dossier_and_catches_an_edit(dossier: Dossier) -> None:
    script = [sys.executable, str(dossier.out / "verify_dossier.py")]
    ok = subprocess.run(script, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout
    assert f"0 problem(s); last chain {dossier.outcomes[-1].chain}" in ok.stdout

    rows = json.loads((dossier.out / "outcomes.json").read_text())
    rows[3]["detail"] = "Aucun problème"
    rows[1]["detail_args"]["refused"] = True  # the words a reader is shown are chained too
    rows[5]["node"] = "elsewhere"  # and where the probe ran
    rows[6]["assisted_by"] = "Mallory"  # and who opened the assisted session
    (dossier.out / "outcomes.json").write_text(json.dumps(rows))
    tampered = subprocess.run(script, capture_output=True, text=True, check=False)
    assert tampered.returncode == 1
    assert f"attempt {rows[3]['id']}: chain does not recompute" in tampered.stdout
    assert f"attempt {rows[1]['id']}: chain does not recompute" in tampered.stdout
    assert f"attempt {rows[5]['id']}: chain does not recompute" in tampered.stdout
    assert f"attempt {rows[6]['id']}: chain does not recompute" in tampered.stdout
    assert "file changed since the dossier was made: outcomes.json" in tampered.stdout


def test_the_report_escapes_what_pages_said(dossier: Dossier) -> None:
    html = (dossier.out / "index.html").read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; « Service surchargé »" in html
    assert "<b>" not in html
    assert "session assistée ouverte par Camille &lt;b&gt;B.&lt;/b&gt; &amp; co" in html


def test_the_report_is_french_and_self_contained(dossier: Dossier) -> None:
    html = (dossier.out / "index.html").read_text()
    assert '<html lang="fr">' in html and "Dossier de preuves" in html
    assert "Plus longue période sans aucun créneau" in html
    assert "supprimé(s) par purge" in html
    assert "@media print" in html and "size: A4" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert 'src="http' not in html and "src='http" not in html


def test_a_french_report_has_no_english_left(dossier: Dossier) -> None:
    """What a French reader sees: every sentence French; the pages' own words quoted."""
    html = (dossier.out / "index.html").read_text()
    body = re.sub(r"<(style|script|code)\b.*?</\1>", " ", html, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", " ", body))
    assert "guichet 12083 : «Il n'existe plus de plage horaire libre" in text
    assert "2 créneaux libres sur 6 semaines du calendrier" in text
    assert "le premier le 14/03/2026 à 09:00" in text  # local time, French style
    assert not english_in(text), sorted(english_in(text))


def test_it_writes_a_zip_of_the_dossier(dossier: Dossier) -> None:
    archive = dossier.out.with_name(dossier.out.name + ".zip")
    with zipfile.ZipFile(archive) as bundle:
        names = set(bundle.namelist())
    assert {"dossier-92/index.html", "dossier-92/manifest.json"} <= names


def test_it_writes_english_on_request(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    record_week(database)
    out = tmp_path / "en"
    result = run(capsys, "evidence", TARGET, "--out", str(out), "--lang", "en")
    assert result.code == 0, result.err
    html = (out / "index.html").read_text()
    assert '<html lang="en">' in html and "Longest period without any slot" in html


def test_it_exits_3_when_the_target_has_no_attempt_in_the_period(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    record_week(database)
    result = run(capsys, "evidence", TARGET, "--since", "2027-01-01", "--out", str(tmp_path / "x"))
    assert (
        result.code == 3 and "no outcome of '92/remise-titre' with --since 2027-01-01" in result.err
    )
    assert not (tmp_path / "x").exists()


def test_it_refuses_to_write_into_a_directory_in_use(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    result = run(capsys, "evidence", TARGET, "--out", str(tmp_path / "used"))
    assert result.code == 2 and "not empty" in result.err


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")
def test_it_renders_in_chromium_with_the_table_and_the_chart(dossier: Dossier) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto((dossier.out / "index.html").as_uri())
            rows = page.locator("table.attempts tbody tr").count()
            bars = page.locator("svg.timeline rect").count()
            legend = page.locator("svg.timeline g.legend").count()
            thumbnails = page.evaluate(
                "Array.from(document.querySelectorAll('img.thumb'))"
                ".filter(img => img.complete && img.naturalWidth > 0).length"
            )
            page.screenshot(path=str(PNG_OUT), full_page=True)
            pdf = page.pdf(format="A4")
        finally:
            browser.close()
    assert rows == len(dossier.outcomes)
    assert bars > legend >= 3
    # every screenshot but the pruned one and the monitor error's (none) is shown
    assert thumbnails == len(dossier.outcomes) - 2
    assert PNG_OUT.stat().st_size > 10_000
    assert pdf.startswith(b"%PDF")
