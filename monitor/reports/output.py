"""Printing rows: a readable table, or JSON / NDJSON / CSV for machines.

Machine formats carry UTC ISO 8601 timestamps and the contract's field names; tables show times in
``settings.timezone``. Rows are consumed lazily, so ndjson and csv stream; json writes one
array incrementally; only the table needs every row (to size its columns), and is capped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from monitor.details import detail_columns, render_outcome, render_stored, structured_detail
from monitor.domain import Outcome
from monitor.printable import printable

FORMATS = ("table", "json", "ndjson", "csv")

#: Every outcome field, in the order and with the names of docs/contract.md#outcome-fields:
#: the ``outcomes`` columns, in the table's order, so that history writes the records it
#: reads as they are.
OUTCOME_FIELDS = (
    "id",
    "target",
    "prefecture",
    "started_at",
    "finished_at",
    "duration_ms",
    "engine",
    "status",
    "reason",
    "detail",
    "detail_code",
    "detail_args",
    "http_status",
    "url",
    "final_url",
    "slot_count",
    "earliest_slot",
    "evidence",
    "sha256",
    "chain",
    "node",
    "assisted_by",
)

Row = Mapping[str, object]


def outcome_row(outcome: Outcome) -> dict[str, object]:
    """An outcome as a flat mapping with the contract's field names."""
    return {
        "id": outcome.id,
        "target": outcome.target,
        "prefecture": outcome.prefecture,
        "started_at": outcome.started_at,
        "finished_at": outcome.finished_at,
        "duration_ms": outcome.duration_ms,
        "engine": outcome.engine,
        "status": outcome.status,
        "reason": outcome.reason,
        "detail": outcome.detail,
        **detail_columns(outcome.structured),
        "http_status": outcome.http_status,
        "url": outcome.url,
        "final_url": outcome.final_url,
        "slot_count": outcome.slot_count,
        "earliest_slot": outcome.earliest_slot,
        "evidence": list(outcome.evidence),
        "sha256": outcome.sha256,
        "chain": outcome.chain,
        "node": outcome.node,
        "assisted_by": outcome.assisted_by,
    }


def outcome_rows(
    outcomes: Iterable[Outcome], *, fmt: str, language: str, tz: ZoneInfo
) -> Iterator[dict[str, object]]:
    """Rows for :func:`emit`: machine formats carry the detail as recorded (English, with its
    ``detail_code`` and ``detail_args``); a table shows it in the reader's ``language``."""
    for outcome in outcomes:
        row = outcome_row(outcome)  # the detail as recorded, with its code and values
        if fmt == "table":
            row["detail"] = render_outcome(outcome, language, tz)
        yield row


def record_rows(
    records: Iterable[dict[str, Any]], *, fmt: str, language: str, tz: ZoneInfo
) -> Iterator[dict[str, Any]]:
    """:func:`outcome_rows` of records read straight from the store (``history_records``):
    the same rows, a table's detail in ``language`` from the stored code and values."""
    if fmt != "table":
        yield from records
        return
    for record in records:
        structured = structured_detail(record["detail_code"], record["detail_args"])
        record["detail"] = render_stored(record["detail"], structured, language, tz)
        yield record


def detail_fields(
    outcome: Outcome | None, *, fmt: str, language: str, tz: ZoneInfo
) -> dict[str, object]:
    """``detail``, ``detail_code``, ``detail_args`` of ``outcome`` (None: all null): the
    recorded line for machines, the line in ``language`` for a table."""
    if outcome is None:
        return {"detail": None, "detail_code": None, "detail_args": None}
    line = render_outcome(outcome, language, tz) if fmt == "table" else outcome.detail
    return {"detail": line, **detail_columns(outcome.structured)}


def machine_value(value: object) -> object:
    """A JSON-friendly value: datetimes as UTC ISO 8601 with offset, enums as their value."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return [machine_value(v) for v in value]
    if isinstance(value, list):
        return [machine_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): machine_value(v) for k, v in value.items()}
    return value


def _json_default(value: object) -> object:
    """What ``json`` cannot write itself: datetimes, as :func:`machine_value` does (enums
    are ``str`` and tuples lists to ``json`` already)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


#: ``json.dumps(..., ensure_ascii=False, default=_json_default)`` without a new encoder per row,
#: nor the check for cycles: a row is a fresh flat mapping, which cannot hold itself.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_json_default, check_circular=False)


def _json_line(row: Row, fields: tuple[str, ...]) -> str:
    """One row as JSON: the same text as ``json.dumps`` of its :func:`machine_value` s,
    without walking every value in Python first (history streams thousands of rows). A row
    that already has exactly ``fields``, in order (outcome_row's), is written as it is."""
    values = row if tuple(row) == fields else {f: row.get(f) for f in fields}
    return _ENCODER.encode(values)


def table_value(value: object, tz: ZoneInfo) -> str:
    """A cell for people: local time to the second, lists joined, None empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


@dataclass(frozen=True)
class Column:
    """A table column: the row key and its heading."""

    key: str
    heading: str
    max_width: int = 60


#: What a spreadsheet runs as a formula when a cell starts with it (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Characters no reader should get from a page as they are: C0 controls but tab and line
#: feed (ESC starts terminal escapes), DEL, C1 controls, and the bidirectional embeddings,
#: overrides and isolates that reorder what a reader sees (U+202A-U+202E, U+2066-U+2069).


def formula_safe(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet keeps as text: a ``'`` before a formula start.

    Pure; the one guard of every CSV the monitor writes (``history``, ``stats``, the open
    data).
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def without_controls(text: str) -> str:
    """``text`` with control and bidi-override characters shown as U+FFFD (tab and line
    feed kept, spaces of every kind kept). Pure; for HTML and text a person reads."""
    return printable(text)


def _csv_cell(value: object) -> object:
    """A CSV cell; text a spreadsheet would run as a formula is kept as text with a ``'``."""
    value = machine_value(value)
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return formula_safe(value)
    return value


def _printable(text: str) -> str:
    """``text`` with control characters (terminal escapes included) shown as U+FFFD."""
    return "".join(ch if ch.isprintable() or ch == " " else "\ufffd" for ch in text)


def emit(
    rows: Iterable[Row],
    *,
    fmt: str,
    fields: Sequence[str],
    columns: Sequence[Column],
    tz: ZoneInfo,
    stream: TextIO,
    table_limit: int = 10_000,
) -> int:
    """Write rows in ``fmt``; returns how many rows were written."""
    count = 0
    fields = tuple(fields)
    if fmt == "ndjson":
        for row in rows:
            stream.write(_json_line(row, fields))
            stream.write("\n")
            count += 1
    elif fmt == "json":
        stream.write("[")
        for row in rows:
            stream.write(",\n" if count else "\n")
            stream.write(_json_line(row, fields))
            count += 1
        stream.write("\n]\n" if count else "]\n")
    elif fmt == "csv":
        writer = csv.writer(stream)
        writer.writerow(fields)
        for row in rows:
            writer.writerow([_csv_cell(row.get(f)) for f in fields])
            count += 1
    elif fmt == "table":
        count = _table(rows, columns, tz, stream, table_limit)
    else:  # pragma: no cover - click restricts the choice
        raise ValueError(f"unknown format {fmt!r}")
    stream.flush()
    return count


def _clip(text: str, width: int) -> str:
    text = _printable(" ".join(text.split()))
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(
    rows: Iterable[Row], columns: Sequence[Column], tz: ZoneInfo, stream: TextIO, limit: int
) -> int:
    cells: list[list[str]] = []
    iterator: Iterator[Row] = iter(rows)
    for row in iterator:
        if len(cells) >= limit:
            stream.write(f"(table cut at {limit} rows; use --limit or --format ndjson)\n")
            break
        cells.append([_clip(table_value(row.get(c.key), tz), c.max_width) for c in columns])
    if not cells:
        return 0
    widths = [max(len(c.heading), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    stream.write(
        "  ".join(c.heading.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
    )
    stream.write("\n")
    stream.write("  ".join("-" * w for w in widths) + "\n")
    for line in cells:
        stream.write(
            "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() + "\n"
        )
    return len(cells)
