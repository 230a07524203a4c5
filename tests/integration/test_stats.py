"""`monitor stats` and monitor.reports.stats: exact figures on a small hand-made series."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from helpers import T0, TARGET, Database, an_outcome, run

from monitor.domain import Outcome, Reason
from monitor.reports.stats import (
    BUCKETS,
    stats_fields,
    stats_of_outcomes,
)
from monitor.reports.stats_query import collect_stats

PARIS = ZoneInfo("Europe/Paris")
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def hand_made() -> list[Outcome]:
    """Twelve attempts of TARGET over three local days, plus two other targets.

    TARGET: 5 available (4 with dates: one in each dated bucket), 4 unavailable,
    2 anomalies (captcha, timeout), 1 monitor error; slots at 03-02 10:00, 03-03 08:00,
    03-05 08:00, 09:00, 10:00 UTC, so the longest period without slot is 03-03 08:00 to
    03-05 08:00 (48 h).
    """
    d1, d2, d4 = T0, T0 + DAY, T0 + 3 * DAY
    return [
        an_outcome(at=d1),
        an_outcome(at=d1 + HOUR, reason=Reason.CAPTCHA),
        an_outcome(
            at=d1 + 2 * HOUR, reason=Reason.SLOTS, slot_count=3, earliest_slot=d1 + 10 * DAY
        ),
        an_outcome(at=d1 + 3 * HOUR),
        an_outcome(at=d1 + 4 * HOUR, reason=Reason.NETWORK_DOWN),
        an_outcome(at=d2, reason=Reason.SLOTS, slot_count=1, earliest_slot=d2 + 20 * DAY),
        an_outcome(at=d2 + HOUR, reason=Reason.TIMEOUT),
        an_outcome(at=d2 + 2 * HOUR),
        an_outcome(at=d4, reason=Reason.SLOTS, slot_count=5, earliest_slot=d4 + 45 * DAY),
        an_outcome(at=d4 + HOUR, reason=Reason.SLOTS, earliest_slot=d4 + 90 * DAY),
        an_outcome(at=d4 + 2 * HOUR, reason=Reason.OPEN),
        an_outcome(at=d4 + 3 * HOUR),
        # 92/naturalisation: its second attempt is 00:30 on 03-04 in Paris.
        an_outcome("92/naturalisation", at=d1 + timedelta(minutes=30)),
        an_outcome("92/naturalisation", at=datetime(2026, 3, 3, 23, 30, tzinfo=UTC)),
        an_outcome("75/titre", at=d1 + timedelta(minutes=90), reason=Reason.MAINTENANCE),
    ]


@pytest.fixture
def recorded(database: Database) -> list[Outcome]:
    return [database.record(outcome) for outcome in hand_made()]


UNTIL = "2026-03-05T13:00"  # local: 12:00 UTC, the end of the last period without slot


def stats_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    result = run(capsys, "stats", "--until", UNTIL, "--format", "json", *args)
    assert result.code == 0, result.err
    rows: list[dict[str, object]] = json.loads(result.out)
    return rows


def test_it_computes_exact_figures_per_target(
    recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = {row["target"]: row for row in stats_json(capsys)}

    assert list(rows) == ["75/titre", "92/naturalisation", TARGET]
    row = rows[TARGET]
    assert tuple(row) == stats_fields("target")
    assert row["prefecture"] == "92"
    assert (row["attempts"], row["days"]) == (12, 3)
    assert (row["available"], row["unavailable"], row["anomaly"], row["monitor_error"]) == (
        5,
        4,
        2,
        1,
    )
    # Shares of the site's 11 attempts: the monitor error is left out.
    assert row["available_share"] == round(5 / 11, 6)
    assert row["unavailable_share"] == round(4 / 11, 6)
    assert row["anomaly_share"] == round(2 / 11, 6)
    assert row["anomalies_by_reason"] == {"captcha": 1, "timeout": 1}
    assert row["longest_without_slot_seconds"] == 48 * 3600
    assert row["longest_without_slot_from"] == "2026-03-03T08:00:00+00:00"
    assert row["longest_without_slot_to"] == "2026-03-05T08:00:00+00:00"
    assert row["last_slot_at"] == "2026-03-05T10:00:00+00:00"
    assert row["first_attempt"] == "2026-03-02T08:00:00+00:00"
    assert row["last_attempt"] == "2026-03-05T11:00:00+00:00"
    assert [row[f"bucket_{b}"] for b in BUCKETS] == [1, 1, 1, 1, 4]
    assert isinstance(row["since_last_slot_seconds"], int) and row["since_last_slot_seconds"] > 0


def test_it_runs_a_period_without_slot_to_until_when_no_slot_came(
    recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    row = stats_json(capsys, "--target", "75/*")[0]
    assert row["last_slot_at"] is None and row["since_last_slot_seconds"] is None
    assert row["longest_without_slot_from"] == "2026-03-02T09:30:00+00:00"
    assert row["longest_without_slot_to"] == "2026-03-05T12:00:00+00:00"
    assert row["anomaly_share"] == 1.0 and row["bucket_no_date"] == 0


def test_it_groups_by_prefecture(
    recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = {row["prefecture"]: row for row in stats_json(capsys, "--by", "prefecture")}
    assert tuple(rows["92"]) == stats_fields("prefecture")
    assert rows["92"]["attempts"] == 14
    # 03-02, 03-03, 03-04 (00:30 local), 03-05
    assert rows["92"]["days"] == 4
    assert rows["92"]["bucket_no_date"] == 6
    assert rows["75"]["attempts"] == 1


def test_it_groups_by_local_day(
    recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = {row["day"]: row for row in stats_json(capsys, "--by", "day")}
    assert list(rows) == ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
    assert [rows[day]["attempts"] for day in rows] == [7, 3, 1, 4]
    # A day's periods stop at its local end: 03-02 runs from 08:00 UTC to 23:00 UTC,
    # the slot at 10:00 UTC splits it, the rest (13 h) is the longest.
    first = rows["2026-03-02"]
    assert first["longest_without_slot_from"] == "2026-03-02T10:00:00+00:00"
    assert first["longest_without_slot_to"] == "2026-03-02T23:00:00+00:00"
    # The last day stops at --until.
    assert rows["2026-03-05"]["longest_without_slot_to"] == "2026-03-05T12:00:00+00:00"


def test_it_filters_by_period_and_prefecture(
    recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = stats_json(capsys, "--prefecture", "92", "--since", "2026-03-05")
    assert [(row["target"], row["attempts"]) for row in rows] == [(TARGET, 4)]


def test_it_writes_csv_and_a_readable_table(
    recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    table = list(csv.reader(io.StringIO(run(capsys, "stats", "--format", "csv").out)))
    assert tuple(table[0]) == stats_fields("target") and len(table) == 4
    assert json.loads(table[3][table[0].index("anomalies_by_reason")]) == {
        "captcha": 1,
        "timeout": 1,
    }
    text = run(capsys, "stats", "--until", UTC_UNTIL).out
    line = next(line for line in text.splitlines() if line.startswith(TARGET))
    assert "45.5 %" in line and "2 d" in line and "1/1/1/1/4" in line
    assert "2026-03-02 09:00:00" in line  # first attempt, Paris time


UTC_UNTIL = "2026-03-05T12:00:00+00:00"


def test_it_exits_3_when_nothing_matches(
    recorded: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, "stats", "--since", "2026-04-01", "--format", "json")
    assert result.code == 3 and json.loads(result.out) == []
    unknown = run(capsys, "stats", "--target", "13/*")
    assert unknown.code == 3 and "no recorded target matches '13/*'" in unknown.err


def test_sql_aggregation_and_the_pure_computation_agree(
    database: Database, recorded: list[Outcome]
) -> None:
    # Plus a night across the change to summer time (2026-03-29 in Paris).
    extra = [
        database.record(an_outcome(at=datetime(2026, 3, 28, 23, 30, tzinfo=UTC))),
        database.record(an_outcome(at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC))),
        database.record(an_outcome(at=datetime(2026, 3, 29, 22, 30, tzinfo=UTC))),
    ]
    now = datetime(2026, 4, 1, tzinfo=UTC)
    for by in ("target", "prefecture", "day"):
        from_sql = collect_stats(database.repository.engine, by=by, tz=PARIS, now=now)
        by_hand = stats_of_outcomes(recorded + extra, by=by, tz=PARIS, now=now)
        assert from_sql == by_hand, by
    days = [s.key for s in collect_stats(database.repository.engine, by="day", tz=PARIS, now=now)]
    assert days[-2:] == ["2026-03-29", "2026-03-30"]


# -- on PostgreSQL ------------------------------------------------------------------------


@pytest.mark.postgres
def test_sql_aggregation_agrees_on_postgresql_too(request: pytest.FixtureRequest) -> None:
    from pg import create_database, shared_pg_url

    from monitor.domain import TargetState
    from monitor.store import Repository, create_engine_for, upgrade

    url = create_database(shared_pg_url(request.config), "report_stats")
    upgrade(url)
    engine = create_engine_for(url)
    try:
        repository = Repository(engine)
        recorded = []
        for outcome in hand_made():
            state = TargetState(outcome.target, outcome.status, outcome.reason)
            stored, _ = repository.record_outcome(outcome, state, [], lambda _event: ())
            recorded.append(stored)
        now = datetime(2026, 4, 1, tzinfo=UTC)
        for by in ("target", "prefecture", "day"):
            from_sql = collect_stats(engine, by=by, tz=PARIS, now=now, targets=None)
            assert from_sql == stats_of_outcomes(recorded, by=by, tz=PARIS, now=now), by
    finally:
        engine.dispose()
