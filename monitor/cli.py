"""The `monitor` command line: global options, the sub-commands, errors as one line + exit code.

Exit codes (docs/contract.md#exit-codes): 0 success, 1 runtime failure, 2 usage or config
error, 3 nothing matched.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys
from pathlib import Path
from typing import NamedTuple

import click

from monitor import __version__
from monitor.commands.common import App
from monitor.errors import MonitorError
from monitor.logs import configure, scrub

log = logging.getLogger(__name__)


class Listing(NamedTuple):
    """Where a sub-command lives (``module:attribute``) and its line in ``monitor --help``."""

    location: str
    short_help: str


#: Each sub-command, where it lives and its one-line help. A command's module is imported
#: only when that command runs (or its own --help is asked for), so `monitor --help` imports
#: no command and `monitor status` does not pay for Playwright, Apprise or Alembic. Each
#: short help is its command's first docstring sentence (tests/unit/test_cli_listing.py
#: checks they agree).
COMMANDS: dict[str, Listing] = {
    "check": Listing(
        "monitor.commands.check:check_cmd",
        "Probe targets now (all, or ids / globs / prefecture ids), record, print the outcomes.",
    ),
    "config": Listing(
        "monitor.commands.config_cmd:config_group", "Work with the configuration file."
    ),
    "db": Listing(
        "monitor.commands.db:db_group", "Manage the database: migrations and evidence pruning."
    ),
    "demo": Listing(
        "monitor.commands.demo_cmd:demo_cmd",
        "Run the daemon against a local imitation of the booking sites, alerts on the console.",
    ),
    "evidence": Listing(
        "monitor.commands.evidence_cmd:evidence_cmd",
        "Write an evidence dossier for one TARGET (a full id such as 92/remise-titre).",
    ),
    "history": Listing("monitor.commands.history:history_cmd", "Outcome rows, newest first."),
    "notify": Listing("monitor.commands.notify_cmd:notify_group", "Notification channels."),
    "publish": Listing(
        "monitor.commands.publish:publish_cmd",
        "Write the public status page and open data into OUTDIR [default: settings.publish.dir].",
    ),
    "run": Listing(
        "monitor.commands.run:run_cmd",
        "Run the daemon: schedule every target, probe, record, alert, until SIGTERM.",
    ),
    "stats": Listing(
        "monitor.commands.stats:stats_cmd",
        "Attempts, days, shares, anomalies, periods without slot, La Cimade's buckets.",
    ),
    "status": Listing(
        "monitor.commands.status:status_cmd",
        "Each target's current status and reason, since when, last probe and streak, its next "
        "probe and cadence (even or learned), and the latest probe's detail (in a table, in "
        "settings.language or --lang).",
    ),
    "verify": Listing(
        "monitor.commands.verify_cmd:verify_cmd",
        "Check every target's hash chain, evidence digests and evidence files.",
    ),
}


class LazyGroup(click.Group):
    """A click group that imports a sub-command's module on first use, and lists the
    sub-commands from :data:`COMMANDS` without importing any."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        listing = COMMANDS.get(cmd_name)
        if listing is None:
            return None
        module_name, attribute = listing.location.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The "Commands:" section as click writes it, from the table's short helps (cut to
        the width by click, through a bare command holding that help)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            (name, click.Command(name, help=COMMANDS[name].short_help).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


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
    if ctx.invoked_subcommand not in QUICK_READS:
        gc.enable()
    verbosity = -1 if quiet else verbose
    configure(verbosity)
    app = App(config_path=config_path, database_override=database, verbosity=verbosity)
    ctx.obj = app
    ctx.call_on_close(app.close)


#: pydantic looks for its plugins in every installed distribution's metadata when it builds
#: the first model (importlib.metadata, a scan of site-packages: about 0.015 s of CPU in
#: each command, `status --heartbeat` every minute); the monitor uses none. Set only when
#: unset: PYDANTIC_DISABLE_PLUGINS= (empty) in the environment lets an operator's plugin load.
NO_PYDANTIC_PLUGINS = ("PYDANTIC_DISABLE_PLUGINS", "__all__")


#: Commands that read, print and exit, run without the cyclic garbage collector: their
#: start-up (SQLAlchemy, pydantic's models: hundreds of thousands of objects) would set it
#: off dozens of times, each pass walking every object so far to free next to nothing
#: (about a sixth of `status --heartbeat`'s CPU). Every other command turns it back on.
QUICK_READS = frozenset({"status"})


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI and turns MonitorError into one line and its exit code."""
    name, value = NO_PYDANTIC_PLUGINS
    plugins_said = name in os.environ
    os.environ.setdefault(name, value)
    collecting = gc.isenabled()
    gc.disable()  # until the group knows the command (cli): see QUICK_READS
    try:
        _run(argv)
    finally:  # both as the caller had them (tests call main() in their process)
        (gc.enable if collecting else gc.disable)()
        if not plugins_said:
            os.environ.pop(name, None)


def _run(argv: list[str] | None) -> None:
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
