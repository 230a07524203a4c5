"""`monitor run [--migrate] [--cluster] [--metrics-port N] [--once] [--publish OUTDIR]`: the daemon.

Refuses to start on a database behind the code's migrations (the message names the command
to run) unless ``--migrate``; refuses cluster mode on SQLite or without the cluster extra,
and embedded mode while another daemon's heartbeat on the database is fresh. SIGTERM/SIGINT
stop it within 30 s with exit code 0; SIGHUP reloads the config; a part of the daemon that
dies stops it with exit code 1. The parts are built by :mod:`monitor.daemon.compose`, the
process is run by :mod:`monitor.daemon.lifecycle`.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.commands.common import App, hide_secrets_of, pass_app

if TYPE_CHECKING:
    from monitor.config import Config


@click.command("run")
@click.option("--migrate", is_flag=True, help="Bring the database to the code's migrations first.")
@click.option(
    "--cluster",
    is_flag=True,
    help="Run as one node of a fleet sharing one PostgreSQL, through its task queue "
    "(as settings.cluster; needs the cluster extra).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    metavar="N",
    help="Serve Prometheus metrics on http://127.0.0.1:N/metrics (off by default).",
)
@click.option(
    "--metrics-host",
    metavar="ADDR",
    default="127.0.0.1",
    show_default=True,
    help="The address --metrics-port listens on; 0.0.0.0 (or ::) for every interface.",
)
@click.option(
    "--once",
    is_flag=True,
    help="Probe once every target whose turn it could be (active hours, no back-off), "
    "send the notifications, and exit.",
)
@click.option(
    "--publish",
    "publish_dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="OUTDIR",
    help="Regenerate the status page in OUTDIR after probes, at most once per "
    "settings.publish.min_gap [default: settings.publish.dir, else none].",
)
@pass_app
def run_cmd(
    app: App,
    migrate: bool,
    cluster: bool,
    metrics_port: int | None,
    metrics_host: str,
    once: bool,
    publish_dir: Path | None,
) -> None:
    """Run the daemon: schedule every target, probe, record, alert, until SIGTERM."""
    # Imported here: `monitor --help` loads every command's module, not the daemon.
    from monitor.daemon import metrics
    from monitor.daemon.cluster import require_fleet_database
    from monitor.daemon.compose import build_daemon
    from monitor.daemon.housekeeping import node_name
    from monitor.daemon.lifecycle import refuse_beside_live_daemons, run_until_stopped
    from monitor.daemon.lock import hold_daemon_lock
    from monitor.store.evidence_access import check_evidence_dir

    config = app.config  # a config error exits 2 before the database is touched
    check_evidence_dir(config)
    clustered = cluster or config.settings.cluster
    if clustered:
        require_fleet_database(app.database_url)
    node = node_name(
        cluster=clustered,
        host=socket.gethostname(),
        pid=os.getpid(),
        override=os.environ.get("MONITOR_NODE"),
    )
    daemon_lock = hold_daemon_lock(app.database_url)  # held until this process ends
    repository = app.repository(migrate=migrate)
    if not clustered and not once:
        refuse_beside_live_daemons(repository, config, node)
    if metrics_port is not None:
        metrics.serve(metrics_port, metrics_host)
    daemon = build_daemon(
        config,
        repository,
        node=node,
        reload_config=lambda: _reload_config(app),
        once=once,
        cluster_url=app.database_url if clustered else None,
        publish_dir=publish_dir or config.settings.publish.dir,
    )
    code = run_until_stopped(daemon.run())
    app.engine.dispose()
    if daemon_lock is not None:
        daemon_lock.close()
    sys.exit(code)


def _reload_config(app: App) -> Config:
    """The config file read again, secrets hidden (SIGHUP)."""
    from monitor.config import load_config

    return hide_secrets_of(load_config(app.config_path, env=app.env))
