"""Anchored chain heads: a consistent rewrite of the database, which `verify` alone cannot
see, is named by `verify --heads` (issue 12, item 3)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import T0, TARGET, Database, an_outcome, sql, verify

from monitor.domain import MONITOR_TARGET, Outcome
from monitor.evidence.anchors import (
    HEADS_FILE,
    Anchor,
    anchors_now,
    append_anchors,
    read_anchors,
    write_anchors,
)
from monitor.store.evidence import chain_hash

LATER = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)


def record(database: Database, count: int, start: int = 0) -> list[Outcome]:
    return [
        database.record(an_outcome(at=T0 + timedelta(minutes=10 * (start + i))))
        for i in range(count)
    ]


def anchor_elsewhere(database: Database, path: Path) -> None:
    """What a careful user does: the heads file kept outside the evidence directory."""
    append_anchors(path, anchors_now(database.repository.chain_heads_and_counts(), LATER))


def test_a_consistent_truncation_passes_verify_but_not_verify_heads(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = record(database, 5)
    heads = tmp_path / "kept" / "heads.jsonl"
    anchor_elsewhere(database, heads)
    rows += record(database, 2, start=5)
    # Drop the newest four rows and point the chain head at the last one left.
    sql(database, "DELETE FROM outcomes WHERE id > ?", rows[2].id)
    sql(database, "UPDATE target_states SET chain_head = ? WHERE target = ?", rows[2].chain, TARGET)

    code, text = verify(capsys, database)
    assert code == 0, text  # the ledger verifies on its own: what anchoring is for

    code, text = verify(capsys, database, "--heads", str(heads))
    assert code == 1, text
    assert "chain heads anchored in" in text and "(1 line(s))" in text
    assert "the chain head anchored at 2026-03-03T00:00:00+00:00" in text
    assert "row 5 of the target) is no longer in the record" in text


def test_an_untouched_record_verifies_against_its_anchors(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    record(database, 3)
    assert write_anchors(database.repository, database.evidence_dir, LATER) == 1
    record(database, 2, start=3)
    write_anchors(database.repository, database.evidence_dir, LATER + timedelta(days=1))
    code, text = verify(capsys, database)  # heads.jsonl beside the evidence: used by default
    assert code == 0, text
    assert f"chain heads anchored in {database.evidence_dir / HEADS_FILE} (2 line(s))" in text
    rows = [(a.rows, a.target) for a in read_anchors(database.evidence_dir / HEADS_FILE)]
    assert rows == [(3, TARGET), (5, TARGET)]


def test_a_rewritten_and_rechained_history_is_named(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Edit an old row, then recompute every chain and the head: only the anchors see it."""
    rows = record(database, 4)
    write_anchors(database.repository, database.evidence_dir, LATER)
    sql(database, "UPDATE outcomes SET detail = 'Des créneaux existaient' WHERE id = ?", rows[1].id)
    previous = None
    for row in database.repository.outcomes_for_target(TARGET):
        chain = chain_hash(previous, row)
        sql(database, "UPDATE outcomes SET chain = ? WHERE id = ?", chain, row.id)
        previous = chain
    sql(database, "UPDATE target_states SET chain_head = ? WHERE target = ?", previous, TARGET)
    code, text = verify(capsys, database)
    assert code == 1, text
    assert "is no longer in the record" in text
    assert "its recorded fields were edited" not in text  # the chain itself is consistent


def test_a_target_removed_entirely_is_named(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    record(database, 2)
    database.record(an_outcome("75/titre"))
    write_anchors(database.repository, database.evidence_dir, LATER)
    sql(database, "DELETE FROM outcomes WHERE target = ?", TARGET)
    sql(database, "DELETE FROM target_states WHERE target = ?", TARGET)
    code, text = verify(capsys, database)
    assert code == 1, text
    assert f"{TARGET}" in text and "no longer in the record" in text
    assert "75/titre" in text


def test_rows_inserted_before_an_anchored_head_move_it(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    record(database, 3)
    heads = tmp_path / "heads.jsonl"
    anchor_elsewhere(database, heads)
    (anchor,) = read_anchors(heads)
    moved = Anchor(anchor.at, anchor.target, anchor.head, 2)  # as if a row was slipped in
    heads.write_text(moved.line() + "\n")
    code, text = verify(capsys, database, "--heads", str(heads))
    assert code == 1
    assert "was row 2 of the target and is now row 3" in text


def test_a_heads_file_that_is_not_one_is_refused_naming_the_line(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    record(database, 1)
    heads = tmp_path / "heads.jsonl"
    good = {"at": LATER.isoformat(), "target": TARGET, "head": "a" * 64, "rows": 1}
    heads.write_text(json.dumps(good) + "\n" + json.dumps({**good, "head": "xyz"}) + "\n")
    code, text = verify(capsys, database, "--heads", str(heads))
    assert code == 1
    assert f"{heads}:2: not an anchor line" in text
    assert "Traceback" not in text


def test_the_monitors_own_state_is_not_anchored() -> None:
    anchors = anchors_now([("t/a", "b" * 64, 3), (MONITOR_TARGET, "c" * 64, 1)], LATER)
    assert [a.target for a in anchors] == ["t/a"]
    assert json.loads(anchors[0].line()) == {
        "at": "2026-03-03T00:00:00+00:00",
        "head": "b" * 64,
        "rows": 3,
        "target": "t/a",
    }
