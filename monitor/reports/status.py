"""`monitor status`'s rows: where each target stands, and each daemon node's heartbeat.

Pure functions from what the store holds (states, back-off times, latest outcomes, the last
site outcomes, heartbeat rows) to the rows and lines the command prints, as
:func:`monitor.reports.output.record_rows` is for ``history``. No status outlives its
evidence (:mod:`monitor.reports.observed`): a target without a site outcome for two of its
intervals has ``status`` null, ``observed`` false, ``not_observed_since``, and the stale
status under ``last_status`` / ``last_reason``; a table says ``not observed``.

A fleet node's health is its own row (:func:`monitor.domain.monitor_key`); the one daemon of
embedded mode keeps the single ``MONITOR_TARGET`` row, shown as its node's health when that
node wrote it since it started.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from monitor.config.durations import format_duration
from monitor.domain import MONITOR_TARGET, monitor_key
from monitor.reports.observed import observation
from monitor.reports.output import detail_fields

if TYPE_CHECKING:
    from monitor.config import Target
    from monitor.domain import Outcome, TargetState
    from monitor.store.coordination import NodeBeat

#: Field names of the machine formats, in order.
STATUS_FIELDS = (
    "target",
    "prefecture",
    "name",
    "status",
    "reason",
    "since",
    "last_probe",
    "streak",
    "anomaly_open",
    "slots_open",
    "next_probe",
    "detail",
    "detail_code",
    "detail_args",
    "observed",
    "not_observed_since",
    "last_status",
    "last_reason",
)
#: Field names of ``--heartbeat``'s machine formats: one row per daemon node.
NODE_FIELDS = (
    "node",
    "last_beat",
    "stale",
    "degraded",
    "degraded_since",
    "pid",
    "version",
    "started_at",
)
NEVER = "never probed"
NOT_OBSERVED = "not observed"
NEVER_OBSERVED = "never observed"  #: probed, but only monitor_error so far
ZERO = timedelta(0)


def target_rows(
    targets: Sequence[Target],
    states: Mapping[str, TargetState],
    *,
    next_probes: Mapping[str, datetime],
    latest: Mapping[str, Outcome],
    last_site: Mapping[str, datetime],
    now: datetime,
    grace: timedelta,
    fmt: str,
    language: str,
    tz: ZoneInfo,
) -> list[dict[str, object]]:
    """One row per target, in ``targets``' order: its state (a target never probed shows
    as such), whether it is still observed, its alerts and its latest probe's detail (in
    ``language`` for a table). ``grace`` is how long a probe may run (``probe_timeout``)."""
    rows: list[dict[str, object]] = []
    for target in targets:
        state = states.get(target.id)
        probed = state is not None and state.last_probe_at is not None
        next_probe = next_probes.get(target.id)
        alerts = []
        if state is not None and state.anomaly_open:
            alerts.append("anomaly open")
        if state is not None and state.slots_open:
            alerts.append("slots open")
        if next_probe is not None and next_probe > now:
            alerts.append("backing off")
        seen = observation(
            last_site.get(target.id),
            interval=target.interval,
            now=now,
            next_probe=next_probe,
            grace=grace,
        )
        current = probed and seen.current
        rows.append(
            {
                "target": target.id,
                "prefecture": target.prefecture,
                "name": target.name,
                "status": state.status if current and state is not None else None,
                "reason": state.reason if current and state is not None else None,
                "since": (state.since if current else seen.last_site_at) if state else None,
                "last_probe": state.last_probe_at if state is not None else None,
                "streak": state.streak if current and state is not None else 0,
                "anomaly_open": bool(state and state.anomaly_open),
                "slots_open": bool(state and state.slots_open),
                "next_probe": next_probe,
                "alerts": ", ".join(alerts),
                **detail_fields(latest.get(target.id), fmt=fmt, language=language, tz=tz),
                "observed": current,
                "not_observed_since": seen.not_observed_since if probed else None,
                "last_status": state.status if state is not None else None,
                "last_reason": state.reason if state is not None else None,
            }
        )
    return rows


def for_table(rows: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
    """``rows`` with a table's words in STATUS where there is no current status: never
    probed, not observed (since SINCE, the last site outcome) or never observed."""
    shown = []
    for row in rows:
        status = row["status"]
        if row["last_probe"] is None:
            status = NEVER
        elif not row["observed"]:
            status = NOT_OBSERVED if row["since"] else NEVER_OBSERVED
        shown.append({**row, "status": status})
    return shown


def node_health(states: Mapping[str, TargetState], beat: NodeBeat) -> TargetState | None:
    """A node's own health state: its per-node row (a fleet node), else the single
    ``MONITOR_TARGET`` row when this node wrote it since it started (the one daemon of
    embedded mode); None when it never reported anything to recover from."""
    own = states.get(monitor_key(beat.node))
    if own is not None:
        return own
    shared = states.get(MONITOR_TARGET)
    written = None if shared is None else shared.last_probe_at
    return shared if written is not None and written >= beat.started_at else None


def node_rows(
    beats: Sequence[NodeBeat],
    states: Mapping[str, TargetState],
    *,
    now: datetime,
    limit: timedelta,
) -> list[dict[str, object]]:
    """One row per daemon node: its last heartbeat and its own health, latest beat first."""
    rows = []
    for beat in beats:
        health = node_health(states, beat)
        degraded = health is not None and health.anomaly_open
        rows.append(
            {
                "node": beat.node,
                "last_beat": beat.beat_at,
                "stale": now - beat.beat_at > limit,
                "age": max(timedelta(seconds=round((now - beat.beat_at).total_seconds())), ZERO),
                "degraded": degraded,
                "degraded_since": health.anomaly_since if degraded and health else None,
                "health_key": health.target if health is not None else None,
                "pid": beat.pid,
                "version": beat.version,
                "started_at": beat.started_at,
            }
        )
    return rows


def _local(moment: object, tz: ZoneInfo) -> str:
    assert isinstance(moment, datetime)
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _health_words(node: Mapping[str, object], tz: ZoneInfo) -> str:
    if not node["degraded"]:
        return "healthy"
    since = node["degraded_since"]
    return "degraded" if since is None else f"degraded since {_local(since, tz)}"


def node_lines(
    states: Mapping[str, TargetState], nodes: Sequence[Mapping[str, object]], *, tz: ZoneInfo
) -> list[str]:
    """What ``status`` prints under its table: one line per node (its last beat and
    health), then the single daemon's health when it is degraded and no listed node owns
    it (its daemon gone, or not yet reporting since a restart)."""
    lines = []
    for node in nodes:
        age = node["age"]
        assert isinstance(age, timedelta)
        beat = "stale" if node["stale"] else "ok"
        lines.append(
            f"node {node['node']}: last beat {format_duration(age)} ago ({beat}), "
            f"{_health_words(node, tz)}"
        )
    state = states.get(MONITOR_TARGET)
    owned = any(node["health_key"] == MONITOR_TARGET for node in nodes)
    if not owned and state is not None and state.anomaly_open and state.anomaly_since:
        lines.append(
            f"monitor: degraded (own network down) since {_local(state.anomaly_since, tz)}"
        )
    return lines


def heartbeat_lines(
    last: datetime | None,
    nodes: Sequence[Mapping[str, object]],
    *,
    stale: bool,
    limit: timedelta,
    now: datetime,
    tz: ZoneInfo,
) -> list[str]:
    """What ``status --heartbeat`` prints: the latest beat, ok or stale (or missing), then
    every node of a fleet, or the one daemon."""
    if last is None:
        return ["heartbeat missing: no daemon has run on this database"]
    age = timedelta(seconds=round((now - last).total_seconds()))
    word = "stale" if stale else "ok"
    lines = [
        f"heartbeat {word}: last beat {format_duration(max(age, ZERO))} ago "
        f"at {last.isoformat()} (stale after {format_duration(limit)})"
    ]
    for node in nodes:
        node_age = node["age"]
        assert isinstance(node_age, timedelta) and isinstance(node["started_at"], datetime)
        lines.append(
            f"  node {node['node']}: {'stale' if node['stale'] else 'ok'}, last beat "
            f"{format_duration(node_age)} ago (pid {node['pid']}, version {node['version']}, "
            f"up since {node['started_at'].isoformat()}), {_health_words(node, tz)}"
        )
    return lines
