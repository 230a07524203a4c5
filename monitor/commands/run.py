"""`monitor run [--migrate] [--cluster] [--metrics-port N] [--once] [--publish OUTDIR]`: the daemon.

Refuses to start on a database behind the code's migrations (the message names the command
to run) unless ``--migrate``; refuses cluster mode on SQLite or without the cluster extra,
and embedded mode while another daemon's heartbeat on the database is fresh. SIGTERM/SIGINT
stop it within 30 s with exit code 0; SIGHUP reloads the config.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor.commands.common import App, hide_secrets_of, pass_app
from monitor.errors import UsageError

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.store import Repository

log = logging.getLogger(__name__)

#: Worker threads for database calls and recordings (SQLite serialises writes anyway).
IO_THREADS = 16
#: After the daemon returned, how long threads still running may hold the exit.
THREAD_EXIT_WAIT = 3.0


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
    from monitor.config import load_config
    from monitor.daemon import metrics
    from monitor.daemon.housekeeping import node_name
    from monitor.daemon.scheduler import Daemon
    from monitor.store.engine import mask_database_url, normalize_database_url

    config = app.config  # a config error exits 2 before the database is touched
    from monitor.store.evidence_access import check_evidence_dir

    check_evidence_dir(config)
    clustered = cluster or config.settings.cluster
    if clustered and normalize_database_url(app.database_url).get_backend_name() != "postgresql":
        raise UsageError(
            f"cluster mode needs PostgreSQL (postgresql+psycopg://…); the database is "
            f"{mask_database_url(app.database_url)}: several daemons cannot share SQLite"
        )
    if clustered:
        from monitor.daemon.cluster import require_queue

        require_queue()
    node = node_name(
        cluster=clustered,
        host=socket.gethostname(),
        pid=os.getpid(),
        override=os.environ.get("MONITOR_NODE"),
    )
    from monitor.daemon.lock import hold_daemon_lock

    daemon_lock = hold_daemon_lock(app.database_url)  # held until this process ends
    repository = app.repository(migrate=migrate)
    if not clustered and not once:
        _refuse_beside_live_daemons(repository, config, node)
    if metrics_port is not None:
        metrics.serve(metrics_port, metrics_host)

    def reload_config() -> Any:
        return hide_secrets_of(load_config(app.config_path, env=app.env))

    site = publish_dir or config.settings.publish.dir
    refresher = None
    if site is not None:
        from monitor.publish.refresh import refresher_for

        gap = config.settings.publish.min_gap.total_seconds()
        refresher = refresher_for(lambda: daemon.config, repository, site, min_gap=gap)
    daemon = Daemon(
        config,
        repository,
        node=node,
        reload_config=reload_config,
        once=once,
        publisher=refresher,
        cluster_url=app.database_url if clustered else None,
    )
    code = run_until_stopped(daemon.run())
    if once and refresher is not None:
        refresher.publish_now()  # the round's last probes may have come within the gap
    app.engine.dispose()
    if daemon_lock is not None:
        daemon_lock.close()
    sys.exit(code)


def _refuse_beside_live_daemons(repository: Repository, config: Config, node: str) -> None:
    """Embedded mode schedules alone: another live daemon on the database means a fleet."""
    from datetime import UTC, datetime

    from monitor.daemon.health import stale_after
    from monitor.daemon.housekeeping import live_nodes
    from monitor.daemon.jobs import smallest_interval

    now = datetime.now(UTC)
    others = live_nodes(
        repository.nodes(),
        me=node,
        host=socket.gethostname(),
        now=now,
        fresh_within=stale_after(smallest_interval(config)),
    )
    if others:
        beat = others[0]
        age = int((now - beat.beat_at).total_seconds())
        raise UsageError(
            f"another daemon is running on this database (node {beat.node}, pid {beat.pid}, "
            f"last heartbeat {age}s ago): several daemons on one database must all run in "
            "cluster mode (settings.cluster: true or `monitor run --cluster`, on PostgreSQL)"
        )


def run_until_stopped(main: Coroutine[Any, Any, int]) -> int:
    """Run the daemon's coroutine on a fresh loop, then make sure the process can exit.

    Like ``asyncio.run``, but a worker thread stuck in a call that cannot be interrupted
    (a database lock, a notification service that hangs) cannot hold the exit past the
    30 s promise: after ``THREAD_EXIT_WAIT`` the process leaves with ``os._exit``. Every
    row is written in one transaction, so an interrupted one is simply not there.
    """
    loop = asyncio.new_event_loop()
    executor = ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="monitor-io")
    loop.set_default_executor(executor)
    code = 1
    try:
        code = loop.run_until_complete(main)
    finally:
        try:
            _cancel_leftovers(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
            loop.close()
    _exit_if_threads_hang(code)
    return code


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def _exit_if_threads_hang(code: int) -> None:
    deadline = time.monotonic() + THREAD_EXIT_WAIT
    for thread in threading.enumerate():
        if thread is threading.current_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threading.enumerate() if t.is_alive() and not t.daemon]
    stuck = [name for name in stuck if name != threading.current_thread().name]
    if stuck:
        log.warning("exiting with threads still busy: %s", ", ".join(stuck))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
