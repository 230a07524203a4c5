"""`monitor status [TARGET…] [--heartbeat] [--format …]`: where every target stands.

Per target (the config's targets joined with the stored states, so a target never probed
shows as such): status and reason, since when, last probe, streak, and whether an anomaly
or an opening is announced; then one line per daemon node: its last heartbeat and its own
health (degraded since when, or healthy). ``--heartbeat`` instead prints one line about the
latest heartbeat, then the same per node (with ``--format json|ndjson|csv``, one row per
node instead), and exits 1 when the latest is missing or older than 3× the smallest interval
(for the Dockerfile HEALTHCHECK and systemd).

No status outlives its evidence (monitor.reports.observed): a target without a site outcome
for two of its intervals (only ``monitor_error``, or nothing) shows ``not observed`` since its
last site outcome, not its last status; machines get ``status`` null, ``observed`` false,
``not_observed_since``, and the stale ``last_status`` / ``last_reason`` under those names.

A fleet node's health is its own row (:func:`monitor.domain.monitor_key`); the one daemon of
embedded mode keeps the single ``MONITOR_TARGET`` row, shown as its node's health when that
node wrote it since it started.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click

from monitor.commands.common import App, lang_option, output_options, pass_app
from monitor.reports.output import Column, detail_fields, emit

if TYPE_CHECKING:
    from monitor.domain import TargetState
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
COLUMNS = (
    Column("target", "TARGET", 40),
    Column("status", "STATUS"),
    Column("reason", "REASON"),
    Column("since", "SINCE"),
    Column("last_probe", "LAST PROBE"),
    Column("streak", "STREAK"),
    Column("alerts", "ALERTS"),
    Column("detail", "DETAIL", 70),
)
NEVER = "never probed"
NOT_OBSERVED = "not observed"
NEVER_OBSERVED = "never observed"  #: probed, but only monitor_error so far
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
ZERO = timedelta(0)


@click.command("status")
@click.argument("patterns", metavar="[TARGET]...", nargs=-1)
@click.option(
    "--heartbeat",
    is_flag=True,
    help="Only check the daemon's heartbeat: exit 1 if missing or older than 3× the "
    "smallest interval; lists each node's last beat and health (as rows with --format).",
)
@output_options()
@lang_option
@pass_app
def status_cmd(
    app: App, patterns: tuple[str, ...], heartbeat: bool, fmt: str, lang: str | None
) -> None:
    """Each target's current status and reason, since when, last probe and streak, and the
    latest probe's detail (in a table, in settings.language or --lang)."""
    if heartbeat:
        sys.exit(_heartbeat(app, fmt))
    from monitor.config import select_targets
    from monitor.reports.observed import last_site_outcomes, observation

    config = app.config
    targets = select_targets(config, patterns)
    repository = app.repository()
    states = {state.target: state for state in repository.states()}
    backoffs = repository.next_probes()
    latest = repository.latest_outcomes([target.id for target in targets])
    last_site = last_site_outcomes(repository.engine, [target.id for target in targets])
    tz = config.settings.tz
    language = lang or config.settings.language
    now = datetime.now(UTC)

    def rows() -> Iterator[dict[str, object]]:
        for target in targets:
            state = states.get(target.id)
            probed = state is not None and state.last_probe_at is not None
            next_probe = backoffs.get(target.id)
            alerts = []
            if state is not None and state.anomaly_open:
                alerts.append("anomaly open")
            if state is not None and state.slots_open:
                alerts.append("slots open")
            if next_probe is not None and next_probe > now:
                alerts.append("backing off")
            outcome = latest.get(target.id)
            seen = observation(
                last_site.get(target.id),
                interval=target.interval,
                now=now,
                next_probe=next_probe,
                grace=config.settings.probe_timeout,
            )
            current = probed and seen.current
            yield {
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
                **detail_fields(outcome, fmt=fmt, language=language, tz=tz),
                "observed": current,
                "not_observed_since": seen.not_observed_since if probed else None,
                "last_status": state.status if state is not None else None,
                "last_reason": state.reason if state is not None else None,
            }

    table_rows: Sequence[dict[str, object]] = list(rows())
    if fmt == "table":
        for row in table_rows:
            if row["last_probe"] is None:
                row["status"] = NEVER
            elif not row["observed"]:
                # Since when: the SINCE column (the last site outcome), empty if none.
                row["status"] = NOT_OBSERVED if row["since"] else NEVER_OBSERVED
    emit(table_rows, fmt=fmt, fields=STATUS_FIELDS, columns=COLUMNS, tz=tz, stream=sys.stdout)
    if fmt == "table":
        limit = stale_limit(app)
        nodes = node_rows(repository.nodes(), states, now=now, limit=limit)
        tz_name = config.settings.timezone
        lines = [_node_line(node, tz_name=tz_name) for node in nodes]
        shared = _monitor_line(states, nodes, tz_name=tz_name)
        if lines or shared:
            click.echo("")
        for line in [*lines, *([shared] if shared else [])]:
            click.echo(line)


def node_health(states: Mapping[str, TargetState], beat: NodeBeat) -> TargetState | None:
    """A node's own health state: its per-node row (a fleet node), else the single
    ``MONITOR_TARGET`` row when this node wrote it since it started (the one daemon of
    embedded mode); None when it never reported anything to recover from."""
    from monitor.domain import MONITOR_TARGET, monitor_key

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


def _local(moment: object, tz_name: str) -> str:
    from zoneinfo import ZoneInfo

    assert isinstance(moment, datetime)
    return moment.astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%d %H:%M:%S")


def _health_words(node: Mapping[str, object], tz_name: str) -> str:
    if not node["degraded"]:
        return "healthy"
    since = node["degraded_since"]
    return "degraded" if since is None else f"degraded since {_local(since, tz_name)}"


def _node_line(node: Mapping[str, object], *, tz_name: str) -> str:
    from monitor.config.durations import format_duration

    age = node["age"]
    assert isinstance(age, timedelta)
    beat = "stale" if node["stale"] else "ok"
    return (
        f"node {node['node']}: last beat {format_duration(age)} ago ({beat}), "
        f"{_health_words(node, tz_name)}"
    )


def _monitor_line(
    states: Mapping[str, TargetState], nodes: Sequence[Mapping[str, object]], *, tz_name: str
) -> str | None:
    """The single daemon's health row when it is degraded and no listed node owns it (its
    daemon gone, or not yet reporting since a restart)."""
    from monitor.domain import MONITOR_TARGET

    state = states.get(MONITOR_TARGET)
    if any(node["health_key"] == MONITOR_TARGET for node in nodes):
        return None
    if state is not None and state.anomaly_open and state.anomaly_since:
        return f"monitor: degraded (own network down) since {_local(state.anomaly_since, tz_name)}"
    return None


def smallest_interval(app: App) -> timedelta:
    """The smallest interval of the enabled targets (the schedule's default if none)."""
    config = app.config
    intervals = [target.interval for target in config.targets()]
    return min(intervals, default=config.settings.schedule.interval)


def stale_limit(app: App) -> timedelta:
    """Age past which a heartbeat is stale: 3× the smallest interval."""
    from monitor.daemon.health import stale_after

    return stale_after(smallest_interval(app))


def _heartbeat(app: App, fmt: str) -> int:
    from monitor.config.durations import format_duration
    from monitor.daemon.health import heartbeat_is_stale

    smallest = smallest_interval(app)
    limit = stale_limit(app)
    repository = app.repository()
    last = repository.last_beat()
    now = datetime.now(UTC)
    stale = heartbeat_is_stale(last, now=now, smallest_interval=smallest)
    states = {state.target: state for state in repository.states()}
    nodes = node_rows(repository.nodes(), states, now=now, limit=limit)
    if fmt != "table":
        tz = app.config.settings.tz
        emit(nodes, fmt=fmt, fields=NODE_FIELDS, columns=(), tz=tz, stream=sys.stdout)
        return 1 if stale else 0
    if last is None:
        click.echo("heartbeat missing: no daemon has run on this database")
        return 1
    age = timedelta(seconds=round((now - last).total_seconds()))
    word = "stale" if stale else "ok"
    click.echo(
        f"heartbeat {word}: last beat {format_duration(max(age, ZERO))} ago "
        f"at {last.isoformat()} (stale after {format_duration(limit)})"
    )
    tz_name = app.config.settings.timezone
    for node in nodes:  # every node of a fleet, or the one daemon
        node_age = node["age"]
        assert isinstance(node_age, timedelta) and isinstance(node["started_at"], datetime)
        click.echo(
            f"  node {node['node']}: {'stale' if node['stale'] else 'ok'}, last beat "
            f"{format_duration(node_age)} ago (pid {node['pid']}, version {node['version']}, "
            f"up since {node['started_at'].isoformat()}), {_health_words(node, tz_name)}"
        )
    return 1 if stale else 0
