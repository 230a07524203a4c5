"""A real PostgreSQL server for tests, started from the distribution's binaries.

``pg_server()`` initialises a throw-away cluster in a temporary directory, starts it on
127.0.0.1 with a free port (its socket in the same directory, so nothing touches
/var/run/postgresql), yields a ``postgresql+psycopg://`` URL of a fresh database, and stops
and deletes everything afterwards. PostgreSQL refuses to run as root, so under root the
server runs as the ``postgres`` system user (or ``nobody``), which owns the directory.

``shared_pg_url(config)`` starts one server per pytest run (stopped when the run ends) and
``create_database(url, name)`` gives each test module its own database on it. Without the
binaries, both skip the test with the reason to install them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

SKIP_REASON = "PostgreSQL server binary (initdb) not found: apt-get install postgresql"
DATABASE = "monitor_test"


def find_bin_dir() -> Path | None:
    """The directory holding initdb and pg_ctl: newest /usr/lib/postgresql/*/bin, else PATH."""

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with suppress(KeyError):
            return pwd.getpwnam(name)
    pytest.skip("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")


def _run(command: list[str], account: pwd.struct_passwd | None, **kwargs: Any) -> None:
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    if account is not None:
        env["HOME"] = account.pw_dir
        kwargs.update(user=account.pw_uid, group=account.pw_gid, extra_groups=[])
    subprocess.run(command, check=True, env=env, capture_output=True, text=True, **kwargs)


@contextmanager
def pg_server() -> Iterator[str]:
    """Start a PostgreSQL server; yield the URL of database ``monitor_test`` on it."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(SKIP_REASON)
    account = _server_user()
    base = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
    data, log = base / "data", base / "server.log"
    if account is not None:
        os.chown(base, account.pw_uid, account.pw_gid)
    # cwd=base: the server user may not be allowed into the caller's working directory.
    try:
        _run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            account,
            cwd=base,
        )  # fmt: skip
        port = _free_port()
        options = (
            f"-h 127.0.0.1 -p {port} -k {base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        try:
            _run(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                 "-w", "-t", "60", "start"],
                account,
                cwd=base,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            server_log = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{server_log}") from exc
        try:
            server_url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
            yield create_database(server_url, DATABASE)
        finally:
            _run(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                account,
                cwd=base,
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


def create_database(url: str, name: str) -> str:
    """Create (or re-create empty) database ``name`` on the server of ``url``; its URL."""
    parsed = make_url(url)
    with psycopg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, dbname="postgres", autocommit=True
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False)


_shared: dict[str, str] = {}


def shared_pg_url(config: pytest.Config) -> str:
    """One server for the whole pytest run, started on first use, stopped at the end."""
    if "url" not in _shared:
        server = pg_server()
        _shared["url"] = server.__enter__()

        def stop() -> None:
            _shared.clear()
            server.__exit__(None, None, None)

        config.add_cleanup(stop)
    return _shared["url"]
