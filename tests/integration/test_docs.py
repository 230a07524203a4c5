"""The README documents every command, every environment variable of the contract, the set-up."""

from __future__ import annotations

import re
from pathlib import Path

import click

from monitor.cli import COMMANDS, cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def command_paths() -> list[str]:
    context = click.Context(cli)
    paths: list[str] = []
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            paths.extend(f"{name} {sub}" for sub in command.list_commands(context))
        else:
            paths.append(name)
    return paths


def test_it_documents_every_command_in_the_readme() -> None:
    missing = [path for path in command_paths() if f"`monitor {path}" not in README]
    assert missing == []


def test_it_documents_every_option_of_every_command() -> None:
    context = click.Context(cli)
    undocumented: list[str] = []
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert command is not None
        commands = (
            [command.get_command(context, sub) for sub in command.list_commands(context)]
            if isinstance(command, click.Group)
            else [command]
        )
        for sub in commands:
            assert sub is not None
            for param in sub.params:
                for opt in getattr(param, "opts", []):
                    if opt.startswith("--") and opt not in ("--help",) and opt not in README:
                        undocumented.append(f"{sub.name} {opt}")
    assert undocumented == []


def test_it_names_the_environment_variables_of_spec() -> None:
    for variable in (
        "MONITOR_CONFIG",
        "MONITOR_DATABASE_URL",
        "MONITOR_BROWSER",
        "MONITOR_LOG_FORMAT",
    ):
        assert f"`{variable}`" in README


def test_it_gives_exactly_the_two_setup_commands() -> None:
    block = re.search(r"## Set-up: two commands.*?```sh\n(.*?)```", README, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert [c for c in commands if c] == ["make run", "make test"]
