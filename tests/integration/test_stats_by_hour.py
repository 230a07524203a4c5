"""`monitor stats --by hour` and Repository.slots_opened_times on a real SQLite file: exact
counts on a hand-made record across both changes of time in Paris, the filters, the formats,
and the rollup's SQL held to the pure definition (monitor.reports.week_hours.week_figures)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import TARGET, Database, an_outcome, random_outcomes, run, write_config

from monitor.domain import Event, EventKind, Outcome, Reason, Status, TargetState
from monitor.reports.week_hours import HOUR_FIELDS, HOURS_IN_WEEK, week_figures
from monitor.reports.week_hours_query import collect_week_hours

PARIS = ZoneInfo("Europe/Paris")
OTHER = "75/titre"


def record(
    database: Database, outcome: Outcome, *, opened: bool = False, reminder: bool = False
) -> Outcome:
    """Store ``outcome`` with a slots_opened event (or its reminder) when asked."""
    events = []
    if opened or reminder:
        events.append(
            Event(EventKind.SLOTS_OPENED, outcome.target, outcome.finished_at, reminder=reminder)
        )
    state = TargetState(outcome.target, outcome.status, outcome.reason, outcome.started_at)
    stored, _ = database.repository.record_outcome(outcome, state, events, lambda _e: ())
    return stored


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


#: Monday 08h in Paris: 07h UTC in winter, 06h UTC in summer.
MON_08 = 8
#: Sunday 01h, 02h, 03h in Paris.
SUN_01, SUN_02, SUN_03 = 6 * 24 + 1, 6 * 24 + 2, 6 * 24 + 3


@pytest.fixture
def hand_made(database: Database) -> Database:
    """TARGET: two Mondays at 08h Paris (winter and summer), the spring and autumn Sundays'
    night hours; one opening started just before 08:00 UTC and recorded after it; a reminder.
    OTHER (prefecture 75): one opening on a Tuesday."""
    slots = {"reason": Reason.SLOTS, "slot_count": 2}
    # Monday 2026-03-02, Paris UTC+1: 07:xx UTC is 08h.
    record(database, an_outcome(at=utc(2026, 3, 2, 7, 10)))
    record(database, an_outcome(at=utc(2026, 3, 2, 7, 40), **slots), opened=True)  # type: ignore[arg-type]
    record(database, an_outcome(at=utc(2026, 3, 2, 7, 50), **slots), reminder=True)  # type: ignore[arg-type]
    # started 07:59:59 UTC (08h Paris), finished and recorded in the next hour
    late = an_outcome(at=utc(2026, 3, 2, 7, 59, 59), **slots)  # type: ignore[arg-type]
    record(database, late, opened=True)
    record(database, an_outcome(at=utc(2026, 3, 2, 8, 20)))  # 09h
    # Sunday 2026-03-29, summer time from 01:00 UTC: 01:30 CET, then 03:30 CEST; no 02h.
    record(database, an_outcome(at=utc(2026, 3, 29, 0, 30)))
    record(database, an_outcome(at=utc(2026, 3, 29, 1, 30), **slots), opened=True)  # type: ignore[arg-type]
    # Monday 2026-03-30, Paris UTC+2: 06:xx UTC is 08h.
    record(database, an_outcome(at=utc(2026, 3, 30, 6, 5), **slots), opened=True)  # type: ignore[arg-type]
    # Sunday 2026-10-25, winter time from 01:00 UTC: 02:30 CEST, then 02:30 CET again.
    record(database, an_outcome(at=utc(2026, 10, 25, 0, 30), **slots), opened=True)  # type: ignore[arg-type]
    record(database, an_outcome(at=utc(2026, 10, 25, 1, 30)))
    record(database, an_outcome(at=utc(2026, 10, 25, 2, 30), reason=Reason.CAPTCHA))  # 03h
    # OTHER: Tuesday 2026-03-03 10:15 UTC = Tuesday 11h.
    record(database, an_outcome(OTHER, at=utc(2026, 3, 3, 10, 15), **slots), opened=True)  # type: ignore[arg-type]
    return database


def hours_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    result = run(capsys, "stats", "--by", "hour", "--format", "json", *args)
    assert result.code == 0, result.err
    rows: list[dict[str, object]] = json.loads(result.out)
    return rows


def by_group(rows: list[dict[str, object]]) -> dict[object, list[dict[str, object]]]:
    groups: dict[object, list[dict[str, object]]] = {}
    for row in rows:
        groups.setdefault(row["target"] or f"{row['prefecture']}/*", []).append(row)
    return groups


def counts(row: dict[str, object]) -> tuple[object, object, object]:
    return row["probes"], row["probes_with_slots"], row["slots_opened"]


def test_it_counts_each_hour_of_the_week_in_local_time_across_both_changes(
    hand_made: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    groups = by_group(hours_json(capsys))
    assert list(groups) == [OTHER, TARGET]
    rows = groups[TARGET]
    assert len(rows) == HOURS_IN_WEEK
    assert tuple(rows[0]) == HOUR_FIELDS
    assert [row["week_hour"] for row in rows] == list(range(HOURS_IN_WEEK))
    assert rows[MON_08]["weekday"] == 1 and rows[MON_08]["hour"] == 8
    assert rows[SUN_02]["weekday"] == 7 and rows[SUN_02]["hour"] == 2
    assert {row["timezone"] for row in rows} == {"Europe/Paris"}
    assert {row["prefecture"] for row in rows} == {"92"}
    # winter and summer Mondays at 08h local: 4 + 1 probes, the reminder not an opening
    assert counts(rows[MON_08]) == (5, 4, 3)
    assert counts(rows[MON_08 + 1]) == (1, 0, 0)
    # the spring Sunday has no 02h; the autumn Sunday's 02h happens twice
    assert counts(rows[SUN_01]) == (1, 0, 0)
    assert counts(rows[SUN_02]) == (2, 1, 1)
    assert counts(rows[SUN_03]) == (2, 1, 1)
    busy = {MON_08, MON_08 + 1, SUN_01, SUN_02, SUN_03}
    assert all(counts(row) == (0, 0, 0) for row in rows if row["week_hour"] not in busy)
    other = groups[OTHER]
    assert counts(other[24 + 11]) == (1, 1, 1)
    assert sum(int(str(row["probes"])) for row in other) == 1


def test_the_filters_choose_targets_and_the_period(
    hand_made: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert list(by_group(hours_json(capsys, "--target", "92/*"))) == [TARGET]
    # --prefecture: its targets pooled first, then each target
    groups = by_group(hours_json(capsys, "--prefecture", "75"))
    assert list(groups) == ["75/*", OTHER]
    assert groups["75/*"][0]["target"] is None
    assert [counts(row) for row in groups["75/*"]] == [counts(row) for row in groups[OTHER]]
    # a period cut inside hours: from 07:45 UTC on 03-02 to the end of March (local)
    rows = by_group(
        hours_json(
            capsys, "--target", TARGET, "--since", "2026-03-02T08:45", "--until", "2026-03-30"
        )
    )[TARGET]
    assert counts(rows[MON_08]) == (2, 2, 1)  # 07:50 (reminder) and 07:59:59 (an opening)
    assert counts(rows[SUN_03]) == (1, 1, 1)
    assert counts(rows[SUN_01]) == (1, 0, 0)
    assert sum(int(str(row["slots_opened"])) for row in rows) == 2


def test_it_reads_for_people_and_machines(
    hand_made: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    table = run(capsys, "stats", "--by", "hour", "--target", TARGET)
    assert table.code == 0, table.err
    lines = [" ".join(line.split()) for line in table.out.splitlines()]
    assert lines[0] == "TARGET WHEN PROBES SAW SLOTS OPENINGS"
    assert lines[2:10] == [
        f"{TARGET} Mon 00h–08h no probe",
        f"{TARGET} Mon 08h–09h 5 4 3",
        f"{TARGET} Mon 09h–10h 1 0 0",
        f"{TARGET} Mon 10h–Sun 01h no probe",
        f"{TARGET} Sun 01h–02h 1 0 0",
        f"{TARGET} Sun 02h–03h 2 1 1",
        f"{TARGET} Sun 03h–04h 2 1 1",
        f"{TARGET} Sun 04h–24h no probe",
    ]
    assert "Hours of the week in Europe/Paris" in table.out
    assert "counted once, when slots" in table.out

    pooled = run(capsys, "stats", "--by", "hour", "--prefecture", "75")
    lines = [" ".join(line.split()) for line in pooled.out.splitlines()]
    assert "75/* (pooled) Tue 11h–12h 1 1 1" in lines
    assert f"{OTHER} Tue 11h–12h 1 1 1" in lines

    result = run(capsys, "stats", "--by", "hour", "--format", "csv")
    assert result.code == 0, result.err
    read = list(csv.DictReader(io.StringIO(result.out)))
    assert len(read) == 2 * HOURS_IN_WEEK and tuple(read[0]) == HOUR_FIELDS
    assert read[HOURS_IN_WEEK + MON_08]["slots_opened"] == "3"

    result = run(capsys, "stats", "--by", "hour", "--format", "ndjson", "--prefecture", "92")
    assert len(result.out.splitlines()) == 2 * HOURS_IN_WEEK


def test_nothing_matched_exits_3(hand_made: Database, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "stats", "--by", "hour", "--prefecture", "13")
    assert result.code == 3
    assert "13" in result.err
    result = run(capsys, "stats", "--by", "hour", "--since", "2027-01-01")
    assert result.code == 3


def test_the_config_time_zone_is_the_one_used(
    hand_made: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path / "prefectures.yaml",
        targets=[{"id": "x", "name": "X", "platform": "legacy-booking", "url": "https://a.test/"}],
        database=hand_made.url,
        timezone="America/Cayenne",  # UTC-3, no summer time
    )
    result = run(capsys, "--config", str(config), "stats", "--by", "hour", "--format", "json")
    assert result.code == 0, result.err
    rows = by_group(json.loads(result.out))[TARGET]
    assert {row["timezone"] for row in rows} == {"America/Cayenne"}
    assert counts(rows[4]) == (4, 3, 2)  # Monday 07:xx UTC = 04h in Cayenne


def test_slots_opened_times_are_per_target_oldest_first_without_reminders(
    hand_made: Database,
) -> None:
    store = hand_made.repository
    times = store.slots_opened_times(None, None)
    assert set(times) == {TARGET, OTHER}
    assert times[TARGET] == [
        utc(2026, 3, 2, 7, 40),
        utc(2026, 3, 2, 7, 59, 59),  # the probe's start, not the event's time
        utc(2026, 3, 29, 1, 30),
        utc(2026, 3, 30, 6, 5),
        utc(2026, 10, 25, 0, 30),
    ]
    assert all(moment.tzinfo is UTC for moment in times[TARGET])
    assert store.slots_opened_times([OTHER], None) == {OTHER: [utc(2026, 3, 3, 10, 15)]}
    assert store.slots_opened_times([TARGET], utc(2026, 3, 30, 6, 5)) == {
        TARGET: [utc(2026, 3, 30, 6, 5), utc(2026, 10, 25, 0, 30)]
    }
    assert store.slots_opened_times([], None) == {}
    assert store.slots_opened_times(["13/none"], None) == {}


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/Cayenne", "Asia/Kolkata"])
@pytest.mark.parametrize(
    ("since", "until"),
    [
        (None, None),
        (utc(2026, 3, 27, 13, 30), None),
        (None, utc(2026, 3, 29, 1, 0)),
        (utc(2026, 3, 28, 22, 17), utc(2026, 3, 29, 3, 41)),
        (utc(2026, 3, 29, 1, 5), utc(2026, 3, 29, 1, 55)),
    ],
)
def test_the_rollup_gives_the_figures_of_every_outcome_one_by_one(
    database: Database, zone: str, since: datetime | None, until: datetime | None
) -> None:
    """Random outcomes across the spring change; every third slot an opening. The SQL
    path (rollup and edges, or outcomes one by one for a half-hour zone) equals the pure
    definition over the outcomes in the period."""
    tz = ZoneInfo(zone)
    stored = []
    for index, outcome in enumerate(random_outcomes(seed=28, count=600)):
        opened = outcome.status is Status.AVAILABLE and index % 3 == 0
        stored.append((record(database, outcome, opened=opened), opened))
    inside = [
        (outcome, opened)
        for outcome, opened in stored
        if (since is None or outcome.started_at >= since)
        and (until is None or outcome.started_at < until)
    ]
    openings: dict[str, list[datetime]] = {}
    for outcome, opened in inside:
        if opened:
            openings.setdefault(outcome.target, []).append(outcome.started_at)
    expected = week_figures(
        ((o.target, o.prefecture, o.started_at, o.status is Status.AVAILABLE) for o, _ in inside),
        openings,
        tz,
        pool="92",
    )
    got = collect_week_hours(
        database.repository.engine,
        database.repository,
        since=since,
        until=until,
        prefecture="92",
        tz=tz,
        pool=True,
    )
    assert got == [group for group in expected if group.prefecture == "92"]
    assert sum(group.total_openings for group in got[1:]) == got[0].total_openings


def test_the_contract_lists_the_hour_fields_in_their_order() -> None:
    root = Path(__file__).resolve().parents[2]
    contract = (root / "docs" / "contract.md").read_text(encoding="utf-8")
    line = contract.split("- `stats --by hour`:", 1)[1].split("\n- ", 1)[0]
    named = [name for name in re.findall(r"`(\w+)`", line) if name in HOUR_FIELDS]
    assert named == list(HOUR_FIELDS)
    assert "`--by hour` **(planned)**" not in contract


def test_what_a_record_holds_cannot_act_on_a_terminal_or_a_spreadsheet(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copied database may hold any target id: tables show control characters as �,
    CSV cells never start a formula."""
    evil = "=HYPERLINK(1)/\x1b[2Jx"
    record(database, an_outcome(evil, at=utc(2026, 3, 2, 7, 40), reason=Reason.SLOTS), opened=True)
    table = run(capsys, "stats", "--by", "hour")
    assert table.code == 0, table.err
    assert "\x1b" not in table.out and "=HYPERLINK(1)/\ufffd[2Jx" in table.out
    result = run(capsys, "stats", "--by", "hour", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert {row["target"] for row in rows} == {"'" + evil}
    assert {row["prefecture"] for row in rows} == {"'=HYPERLINK(1)"}
    assert rows[MON_08]["slots_opened"] == "1"
