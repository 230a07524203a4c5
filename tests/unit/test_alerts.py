"""The alert policy, driven as tables of outcome sequences with an injected clock.

A sequence is a string, one letter per probe, ten minutes apart:
A available/slots · U unavailable/no_slot · X anomaly/overloaded (a 502) ·
C anomaly/captcha · M monitor_error/network_down.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.alerts.policy import AlertPolicy, apply_monitor_health, apply_outcome, backoff_delay
from monitor.domain import (
    MONITOR_TARGET,
    Detail,
    Engine,
    Event,
    EventKind,
    Outcome,
    Reason,
    Status,
    TargetState,
)

TARGET = "92/remise-titre"
URL = "https://www.hauts-de-seine.gouv.fr/booking/create/12083"
T0 = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
OFFLINE = Detail("every_host_failing")
STEP = timedelta(minutes=10)
NO_REMINDERS = AlertPolicy(remind_every=timedelta(0))

LETTERS = {
    "A": (Status.AVAILABLE, Reason.SLOTS),
    "U": (Status.UNAVAILABLE, Reason.NO_SLOT),
    "X": (Status.ANOMALY, Reason.OVERLOADED),
    "C": (Status.ANOMALY, Reason.CAPTCHA),
    "M": (Status.MONITOR_ERROR, Reason.NETWORK_DOWN),
}

OPENED = EventKind.SLOTS_OPENED
CLOSED = EventKind.SLOTS_CLOSED
STARTED = EventKind.ANOMALY_STARTED
RESOLVED = EventKind.ANOMALY_RESOLVED


def outcome(letter: str, at: datetime, **fields: object) -> Outcome:
    status, reason = LETTERS[letter]
    return Outcome(
        target=TARGET,
        prefecture="92",
        started_at=at,
        finished_at=at + timedelta(seconds=4),
        engine=Engine.HTTP,
        status=status,
        reason=reason,
        detail="Service surchargé" if letter == "X" else "",
        url=URL,
        http_status=502 if letter == "X" else 200,
        **fields,  # type: ignore[arg-type]
    )


def run(
    sequence: str,
    *,
    policy: AlertPolicy = NO_REMINDERS,
    captcha_is_normal: bool = False,
    state: TargetState | None = None,
) -> tuple[TargetState, list[tuple[int, EventKind, bool]], list[Event]]:
    """Feed the sequence; return the final state, (probe index, kind, reminder) and events."""
    state = state or TargetState(target=TARGET)
    summary: list[tuple[int, EventKind, bool]] = []
    events: list[Event] = []
    for index, letter in enumerate(sequence):
        at = T0 + index * STEP
        state, new = apply_outcome(
            state,
            outcome(letter, at),
            policy=policy,
            now=at + timedelta(seconds=5),
            captcha_is_normal=captcha_is_normal,
        )
        summary += [(index, event.kind, event.reminder) for event in new]
        events += new
    return state, summary, events


@pytest.mark.parametrize(
    ("sequence", "policy", "expected"),
    [
        ("U", NO_REMINDERS, []),
        ("UUU", NO_REMINDERS, []),
        ("A", NO_REMINDERS, [(0, OPENED)]),
        ("AA", NO_REMINDERS, [(0, OPENED)]),
        ("UA", NO_REMINDERS, [(1, OPENED)]),
        ("MA", NO_REMINDERS, [(1, OPENED)]),
        ("AUU", NO_REMINDERS, [(0, OPENED), (2, CLOSED)]),
        ("AU", replace(NO_REMINDERS, close_after=1), [(0, OPENED), (1, CLOSED)]),
        ("AUA", NO_REMINDERS, [(0, OPENED)]),
        ("AUUA", NO_REMINDERS, [(0, OPENED), (2, CLOSED), (3, OPENED)]),
        ("AXX", NO_REMINDERS, [(0, OPENED), (2, CLOSED)]),
        ("AUX", NO_REMINDERS, [(0, OPENED), (2, CLOSED)]),
        ("AMMU", replace(NO_REMINDERS, close_after=1), [(0, OPENED), (3, CLOSED)]),
        ("AUUU", replace(NO_REMINDERS, close_after=3), [(0, OPENED), (3, CLOSED)]),
        ("XX", NO_REMINDERS, []),
        ("XXX", NO_REMINDERS, [(2, STARTED)]),
        ("XXXXXXXX", NO_REMINDERS, [(2, STARTED)]),
        ("X", replace(NO_REMINDERS, anomaly_after=1), [(0, STARTED)]),
        ("XXXU", NO_REMINDERS, [(2, STARTED)]),
        ("XXXUU", NO_REMINDERS, [(2, STARTED), (4, RESOLVED)]),
        ("XXXUXUU", NO_REMINDERS, [(2, STARTED), (6, RESOLVED)]),
        ("XXXAA", NO_REMINDERS, [(2, STARTED), (3, OPENED), (4, RESOLVED)]),
        ("XXMX", NO_REMINDERS, [(3, STARTED)]),
        ("XMMXMX", NO_REMINDERS, [(5, STARTED)]),
        ("XXUX", NO_REMINDERS, []),
        ("XXXUMU", NO_REMINDERS, [(2, STARTED), (5, RESOLVED)]),
        ("CCC", NO_REMINDERS, [(2, STARTED)]),
    ],
)
def test_it_emits_the_events_of_each_transition(
    sequence: str, policy: AlertPolicy, expected: list[tuple[int, EventKind]]
) -> None:
    _, summary, _ = run(sequence, policy=policy)
    assert [(index, kind) for index, kind, _ in summary] == expected


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        ("CCCCCCCCCC", []),
        ("XXX", [(2, STARTED)]),
        ("CXXX", [(3, STARTED)]),
        ("XXCX", []),
        ("XCXCXC", []),
        ("XXXCC", [(2, STARTED), (4, RESOLVED)]),
        ("XXXCX", [(2, STARTED)]),
    ],
)
def test_it_does_not_start_an_anomaly_for_the_normal_captcha_of_rdv_prefecture(
    sequence: str, expected: list[tuple[int, EventKind]]
) -> None:
    _, summary, _ = run(sequence, captcha_is_normal=True)
    assert [(index, kind) for index, kind, _ in summary] == expected


def test_it_records_a_normal_captcha_as_an_anomaly_without_back_off() -> None:
    state, _, _ = run("CCCC", captcha_is_normal=True)
    assert (state.status, state.reason, state.streak) == (Status.ANOMALY, Reason.CAPTCHA, 4)
    assert (state.consecutive_anomalies, state.backoff_level) == (0, 0)
    assert state.consecutive_healthy == 4


def test_it_tells_conditions_that_end_before_conditions_that_begin() -> None:
    _, summary, _ = run("XXXA", policy=replace(NO_REMINDERS, resolved_after=1))
    assert summary == [(2, STARTED, False), (3, RESOLVED, False), (3, OPENED, False)]
    _, summary, _ = run("AXXX", policy=replace(NO_REMINDERS, close_after=5))
    assert summary == [(0, OPENED, False), (3, CLOSED, False), (3, STARTED, False)]


def test_it_sends_one_opening_for_a_target_flapping_every_probe() -> None:
    _, summary, _ = run("AU" * 50)
    assert summary == [(0, OPENED, False)]


def test_it_bounds_a_flapping_target_to_its_reminders() -> None:
    policy = AlertPolicy(remind_every=timedelta(hours=12))
    _, summary, _ = run("AU" * 50, policy=policy)  # 100 probes over 16 h 30
    assert summary == [(0, OPENED, False), (72, OPENED, True)]


def test_it_would_storm_without_the_closing_hold() -> None:
    # The same flapping with close_after=1 (the literal rule): the hold is what bounds it.
    _, summary, _ = run("AU" * 50, policy=replace(NO_REMINDERS, close_after=1))
    assert len(summary) == 100


@pytest.mark.parametrize(
    ("sequence", "remind_every", "expected"),
    [
        ("A" * 14, timedelta(hours=1), [(0, False), (6, True), (12, True)]),
        ("A" * 14, timedelta(0), [(0, False)]),
        ("A" * 200, timedelta(0), [(0, False)]),
        (
            "AUA" + "A" * 6,
            timedelta(minutes=20),
            [(0, False), (2, True), (4, True), (6, True), (8, True)],
        ),
    ],
)
def test_it_reminds_of_open_slots_every_remind_every_and_never_when_zero(
    sequence: str, remind_every: timedelta, expected: list[tuple[int, bool]]
) -> None:
    _, summary, _ = run(sequence, policy=AlertPolicy(remind_every=remind_every))
    assert summary == [(index, OPENED, reminder) for index, reminder in expected]


def test_it_never_reminds_of_slots_on_a_probe_that_saw_none() -> None:
    policy = AlertPolicy(remind_every=timedelta(minutes=10), close_after=3)
    _, summary, _ = run("AUU", policy=policy)
    assert summary == [(0, OPENED, False)]


@pytest.mark.parametrize(
    ("sequence", "remind_every", "expected"),
    [
        ("X" * 12, timedelta(hours=1), [(2, False), (8, True)]),
        ("X" * 12, timedelta(0), [(2, False)]),
        ("XXXUXXXXXX", timedelta(hours=1), [(2, False), (8, True)]),
        ("XXXMMMMMMMM", timedelta(minutes=10), [(2, False)]),
    ],
)
def test_it_reminds_of_an_open_anomaly_only_on_anomalous_probes(
    sequence: str, remind_every: timedelta, expected: list[tuple[int, bool]]
) -> None:
    _, summary, _ = run(sequence, policy=AlertPolicy(remind_every=remind_every))
    assert summary == [(index, STARTED, reminder) for index, reminder in expected]


def at(index: int) -> datetime:
    return T0 + index * STEP


@pytest.mark.parametrize(
    ("sequence", "fields"),
    [
        ("", {"status": None, "since": None, "streak": 0, "last_probe_at": None}),
        ("M", {"status": None, "since": None, "streak": 0, "last_probe_at": at(0)}),
        (
            "UUM",
            {"status": Status.UNAVAILABLE, "reason": Reason.NO_SLOT, "since": at(0)}
            | {"streak": 2, "last_probe_at": at(2), "consecutive_healthy": 2},
        ),
        (
            "AUX",
            {"status": Status.ANOMALY, "reason": Reason.OVERLOADED, "since": at(2), "streak": 1}
            | {"last_probe_at": at(2), "consecutive_anomalies": 1, "consecutive_healthy": 0}
            | {"anomaly_open": False, "anomaly_since": at(2), "slots_open": False}
            | {"last_available_at": at(0), "backoff_level": 1}
            | {"last_alert_at": at(2) + timedelta(seconds=5)},
        ),
        (
            "XXXU",
            {"anomaly_open": True, "anomaly_since": at(0), "consecutive_anomalies": 0}
            | {"consecutive_healthy": 1, "backoff_level": 0, "slots_open": False}
            | {"last_alert_at": at(2) + timedelta(seconds=5), "last_available_at": None},
        ),
        ("XXUU", {"anomaly_open": False, "anomaly_since": None, "consecutive_healthy": 2}),
        ("XXXXX", {"anomaly_since": at(0), "consecutive_anomalies": 5, "backoff_level": 5}),
        ("XXXXMX", {"consecutive_anomalies": 5, "backoff_level": 5, "streak": 5}),
        ("XXXUU", {"anomaly_open": False, "anomaly_since": None}),
        ("AUA", {"slots_open": True, "since": at(2), "last_available_at": at(2)}),
        ("AAU", {"slots_open": True, "status": Status.UNAVAILABLE, "last_available_at": at(1)}),
    ],
)
def test_it_maintains_every_field_of_the_target_state(
    sequence: str, fields: dict[str, object]
) -> None:
    state, _, _ = run(sequence)
    assert {name: getattr(state, name) for name in fields} == fields


def test_it_fills_the_payload_with_json_safe_values_in_utc() -> None:
    earliest = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    state = TargetState(target=TARGET)
    state, events = apply_outcome(
        state,
        outcome("A", T0, slot_count=3, earliest_slot=earliest, id=41),
        policy=NO_REMINDERS,
        now=T0 + timedelta(seconds=5),
    )
    (event,) = events
    assert (event.kind, event.target, event.outcome_id) == (OPENED, TARGET, 41)
    assert event.occurred_at == T0 + timedelta(seconds=5)
    assert event.payload == {
        "status": "available",
        "reason": "slots",
        "detail": "",
        "detail_code": None,
        "detail_args": None,
        "url": URL,
        "http_status": 200,
        "slot_count": 3,
        "earliest_slot": "2026-12-01T09:30:00+00:00",
        "since": "2026-11-23T13:00:00+00:00",
        "outcome_started_at": "2026-11-23T13:00:00+00:00",
    }
    assert json.loads(json.dumps(event.payload)) == event.payload


def test_it_converts_payload_datetimes_to_utc() -> None:
    paris = datetime(2026, 11, 23, 14, 0, tzinfo=ZoneInfo("Europe/Paris"))
    _, (event,) = apply_outcome(
        TargetState(target=TARGET),
        outcome("A", paris, earliest_slot=paris + timedelta(days=8)),
        policy=NO_REMINDERS,
        now=paris,
    )
    assert event.payload["outcome_started_at"] == "2026-11-23T13:00:00+00:00"
    assert event.payload["earliest_slot"] == "2026-12-01T13:00:00+00:00"


def test_it_dates_each_event_from_the_start_of_its_condition() -> None:
    _, _, events = run("UAAUUXXXUU")
    since = {event.kind: event.payload["since"] for event in events}
    assert since == {
        OPENED: at(1).isoformat(),
        CLOSED: at(3).isoformat(),  # the first probe without slots
        STARTED: at(5).isoformat(),
        RESOLVED: at(5).isoformat(),  # when the anomaly that ended began
    }
    (closed,) = [event for event in events if event.kind is CLOSED]
    assert closed.payload["last_available_at"] == at(2).isoformat()


@pytest.mark.parametrize(
    "bad",
    [
        {"anomaly_after": 0},
        {"resolved_after": 0},
        {"close_after": 0},
        {"remind_every": timedelta(seconds=-1)},
    ],
)
def test_it_refuses_a_policy_that_makes_no_sense(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        AlertPolicy(**bad)  # type: ignore[arg-type]


def test_it_refuses_a_naive_clock_and_another_targets_outcome() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        apply_outcome(
            TargetState(target=TARGET),
            outcome("A", T0),
            policy=NO_REMINDERS,
            now=datetime(2026, 1, 1),
        )
    with pytest.raises(ValueError, match="75/titre"):
        apply_outcome(TargetState(target="75/titre"), outcome("A", T0), policy=NO_REMINDERS, now=T0)


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (0, timedelta(0)),
        (1, timedelta(minutes=10)),
        (2, timedelta(minutes=20)),
        (3, timedelta(minutes=40)),
        (4, timedelta(minutes=80)),
        (5, timedelta(hours=2)),
        (6, timedelta(hours=2)),
        (10**6, timedelta(hours=2)),
    ],
)
def test_it_doubles_the_back_off_after_each_anomaly_up_to_the_cap(
    level: int, expected: timedelta
) -> None:
    state = TargetState(target=TARGET, backoff_level=level)
    assert backoff_delay(state, base=timedelta(minutes=10), maximum=timedelta(hours=2)) == expected


def test_it_never_overflows_the_back_off_under_a_huge_cap() -> None:
    state = TargetState(target=TARGET, backoff_level=10**6)
    huge = timedelta(days=999_999_999)
    assert backoff_delay(state, base=timedelta(seconds=1), maximum=huge) == huge


def test_it_drops_the_back_off_once_the_site_answers_normally() -> None:
    state, _, _ = run("XXXX")
    assert backoff_delay(state, base=timedelta(minutes=10), maximum=timedelta(hours=2)) == (
        timedelta(minutes=80)
    )
    state, _, _ = run("U", state=state)
    assert backoff_delay(state, base=timedelta(minutes=10), maximum=timedelta(hours=2)) == (
        timedelta(0)
    )


def health(
    reports: str, *, policy: AlertPolicy = NO_REMINDERS
) -> tuple[TargetState, list[tuple[int, EventKind, bool]], list[Event]]:
    """Feed health reports ("D" degraded, "H" healthy), five minutes apart."""
    state = TargetState(target=MONITOR_TARGET)
    summary: list[tuple[int, EventKind, bool]] = []
    events: list[Event] = []
    for index, report in enumerate(reports):
        state, new = apply_monitor_health(
            state,
            report == "D",
            policy=policy,
            now=T0 + index * timedelta(minutes=5),
            detail=OFFLINE if report == "D" else Detail("host_answered", {"host": "a"}),
        )
        summary += [(index, event.kind, event.reminder) for event in new]
        events += new
    return state, summary, events


DEGRADED = EventKind.MONITOR_DEGRADED
RECOVERED = EventKind.MONITOR_RECOVERED


@pytest.mark.parametrize(
    ("reports", "policy", "expected"),
    [
        ("HHH", NO_REMINDERS, []),
        ("D", NO_REMINDERS, [(0, DEGRADED, False)]),
        ("DDDD", NO_REMINDERS, [(0, DEGRADED, False)]),
        ("DH", NO_REMINDERS, [(0, DEGRADED, False)]),
        ("DHH", NO_REMINDERS, [(0, DEGRADED, False), (2, RECOVERED, False)]),
        ("DHDHD", NO_REMINDERS, [(0, DEGRADED, False)]),
        (
            "DH",
            replace(NO_REMINDERS, resolved_after=1),
            [(0, DEGRADED, False), (1, RECOVERED, False)],
        ),
        (
            "DDDDDDHH",
            AlertPolicy(remind_every=timedelta(minutes=10)),
            [(0, DEGRADED, False), (2, DEGRADED, True), (4, DEGRADED, True), (7, RECOVERED, False)],
        ),
    ],
)
def test_it_reports_the_monitors_own_health(
    reports: str, policy: AlertPolicy, expected: list[tuple[int, EventKind, bool]]
) -> None:
    _, summary, _ = health(reports, policy=policy)
    assert summary == expected


def test_it_keeps_the_monitors_health_under_its_own_target_without_a_url() -> None:
    state, _, events = health("HDDHH")
    assert [event.target for event in events] == [MONITOR_TARGET, MONITOR_TARGET]
    degraded, recovered = events
    assert degraded.payload["url"] is None
    assert (
        degraded.payload["detail"]
        == "every site probed recently failed at the network level: the monitor is offline"
    )
    assert degraded.payload["detail_code"] == "every_host_failing"
    assert degraded.payload["since"] == (T0 + timedelta(minutes=5)).isoformat()
    assert recovered.payload["since"] == (T0 + timedelta(minutes=5)).isoformat()
    assert (state.anomaly_open, state.anomaly_since, state.status) == (False, None, None)
    assert state.last_alert_at == T0 + timedelta(minutes=20)
    assert json.loads(json.dumps(degraded.payload)) == degraded.payload


def test_it_refuses_monitor_health_on_a_sites_state() -> None:
    with pytest.raises(ValueError):
        apply_monitor_health(
            TargetState(target=TARGET), True, policy=NO_REMINDERS, now=T0, detail=OFFLINE
        )
