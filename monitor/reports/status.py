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
    "next_run",
    "cadence_seconds",
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
#: ``status --heartbeat`` without a heartbeat row: no daemon ever ran, or the last one
#: stopped cleanly (it removes its row, so that the next one starts whatever its host).
MISSING = "heartbeat missing: no daemon is running on this database"
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
    upcoming: Mapping[str, tuple[datetime | None, timedelta | None]] | None = None,
) -> list[dict[str, object]]:
    """One row per target, in ``targets``' order: its state (a target never probed shows
    as such), whether it is still observed, its alerts and its latest probe's detail (in
    ``language`` for a table). ``grace`` is how long a probe may run (``probe_timeout``).
    ``upcoming``: each target's next scheduled probe and its cadence then (even or
    learned, docs/contract.md#learned-schedule)."""
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
            interval=target.longest_gap,
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
                **_upcoming_fields((upcoming or {}).get(target.id)),
            }
        )
    return rows


def _upcoming_fields(found: tuple[datetime | None, timedelta | None] | None) -> dict[str, object]:
    at, cadence = found if found is not None else (None, None)
    return {
        "next_run": at,
        "cadence_seconds": None if cadence is None else cadence.total_seconds(),
    }


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
        seconds = row.get("cadence_seconds")
        cadence = (
            format_duration(timedelta(seconds=seconds))
            if isinstance(seconds, int | float)
            else None
        )
        shown.append({**row, "status": status, "cadence": cadence})
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
    """A time in the node lines: local (``settings.timezone``) to the second, with its
    offset, so that no line mixes zones: ``2026-12-07 00:40:05+01:00``."""
    assert isinstance(moment, datetime)
    return moment.astimezone(tz).isoformat(sep=" ", timespec="seconds")


def _health_words(node: Mapping[str, object], tz: ZoneInfo) -> str:
    """A live node's own health; a stale node's says nothing (it is not running)."""
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
        shown = "(stale)" if node["stale"] else f"(ok), {_health_words(node, tz)}"
        lines.append(f"node {node['node']}: last beat {format_duration(age)} ago {shown}")
    state = states.get(MONITOR_TARGET)
    owned = any(node["health_key"] == MONITOR_TARGET for node in nodes)
    if not owned and state is not None and state.anomaly_open and state.anomaly_since:
        lines.append(
            f"monitor: degraded (own network down) since {_local(state.anomaly_since, tz)}"
        )
    return lines


def verdict_line(
    last: datetime | None,
    *,
    stale: Sequence[str],
    node: str | None,
    limit: timedelta,
    now: datetime,
    tz: ZoneInfo,
    unhealthy: str | None = None,
) -> str:
    """``status --heartbeat``'s first line: the heartbeat judged (``node``'s, or every
    node's when None) ok, stale (naming the stale nodes of a fleet whose latest beat is
    fresh), missing, or ok but ``unhealthy`` (why, :mod:`monitor.reports.probe_health`)."""
    if last is None:
        if node is not None:
            return f"heartbeat missing: node {node} has no heartbeat on this database"
        return MISSING
    age = format_duration(max(timedelta(seconds=round((now - last).total_seconds())), ZERO))
    beat = f"last beat {age} ago at {_local(last, tz)} (stale after {format_duration(limit)})"
    subject = "" if node is None else f"node {node}, "
    if stale and node is None and now - last <= limit:  # some nodes of a living fleet
        return (
            f"heartbeat stale: {', '.join(f'node {name}' for name in stale)} stale; latest {beat}"
        )
    if stale:
        return f"heartbeat stale: {subject}{beat}"
    if unhealthy is not None:
        return f"heartbeat ok but unhealthy: {unhealthy}; {subject}{beat}"
    return f"heartbeat ok: {subject}{beat}"


def heartbeat_lines(
    last: datetime | None,
    nodes: Sequence[Mapping[str, object]],
    *,
    stale: Sequence[str],
    limit: timedelta,
    now: datetime,
    tz: ZoneInfo,
    node: str | None = None,
    unhealthy: str | None = None,
) -> list[str]:
    """What ``status --heartbeat`` prints: the :func:`verdict_line` of the heartbeat judged
    (``node``'s, else every node's; ``last`` its latest beat, ``stale`` the stale nodes among
    it), then every node of a fleet, or the one daemon: stale, or ok and its health."""
    lines = [
        verdict_line(last, stale=stale, node=node, limit=limit, now=now, tz=tz, unhealthy=unhealthy)
    ]
    if last is None and node is None:
        return lines
    for row in nodes:
        node_age = row["age"]
        assert isinstance(node_age, timedelta)
        about = (
            f"last beat {format_duration(node_age)} ago (pid {row['pid']}, version "
            f"{row['version']}, up since {_local(row['started_at'], tz)})"
        )
        state = "stale" if row["stale"] else "ok"
        health = "" if row["stale"] else f", {_health_words(row, tz)}"
        lines.append(f"  node {row['node']}: {state}, {about}{health}")
    return lines
