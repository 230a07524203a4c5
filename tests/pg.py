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


class PgServer:
    """A throw-away PostgreSQL cluster that a test may stop and start again (same port)."""

    def __init__(self, bin_dir: Path, account: pwd.struct_passwd | None, base: Path) -> None:
        self._bin_dir, self._account, self._base = bin_dir, account, base
        self.data, self.log = base / "data", base / "server.log"
        self.port = _free_port()
        self.url = ""  #: the test database's URL, once created

    def _ctl(self, *args: str) -> None:
        _run([str(self._bin_dir / "pg_ctl"), "-D", str(self.data), *args], self._account,
             cwd=self._base)  # fmt: skip

    def init(self) -> None:
        _run(
            [str(self._bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            self._account,
            cwd=self._base,
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self._base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        try:
            self._ctl("-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        except subprocess.CalledProcessError as exc:
            server_log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{server_log}") from exc

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` ends sessions cleanly, ``immediate`` as a crash would)."""
        self._ctl("-m", mode, "-w", "stop")


@contextmanager
def pg_cluster() -> Iterator[PgServer]:
    """Start a PostgreSQL server with database ``monitor_test``; yield it to stop and restart."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(SKIP_REASON)
    account = _server_user()
    base = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
    if account is not None:
        os.chown(base, account.pw_uid, account.pw_gid)
    # cwd=base: the server user may not be allowed into the caller's working directory.
    server = PgServer(bin_dir, account, base)
    try:
        server.init()
        server.start()
        try:
            server_url = f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/postgres"
            server.url = create_database(server_url, DATABASE)
            yield server
        finally:
            with suppress(subprocess.CalledProcessError):  # a test may have stopped it
                server.stop("immediate")
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def pg_server() -> Iterator[str]:
    """Start a PostgreSQL server; yield the URL of database ``monitor_test`` on it."""
    with pg_cluster() as server:
        yield server.url


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
