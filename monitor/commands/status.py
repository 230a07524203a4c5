"""`monitor status [TARGET…] [--heartbeat] [--format …]`: where every target stands.

Per target (the config's targets joined with the stored states, so a target never probed
shows as such): status and reason, since when, last probe, streak, and whether an anomaly
or an opening is announced; then one line per daemon node: its last heartbeat and its own
health (degraded since when, or healthy). ``--heartbeat`` instead prints one line about the
heartbeat it judges, then the same per node (with ``--format json|ndjson|csv``, one row per
node instead), and exits 1 when that heartbeat is missing or older than 3× the smallest
interval, or when the probes since its daemon started say it cannot work
(monitor.reports.probe_health) (for the Dockerfile HEALTHCHECK and systemd). It judges one
node: ``--node NAME``, else this machine's (``$MONITOR_NODE``, else a daemon running here,
monitor.daemon.nodes), and then only that node's probes; without one, every node: exit 1
when any is stale, naming which.

The rows and lines are built in monitor.reports.status; this module reads the store and
prints. It imports what ``--heartbeat`` needs only, since systemd runs that every minute:
neither Alembic (for a database at the code's revision) nor Apprise (the config's channel
URLs are not checked here, but by ``config validate``, ``run`` and ``check``).
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click

from monitor.commands.common import App, lang_option, output_options, pass_app
from monitor.reports.output import Column, emit

if TYPE_CHECKING:
    from monitor.store.coordination import NodeBeat

COLUMNS = (
    Column("target", "TARGET", 40),
    Column("status", "STATUS"),
    Column("reason", "REASON"),
    Column("since", "SINCE"),
    Column("last_probe", "LAST PROBE"),
    Column("next_run", "NEXT PROBE"),
    Column("cadence", "CADENCE"),
    Column("streak", "STREAK"),
    Column("alerts", "ALERTS"),
    Column("detail", "DETAIL", 70),
)


@click.command("status")
@click.argument("patterns", metavar="[TARGET]...", nargs=-1)
@click.option(
    "--heartbeat",
    is_flag=True,
    help="Only check the daemon's heartbeat: exit 1 if missing or older than 3× the "
    "smallest interval, or if its latest probes were all its own fault (monitor_error); "
    "lists each node's last beat and health (as rows with --format).",
)
@click.option(
    "--node",
    metavar="NAME",
    help="With --heartbeat: judge this node's heartbeat [default: $MONITOR_NODE, else a "
    "daemon running on this machine, else every node: exit 1 when any is stale].",
)
@output_options()
@lang_option
@pass_app
def status_cmd(
    app: App,
    patterns: tuple[str, ...],
    heartbeat: bool,
    node: str | None,
    fmt: str,
    lang: str | None,
) -> None:
    """Each target's current status and reason, since when, last probe and streak, its next
    probe and cadence (even or learned), and the latest probe's detail (in a table, in
    settings.language or --lang)."""
    # Channel URLs are checked by `config validate`, `run` and `check`: not every minute.
    app.check_channels = False
    if heartbeat:
        sys.exit(_heartbeat(app, fmt, node))
    if node is not None:
        raise click.UsageError("--node goes with --heartbeat")
    from monitor.config import select_targets
    from monitor.daemon.plans import read_plans, upcoming
    from monitor.reports.observed import last_site_outcomes
    from monitor.reports.status import STATUS_FIELDS, for_table, node_lines, node_rows, target_rows

    config = app.config
    targets = select_targets(config, patterns)
    ids = [target.id for target in targets]
    repository = app.repository()
    states = {state.target: state for state in repository.states()}
    tz = config.settings.tz
    now = datetime.now(UTC)
    backoffs = repository.next_probes()
    # The daemon's plans as it computed them today (the same store, the same day).
    plans = read_plans(config, repository, now)
    coming = {
        target.id: upcoming(
            target, plans.get(target.id), now=now, not_before=backoffs.get(target.id), zone=tz
        )
        for target in targets
    }
    rows = target_rows(
        targets,
        states,
        next_probes=backoffs,
        latest=repository.latest_outcomes(ids),
        last_site=last_site_outcomes(repository.engine, ids),
        now=now,
        grace=config.settings.probe_timeout,
        fmt=fmt,
        language=lang or config.settings.language,
        tz=tz,
        upcoming={key: (found.at, found.cadence) for key, found in coming.items()},
    )
    if fmt == "table":
        rows = for_table(rows)
    emit(rows, fmt=fmt, fields=STATUS_FIELDS, columns=COLUMNS, tz=tz, stream=sys.stdout)
    if fmt == "table":
        nodes = node_rows(repository.nodes(), states, now=now, limit=stale_limit(app))
        lines = node_lines(states, nodes, tz=tz)
        if lines:
            click.echo("")
        for line in lines:
            click.echo(line)


def stale_limit(app: App) -> timedelta:
    """Age past which a heartbeat is stale: 3× the smallest interval."""
    from monitor.daemon.heartbeat import smallest_interval, stale_after

    return stale_after(smallest_interval(app.config))


def this_machines_node(app: App, beats: Sequence[NodeBeat]) -> str | None:
    """``$MONITOR_NODE``, else the node of a daemon running on this machine, else None."""
    from monitor.daemon.nodes import local_node, process_exists

    return local_node(
        beats,
        host=socket.gethostname(),
        override=app.env.get("MONITOR_NODE"),
        alive=process_exists,
    )


def _heartbeat(app: App, fmt: str, node: str | None) -> int:
    from monitor.daemon.heartbeat import smallest_interval, stale_nodes
    from monitor.reports.status import NODE_FIELDS, heartbeat_lines, node_rows

    smallest = smallest_interval(app.config)
    limit = stale_limit(app)
    repository = app.repository()
    beats = repository.nodes()
    judged_node = node or this_machines_node(app, beats)
    judged = beats if judged_node is None else [b for b in beats if b.node == judged_node]
    last = max((beat.beat_at for beat in judged), default=None)
    now = datetime.now(UTC)
    stale = stale_nodes(judged, now=now, smallest_interval=smallest)
    states = {state.target: state for state in repository.states()}
    nodes = node_rows(beats, states, now=now, limit=limit)
    tz = app.config.settings.tz
    unhealthy = None if stale or last is None else _unhealthy_because(judged, judged_node, app)
    if fmt != "table":
        emit(nodes, fmt=fmt, fields=NODE_FIELDS, columns=(), tz=tz, stream=sys.stdout)
    else:
        lines = heartbeat_lines(
            last,
            nodes,
            stale=stale,
            limit=limit,
            now=now,
            tz=tz,
            node=judged_node,
            unhealthy=unhealthy,
        )
        for line in lines:
            click.echo(line)
    return 1 if last is None or stale or unhealthy is not None else 0


def _unhealthy_because(judged: Sequence[NodeBeat], node: str | None, app: App) -> str | None:
    """Why the probes since the judged node started (``node``'s own, else the fleet's since
    its latest node started) say it does not work, or None (monitor.reports.probe_health)."""
    from monitor.domain import Engine
    from monitor.reports.probe_health import recent_probes, unhealthy_because

    if not judged:
        return None
    since = max(beat.started_at for beat in judged)
    database = app.engine
    return unhealthy_because(
        recent_probes(database, since=since, node=node),
        recent_probes(database, since=since, engine=Engine.BROWSER, node=node),
    )
