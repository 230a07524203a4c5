"""The alert policy: from a target's remembered state and one new outcome, the events to send.

Pure: no I/O, and the clock is an argument, so every rule is tested as a table of cases.
The scheduler loads a :class:`~monitor.domain.TargetState`, calls :func:`apply_outcome`,
then stores the returned state and events (the outbox) together.

How outcomes are read (docs/contract.md#events-and-notifications):

* ``available`` and ``unavailable`` are *healthy*: the site works. ``anomaly`` outcomes are
  *counted anomalies*. ``monitor_error`` outcomes are the monitor's fault: they touch nothing
  but ``last_probe_at`` (they neither count, nor reset a streak, nor close slots; status,
  since and streak keep describing the site as last seen).
* On targets whose normal entry is a captcha (``captcha_is_normal``, i.e. ``rdv-prefecture``),
  an ``anomaly``/``captcha`` outcome is recorded as an anomaly (status, reason, streak) but for
  the alert counters it is the site's *normal* answer: it does not count towards
  ``anomaly_started``, it breaks a streak of other anomalies, it counts towards
  ``anomaly_resolved`` and it does not raise the back-off. So a pure captcha streak never
  fires, a 502 streak does, and "502, captcha, 502" restarts the count at the captcha. The
  captcha must count as normal for resolution: such a target never shows ``available`` or
  ``unavailable`` (its probes stop at the captcha), so otherwise an anomaly there could never
  be resolved and would be re-sent every ``remind_every`` for ever.

Anti-storm rule (``AlertPolicy.close_after``): ``slots_opened`` is never delayed, but
``slots_closed`` is sent only once ``close_after`` consecutive site probes (default 2) have
found no slot. An ``available`` outcome before that continues the same opening: no
``slots_closed`` and no new ``slots_opened``. A target flapping every probe (available,
unavailable, available, …) therefore sends one ``slots_opened`` and then only its reminders;
slower flaps send at most one opened/closed pair per ``close_after + 1`` probes, each one a
real opening that lasted long enough to be worth announcing. ``close_after=1`` is the literal
contract rule. Reminders of an opening are only sent on a probe that actually saw slots, so a
held closure never tells anyone that slots are still there.

Event payloads hold JSON-safe values only (str, int, None; datetimes as ISO 8601 UTC):
``status``, ``reason``, ``detail`` (the English line) with ``detail_code`` and
``detail_args`` (what messages render in the reader's language), ``url``, ``http_status``,
``slot_count``,
``earliest_slot``, ``outcome_started_at`` (of the outcome that triggered the event) and
``since``, the start of the condition the event is about:

=====================  ==========================================================
``slots_opened``       first probe of the current run of ``available`` outcomes
``slots_closed``       first probe that found no slot (``last_available_at`` added)
``anomaly_started``    first anomaly of the streak; same for ``anomaly_resolved``
``monitor_degraded``   first degraded report; same for ``monitor_recovered``
``assist_needed``      when the target's last assisted session ended (absent if
                       none did); with ``end_reason`` and ``console_url``
=====================  ==========================================================

``assist_needed`` is written by the assisted sessions' desk, not by this policy: it asks
again at most every ``settings.assist.ask_every`` (:func:`should_ask`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from monitor.details import record_line, to_json
from monitor.domain import (
    MONITOR_TARGET,
    Detail,
    Event,
    EventKind,
    Outcome,
    Reason,
    Status,
    TargetState,
    is_monitor_key,
)

__all__ = [
    "AlertPolicy",
    "apply_monitor_health",
    "apply_outcome",
    "backoff_delay",
    "should_ask",
]


@dataclass(frozen=True)
class AlertPolicy:
    """The ``settings.alerts`` knobs, plus the anti-storm setting (see the module docstring)."""

    anomaly_after: int = 3  #: consecutive counted anomalies before anomaly_started
    resolved_after: int = 2  #: consecutive healthy outcomes before anomaly_resolved
    remind_every: timedelta = timedelta(hours=12)  #: re-send an open condition; 0 = never
    close_after: int = 2  #: consecutive probes without slots before slots_closed; 1 = at once

    def __post_init__(self) -> None:
        for name in ("anomaly_after", "resolved_after", "close_after"):
            if getattr(self, name) < 1:
                raise ValueError(f"AlertPolicy.{name} must be at least 1")
        if self.remind_every < timedelta(0):
            raise ValueError("AlertPolicy.remind_every must not be negative")


# When one outcome yields several events, conditions that end are told before new ones,
# so a reader of the outbox sees "anomaly resolved" before "slots opened".
_ORDER = {
    EventKind.SLOTS_CLOSED: 0,
    EventKind.ANOMALY_RESOLVED: 1,
    EventKind.ANOMALY_STARTED: 2,
    EventKind.SLOTS_OPENED: 3,
}


def apply_outcome(
    state: TargetState,
    outcome: Outcome,
    *,
    policy: AlertPolicy,
    now: datetime,
    captcha_is_normal: bool = False,
) -> tuple[TargetState, list[Event]]:
    """Fold one outcome into a target's state; return the new state and the events to send.

    ``now`` (timezone-aware) stamps the events and drives ``remind_every``; the outcome's own
    ``started_at`` dates what was observed (``since``, ``last_probe_at``, …).
    ``captcha_is_normal`` is true for targets whose entry is a captcha (``rdv-prefecture``).
    Raises ``ValueError`` when the outcome belongs to another target or ``now`` is naive.
    """
    _require_aware(now, "now")
    if outcome.target != state.target:
        raise ValueError(f"outcome of {outcome.target!r} applied to the state of {state.target!r}")
    seen_at = outcome.started_at
    if outcome.status == Status.MONITOR_ERROR:
        # The monitor's fault says nothing about the site: keep describing it as last seen.
        return replace(state, last_probe_at=seen_at), []

    # == rather than "is": a state read back from the database may hold plain strings.
    same_status = state.status == outcome.status
    available = outcome.status == Status.AVAILABLE
    new = replace(
        state,
        status=outcome.status,
        reason=outcome.reason,
        since=state.since if same_status else seen_at,
        streak=state.streak + 1 if same_status else 1,
        last_probe_at=seen_at,
        last_available_at=seen_at if available else state.last_available_at,
    )
    captcha_as_normal = captcha_is_normal and outcome.reason == Reason.CAPTCHA
    counted_anomaly = outcome.status == Status.ANOMALY and not captcha_as_normal
    if counted_anomaly:
        new, events = _count_anomaly(state, new, outcome, policy, now)
    else:
        new, events = _count_healthy(state, new, outcome, policy, now)
    new, slot_events = _slot_rules(state, new, outcome, policy, now)
    events = sorted(events + slot_events, key=lambda event: _ORDER[event.kind])
    if events:
        new = replace(new, last_alert_at=now)
    return new, events


def _count_anomaly(
    old: TargetState, new: TargetState, outcome: Outcome, policy: AlertPolicy, now: datetime
) -> tuple[TargetState, list[Event]]:
    """A counted anomaly: lengthen the streak; start the anomaly or remind of it."""
    count = old.consecutive_anomalies + 1
    # An open anomaly keeps its start even if a healthy probe interrupted the streak.
    anomaly_since = old.anomaly_since if old.anomaly_since is not None else outcome.started_at
    new = replace(
        new,
        consecutive_anomalies=count,
        consecutive_healthy=0,
        backoff_level=old.backoff_level + 1,
        anomaly_since=anomaly_since,
    )
    if not old.anomaly_open:
        if count < policy.anomaly_after:
            return new, []
        new = replace(new, anomaly_open=True)
        return new, [_event(EventKind.ANOMALY_STARTED, outcome, now, since=anomaly_since)]
    if _reminder_due(old, policy, now):
        return new, [
            _event(EventKind.ANOMALY_STARTED, outcome, now, since=anomaly_since, reminder=True)
        ]
    return new, []


def _count_healthy(
    old: TargetState, new: TargetState, outcome: Outcome, policy: AlertPolicy, now: datetime
) -> tuple[TargetState, list[Event]]:
    """A healthy (or normal-captcha) outcome: break the anomaly streak; resolve when due."""
    count = old.consecutive_healthy + 1
    new = replace(new, consecutive_healthy=count, consecutive_anomalies=0, backoff_level=0)
    if not old.anomaly_open:
        return replace(new, anomaly_since=None), []
    if count < policy.resolved_after:
        return new, []
    new = replace(new, anomaly_open=False, anomaly_since=None)
    return new, [_event(EventKind.ANOMALY_RESOLVED, outcome, now, since=old.anomaly_since)]


def _slot_rules(
    old: TargetState, new: TargetState, outcome: Outcome, policy: AlertPolicy, now: datetime
) -> tuple[TargetState, list[Event]]:
    """slots_opened at once; slots_closed once confirmed by ``close_after`` probes."""
    if outcome.status == Status.AVAILABLE:
        if not old.slots_open:
            # A first-ever probe that finds slots is announced too: someone should know.
            new = replace(new, slots_open=True)
            return new, [_event(EventKind.SLOTS_OPENED, outcome, now, since=new.since)]
        if _reminder_due(old, policy, now):
            return new, [
                _event(EventKind.SLOTS_OPENED, outcome, now, since=new.since, reminder=True)
            ]
        return new, []
    if not old.slots_open:
        return new, []
    # Confirmed when enough probes saw no slot, or when the site is now officially broken:
    # "slots open" and "anomaly open" at once would contradict each other.
    if _probes_without_slots(old, outcome) < policy.close_after and not new.anomaly_open:
        return new, []
    first_without = old.since if old.status != Status.AVAILABLE else outcome.started_at
    new = replace(new, slots_open=False)
    extra: dict[str, object] = {"last_available_at": _iso(old.last_available_at)}
    return new, [_event(EventKind.SLOTS_CLOSED, outcome, now, since=first_without, extra=extra)]


def _probes_without_slots(old: TargetState, outcome: Outcome) -> int:
    """Consecutive site probes without slots, this outcome included, while slots are open.

    Derived from ``streak``: exact up to two probes (all the default ``close_after`` needs);
    when a hold mixes ``unavailable`` and ``anomaly`` several times it undercounts, which only
    delays ``slots_closed`` by a probe or two.
    """
    if old.status == Status.AVAILABLE or old.status is None:
        return 1
    return old.streak + 1


def _reminder_due(old: TargetState, policy: AlertPolicy, now: datetime) -> bool:
    """Whether an open condition should be re-sent now (never when remind_every is 0)."""
    if policy.remind_every <= timedelta(0):
        return False
    return old.last_alert_at is None or now - old.last_alert_at >= policy.remind_every


def apply_monitor_health(
    state: TargetState,
    degraded: bool,
    *,
    policy: AlertPolicy,
    now: datetime,
    detail: Detail,
) -> tuple[TargetState, list[Event]]:
    """Fold one report of the monitor's own health into its state (``MONITOR_TARGET``, or a
    fleet node's :func:`monitor.domain.monitor_key`); the events' target is MONITOR_TARGET.

    ``monitor_degraded`` is sent on the first degraded report: the caller reports degradation
    only once it has judged it (connectivity check failed, every target failing at once,
    browser gone). ``monitor_recovered`` waits for ``policy.resolved_after`` healthy reports in
    a row, so a flaky network does not send a pair per cycle; while degraded, the degradation
    is re-sent every ``policy.remind_every``. In the state, ``status`` is ``monitor_error``
    while degraded and None while healthy, ``anomaly_open``/``anomaly_since`` mean "degraded
    announced"/"degraded since", and the consecutive counters count degraded/healthy reports.
    """
    _require_aware(now, "now")
    if not is_monitor_key(state.target):
        raise ValueError(f"monitor health applied to the state of {state.target!r}")
    status = Status.MONITOR_ERROR if degraded else None
    same = state.since is not None and state.status == status
    new = replace(
        state,
        status=status,
        reason=None,
        since=state.since if same else now,
        streak=state.streak + 1 if same else 1,
        last_probe_at=now,
    )
    events: list[Event] = []
    if degraded:
        since = state.anomaly_since if state.anomaly_since is not None else now
        new = replace(
            new,
            consecutive_anomalies=state.consecutive_anomalies + 1,
            consecutive_healthy=0,
            anomaly_since=since,
        )
        if not state.anomaly_open:
            new = replace(new, anomaly_open=True)
            events.append(_health_event(EventKind.MONITOR_DEGRADED, now, detail, since))
        elif _reminder_due(state, policy, now):
            events.append(_health_event(EventKind.MONITOR_DEGRADED, now, detail, since, True))
    else:
        healthy = state.consecutive_healthy + 1
        new = replace(new, consecutive_healthy=healthy, consecutive_anomalies=0)
        if not state.anomaly_open:
            new = replace(new, anomaly_since=None)
        elif healthy >= policy.resolved_after:
            new = replace(new, anomaly_open=False, anomaly_since=None)
            since = state.anomaly_since if state.anomaly_since is not None else now
            events.append(_health_event(EventKind.MONITOR_RECOVERED, now, detail, since))
    if events:
        new = replace(new, last_alert_at=now)
    return new, events


def backoff_delay(state: TargetState, *, base: timedelta, maximum: timedelta) -> timedelta:
    """The extra wait before probing a target again after consecutive anomalies.

    0 while the target is healthy (``backoff_level`` 0); then ``base * 2**(level - 1)``,
    never more than ``maximum`` (``settings.politeness.backoff_max``).
    """
    if state.backoff_level <= 0 or base <= timedelta(0):
        return timedelta(0)
    delay = base
    # Doubling step by step, stopping at the cap, never builds a power of two too large for
    # timedelta, however long the anomaly streak.
    for _ in range(state.backoff_level - 1):
        if delay >= maximum / 2:
            return maximum
        delay *= 2
    return min(delay, maximum)


def _event(
    kind: EventKind,
    outcome: Outcome,
    now: datetime,
    *,
    since: datetime | None,
    reminder: bool = False,
    extra: dict[str, object] | None = None,
) -> Event:
    payload: dict[str, object] = {
        "status": str(outcome.status),
        "reason": str(outcome.reason),
        **_detail_fields(outcome.detail, outcome.structured),
        "url": outcome.url,
        "http_status": outcome.http_status,
        "slot_count": outcome.slot_count,
        "earliest_slot": _iso(outcome.earliest_slot),
        "since": _iso(since),
        "outcome_started_at": _iso(outcome.started_at),
    }
    payload.update(extra or {})
    return Event(
        kind=kind,
        target=outcome.target,
        occurred_at=now,
        outcome_id=outcome.id,
        reminder=reminder,
        payload=payload,
    )


def _detail_fields(line: str, structured: Detail | None) -> dict[str, object]:
    """A payload's detail: the English line, and the code and values it was written from."""
    data = to_json(structured) if structured is not None else {"code": None, "args": None}
    return {"detail": line, "detail_code": data["code"], "detail_args": data["args"]}


def _health_event(
    kind: EventKind, now: datetime, detail: Detail, since: datetime, reminder: bool = False
) -> Event:
    payload: dict[str, object] = {
        "status": Status.MONITOR_ERROR.value if kind is EventKind.MONITOR_DEGRADED else None,
        "reason": None,
        **_detail_fields(record_line(detail), detail),
        "url": None,  # the monitor has no booking page
        "http_status": None,
        "slot_count": None,
        "earliest_slot": None,
        "since": _iso(since),
        "outcome_started_at": None,
    }
    return Event(
        kind=kind, target=MONITOR_TARGET, occurred_at=now, reminder=reminder, payload=payload
    )


def _iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC, the one form datetimes take in payloads."""
    if moment is None:
        return None
    _require_aware(moment, "datetime")
    return moment.astimezone(UTC).isoformat()


def _require_aware(moment: datetime, name: str) -> None:
    # A naive datetime would be silently read as the host's local time: refuse it.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")


def should_ask(last_asked: datetime | None, now: datetime, ask_every: timedelta) -> bool:
    """Whether to send ``assist_needed`` again for a target that still has no live session:
    never asked, or last asked at least ``ask_every`` ago (docs/contract.md#assisted-sessions).
    ``ask_every`` must be positive; a ``last_asked`` in the future (a clock set back) waits."""
    if ask_every <= timedelta(0):
        raise ValueError(f"ask_every must be positive, not {ask_every}")
    return last_asked is None or now - last_asked >= ask_every
