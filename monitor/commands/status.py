"""`monitor status [TARGET…] [--heartbeat] [--format …]`: where every target stands.

Per target (the config's targets joined with the stored states, so a target never probed
shows as such): status and reason, since when, last probe, streak, and whether an anomaly
or an opening is announced; then one line per daemon node: its last heartbeat and its own
health (degraded since when, or healthy). ``--heartbeat`` instead prints one line about the
latest heartbeat, then the same per node (with ``--format json|ndjson|csv``, one row per
node instead), and exits 1 when the latest is missing or older than 3× the smallest interval
(for the Dockerfile HEALTHCHECK and systemd).

The rows and lines are built in monitor.reports.status; this module reads the store and
prints. It imports what ``--heartbeat`` needs only, since systemd runs that every minute:
neither Alembic (for a database at the code's revision) nor Apprise (the config's channel
URLs are not checked here, but by ``config validate``, ``run`` and ``check``).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import click

from monitor.commands.common import App, lang_option, output_options, pass_app
from monitor.reports.output import Column, emit

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
    # Channel URLs are checked by `config validate`, `run` and `check`: not every minute.
    app.check_channels = False
    if heartbeat:
        sys.exit(_heartbeat(app, fmt))
    from monitor.config import select_targets
    from monitor.reports.observed import last_site_outcomes
    from monitor.reports.status import STATUS_FIELDS, for_table, node_lines, node_rows, target_rows

    config = app.config
    targets = select_targets(config, patterns)
    ids = [target.id for target in targets]
    repository = app.repository()
    states = {state.target: state for state in repository.states()}
    tz = config.settings.tz
    now = datetime.now(UTC)
    rows = target_rows(
        targets,
        states,
        next_probes=repository.next_probes(),
        latest=repository.latest_outcomes(ids),
        last_site=last_site_outcomes(repository.engine, ids),
        now=now,
        grace=config.settings.probe_timeout,
        fmt=fmt,
        language=lang or config.settings.language,
        tz=tz,
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


def smallest_interval(app: App) -> timedelta:
    """The smallest interval of the enabled targets (the schedule's default if none)."""
    config = app.config
    intervals = [target.interval for target in config.targets()]
    return min(intervals, default=config.settings.schedule.interval)


def stale_limit(app: App) -> timedelta:
    """Age past which a heartbeat is stale: 3× the smallest interval."""
    from monitor.daemon.heartbeat import stale_after

    return stale_after(smallest_interval(app))


def _heartbeat(app: App, fmt: str) -> int:
    from monitor.daemon.heartbeat import heartbeat_is_stale
    from monitor.reports.status import NODE_FIELDS, heartbeat_lines, node_rows

    smallest = smallest_interval(app)
    limit = stale_limit(app)
    repository = app.repository()
    last = repository.last_beat()
    now = datetime.now(UTC)
    stale = heartbeat_is_stale(last, now=now, smallest_interval=smallest)
    states = {state.target: state for state in repository.states()}
    nodes = node_rows(repository.nodes(), states, now=now, limit=limit)
    tz = app.config.settings.tz
    if fmt != "table":
        emit(nodes, fmt=fmt, fields=NODE_FIELDS, columns=(), tz=tz, stream=sys.stdout)
    else:
        for line in heartbeat_lines(last, nodes, stale=stale, limit=limit, now=now, tz=tz):
            click.echo(line)
    return 1 if stale else 0
