"""`monitor verify`: an untouched record verifies; every kind of tampering is named."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from helpers import T0, TARGET, Database, an_outcome, png_bytes, run, sql, verify

from monitor.domain import Outcome, Reason
from monitor.evidence.verify import ChainChecker


@pytest.fixture
def recorded(database: Database) -> list[Outcome]:
    """Four outcomes of TARGET with evidence files, interleaved with another target's."""
    stored = []
    for index in range(4):
        at = T0 + timedelta(minutes=10 * index)
        stored.append(
            database.record(
                an_outcome(at=at), html=f"<p>page {index}</p>", png=png_bytes(seed=index)
            )
        )
        database.record(an_outcome("75/titre", at=at, reason=Reason.TIMEOUT))
    return stored


def test_it_passes_an_untouched_record(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = verify(capsys, database)
    assert code == 0, text
    assert f"{TARGET}         4 rows  intact; 8 file references ok" in text
    assert "75/titre" in text and "all 2 target(s) verified" in text


def test_it_names_a_row_whose_detail_was_edited(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    edited = recorded[1]
    sql(database, "UPDATE outcomes SET detail = 'Des créneaux existaient' WHERE id = ?", edited.id)

    code, text = verify(capsys, database)

    assert code == 1
    assert f"row {edited.id} (2026-03-02T08:10:00+00:00): its recorded fields were edited" in text
    assert "[fields]" in text
    assert "1 problem(s) in 1 of 2 target(s)" in text  # one edit, one problem


def test_it_names_a_row_whose_chain_value_was_replaced(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    edited = recorded[2]
    sql(database, "UPDATE outcomes SET chain = ? WHERE id = ?", "f" * 64, edited.id)

    code, text = verify(capsys, database)

    assert code == 1
    assert f"[chain] row {edited.id}" in text and "its chain value was changed" in text


def test_it_names_a_row_whose_evidence_digest_was_replaced(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    edited = recorded[0]
    sql(database, "UPDATE outcomes SET sha256 = ? WHERE id = ?", "0" * 64, edited.id)

    code, text = verify(capsys, database)

    assert code == 1
    assert f"[sha256] row {edited.id}" in text and "its sha256 was changed" in text


def test_it_detects_a_deleted_middle_row(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    deleted, following = recorded[1], recorded[2]
    sql(database, "DELETE FROM outcomes WHERE id = ?", deleted.id)

    code, text = verify(capsys, database, TARGET)

    assert code == 1
    assert (
        f"row {following.id} (2026-03-02T08:20:00+00:00) does not link to the row after "
        f"row {recorded[0].id}: id(s) {deleted.id} are missing from the table (deleted)"
    ) in text


def test_it_detects_a_deleted_first_row(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    sql(database, "DELETE FROM outcomes WHERE id = ?", recorded[0].id)

    code, text = verify(capsys, database, TARGET)

    assert code == 1
    assert f"row {recorded[1].id}" in text and f"id(s) {recorded[0].id} are missing" in text


def test_it_detects_a_deleted_last_row_through_the_chain_head(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    sql(database, "DELETE FROM outcomes WHERE id = ?", recorded[-1].id)

    code, text = verify(capsys, database, TARGET)

    assert code == 1
    assert (
        f"the chain head does not match the last row, row {recorded[-2].id} "
        "(2026-03-02T08:20:00+00:00): the row(s) recorded after it were deleted"
    ) in text


def test_it_detects_every_row_of_a_target_deleted(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    sql(database, "DELETE FROM outcomes WHERE target = ?", TARGET)

    code, text = verify(capsys, database)

    assert code == 1 and "has a chain head but no outcome row" in text


def test_it_names_an_altered_evidence_file_and_its_row(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    row = recorded[3]
    html = next(path for path in row.evidence if path.endswith(".html"))
    (database.evidence_dir / html).write_text("<p>Des créneaux étaient proposés</p>")

    code, text = verify(capsys, database)

    assert code == 1
    assert (
        f"row {row.id} (2026-03-02T08:30:00+00:00): evidence file {html} has been altered" in text
    )


def test_it_names_a_missing_evidence_file(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    row = recorded[0]
    png = next(path for path in row.evidence if path.endswith(".png"))
    (database.evidence_dir / png).unlink()

    code, text = verify(capsys, database)

    assert code == 1
    assert f"evidence file {png} is missing (and no prune removed it)" in text


def test_it_names_an_edited_list_of_evidence_files(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    row = recorded[1]
    sql(database, "UPDATE outcomes SET evidence = '[]' WHERE id = ?", row.id)

    code, text = verify(capsys, database)

    assert code == 1
    assert f"[evidence] row {row.id}" in text and "does not match its sha256" in text


def test_it_exits_3_for_targets_that_match_nothing(
    database: Database, recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    assert verify(capsys, database, "13/*")[0] == 3


def test_the_chain_checker_resumes_after_a_break_so_later_edits_are_reported_too(
    recorded: list[Outcome],
) -> None:
    from dataclasses import replace

    rows = list(recorded)
    rows[0] = replace(rows[0], detail="edited")
    rows[2] = replace(rows[2], detail="edited too")
    checker = ChainChecker(TARGET, lambda _after, _before: [])
    problems = list(checker.check(rows, recorded[-1].chain))
    assert [(p.what, p.outcome_id) for p in problems] == [
        ("row-edited", recorded[0].id),
        ("row-edited", recorded[2].id),
    ]


def test_the_verify_command_reads_evidence_dir_from_the_config(
    database: Database,
    recorded: list[Outcome],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "prefectures.yaml").write_text(
        f"version: 1\nsettings:\n  evidence_dir: {database.evidence_dir}\nprefectures: []\n"
    )
    result = run(capsys, "verify")
    assert result.code == 0 and f"evidence files in {database.evidence_dir}" in result.out
