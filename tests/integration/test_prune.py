"""`monitor db prune --before`: old files go, shared ones stay, and the record still verifies."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from helpers import T0, TARGET, Database, an_outcome, png_bytes, run

from monitor.domain import Outcome
from monitor.evidence.prune_log import PRUNE_LOG

CUTOFF = "2026-03-10"  # local midnight: 2026-03-09T23:00:00+00:00


@pytest.fixture
def recorded(database: Database) -> list[Outcome]:
    """Two old outcomes and a new one; the screenshot is the same page for all three."""
    shared = png_bytes(seed=1)
    return [
        database.record(an_outcome(at=T0), html="<p>old page A</p>", png=shared),
        database.record(an_outcome(at=T0 + timedelta(days=1)), html="<p>old B</p>", png=shared),
        database.record(an_outcome(at=T0 + timedelta(days=10)), html="<p>new C</p>", png=shared),
    ]


def html_of(outcome: Outcome) -> str:
    return next(path for path in outcome.evidence if path.endswith(".html"))


def png_of(outcome: Outcome) -> str:
    return next(path for path in outcome.evidence if path.endswith(".png"))


def prune(capsys: pytest.CaptureFixture[str], database: Database, *args: str) -> str:
    result = run(
        capsys,
        "db",
        "prune",
        "--before",
        CUTOFF,
        "--evidence-dir",
        str(database.evidence_dir),
        *args,
    )
    assert result.code == 0, result.err
    return result.out


def test_it_deletes_only_files_no_newer_outcome_refers_to(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    old_a, old_b, new = recorded

    text = prune(capsys, database)

    assert not (database.evidence_dir / html_of(old_a)).exists()
    assert not (database.evidence_dir / html_of(old_b)).exists()
    assert (database.evidence_dir / html_of(new)).exists()
    assert (database.evidence_dir / png_of(new)).exists()  # shared with the new outcome
    assert "pruned 2 file(s)" in text and "kept 1 shared with newer outcomes" in text
    log = [
        json.loads(line) for line in (database.evidence_dir / PRUNE_LOG).read_text().splitlines()
    ]
    assert sorted(entry["path"] for entry in log) == sorted([html_of(old_a), html_of(old_b)])
    assert all(entry["before"] == "2026-03-09T23:00:00+00:00" for entry in log)
    assert all(entry["sha256"] in entry["path"] for entry in log)


def test_rows_digests_and_chains_still_verify_with_the_pruned_files_noted(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    prune(capsys, database)

    result = run(capsys, "verify", "--evidence-dir", str(database.evidence_dir))

    assert result.code == 0, result.out + result.err
    assert f"{TARGET}         3 rows  intact; 4 file references ok, 2 pruned" in result.out
    rows = run(capsys, "history", "--format", "json").out
    assert [row["sha256"] for row in json.loads(rows)] == [o.sha256 for o in reversed(recorded)]


def test_a_dry_run_lists_the_files_and_deletes_nothing(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    before = sorted(p for p in database.evidence_dir.rglob("*") if p.is_file())

    text = prune(capsys, database, "--dry-run")

    assert html_of(recorded[0]) in text and html_of(recorded[1]) in text
    assert "would prune 2 file(s)" in text
    assert sorted(p for p in database.evidence_dir.rglob("*") if p.is_file()) == before
    assert not (database.evidence_dir / PRUNE_LOG).exists()


def test_pruning_twice_changes_nothing_the_second_time(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    prune(capsys, database)
    again = prune(capsys, database)
    assert "pruned 0 file(s)" in again and "2 already pruned" in again
    assert run(capsys, "verify", "--evidence-dir", str(database.evidence_dir)).code == 0


def test_a_file_deleted_by_hand_is_still_missing_not_pruned(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    prune(capsys, database)
    os.unlink(database.evidence_dir / html_of(recorded[2]))

    result = run(capsys, "verify", "--evidence-dir", str(database.evidence_dir))

    assert result.code == 1
    assert f"evidence file {html_of(recorded[2])} is missing" in result.out


def test_a_forged_prune_log_line_does_not_excuse_a_file_newer_rows_need(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    prune(capsys, database)
    log = database.evidence_dir / PRUNE_LOG
    forged = json.loads(log.read_text().splitlines()[0]) | {"path": html_of(recorded[2])}
    log.write_text(log.read_text() + json.dumps(forged) + "\n")
    os.unlink(database.evidence_dir / html_of(recorded[2]))

    result = run(capsys, "verify", "--evidence-dir", str(database.evidence_dir))

    assert result.code == 1
    assert "the prune log lists it, but that prune only removed files of rows before" in result.out


def test_it_refuses_a_bad_date(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, "db", "prune", "--before", "last year")
    assert result.code == 2 and "--before: 'last year' is not a date" in result.err
