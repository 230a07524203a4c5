"""The cluster engine's task queue (procrastinate) in our PostgreSQL database.

``monitor db upgrade`` applies procrastinate's own schema after our Alembic revisions, on
PostgreSQL only and only when procrastinate is installed (the ``cluster`` extra). Its
tables are procrastinate's, not ours: Alembic leaves them alone (``is_queue_table``), and
the schema is applied once, when its jobs table is not there yet, so the command stays
idempotent.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

__all__ = [
    "QUEUE_TABLE_PREFIX",
    "apply_queue_schema",
    "is_queue_table",
    "libpq_url",
    "ours_for_alembic",
    "queue_installed",
]

log = logging.getLogger(__name__)

#: procrastinate names every table, type and function it creates this way.
QUEUE_TABLE_PREFIX = "procrastinate_"
_JOBS_TABLE = "procrastinate_jobs"


def queue_installed() -> bool:
    """Whether the ``cluster`` extra (procrastinate) is installed."""
    return importlib.util.find_spec("procrastinate") is not None


def is_queue_table(name: str | None) -> bool:
    """Whether a table belongs to procrastinate (Alembic ignores those)."""
    return name is not None and name.startswith(QUEUE_TABLE_PREFIX)


def ours_for_alembic(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's ``include_name`` hook: compare our tables (and their indexes, columns and
    constraints) only; procrastinate's are its own."""
    if type_ == "table":
        return not is_queue_table(name)
    table = parent_names.get("table_name")
    return not (isinstance(table, str) and is_queue_table(table))


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq (psycopg) takes it: without the driver name."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def apply_queue_schema(engine: Engine) -> bool:
    """Create procrastinate's schema in the PostgreSQL database of ``engine`` if missing.

    Returns True when it was applied now; False on SQLite, without procrastinate, or
    when it is already there. Database errors propagate (the caller maps them).
    """
    if engine.dialect.name != "postgresql" or not queue_installed():
        return False
    from procrastinate.schema import SchemaManager

    if inspect(engine).has_table(_JOBS_TABLE):
        return False
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        # One script of many statements, sent as one simple query, in one transaction.
        cursor.execute(SchemaManager.get_schema())
        connection.commit()
    finally:
        connection.close()
    log.info("task queue schema (procrastinate) applied")
    return True
