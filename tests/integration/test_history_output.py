"""`monitor history`'s exact text in every format, on SQLite and on PostgreSQL.

The expected files in ``tests/history_output/`` were written by the history path that built
an ``Outcome`` per row (before history read rows straight into records); any change to a
byte of them is a change of the output format. The outcomes cover every kind of value a
row holds: structured details (nested, in a list, of a code this version does not know),
rows from before migration 0002 (no code), slots with their date, missing values, text
outside ASCII, quotes, a formula for a spreadsheet, a timestamp without microseconds and
one across daylight saving time.

``UPDATE_HISTORY_OUTPUT=1`` rewrites the files (only for a deliberate format change).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import T0, Database, Run, an_outcome, database_at, run
from pg import create_database, shared_pg_url

from monitor.details import record_line
from monitor.domain import Detail, Engine, Outcome, Reason

EXPECTED = Path(__file__).resolve().parents[1] / "history_output"
FORMATS = ("ndjson", "json", "csv", "table")
_databases = itertools.count()

NO_SLOT = "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous"
DESKS = Detail(
    "by_desk",
    {
        "desks": (
            Detail("desk", {"label": "12083", "finding": Detail("page_says", {"text": NO_SLOT})}),
            Detail("desk", {"label": "12084", "finding": Detail("calendar_no_week")}),
        )
    },
)


def structured(outcome: Outcome, detail: Detail) -> Outcome:
    return replace(outcome, detail=record_line(detail), structured=detail)


def outcomes() -> list[Outcome]:
    """Outcomes holding every kind of value, oldest first."""
    summer = T0 + timedelta(days=150)  # Paris is UTC+2 then
    return [
        an_outcome(evidence=("8e/" + "8e" * 32 + ".html",), sha256="ab" * 32),  # no code (pre-0002)
        structured(
            an_outcome(at=T0 + timedelta(minutes=10, microseconds=478718), engine=Engine.BROWSER),
            DESKS,
        ),
        replace(  # read in an assisted session (since migration 0005)
            structured(
                an_outcome(
                    at=T0 + timedelta(minutes=20, seconds=1, microseconds=5),
                    reason=Reason.SLOTS,
                    slot_count=3,
                    earliest_slot=T0 + timedelta(days=9, hours=1, minutes=30),
                    evidence=("aa/" + "aa" * 32 + ".html", "aa/" + "aa" * 32 + ".png"),
                    sha256="cd" * 32,
                ),
                Detail("slots_offered", {"count": 3, "earliest": "2026-03-11T09:30:00+00:00"}),
            ),
            node="paris-1",
            assisted_by="=Camille « C. »",  # a name is the person's text: a formula in CSV
        ),
        replace(  # made by a daemon node (since migration 0004)
            structured(
                an_outcome(
                    at=T0 + timedelta(minutes=30), reason=Reason.MAINTENANCE, http_status=503
                ),
                Detail("maintenance", {"text": 'Site « fermé » "ce soir"\tà 20 h'}),
            ),
            node="paris-1",
        ),
        structured(
            an_outcome(
                at=T0 + timedelta(minutes=40),
                reason=Reason.TIMEOUT,
                http_status=None,
                final_url=None,
            ),
            Detail("probe_timeout", {"seconds": 45.0, "held": 1.5}),
        ),
        structured(
            an_outcome(at=T0 + timedelta(minutes=50), reason=Reason.UNRECOGNIZED),
            Detail("page_says", {"text": '=HYPERLINK("http://x")'}),
        ),
        replace(  # a code this version does not know: tables show the recorded line
            an_outcome(at=summer, reason=Reason.UNRECOGNIZED),
            detail="=1+1 from a newer version",
            structured=Detail("from_a_newer_version", {"x": 1, "why": Detail("no_page")}),
        ),
    ]


def history(capsys: pytest.CaptureFixture[str], fmt: str) -> Run:
    return run(capsys, "history", "--format", fmt)


def check(result: Run, fmt: str) -> None:
    assert result.code == 0, result.err
    expected = EXPECTED / f"history.{fmt}"
    if os.environ.get("UPDATE_HISTORY_OUTPUT"):
        expected.write_bytes(result.out.encode())
    assert result.out.encode() == expected.read_bytes()  # bytes: CSV lines end in CRLF


@pytest.mark.parametrize("fmt", FORMATS)
def test_history_writes_exactly_the_same_text_on_sqlite(
    database: Database, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    for outcome in outcomes():
        database.record(outcome)
    check(history(capsys, fmt), fmt)


@pytest.fixture
def pg_database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Database]:
    url = create_database(shared_pg_url(request.config), f"history_output_{next(_databases)}")
    yield from database_at(url, tmp_path, tmp_path, monkeypatch)


@pytest.mark.postgres
@pytest.mark.parametrize("fmt", FORMATS)
def test_history_writes_exactly_the_same_text_on_postgresql(
    pg_database: Database, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    for outcome in outcomes():
        pg_database.record(outcome)
    check(history(capsys, fmt), fmt)
