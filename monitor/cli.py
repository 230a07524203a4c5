"""The `monitor` command line: global options, the sub-commands, errors as one line + exit code.

Exit codes (SPEC): 0 success, 1 runtime failure, 2 usage or config error, 3 nothing matched.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from monitor import __version__
from monitor.commands.check import check_cmd
from monitor.commands.common import App
from monitor.commands.config_cmd import config_group
from monitor.commands.db import db_group
from monitor.commands.demo_cmd import demo_cmd
from monitor.commands.evidence_cmd import evidence_cmd
from monitor.commands.history import history_cmd
from monitor.commands.notify_cmd import notify_group
from monitor.commands.run import run_cmd
from monitor.commands.stats import stats_cmd
from monitor.commands.status import status_cmd
from monitor.commands.verify_cmd import verify_cmd
from monitor.errors import MonitorError
from monitor.logs import configure

log = logging.getLogger(__name__)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="prefecture-monitor")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file [default: $MONITOR_CONFIG, else ./prefectures.yaml].",
)
@click.option(
    "--database",
    metavar="URL",
    help="Database URL [default: $MONITOR_DATABASE_URL, else settings.database].",
)
@click.option("-v", "--verbose", count=True, help="More logging (-vv: libraries too).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.pass_context
def cli(
    ctx: click.Context, config_path: Path | None, database: str | None, verbose: int, quiet: bool
) -> None:
    """prefecture-monitor: watch prefectures' booking pages, keep evidence, alert on slots."""
    verbosity = -1 if quiet else verbose
    configure(verbosity)
    ctx.obj = App(config_path=config_path, database_override=database, verbosity=verbosity)


cli.add_command(check_cmd)
cli.add_command(config_group)
cli.add_command(db_group)
cli.add_command(demo_cmd)
cli.add_command(history_cmd)
cli.add_command(notify_group)
cli.add_command(run_cmd)
cli.add_command(stats_cmd)
cli.add_command(status_cmd)
cli.add_command(verify_cmd)
cli.add_command(evidence_cmd)


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI and turns MonitorError into one line and its exit code."""
    try:
        cli.main(args=argv, prog_name="monitor", standalone_mode=False)
    except MonitorError as error:
        click.echo(f"monitor: error: {error}", err=True)
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("monitor: aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Exit as exit_:
        sys.exit(exit_.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # a bug: one line for the user, the traceback in -v logs
        log.debug("unexpected error", exc_info=True)
        click.echo(
            f"monitor: internal error: {type(error).__name__}: {error} (run with -v for details)",
            err=True,
        )
        sys.exit(1)
