"""`monitor db upgrade | current`: the database schema, always through Alembic migrations."""

from __future__ import annotations

import click

from monitor.commands.common import App, pass_app


@click.group("db")
def db_group() -> None:
    """Manage the database (migrations)."""


@db_group.command("upgrade")
@pass_app
def upgrade_cmd(app: App) -> None:
    """Bring the database to the latest migration (creates it if needed)."""
    from monitor.store.engine import current_revision, mask_database_url, upgrade

    upgrade(app.database_url)
    click.echo(
        f"{mask_database_url(app.database_url)} at revision {current_revision(app.database_url)}"
    )


@db_group.command("current")
@pass_app
def current_cmd(app: App) -> None:
    """Show the database's migration revision and the code's."""
    from monitor.store.engine import current_revision, head_revision

    current = current_revision(app.database_url)
    head = head_revision()
    state = "up to date" if current == head else "behind: run `monitor db upgrade`"
    click.echo(f"{current or '(empty)'} (code expects {head}; {state})")
