"""`monitor check`: exit codes, output formats, recording, generic targets, one Chromium."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from checkrun import monitor, write_config
from helpers import Database

from monitor.commands.check import check_targets
from monitor.config import load_config
from monitor.imitation import ImitationSite
from monitor.imitation.legacy_cases import LEGACY_FIRST
from monitor.probes.engines import Engines
from monitor.store import Repository, create_engine_for
from monitor.store.evidence import chain_hash

NO_SLOT = "/booking/create/1104"  # catalogue: one desk, no slot
SLOTS = "/booking/create/1106"  # catalogue: one desk, three slots
CAPTCHA = "/rdvpref/reservation/demarche/3701/"  # catalogue: the captcha wall
GENERIC_SLOTS = "1190"  # not in the catalogue: set by the generic-target test


def legacy(target_id: str, site: ImitationSite, path: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": target_id,
        "name": target_id,
        "platform": "legacy-booking",
        "url": site.url(path),
        **extra,
    }


@pytest.fixture
def config(tmp_path: Path, imitation: ImitationSite, database: Database) -> Path:
    targets = [legacy("aucun", imitation, NO_SLOT), legacy("libre", imitation, SLOTS)]
    return write_config(
        tmp_path / "prefectures.yaml",
        targets=targets,
        database=database.url,
        evidence_dir=tmp_path / "evidence",
    )


def test_it_exits_3_when_no_target_matches(config: Path) -> None:
    run = monitor("--config", str(config), "check", "t/nothing-here")
    assert run.code == 3
    assert "no target matches 't/nothing-here'" in run.stderr
    assert run.stdout == ""


def test_it_exits_2_on_a_bad_config_before_touching_anything(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nprefectures:\n  - id: '92'\n    name: X\n    targets:\n"
        "      - {id: a, name: A, platform: calendly, url: 'https://x.example/'}\n"
    )
    run = monitor("--config", str(bad), "check")
    assert run.code == 2
    assert "calendly" in run.stderr and "prefectures[0].targets[0].platform" in run.stderr
    assert not (tmp_path / "var").exists()


def test_it_exits_1_with_one_line_on_an_unmigrated_database(
    tmp_path: Path, imitation: ImitationSite
) -> None:
    config = write_config(
        tmp_path / "prefectures.yaml",
        targets=[legacy("aucun", imitation, NO_SLOT)],
        database=f"sqlite:///{tmp_path / 'empty.db'}",
        evidence_dir=tmp_path / "evidence",
    )
    before = len(imitation.requests)
    run = monitor("--config", str(config), "check")
    assert run.code == 1
    errors = [line for line in run.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "monitor db upgrade" in errors[0]
    assert run.stdout == ""
    assert len(imitation.requests) == before  # nothing was probed


def test_it_prints_json_rows_with_spec_fields_and_records_them(
    config: Path, database: Database
) -> None:
    run = monitor("--config", str(config), "check", "--format", "json")
    assert run.code == 0, run.stderr
    rows = {row["target"]: row for row in run.rows()}
    assert (rows["t/aucun"]["status"], rows["t/aucun"]["reason"]) == ("unavailable", "no_slot")
    found = rows["t/libre"]
    assert (found["status"], found["reason"], found["slot_count"]) == ("available", "slots", 3)
    assert datetime.fromisoformat(found["earliest_slot"]) == LEGACY_FIRST
    assert set(found) >= {"id", "started_at", "duration_ms", "url", "final_url", "http_status"}
    repo = Repository(create_engine_for(database.url))
    assert repo.chain_head("t/libre") == found["chain"]


def test_each_check_extends_the_targets_hash_chain(config: Path, database: Database) -> None:
    first = monitor("--config", str(config), "check", "--format", "ndjson", "t/aucun")
    second = monitor("--config", str(config), "check", "--format", "ndjson", "t/aucun")
    assert first.code == second.code == 0
    one, two = (json.loads(run.stdout) for run in (first, second))
    assert one["chain"] != two["chain"]
    repo = Repository(create_engine_for(database.url))
    stored = list(repo.outcomes_for_target("t/aucun"))
    assert [o.chain for o in stored] == [one["chain"], two["chain"]]
    assert chain_hash(one["chain"], stored[1]) == two["chain"]


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_it_prints_tables_and_csv(config: Path, fmt: str) -> None:
    run = monitor("--config", str(config), "check", "--format", fmt, "t")
    assert run.code == 0, run.stderr
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(run.stdout)))
        assert {row["target"] for row in rows} == {"t/aucun", "t/libre"}
        assert all(row["chain"] for row in rows)
    else:
        assert run.stdout.splitlines()[0].split()[:3] == ["Time", "Target", "Engine"]
        assert "no_slot" in run.stdout and "slots" in run.stdout


GENERIC_RULES = {
    "anomaly": [{"text": "Service surchargé", "reason": "overloaded"}],
    "unavailable": [{"text": "Il n'existe plus de plage horaire libre", "reason": "no_slot"}],
    "available": [{"selector": "td.status-1.free a", "reason": "slots"}],
}


@pytest.mark.browser
def test_a_generic_target_walks_its_steps_and_applies_its_rules(
    tmp_path: Path, imitation: ImitationSite, database: Database, chromium_path: str
) -> None:
    def generic(target_id: str, path: str, engine: str, steps: list[Any]) -> dict[str, Any]:
        return {
            "id": target_id,
            "name": target_id,
            "platform": "generic",
            "url": imitation.url(path),
            "engine": engine,
            "steps": steps,
            "rules": GENERIC_RULES,
        }

    # Slots in the current week, which the calendar step shows first (a slot in the past
    # is still a free cell to the imitation). The calendar comes by AJAX: the browser waits
    # for the page's script to show it, the http flow asks the endpoint itself.
    this_monday = LEGACY_FIRST - timedelta(days=7)
    imitation.set_scenario(
        GENERIC_SLOTS, "slots", count=3, first_date=this_monday.isoformat(), desks=[4421]
    )
    ajax = f"/ezjscore/call/bookingserver::planning::assign::{GENERIC_SLOTS}::4421::0"
    to_result = [{"check": "#condition"}, {"submit": "input[name=nextButton]"}]
    to_calendar = [*to_result, {"submit": "input[name=nextButton]"}]
    steps = {
        "http": [*to_calendar, {"goto": ajax}],
        "browser": [*to_calendar, {"wait_for": "#planning_calendar td.status-1.free a"}],
    }
    slots_path = f"/booking/create/{GENERIC_SLOTS}"
    targets = [
        generic(f"{name}-{engine}", path, engine, walk)
        for engine in ("http", "browser")
        for name, path, walk in (
            ("aucun", NO_SLOT, to_result),
            ("libre", slots_path, steps[engine]),
        )
    ]
    config = write_config(
        tmp_path / "generic.yaml",
        targets=targets,
        database=database.url,
        evidence_dir=tmp_path / "evidence",
        chromium=chromium_path,
    )
    run = monitor("--config", str(config), "check", "--format", "json")
    assert run.code == 0, run.stderr
    rows = {row["target"]: row for row in run.rows()}
    for engine in ("http", "browser"):
        aucun, libre = rows[f"t/aucun-{engine}"], rows[f"t/libre-{engine}"]
        assert (aucun["status"], aucun["reason"]) == ("unavailable", "no_slot"), aucun
        assert (libre["status"], libre["reason"], libre["slot_count"]) == (
            "available",
            "slots",
            3,
        ), libre
        assert datetime.fromisoformat(libre["earliest_slot"]) == this_monday


@pytest.mark.browser
async def test_chromium_is_launched_once_for_several_browser_targets(
    tmp_path: Path, imitation: ImitationSite, database: Database, chromium_path: str
) -> None:
    targets = [
        {
            "id": f"captcha-{n}",
            "name": "captcha",
            "platform": "rdv-prefecture",
            "url": imitation.url(CAPTCHA),
        }
        for n in range(3)
    ]
    path = write_config(
        tmp_path / "browser.yaml",
        targets=targets,
        database=database.url,
        evidence_dir=tmp_path / "evidence",
        chromium=chromium_path,
    )
    config = load_config(path, env={})
    engines = Engines(config.settings, env={})
    repo = Repository(create_engine_for(database.url))
    try:
        outcomes = await check_targets(config.targets(), config, repo, engines=engines)
    finally:
        await engines.aclose()
    assert [(o.status, o.reason) for o in outcomes] == [("anomaly", "captcha")] * 3
    assert engines.browser is not None and engines.browser.sessions_opened == 3
    assert engines.browser_launches == 1
    assert all(any(p.endswith(".png") for p in o.evidence) for o in outcomes)


def test_a_missing_chromium_is_the_monitors_fault_and_other_targets_still_run(
    tmp_path: Path, imitation: ImitationSite, database: Database
) -> None:
    targets = [
        legacy("aucun", imitation, NO_SLOT),
        legacy("navigateur", imitation, NO_SLOT, engine="browser"),
    ]
    config = write_config(
        tmp_path / "prefectures.yaml",
        targets=targets,
        database=database.url,
        evidence_dir=tmp_path / "evidence",
    )
    run = monitor(
        "--config",
        str(config),
        "check",
        "--format",
        "json",
        env={"MONITOR_BROWSER": str(tmp_path / "no-such-chromium")},
    )
    assert run.code == 0, run.stderr
    rows = {row["target"]: row for row in run.rows()}
    assert rows["t/aucun"]["status"] == "unavailable"
    browser = rows["t/navigateur"]
    assert (browser["status"], browser["reason"]) == ("monitor_error", "internal")
    assert "MONITOR_BROWSER" in browser["detail"] and browser["chain"]
