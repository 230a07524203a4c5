"""classify(target, observation): failures, combined desks, fields, and the available guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pagecases import html, page, target
from test_platforms_legacy import BUSY, FREE_LINKED, SENTENCE, calendar, no_slot

from monitor.attempt.classify import classify, combine
from monitor.attempt.probe import failure_finding
from monitor.domain import (
    Detail,
    Engine,
    Finding,
    Observation,
    PageSnapshot,
    Platform,
    Reason,
    Status,
)
from monitor.errors import MonitorFault, ProbeError
from monitor.platforms.common import Positive

STARTED = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)
LEGACY = target(Platform.LEGACY_BOOKING, desks=(5011, 5012))
WEEK = "Semaine du lundi 06 mai 2030 au dimanche 12 mai 2030"


def observation(*pages: PageSnapshot, failure: Finding | None = None) -> Observation:
    return Observation(
        target=LEGACY.id,
        engine=Engine.HTTP,
        url=LEGACY.url,
        started_at=STARTED,
        finished_at=STARTED + timedelta(seconds=2),
        pages=pages,
        failure=failure,
    )


def desk(source: str, label: str, status: int = 200) -> PageSnapshot:
    return page(source, status=status, label=label, final_url=LEGACY.url + "/4")


SLOTS = calendar(WEEK, BUSY + FREE_LINKED)
NONE = no_slot(SENTENCE)
ERROR = "<html><body><center><h1>502 Bad Gateway</h1></center></body></html>"


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        ((desk(NONE, "5011"), desk(SLOTS, "5012")), ("available", "slots")),
        ((desk(SLOTS, "5011"), desk(ERROR, "5012", 502)), ("available", "slots")),
        ((desk(NONE, "5011"), desk(NONE, "5012")), ("unavailable", "no_slot")),
        ((desk(NONE, "5011"), desk(ERROR, "5012", 502)), ("anomaly", "overloaded")),
        (
            (desk(ERROR, "5011", 502), desk(html("<h1>Site en maintenance</h1>"), "5012")),
            ("anomaly", "maintenance"),
        ),
    ],
    ids=[
        "one desk has slots",
        "slots beat another desk's error",
        "every desk positively has none",
        "one desk unknown: the anomaly",
        "the most specific anomaly",
    ],
)
def test_it_combines_desks_as_spec_says(
    pages: tuple[PageSnapshot, ...], expected: tuple[str, str]
) -> None:
    outcome = classify(LEGACY, observation(*pages))
    assert (outcome.status, outcome.reason) == expected
    assert outcome.detail.startswith("desk ")


def test_it_adds_desks_slot_counts_and_keeps_the_earliest() -> None:
    outcome = classify(LEGACY, observation(desk(SLOTS, "5011"), desk(SLOTS, "5012")))
    assert outcome.slot_count == 2
    assert outcome.earliest_slot == datetime(2030, 5, 8, 8, 30, tzinfo=UTC)
    assert outcome.earliest_slot.tzinfo is UTC


def test_it_fills_the_outcome_fields_from_the_deciding_page() -> None:
    outcome = classify(LEGACY, observation(desk(NONE, "5011"), desk(ERROR, "5012", 502)))
    assert outcome.target == "t/case" and outcome.prefecture == "t"
    assert outcome.http_status == 502
    assert outcome.url == LEGACY.url and outcome.final_url == LEGACY.url + "/4"
    assert outcome.duration_ms == 2000 and outcome.engine is Engine.HTTP
    assert len(outcome.detail) <= 300 and "\n" not in outcome.detail
    assert outcome.slot_count is None and outcome.earliest_slot is None


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (TimeoutError(), ("anomaly", "timeout")),
        (ProbeError("connection", "connection reset by 127.0.0.1:1"), ("anomaly", "connection")),
        (ProbeError("timeout", "no answer within 5s"), ("anomaly", "timeout")),
        (MonitorFault("browser_crash", "Chromium went away"), ("monitor_error", "browser_crash")),
        (MonitorFault("timeout", "a fault with a site reason"), ("monitor_error", "internal")),
        (ProbeError("no_such_reason", "?"), ("monitor_error", "internal")),
        (KeyError("oops"), ("monitor_error", "internal")),
    ],
)
def test_a_failure_becomes_that_outcome(exc: Exception, expected: tuple[str, str]) -> None:
    failure = failure_finding(exc, timeout=5)
    outcome = classify(LEGACY, observation(failure=failure))
    assert (outcome.status, outcome.reason) == expected
    if isinstance(exc, KeyError):
        assert "KeyError" in outcome.detail


def test_a_failure_keeps_the_last_page_reached_for_its_fields() -> None:
    failure = failure_finding(ProbeError("timeout", "no answer"), timeout=5)
    outcome = classify(LEGACY, observation(desk(NONE, "", 200), failure=failure))
    assert (outcome.status, outcome.reason) == ("anomaly", "timeout")
    assert outcome.final_url == LEGACY.url + "/4" and outcome.http_status == 200


def test_a_missing_element_on_an_error_page_is_that_error() -> None:
    failure = failure_finding(ProbeError("unrecognized", "no button"), timeout=5)
    outcome = classify(LEGACY, observation(desk(ERROR, "", 502), failure=failure))
    assert (outcome.status, outcome.reason) == ("anomaly", "overloaded")
    plain = classify(LEGACY, observation(desk(html("<p>x</p>"), ""), failure=failure))
    assert (plain.status, plain.reason) == ("anomaly", "unrecognized")


def test_no_page_and_no_failure_is_the_monitors_fault() -> None:
    outcome = classify(LEGACY, observation())
    assert (outcome.status, outcome.reason) == ("monitor_error", "internal")


def test_available_without_a_positive_rule_is_never_recorded() -> None:
    forged = Finding(Status.AVAILABLE, Reason.SLOTS, Detail("page_says", {"text": "forged"}))
    _, combined = combine([(desk(NONE, "5011"), forged), (desk(NONE, "5012"), forged)])
    assert not isinstance(combined, Positive)  # combining does not launder it
    outcome = classify(LEGACY, observation(failure=forged))
    assert (outcome.status, outcome.reason) == ("anomaly", "unrecognized")
    assert "guard" in outcome.detail
