"""Alembic environment for prefecture-monitor.

The database URL, first found wins:
1. ``alembic -x url=...`` on the command line;
2. the ``sqlalchemy.url`` main option, which ``monitor.store.engine`` sets programmatically;
3. ``$MONITOR_DATABASE_URL``;
4. ``sqlite:///var/monitor.db`` (the default config's database, relative to the cwd).

Engines come from ``monitor.store.engine.create_engine_for`` so migrations run with the
same SQLite pragmas and transaction handling as the program. SQLite has almost no ALTER
TABLE, hence ``render_as_batch`` (a later revision's alterations recreate the table).
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from monitor.store.engine import SQLITE_IMMEDIATE, create_engine_for
from monitor.store.schema import metadata
from monitor.store.task_queue import ours_for_alembic

DEFAULT_URL = "sqlite:///var/monitor.db"

config = context.config
target_metadata = metadata

if config.config_file_name is not None:
    # Only when run as `alembic ...` with alembic.ini; the program configures its own logging.
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    """The URL to migrate, by the precedence in the module docstring."""
    from_x = context.get_x_argument(as_dictionary=True).get("url")
    if from_x:
        return from_x
    from_config = config.get_main_option("sqlalchemy.url")
    if from_config:
        return from_config
    return os.environ.get("MONITOR_DATABASE_URL") or DEFAULT_URL


def run_migrations_offline() -> None:
    """Emit the SQL to stdout (``alembic upgrade head --sql``) instead of running it."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_with(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite,
        # SQLite's DDL is transactional once SQLAlchemy emits BEGIN itself (our engines
        # do): a failed revision then leaves nothing half-done.
        transactional_ddl=True,
        compare_type=True,
        include_name=ours_for_alembic,  # not procrastinate's tables (the cluster extra)
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations in one transaction (DDL is transactional on both databases)."""
    engine = create_engine_for(database_url())
    try:
        with engine.connect() as connection:
            # Take SQLite's write lock up front: a migration is one long write.
            _run_with(connection.execution_options(**{SQLITE_IMMEDIATE: True}))
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
