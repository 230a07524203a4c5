"""Output formats: machine formats in UTC with the contract's names, tables in local time."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from monitor.domain import Reason, Status
from monitor.reports.output import Column, emit, machine_value

PARIS = ZoneInfo("Europe/Paris")
ROWS = [
    {"target": "92/remise-titre", "started_at": datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "n": 1},
    {"target": "75/aes", "started_at": datetime(2026, 1, 1, 12, 0, tzinfo=UTC), "n": None},
]
COLUMNS = [Column("target", "TARGET"), Column("started_at", "STARTED"), Column("n", "N")]


def render(fmt: str) -> str:
    out = io.StringIO()
    emit(
        iter(ROWS),
        fmt=fmt,
        fields=("target", "started_at", "n"),
        columns=COLUMNS,
        tz=PARIS,
        stream=out,
    )
    return out.getvalue()


def test_it_writes_json_with_utc_iso_timestamps() -> None:
    rows = json.loads(render("json"))
    assert rows[0] == {
        "target": "92/remise-titre",
        "started_at": "2026-07-01T12:00:00+00:00",
        "n": 1,
    }
    assert rows[1]["n"] is None


def test_it_writes_one_object_per_line_in_ndjson() -> None:
    lines = render("ndjson").splitlines()
    assert [json.loads(line)["target"] for line in lines] == ["92/remise-titre", "75/aes"]


def test_it_writes_csv_with_a_header() -> None:
    rows = list(csv.DictReader(io.StringIO(render("csv"))))
    assert rows[1] == {"target": "75/aes", "started_at": "2026-01-01T12:00:00+00:00", "n": ""}


def test_it_shows_tables_in_local_time_across_dst() -> None:
    table = render("table")
    assert "2026-07-01 14:00:00" in table  # summer: UTC+2
    assert "2026-01-01 13:00:00" in table  # winter: UTC+1
    assert table.splitlines()[0].split() == ["TARGET", "STARTED", "N"]


def test_it_writes_an_empty_json_array_for_no_rows() -> None:
    out = io.StringIO()
    emit(iter([]), fmt="json", fields=("target",), columns=COLUMNS, tz=PARIS, stream=out)
    assert json.loads(out.getvalue()) == []


HOSTILE = {
    "target": "92/remise-titre",
    "started_at": datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
    "n": '=HYPERLINK("https://evil.example/","Rendez-vous")',
    "detail": "\x1b]0;pwned\x07\x1b[31mrouge\x1b[0m «Aucun créneau»",
}


def _hostile(fmt: str) -> str:
    out = io.StringIO()
    emit(
        iter([HOSTILE]),
        fmt=fmt,
        fields=("target", "n", "detail"),
        columns=[*COLUMNS, Column("detail", "DETAIL", 200)],
        tz=PARIS,
        stream=out,
    )
    return out.getvalue()


def test_a_table_never_writes_a_pages_terminal_escapes() -> None:
    table = _hostile("table")
    assert "\x1b" not in table and "\x07" not in table
    assert "\ufffd[31mrouge\ufffd[0m «Aucun créneau»" in table


def test_csv_keeps_a_formula_from_a_page_as_text() -> None:
    (row,) = csv.DictReader(io.StringIO(_hostile("csv")))
    assert row["n"] == '\'=HYPERLINK("https://evil.example/","Rendez-vous")'
    assert row["target"] == "92/remise-titre"  # ordinary text untouched
    assert json.loads(_hostile("json"))[0]["n"].startswith("=HYPERLINK")  # JSON is data


def test_json_lines_are_the_machine_values_of_every_kind_of_cell() -> None:
    paris = ZoneInfo("Europe/Paris")
    row = {
        "at": datetime(2027, 1, 12, 9, 30, tzinfo=paris),
        "status": Status.AVAILABLE,
        "reason": Reason.SLOTS,
        "evidence": ("a.html", "b.png"),
        "args": {"count": 2, "when": datetime(2027, 1, 12, 8, 0, tzinfo=UTC), "n": [1, "é"]},
        "none": None,
        "ratio": 0.25,
    }
    fields = list(row)
    expected = json.dumps({f: machine_value(row[f]) for f in fields}, ensure_ascii=False)
    for fmt in ("ndjson", "json"):
        out = io.StringIO()
        emit([row], fmt=fmt, fields=fields, columns=(), tz=UTC, stream=out)
        line = out.getvalue().strip().strip("[]").strip()
        assert line == expected
    assert '"at": "2027-01-12T08:30:00+00:00"' in expected and '"status": "available"' in expected


def test_json_lines_follow_the_fields_order_and_fill_missing_fields_with_null() -> None:
    # A row with other keys or another order is not written as it is (the fast path).
    out = io.StringIO()
    emit(
        iter(ROWS), fmt="ndjson", fields=("n", "missing", "target"), columns=(), tz=UTC, stream=out
    )
    first = out.getvalue().splitlines()[0]
    assert first == '{"n": 1, "missing": null, "target": "92/remise-titre"}'
