"""Structured details in the record: stored beside the English line, protected by the chain,
read back in the reader's language by `history` and `status`, and an older database
upgraded without a row changing its meaning or its chain."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from helpers import T0, TARGET, Database, an_outcome, run, sql, verify

from monitor.details import record_line
from monitor.domain import Detail, Outcome
from monitor.evidence.verify import verify_targets
from monitor.store import Repository, create_engine_for, upgrade
from monitor.store.engine import alembic_config
from monitor.store.evidence import chain_hash

SENTENCE = "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous"
DESKS = Detail(
    "by_desk",
    {
        "desks": (
            Detail("desk", {"label": "12083", "finding": Detail("page_says", {"text": SENTENCE})}),
            Detail("desk", {"label": "12084", "finding": Detail("calendar_no_week")}),
        )
    },
)


def structured(detail: Detail, **changes: object) -> Outcome:
    return replace(an_outcome(**changes), detail=record_line(detail), structured=detail)


def test_a_stored_detail_reads_back_with_its_code_and_values(database: Database) -> None:
    stored = database.record(structured(DESKS))
    (again,) = database.repository.history()
    assert again.structured == DESKS and again.detail == stored.detail
    assert again.chain == stored.chain == chain_hash(None, again)


def test_history_tables_speak_the_readers_language_and_machines_get_the_record(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    database.record(structured(DESKS))
    french = run(capsys, "history")
    assert french.code == 0, french.err
    assert "guichet 12083 : «Il n'existe plus" in french.out
    english = run(capsys, "history", "--lang", "en")
    assert "desk 12083: «Il n'existe plus" in english.out
    (row,) = json.loads(run(capsys, "history", "--format", "json").out)
    assert row["detail"] == record_line(DESKS)  # the recorded line, as the chain protects it
    assert row["detail_code"] == "by_desk"
    assert row["detail_args"]["desks"][1] == {
        "code": "desk",
        "args": {"label": "12084", "finding": {"code": "calendar_no_week", "args": {}}},
    }


def test_history_shows_a_row_of_an_older_version_by_its_recorded_line(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    database.record(an_outcome(detail="a line recorded before structured details"))
    out = run(capsys, "history").out
    assert "a line recorded before structured details" in out
    (row,) = json.loads(run(capsys, "history", "--format", "json").out)
    assert row["detail_code"] is None and row["detail_args"] is None


def test_status_shows_the_latest_detail_in_the_readers_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from checkrun import write_config

    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    upgrade(url)
    config = write_config(
        tmp_path / "prefectures.yaml",
        targets=[
            {
                "id": "remise-titre",
                "name": "Remise de titre",
                "platform": "legacy-booking",
                "url": "http://127.0.0.1:1/",
            }
        ],
        prefecture="92",
        database=url,
        evidence_dir=tmp_path / "evidence",
    )
    repository = Repository(create_engine_for(url))
    older = structured(Detail("maintenance", {"text": "Site en maintenance"}), target=TARGET)
    newer = structured(DESKS, target=TARGET, at=T0.replace(hour=9))
    recorder = Database(url, tmp_path, repository, tmp_path / "evidence")
    for outcome in (older, newer):
        recorder.record(outcome)
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    table = run(capsys, "--config", str(config), "status")
    assert table.code == 0, table.err
    line = next(row for row in table.out.splitlines() if row.startswith(TARGET))
    assert "guichet 12083 : «Il n'existe plus" in line and "maintenance" not in line
    (row,) = json.loads(run(capsys, "--config", str(config), "status", "--format", "json").out)
    assert row["detail"] == record_line(DESKS) and row["detail_code"] == "by_desk"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("detail_code", "'page_says'"),
        ("detail_args", """'{"desks":[]}'"""),
        ("detail_code", "NULL"),  # passing a row off as an older one
    ],
)
def test_verify_names_a_row_whose_code_or_values_were_edited(
    database: Database, capsys: pytest.CaptureFixture[str], column: str, value: str
) -> None:
    first = database.record(structured(DESKS))
    database.record(structured(DESKS, at=T0.replace(hour=9)))
    sql(database, f"UPDATE outcomes SET {column} = {value} WHERE id = ?", first.id)
    code, text = verify(capsys, database)
    assert code == 1, text
    assert f"row {first.id} (2026-03-02T08:00:00+00:00): its recorded fields were edited" in text


def test_a_database_of_revision_0001_upgrades_and_its_rows_still_verify(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0001")
    old = an_outcome(detail="recorded by 0.1")
    chain = chain_hash(None, old)
    connection = sqlite3.connect(tmp_path / "old.db")
    connection.execute(
        "INSERT INTO outcomes (target, prefecture, started_at, finished_at, duration_ms, engine,"
        " status, reason, detail, http_status, url, final_url, slot_count, earliest_slot,"
        " evidence, sha256, chain) VALUES (?, ?, ?, ?, 2000, 'http', 'unavailable', 'no_slot',"
        " ?, 200, ?, ?, NULL, NULL, '[]', NULL, ?)",
        (
            old.target,
            old.prefecture,
            "2026-03-02 08:00:00.000000",
            "2026-03-02 08:00:02.000000",
            old.detail,
            old.url,
            old.final_url,
            chain,
        ),
    )
    connection.execute(
        "INSERT INTO target_states (target, chain_head, streak, consecutive_anomalies,"
        " consecutive_healthy, anomaly_open, slots_open, backoff_level)"
        " VALUES (?, ?, 1, 0, 1, 0, 0, 0)",
        (old.target, chain),
    )
    connection.commit()
    connection.close()

    upgrade(url)

    repository = Repository(create_engine_for(url))
    (read,) = repository.history()
    assert read.structured is None and read.detail == "recorded by 0.1"
    assert read.chain == chain_hash(None, read)
    new = repository.record_outcome(
        structured(DESKS, at=T0.replace(hour=9)),
        repository.get_state(TARGET),
        [],
        lambda _event: (),
    )[0]
    assert new.structured == DESKS
    (report,) = verify_targets(repository, tmp_path / "evidence", [TARGET])
    assert report.problems == []
