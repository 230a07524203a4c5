"""What the commands share: the application context, the settings a reading command shows
with, and the options several commands take (``--format``, ``--lang``, ``--evidence-dir``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from monitor.reports.output import FORMATS

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from monitor.config import Config
    from monitor.config.settings import Settings
    from monitor.store.repository import Repository

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class App:
    """Global options, with the config and database opened lazily and only once.

    Lazy so that `monitor --help` or `db current --database URL` do not need a config file,
    and so that a config error is reported before anything touches the database.
    """

    config_path: Path | None
    database_override: str | None
    verbosity: int
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    #: Whether loading the config checks that Apprise can use each channel URL (see
    #: monitor.config.load_config); ``status``, which notifies nobody, turns it off.
    check_channels: bool = True
    #: The PostgreSQL pool's size (``run`` sets ``settings.fleet.db_pool``); None: the default.
    db_pool: int | None = None

    @cached_property
    def config(self) -> Config:
        from monitor.config import load_config

        config = load_config(self.config_path, env=self.env, check_channels=self.check_channels)
        return hide_secrets_of(config)

    @cached_property
    def database_url(self) -> str:
        from monitor.config import resolve_database_url

        needs_config = not (self.database_override or self.env.get("MONITOR_DATABASE_URL"))
        return resolve_database_url(
            self.config if needs_config else None, self.database_override, self.env
        )

    @cached_property
    def engine(self) -> Engine:
        from monitor.store.engine import create_engine_for

        return create_engine_for(self.database_url, pool_size=self.db_pool)

    def close(self) -> None:
        """Close the database's pooled connections, when a command opened the database."""
        if "engine" in self.__dict__:
            self.engine.dispose()

    def repository(self, *, migrate: bool = False) -> Repository:
        """The repository on a database at the code's revision (upgraded first if ``migrate``)."""
        from monitor.store.engine import ensure_current, upgrade
        from monitor.store.repository import Repository

        if migrate:
            upgrade(self.database_url)
        ensure_current(self.engine)
        return Repository(self.engine)


def hide_secrets_of(config: Config) -> Config:
    """Mask ``config``'s secrets in every log line and error from now on; returns it."""
    from monitor.config.env import secret_masker
    from monitor.logs import hide

    hide(secret_masker(config.secrets))
    return config


pass_app = click.make_pass_decorator(App)


def optional_config(app: App) -> Config | None:
    """The config, for a reading command: None when it can do without one.

    A reading command needs no config file when the database is named on the command line
    or in ``$MONITOR_DATABASE_URL``, no config file was asked for (``--config``,
    ``$MONITOR_CONFIG``) and none lies in the current directory. An explicit config that
    is missing or wrong stays an error.
    """
    from monitor.config import DEFAULT_CONFIG

    database_given = bool(app.database_override or app.env.get("MONITOR_DATABASE_URL"))
    config_named = app.config_path is not None or bool(app.env.get("MONITOR_CONFIG"))
    if database_given and not config_named and not Path(DEFAULT_CONFIG).exists():
        return None
    return app.config


def reading_settings(app: App) -> Settings:
    """The settings a reading command displays with: the config's, else the defaults
    (Europe/Paris, French, ``var/evidence``)."""
    from monitor.config.settings import Settings

    config = optional_config(app)
    return Settings() if config is None else config.settings


def evidence_dir_option(command: F) -> F:
    """``--evidence-dir``, for the commands that read or delete evidence files."""
    return click.option(
        "--evidence-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Evidence files [default: settings.evidence_dir].",
    )(command)


def lang_option(command: F) -> F:
    """``--lang fr|en``: the language a table's details are written in."""
    return click.option(
        "--lang",
        type=click.Choice(("fr", "en")),
        help="Language of the details in a table [default: settings.language, French].",
    )(command)


def output_options(default: str = "table") -> Callable[[F], F]:
    """The ``--format`` option shared by check, status, history and stats."""

    def decorator(command: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default=default,
            show_default=True,
            help="table for people (local time); json, ndjson or csv for machines (UTC).",
        )(command)

    return decorator
