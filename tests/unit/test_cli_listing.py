"""`monitor --help` lists the commands from cli.py's table: the table cannot drift from the
commands it lists."""

from __future__ import annotations

import click
from click.testing import CliRunner

from monitor.cli import COMMANDS, cli


def test_each_listed_help_is_its_commands_own_first_sentence() -> None:
    context = click.Context(cli)
    for name, listing in COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None, name
        assert command.name == name
        assert listing.short_help == command.get_short_help_str(limit=1_000), name


def test_the_help_lists_the_commands_as_click_would_with_every_command_loaded() -> None:
    listed = CliRunner().invoke(cli, ["--help"], terminal_width=80)
    context = click.Context(cli, terminal_width=80)
    formatter = context.make_formatter()
    click.Group.format_commands(cli, context, formatter)  # click's own, loading each command

    assert listed.exit_code == 0
    assert formatter.getvalue().strip() in listed.output
    assert all(f"  {name} " in listed.output for name in COMMANDS)
