"""What every store class shares: one engine, one transaction per call, errors translated."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import sqlite

from monitor.store.engine import SQLITE_IMMEDIATE, database_errors

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql


class TransactionalStore:
    """Gives subclasses a read and a write transaction on ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # Same pool, but SQLite transactions begin IMMEDIATE: writers queue on the write
        # lock (busy_timeout) instead of failing when a read turns into a write.
        self._writer = engine.execution_options(**{SQLITE_IMMEDIATE: True})

    @property
    def engine(self) -> Engine:
        """The engine this store works on."""
        return self._engine

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with database_errors(self._engine.url), self._engine.connect() as connection:
            yield connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with database_errors(self._engine.url), self._writer.begin() as connection:
            yield connection


def dialect_insert(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ``ON CONFLICT`` support for the connection's database."""
    return insert_for(connection.dialect.name, table)


def insert_for(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ``ON CONFLICT`` support for the database named ``dialect``."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql  # here: a large module SQLite never needs

        return postgresql.insert(table)
    return sqlite.insert(table)
