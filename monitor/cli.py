"""The `monitor` command line: global options, the sub-commands, errors as one line + exit code.

Exit codes (docs/contract.md#exit-codes): 0 success, 1 runtime failure, 2 usage or config
error, 3 nothing matched.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

import click

from monitor import __version__
from monitor.commands.common import App
from monitor.errors import MonitorError
from monitor.logs import configure, scrub

log = logging.getLogger(__name__)

#: Each sub-command and where it lives; a module is imported only when its command runs
#: (or for --help), so `monitor status` does not pay for Playwright, Apprise or Alembic.
COMMANDS: dict[str, str] = {
    "check": "monitor.commands.check:check_cmd",
    "config": "monitor.commands.config_cmd:config_group",
    "db": "monitor.commands.db:db_group",
    "demo": "monitor.commands.demo_cmd:demo_cmd",
    "evidence": "monitor.commands.evidence_cmd:evidence_cmd",
    "history": "monitor.commands.history:history_cmd",
    "notify": "monitor.commands.notify_cmd:notify_group",
    "publish": "monitor.commands.publish:publish_cmd",
    "run": "monitor.commands.run:run_cmd",
    "stats": "monitor.commands.stats:stats_cmd",
    "status": "monitor.commands.status:status_cmd",
    "verify": "monitor.commands.verify_cmd:verify_cmd",
}


class LazyGroup(click.Group):
    """A click group that imports a sub-command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI and turns MonitorError into one line and its exit code."""
    try:
        cli.main(args=argv, prog_name="monitor", standalone_mode=False)
    except MonitorError as error:
        click.echo(f"monitor: error: {scrub(str(error))}", err=True)
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
            f"monitor: internal error: {type(error).__name__}: {scrub(str(error))} "
            "(run with -v for details)",
            err=True,
        )
        sys.exit(1)
