"""Open data: daily aggregates, one row per local day and target, as CSV and JSON.

No personal data and nothing secret: target and prefecture ids and names from the
config, and counts of attempts per status, reason and La Cimade bucket. URLs, details
and evidence are left out (a URL may carry a token). A day without a row had no attempt.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from monitor.alerts.phrasebook import REASON_LABELS, STATUS_LABELS
from monitor.domain import Reason, Status
from monitor.publish.figures import DayFigures
from monitor.reports.output import formula_safe, without_controls
from monitor.reports.stats import BUCKETS


@dataclass(frozen=True)
class Field:
    name: str
    type: str  #: a Frictionless Table Schema type
    fr: str
    en: str

    def meaning(self, language: str) -> str:
        return self.fr if language == "fr" else self.en


def _fields() -> tuple[Field, ...]:
    from monitor.evidence.dossier.words import WORDS

    fixed = (
        Field("date", "date", "jour (heure locale)", "day (local time)"),
        Field("target", "string", "identifiant de la démarche", "procedure id"),
        Field("prefecture", "string", "code du département ou de la préfecture",
              "département or prefecture code"),
        Field("prefecture_name", "string", "nom de la préfecture", "prefecture name"),
        Field("procedure", "string", "nom de la démarche", "procedure name"),
        Field("attempts", "integer", "tentatives ce jour-là", "attempts that day"),
    )  # fmt: skip
    statuses = tuple(
        Field(
            str(status),
            "integer",
            f"tentatives « {STATUS_LABELS['fr'][status]} »",
            f"attempts “{STATUS_LABELS['en'][status]}”",
        )
        for status in Status
    )
    slot_seen = (
        Field("slot_seen", "boolean", "au moins un créneau vu ce jour-là",
              "at least one slot seen that day"),
    )  # fmt: skip
    reasons = tuple(
        Field(
            f"reason_{reason}",
            "integer",
            f"tentatives au motif « {REASON_LABELS['fr'][reason]} »",
            f"attempts with reason “{REASON_LABELS['en'][reason]}”",
        )
        for reason in Reason
    )
    buckets = tuple(
        Field(
            f"bucket_{bucket}",
            "integer",
            f"tentatives : {WORDS['fr']['bucket_' + bucket]} (La Cimade)",
            f"attempts: {WORDS['en']['bucket_' + bucket]} (La Cimade)",
        )
        for bucket in BUCKETS
    )
    return fixed + statuses + slot_seen + reasons + buckets


#: Every column of the daily files, in order.
FIELDS = _fields()
FIELD_NAMES = tuple(field.name for field in FIELDS)


@dataclass(frozen=True)
class TargetIdentity:
    """What the open data says about a target (its config, nothing else)."""

    target: str
    prefecture: str
    prefecture_name: str
    procedure: str


def daily_rows(identity: TargetIdentity, days: Iterable[DayFigures]) -> list[dict[str, Any]]:
    """One row per day with attempts, with :data:`FIELD_NAMES`."""
    rows = []
    for figures in days:
        if not figures.attempts:
            continue
        row: dict[str, Any] = {
            "date": figures.day.isoformat(),
            "target": identity.target,
            "prefecture": identity.prefecture,
            "prefecture_name": without_controls(identity.prefecture_name),
            "procedure": without_controls(identity.procedure),
            "attempts": figures.attempts,
        }
        row.update({str(status): figures.statuses[status] for status in Status})
        row["slot_seen"] = figures.slot_seen
        row.update({f"reason_{reason}": figures.reasons[reason] for reason in Reason})
        row.update({f"bucket_{bucket}": figures.buckets[bucket] for bucket in BUCKETS})
        rows.append(row)
    return rows


def csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows as CSV (comma, header line, ``true``/``false`` for booleans)."""
    return csv_rows(rows, FIELD_NAMES)


def csv_rows(rows: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> str:
    """``rows`` as CSV with the columns ``fields`` (``true``/``false``, empty for null)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # No control character (a bare CR would even end the line), no formula start.
        return formula_safe(without_controls(value))
    return value


def json_text(
    rows: Sequence[Mapping[str, Any]], *, licence: str | None, generated_at: str, first: date
) -> str:
    """The rows as one JSON document, with the licence and the period it covers."""
    document = {
        "licence": licence,
        "generated_at": generated_at,
        "period_start": first.isoformat(),
        "schema": "schema.json",
        "rows": list(rows),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def schema_text(*, licence: str | None, timezone: str) -> str:
    """``schema.json``: a Frictionless Table Schema of the daily files, with the licence."""
    document = {
        "title": "prefecture-monitor: daily aggregates per procedure",
        "licence": licence,
        "timezone": timezone,
        "primaryKey": ["date", "target"],
        "missingValues": [""],
        "fields": [
            {"name": f.name, "type": f.type, "description": f.en, "description_fr": f.fr}
            for f in FIELDS
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"
