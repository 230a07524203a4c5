"""Engines, migrations and the translation of database failures into DatabaseError.

This is the one boundary where SQLAlchemy's connection errors become
:class:`monitor.errors.DatabaseError` with a one-line message; URLs shown to the user
always go through :func:`mask_database_url`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from monitor.config.masking import mask_database_password
from monitor.errors import DatabaseError
from monitor.store.schema import with_postgresql_options
from monitor.store.task_queue import apply_queue_schema

if TYPE_CHECKING:
    from alembic.config import Config

#: Where the Alembic environment and revisions live (shipped inside the package).
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

#: The revision the shipped migrations end at, so that a command on a current database
#: checks it without importing Alembic (tests/integration/test_head_revision.py keeps it
#: equal to Alembic's head).
HEAD_REVISION = "0005"

#: Connection execution option: on SQLite, start the transaction with ``BEGIN IMMEDIATE``
#: (take the write lock first). Write transactions need it: a deferred transaction that
#: reads and then writes can fail with "database is locked" without waiting, whereas
#: IMMEDIATE waits for busy_timeout and serialises writers, so no two read the same
#: chain head.
SQLITE_IMMEDIATE = "monitor_sqlite_immediate"

_UPGRADE_HINT = "run `monitor db upgrade` (or start with --migrate)"


def mask_database_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***``, as ``user:pass@`` or as a
    ``?password=`` query parameter (which libpq reads too), for messages and logs."""
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except (sa_exc.ArgumentError, ValueError):
        # Not parseable as a URL: still never show what looks like ``user:password@``.
        shown = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(url))
    return mask_database_password(shown, "***")


def normalize_database_url(url: str) -> URL:
    """Parse ``url``; ``postgresql://`` and ``postgres://`` mean psycopg 3."""
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError as exc:
        raise DatabaseError(f"invalid database URL {mask_database_url(url)!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine_for(url: str, *, pool_size: int | None = None) -> Engine:
    """An engine for ``url``, configured for this program's workload.

    SQLite: WAL journal (readers never block the daemon's writes), ``synchronous=NORMAL``
    (durable across process crashes, which is what WAL mode needs), foreign keys on, a
    5 s busy timeout, SQLAlchemy in charge of ``BEGIN`` (see :data:`SQLITE_IMMEDIATE`), and
    the parent directory of the file created. PostgreSQL: psycopg 3, with ``pool_pre_ping``
    so connections dropped by a server restart are replaced instead of failing a probe, and
    the session's time zone UTC; ``pool_size`` (a daemon's ``settings.fleet.db_pool``) holds
    it to that many connections, no overflow (SQLAlchemy's default: 5, and 10 more at a peak).
    """
    parsed = normalize_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        return _postgresql_engine(parsed, pool_size)
    raise DatabaseError(
        f"unsupported database {mask_database_url(parsed)}: use sqlite:///PATH or "
        "postgresql+psycopg://USER:PASSWORD@HOST/DB"
    )


def _sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL; None for in-memory and ``file:`` URI databases."""
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _sqlite_engine(url: URL) -> Engine:
    database = _sqlite_file(url)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own emulation skips it for SELECT
        # and DDL, which breaks transactional migrations and repeatable reads).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _postgresql_engine(url: URL, pool_size: int | None) -> Engine:
    with_postgresql_options()  # the partial indexes' PostgreSQL form, for DDL and Alembic
    sizing: dict[str, int] = (
        {} if pool_size is None else {"pool_size": pool_size, "max_overflow": 0}
    )
    engine = create_engine(url, pool_pre_ping=True, **sizing)

    @event.listens_for(engine, "connect")
    def _utc(dbapi_connection: Any, _record: Any) -> None:
        # Timestamps then arrive in UTC already (psycopg gives timezone.utc for "UTC"), not
        # in the server's zone for UTCDateTime to convert one by one. Our SQL names its
        # zone wherever one matters (timezone('UTC', …)), so nothing else changes.
        dbapi_connection.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.commit()

    return engine


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


@contextmanager
def database_errors(url: str | URL) -> Iterator[None]:
    """Turn SQLAlchemy's operational failures inside the block into one-line DatabaseErrors
    (a pool with no connection free within its timeout too: the database is as good as
    away for that call, and the caller's database-error path applies)."""
    try:
        yield
    except sa_exc.TimeoutError as exc:  # the pool's, not a statement's
        raise DatabaseError(
            f"database {mask_database_url(url)}: {_first_line(exc)} "
            "(every pooled connection is busy: raise settings.fleet.db_pool)"
        ) from exc
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.ProgrammingError) as exc:
        reason = _first_line(exc.orig if exc.orig is not None else exc)
        missing_table = "no such table" in reason or (
            "relation" in reason and "does not exist" in reason
        )
        if isinstance(exc, sa_exc.ProgrammingError) and not missing_table:
            raise  # a bug in our SQL, not a state of the database: keep the traceback
        message = f"database {mask_database_url(url)}: {reason}"
        if missing_table:
            message += f" ({_UPGRADE_HINT})"
        raise DatabaseError(message) from exc


@contextmanager
def migration_errors(url: str | URL) -> Iterator[None]:
    """:func:`database_errors`, and Alembic's failures (e.g. a revision this code does not
    know) as one-line DatabaseErrors too. Alembic is imported here, where it is used."""
    from alembic.util import CommandError

    with database_errors(url):
        try:
            yield
        except CommandError as exc:
            raise DatabaseError(f"database {mask_database_url(url)}: {_first_line(exc)}") from exc


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for the shipped migrations, independent of the cwd."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        # ConfigParser interpolates '%': URL-encoded passwords contain it.
        config.set_main_option(
            "sqlalchemy.url", normalize_database_url(url).render_as_string(False).replace("%", "%%")
        )
    return config


def head_revision() -> str:
    """The revision the code expects the database to be at, as Alembic reads the scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise DatabaseError("no Alembic revision shipped with the package")
    return head


def _known(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the head revision (creating it when empty); on
    PostgreSQL with the ``cluster`` extra, also apply the task queue's schema."""
    from alembic import command

    with migration_errors(url):
        command.upgrade(alembic_config(url), "head")
    if normalize_database_url(url).get_backend_name() == "postgresql":
        engine = create_engine_for(url)
        try:
            with database_errors(url):
                apply_queue_schema(engine)
        finally:
            engine.dispose()


def _revision_of(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _at_head(connection: Connection) -> bool:
    """Whether the database's one stored revision is :data:`HEAD_REVISION`, read without
    Alembic (which is what every command on a current database needs to know)."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    stored = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return stored == [HEAD_REVISION]


def current_revision(url: str) -> str | None:
    """The database's Alembic revision; None for a database never migrated.

    A SQLite file that does not exist is not created just to say so.
    """
    parsed = normalize_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = _sqlite_file(parsed)
        if database is not None and not database.exists():
            return None
    engine = create_engine_for(url)
    try:
        with migration_errors(url), engine.connect() as connection:
            return _revision_of(connection)
    finally:
        engine.dispose()


def ensure_current(engine: Engine) -> None:
    """Raise DatabaseError unless the database is exactly at the code's head revision."""
    with database_errors(engine.url), engine.connect() as connection:
        if _at_head(connection):
            return
    with migration_errors(engine.url), engine.connect() as connection:
        current = _revision_of(connection)
    expected = head_revision()
    if current is not None and not _known(current):
        raise DatabaseError(
            f"database at revision {current}, unknown to this code (it expects {expected}): "
            "the database was migrated by a newer prefecture-monitor"
        )
    if current != expected:
        raise DatabaseError(
            f"database at revision {current or 'none (empty)'}, code expects {expected}: "
            f"{_UPGRADE_HINT}"
        )
