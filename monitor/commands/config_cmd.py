"""`monitor config validate`: load, validate and print the config with secrets masked."""

from __future__ import annotations

import click
import yaml

from monitor.commands.common import App, pass_app


@click.group("config")
def config_group() -> None:
    """Work with the configuration file."""


@config_group.command("validate")
@pass_app
def validate(app: App) -> None:
    """Validate the config and print it with every secret masked."""
    from monitor.config import dump_masked

    config = app.config
    click.echo(f"# {config.source}: valid, {len(config.targets())} targets", err=True)
    click.echo(yaml.safe_dump(dump_masked(config), allow_unicode=True, sort_keys=False), nl=False)
