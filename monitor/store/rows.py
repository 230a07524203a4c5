"""Conversions between table rows and domain values; nothing else leaves the store."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import Row

from monitor.details import detail_columns, structured_detail
from monitor.domain import (
    Engine,
    Event,
    EventKind,
    Outcome,
    Reason,
    Status,
    TargetState,
    milliseconds_between,
)
from monitor.store import schema

E = TypeVar("E", bound=Enum)

#: The tables, under the names the store's modules read them by.
outcomes = schema.outcomes
outcome_hours = schema.outcome_hours
target_states = schema.target_states
events = schema.events
deliveries = schema.deliveries
delivery_attempts = schema.delivery_attempts
probe_claims = schema.probe_claims
heartbeats = schema.heartbeats
assist_sessions = schema.assist_sessions


#: The columns of target_states that mirror domain.TargetState field for field.
STATE_FIELDS = (
    "status",
    "reason",
    "since",
    "last_probe_at",
    "streak",
    "consecutive_anomalies",
    "consecutive_healthy",
    "anomaly_open",
    "anomaly_since",
    "slots_open",
    "last_available_at",
    "last_alert_at",
    "backoff_level",
)


def outcome_values(outcome: Outcome, *, chain: str) -> dict[str, Any]:
    """The ``outcomes`` row for an outcome (without ``id``)."""
    return {
        "target": outcome.target,
        "prefecture": outcome.prefecture,
        "started_at": outcome.started_at,
        "finished_at": outcome.finished_at,
        "duration_ms": outcome.duration_ms,
        "engine": str(outcome.engine),
        "status": str(outcome.status),
        "reason": str(outcome.reason),
        "detail": outcome.detail,
        **detail_columns(outcome.structured),
        "http_status": outcome.http_status,
        "url": outcome.url,
        "final_url": outcome.final_url,
        "slot_count": outcome.slot_count,
        "earliest_slot": outcome.earliest_slot,
        "evidence": list(outcome.evidence),
        "sha256": outcome.sha256,
        "chain": chain,
        "node": outcome.node,
        "assisted_by": outcome.assisted_by,
    }


def _members(kind: type[E]) -> Callable[[str], E]:
    """``kind(value)`` through a dict: history builds three enums per row, and the enum
    call is most of a row's cost. An unknown value still raises the enum's own error."""
    known = {member.value: member for member in kind}

    def member(value: str) -> E:
        found = known.get(value)
        return found if found is not None else kind(value)

    return member


_engine, _status, _reason = _members(Engine), _members(Status), _members(Reason)


def outcome_from_row(row: Row[Any]) -> Outcome:
    """The domain Outcome for an ``outcomes`` row."""
    r = row._mapping  # by key: a tenth of the cost of row.attribute, thousands of rows a call
    return Outcome(
        id=r["id"],
        target=r["target"],
        prefecture=r["prefecture"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        engine=_engine(r["engine"]),
        status=_status(r["status"]),
        reason=_reason(r["reason"]),
        detail=r["detail"],
        structured=structured_detail(r["detail_code"], r["detail_args"]),
        http_status=r["http_status"],
        url=r["url"],
        final_url=r["final_url"],
        slot_count=r["slot_count"],
        earliest_slot=r["earliest_slot"],
        evidence=tuple(r["evidence"] or ()),
        sha256=r["sha256"],
        chain=r["chain"],
        node=r["node"],
        assisted_by=r["assisted_by"],
    )


#: An outcome as a flat record: the fields of docs/contract.md#outcome-fields, which are the
#: ``outcomes`` columns, in order.
OutcomeRecord = dict[str, Any]
_RECORD_FIELDS = tuple(outcomes.columns.keys())


def outcome_record(row: Row[Any]) -> OutcomeRecord:
    """An ``outcomes`` row (every column, in the table's order) as a flat record, field for
    field what the Outcome of :func:`outcome_from_row` holds: enums checked and as members,
    ``duration_ms`` from the timestamps, ``detail_code`` and ``detail_args`` as
    ``detail_columns`` of its structured detail, ``evidence`` a list. No Outcome is built:
    history prints thousands of rows a call, and a machine format needs only the row."""
    record = dict(zip(_RECORD_FIELDS, row, strict=True))
    record["duration_ms"] = milliseconds_between(record["started_at"], record["finished_at"])
    record["engine"] = _engine(record["engine"])
    record["status"] = _status(record["status"])
    record["reason"] = _reason(record["reason"])
    # Through the Detail: its nested details come back with their keys in its order.
    record.update(detail_columns(structured_detail(record["detail_code"], record["detail_args"])))
    record["evidence"] = record["evidence"] or []
    return record


def state_values(state: TargetState) -> dict[str, Any]:
    """The TargetState part of a ``target_states`` row."""
    values: dict[str, Any] = {name: getattr(state, name) for name in STATE_FIELDS}
    values["status"] = None if state.status is None else str(state.status)
    values["reason"] = None if state.reason is None else str(state.reason)
    return values


def state_from_row(row: Row[Any]) -> TargetState:
    """The domain TargetState for a ``target_states`` row."""
    return TargetState(
        target=row.target,
        status=None if row.status is None else Status(row.status),
        reason=None if row.reason is None else Reason(row.reason),
        since=row.since,
        last_probe_at=row.last_probe_at,
        streak=row.streak,
        consecutive_anomalies=row.consecutive_anomalies,
        consecutive_healthy=row.consecutive_healthy,
        anomaly_open=row.anomaly_open,
        anomaly_since=row.anomaly_since,
        slots_open=row.slots_open,
        last_available_at=row.last_available_at,
        last_alert_at=row.last_alert_at,
        backoff_level=row.backoff_level,
    )


def event_values(event: Event) -> dict[str, Any]:
    """The ``events`` row for an event (without ``id``)."""
    return {
        "kind": str(event.kind),
        "target": event.target,
        "occurred_at": event.occurred_at,
        "outcome_id": event.outcome_id,
        "reminder": event.reminder,
        "payload": dict(event.payload),
    }


def event_from_row(row: Row[Any]) -> Event:
    """The domain Event for an ``events`` row (payload as read back from JSON)."""
    return Event(
        id=row.id,
        kind=EventKind(row.kind),
        target=row.target,
        occurred_at=row.occurred_at,
        outcome_id=row.outcome_id,
        reminder=row.reminder,
        payload=dict(row.payload or {}),
    )
