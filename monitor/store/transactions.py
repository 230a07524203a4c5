"""What every store class shares: one engine, one transaction per call, errors translated."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import sqlite

from monitor.store.engine import SQLITE_IMMEDIATE, database_errors

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql


#: The longest a writer waits for the others of its process before it goes on to SQLite's
#: own busy handler (``busy_timeout``, 5 s): a file held by another program then fails each
#: writer after 5 to 10 s, never after the sum of the waits of all the writers queued.
WRITER_QUEUE_SECONDS = 5.0
#: One lock per SQLite engine for its write transactions in this process (see _write).
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_SQLITE_WRITERS_LOCK = threading.Lock()


def _sqlite_writers(engine: Engine) -> threading.RLock | None:
    """The lock the process's writers of ``engine`` queue on; None off SQLite."""
    if engine.dialect.name != "sqlite":
        return None
    with _SQLITE_WRITERS_LOCK:
        lock = _SQLITE_WRITERS.get(engine)
        if lock is None:
            lock = _SQLITE_WRITERS[engine] = threading.RLock()
        return lock


class TransactionalStore:
    """Gives subclasses a read and a write transaction on ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # Same pool, but SQLite transactions begin IMMEDIATE: writers queue on the write
        # lock (busy_timeout) instead of failing when a read turns into a write.
        self._writer = engine.execution_options(**{SQLITE_IMMEDIATE: True})
        # SQLite's busy handler polls for its write lock, sleeping 1, 2, 5, 10 … 100 ms
        # between tries: four probes recording at once spent more time asleep there than
        # working (BENCHMARKS.md §2). Writers of this process queue on a lock instead, and
        # the next one starts the moment the last commits (for WRITER_QUEUE_SECONDS at
        # most); other processes (a `monitor check` beside the daemon) still meet the
        # busy handler.
        self._writers = _sqlite_writers(engine)

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
        queued = self._writers is not None and self._writers.acquire(timeout=WRITER_QUEUE_SECONDS)
        try:
            with database_errors(self._engine.url), self._writer.begin() as connection:
                yield connection
        finally:
            if queued:
                assert self._writers is not None
                self._writers.release()


def dialect_insert(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ``ON CONFLICT`` support for the connection's database."""
    return insert_for(connection.dialect.name, table)


def insert_for(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ``ON CONFLICT`` support for the database named ``dialect``."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql  # here: a large module SQLite never needs

        return postgresql.insert(table)
    return sqlite.insert(table)
