"""The status page's figures by definition: an hour's status, anomaly periods, CSV cells.

The published site itself, from a database of known rows, is tested in
tests/integration/test_publish.py.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from monitor.domain import Reason, Status
from monitor.publish import opendata
from monitor.publish.figures import Change, anomaly_periods, hour_status
from monitor.reports.output import formula_safe


@pytest.mark.parametrize(
    ("counts", "status"),
    [
        ({}, "none"),
        ({Status.MONITOR_ERROR: 2}, "monitor_error"),
        ({Status.UNAVAILABLE: 3, Status.ANOMALY: 1, Status.AVAILABLE: 1}, "available"),
        ({Status.UNAVAILABLE: 3, Status.ANOMALY: 1}, "unavailable"),
        ({Status.UNAVAILABLE: 1, Status.ANOMALY: 1}, "anomaly"),
        ({Status.ANOMALY: 1, Status.MONITOR_ERROR: 5}, "anomaly"),
    ],
)
def test_an_hour_takes_the_status_the_definition_gives(
    counts: dict[Status, int], status: str
) -> None:
    assert hour_status(counts) == status


def test_anomaly_periods_run_from_the_first_anomaly_to_the_next_healthy_outcome() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)

    def change(hours: int, reason: Reason, position: int) -> Change:
        status = (
            Status.ANOMALY if reason in (Reason.TIMEOUT, Reason.CAPTCHA) else Status.UNAVAILABLE
        )
        return Change("t", t + timedelta(hours=hours), status, reason, position)

    changes = [
        change(0, Reason.NO_SLOT, 1),  # 1-2 no slot
        change(2, Reason.TIMEOUT, 3),  # 3-4 timeout
        change(4, Reason.CAPTCHA, 5),  # 5 captcha
        change(5, Reason.NO_SLOT, 6),  # 6 no slot
        change(6, Reason.TIMEOUT, 7),  # 7-9 timeout, still going on
    ]
    periods = anomaly_periods(changes, site_attempts=9)
    assert [(p.start, p.end, p.attempts, p.reasons) for p in periods] == [
        (t + timedelta(hours=2), t + timedelta(hours=5), 3, {Reason.TIMEOUT: 2, Reason.CAPTCHA: 1}),
        (t + timedelta(hours=6), None, 3, {Reason.TIMEOUT: 3}),
    ]


@pytest.mark.parametrize(
    ("text", "cell", "open_data_cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33 1 02", "'+33 1 02", "'+33 1 02"),
        ("-2+3", "'-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1", "\ufffd=1+1"),  # the open data shows no control character
        ("Préfecture de police", "Préfecture de police", "Préfecture de police"),
        (" =1", " =1", " =1"),
        ("", "", ""),
    ],
)
def test_no_csv_cell_starts_a_formula(text: str, cell: str, open_data_cell: str) -> None:
    # Before issue 25 the open data's guard missed a leading TAB or CR (OWASP).
    assert formula_safe(text) == cell
    row = {name: 0 for name in opendata.FIELD_NAMES} | {"procedure": text, "target": "t/x"}
    written = next(csv.DictReader(io.StringIO(opendata.csv_text([row]))))
    assert written["procedure"] == open_data_cell
