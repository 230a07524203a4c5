"""`monitor demo [--port N] [--duration S]`: see the monitor work with no internet."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.commands.common import App, pass_app


@click.command("demo")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port of the local imitation site on 127.0.0.1 (0: any free port).",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=1),
    metavar="S",
    help="Stop after S seconds [default: run until Ctrl-C].",
)
@click.option(
    "--interval",
    type=click.IntRange(1, 60),
    default=4,
    show_default=True,
    help="Seconds between two probes of a target (the story's pace follows).",
)
@click.option(
    "--publish",
    "publish_dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="OUTDIR",
    help="Publish the demo's status page in OUTDIR (kept) [default: a temporary folder].",
)
@pass_app
def demo_cmd(
    app: App, port: int, duration: float | None, interval: int, publish_dir: Path | None
) -> None:
    """Run the daemon against a local imitation of the booking sites, alerts on the console.

    Slots open and close, a site fails three times (anomaly) and recovers, within about
    two minutes. The status page (monitor publish) is rewritten as probes come in and
    served on 127.0.0.1: its address is printed. Uses a temporary config and SQLite
    database (or the global --database, kept afterwards); touches neither
    ./prefectures.yaml nor $MONITOR_DATABASE_URL.
    """
    from monitor.daemon.demo import run_demo

    sys.exit(
        run_demo(
            port=port,
            duration=duration,
            database=app.database_override,
            interval=interval,
            publish_dir=publish_dir,
        )
    )
