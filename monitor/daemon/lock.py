"""One daemon per SQLite database: a second ``monitor run`` on the same file refuses to start.

Two daemons on one SQLite file would each probe every target (SQLite has no cluster mode:
the claim rows that keep PostgreSQL daemons apart need ``--cluster``), doubling the load on
the sites and every notification. So ``run`` holds an exclusive ``flock`` on
``<database>.lock`` for its lifetime; a second one finds it held and exits 1 with one line
naming the database and the first daemon's pid. The kernel releases the lock when the
process ends, however it ends, so a crash never leaves a stale lock behind. ``check`` and
the reading commands take no lock: they may run beside the daemon.

The lock file is opened without following a symbolic link (``O_NOFOLLOW``) and must be a
regular file: the daemon truncates and writes it, and a link planted at that name would
have it truncate whatever file the link points to.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from monitor.errors import DatabaseError
from monitor.store.engine import mask_database_url, normalize_database_url


def lock_path(database_url: str) -> Path | None:
    """The lock file of a SQLite database file; None for other databases and in-memory."""
    parsed = normalize_database_url(database_url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(f"{parsed.database}.lock")


def hold_daemon_lock(database_url: str) -> IO[str] | None:
    """Take the database's daemon lock; keep the returned file open while the daemon runs.

    Raises DatabaseError (exit 1) when another process holds it.
    """
    path = lock_path(database_url)
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = _open_lock_file(path)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise DatabaseError(
            f"another daemon already runs on {mask_database_url(database_url)} ({holder}); "
            "stop it first (several daemons need PostgreSQL and --cluster)"
        ) from None
    handle.seek(0)
    handle.truncate()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    handle.write(f"pid {os.getpid()}, started {started}")
    handle.flush()
    return handle


def _open_lock_file(path: Path) -> IO[str]:
    """``path`` opened for reading and writing, created if missing; never through a link."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DatabaseError(
                f"the daemon's lock file {path} is a symbolic link; the daemon writes that "
                "file and will not follow a link: remove the link and start again"
            ) from None
        raise DatabaseError(f"cannot open the daemon's lock file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise DatabaseError(
            f"the daemon's lock file {path} is not a regular file; remove it and start again"
        )
    os.set_blocking(fd, True)
    return os.fdopen(fd, "r+", encoding="utf-8")
