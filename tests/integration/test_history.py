"""`monitor history`: filters, formats, time zones, exit codes, on a real SQLite file.

The database, the outcomes recorded through the repository (so that chains are real) and
the CLI run in this process come from tests/helpers.py, as for the other report tests.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import NO_SLOT, T0, TARGET, Database, Run, an_outcome, run

from monitor.domain import Outcome, Reason
from monitor.reports.output import OUTCOME_FIELDS

# -- history ---------------------------------------------------------------------------------


@pytest.fixture
def series(database: Database) -> list[Outcome]:
    """Five outcomes over two prefectures, the slot one with its count and date."""
    return [
        database.record(an_outcome(at=T0)),
        database.record(an_outcome(at=T0 + timedelta(hours=1), reason=Reason.CAPTCHA)),
        database.record(
            an_outcome(
                at=T0 + timedelta(hours=2),
                reason=Reason.SLOTS,
                slot_count=3,
                earliest_slot=T0 + timedelta(days=9),
            )
        ),
        database.record(an_outcome("92/naturalisation", at=T0 + timedelta(hours=3))),
        database.record(an_outcome("75/titre", at=T0 + timedelta(days=1), reason=Reason.TIMEOUT)),
    ]


def ids(run_: Run) -> list[int]:
    return [row["id"] for row in json.loads(run_.out)]


def test_it_lists_outcomes_newest_first_with_every_spec_field_in_utc(
    series: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, "history", "--format", "json")

    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert [row["id"] for row in rows] == [o.id for o in reversed(series)]
    assert all(tuple(row) == OUTCOME_FIELDS for row in rows)
    slot = next(row for row in rows if row["status"] == "available")
    assert slot["started_at"] == "2026-03-02T10:00:00+00:00"
    assert slot["earliest_slot"] == "2026-03-11T08:00:00+00:00"
    assert slot["slot_count"] == 3 and slot["chain"] == series[2].chain
    assert slot["duration_ms"] == 2000


def test_it_filters_by_target_globs_prefecture_status_and_reason(
    series: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    by_glob = run(capsys, "history", "--target", "92/*", "--format", "json")
    assert ids(by_glob) == [series[3].id, series[2].id, series[1].id, series[0].id]
    repeated = run(
        capsys, "history", "--target", "75/titre", "--target", "92/natu*", "--format", "json"
    )
    assert ids(repeated) == [series[4].id, series[3].id]
    assert ids(run(capsys, "history", "--prefecture", "75", "--format", "json")) == [series[4].id]
    assert ids(run(capsys, "history", "--status", "anomaly", "--format", "json")) == [
        series[4].id,
        series[1].id,
    ]
    assert ids(run(capsys, "history", "--reason", "captcha", "--format", "json")) == [series[1].id]
    limited = run(capsys, "history", "--limit", "2", "--format", "json")
    assert ids(limited) == [series[4].id, series[3].id]


def test_it_takes_dates_in_local_time_and_until_as_exclusive(
    series: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    # 2026-03-02T10:00 in Paris is 09:00 UTC: the captcha at 09:00 UTC is the first in.
    result = run(
        capsys,
        "history",
        "--since",
        "2026-03-02T10:00",
        "--until",
        "2026-03-03",
        "--format",
        "json",
    )
    assert ids(result) == [series[3].id, series[2].id, series[1].id]


def test_it_takes_durations_back_from_now(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    old = database.record(an_outcome(at=now - timedelta(days=10)))
    recent = database.record(an_outcome(at=now - timedelta(days=3)))
    newest = database.record(an_outcome(at=now - timedelta(hours=2)))

    assert ids(run(capsys, "history", "--since", "7d", "--format", "json")) == [
        newest.id,
        recent.id,
    ]
    assert ids(run(capsys, "history", "--until", "1d", "--format", "json")) == [
        recent.id,
        old.id,
    ]


def test_it_writes_ndjson_and_csv_with_spec_field_names(
    series: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run(capsys, "history", "--format", "ndjson").out.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [o.id for o in reversed(series)]

    table = list(csv.reader(io.StringIO(run(capsys, "history", "--format", "csv").out)))
    assert tuple(table[0]) == OUTCOME_FIELDS
    assert len(table) == 1 + len(series)
    assert table[-1][OUTCOME_FIELDS.index("started_at")] == "2026-03-02T08:00:00+00:00"


def test_it_shows_tables_in_the_configured_time_zone(
    series: list[Outcome], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Without a config file: Europe/Paris (08:00 UTC is 09:00 there in March).
    paris = run(capsys, "history", "--reason", "no_slot", "--target", TARGET)
    assert "2026-03-02 09:00:00" in paris.out and NO_SLOT[:40] in paris.out

    config = tmp_path / "prefectures.yaml"
    config.write_text("version: 1\nsettings:\n  timezone: America/Cayenne\nprefectures: []\n")
    cayenne = run(capsys, "history", "--reason", "no_slot", "--target", TARGET)
    assert "2026-03-02 05:00:00" in cayenne.out


def test_it_exits_3_with_a_valid_empty_document_when_nothing_matches(
    series: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, "history", "--target", "13/*", "--format", "json")
    assert result.code == 3
    assert json.loads(result.out) == []
    assert result.err.count("\n") == 1 and "--target 13/*" in result.err

    assert run(capsys, "history", "--prefecture", "13", "--format", "csv").out.strip() == ",".join(
        OUTCOME_FIELDS
    )
    table = run(capsys, "history", "--status", "monitor_error")
    assert table.code == 3 and table.out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "open"], "unknown status 'open'; use one of available, unavailable"),
        (["--reason", "nope"], "unknown reason 'nope'"),
        (["--status", "available", "--reason", "captcha"], "belongs to status anomaly"),
        (["--since", "yesterday"], "--since: 'yesterday' is not a date"),
        (["--since", "2026-03-03", "--until", "2026-03-02"], "must be before --until"),
    ],
)
def test_it_refuses_bad_filters_with_exit_2(
    database: Database, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    result = run(capsys, "history", *args)
    assert result.code == 2
    assert message in result.err
    assert result.err.count("\n") == 1


def test_it_stops_at_the_limit_newest_first(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    for minute in range(0, 300, 10):
        database.record(an_outcome(at=T0 + timedelta(minutes=minute)))
    lines = run(capsys, "history", "--format", "ndjson", "--limit", "25").out.splitlines()
    assert len(lines) == 25
    assert json.loads(lines[0])["started_at"] == "2026-03-02T12:50:00+00:00"
