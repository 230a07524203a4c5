"""The console served by uvicorn inside the daemon's running event loop.

The daemon owns the process's signals (docs/architecture.md#the-daemon): this server installs
none, and stops when :meth:`ConsoleServer.stop` is awaited. The listening socket is bound
here, before uvicorn starts, so that a port already taken is one clear
:class:`ConsoleUnavailable` instead of uvicorn's ``sys.exit``; the access log is off, so no
address (which may hold ``?token=``) is ever logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

from monitor.config.listen import Listen, parse_listen
from monitor.errors import MonitorError

__all__ = ["ConsoleServer", "ConsoleUnavailable"]

log = logging.getLogger("monitor.console")

#: Seconds the server waits for open connections at stop before closing them.
STOP_GRACE = 5


class ConsoleUnavailable(MonitorError):
    """The console cannot listen where ``settings.console.listen`` says."""


class _QuietServer(uvicorn.Server):
    """uvicorn's server without its own signal handlers: the daemon has them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class ConsoleServer:
    """Serves ``app`` on ``listen`` (``"127.0.0.1:8470"``, ``"[::1]:8470"``; port 0: any)."""

    def __init__(self, app: ASGIApp, listen: str) -> None:
        try:
            self._listen: Listen = parse_listen(listen)
        except ValueError as exc:
            raise ConsoleUnavailable(f"settings.console.listen: {exc}") from None
        self._app = app
        self._socket: socket.socket | None = None
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._port: int | None = None

    @property
    def url(self) -> str:
        """The console's address, with the real port once started."""
        return self._listen.url(self._port)

    def _bind(self) -> socket.socket:
        listen = self._listen
        family = socket.AF_INET6 if listen.family_v6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((listen.host, listen.port))
            sock.listen(100)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            where = listen.url().removesuffix("/")
            if exc.errno in (98, 48, 10048):  # EADDRINUSE: Linux, macOS, Windows
                raise ConsoleUnavailable(
                    f"the console cannot listen on {where}: the port is already taken "
                    "(another console or program); choose another in settings.console.listen"
                ) from None
            raise ConsoleUnavailable(
                f"the console cannot listen on {where}: {exc.strerror or exc}; "
                "check settings.console.listen"
            ) from None
        return sock

    async def start(self) -> None:
        """Listen, then serve in the running loop; returns once connections are accepted."""
        if self._task is not None:
            raise RuntimeError("the console is already started")
        sock = self._bind()
        config = uvicorn.Config(
            self._app,
            lifespan="off",
            http="h11",
            ws="none",
            log_config=None,  # the daemon's logging, untouched
            log_level="warning",  # uvicorn's start and stop lines: the console logs its own
            access_log=False,
            limit_concurrency=64,
            server_header=False,
            proxy_headers=True,
            forwarded_allow_ips=["127.0.0.1", "::1"],
            timeout_graceful_shutdown=STOP_GRACE,
        )
        server = _QuietServer(config)
        self._socket, self._server = sock, server
        self._port = sock.getsockname()[1]
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="console")
        while not server.started and not self._task.done():
            await asyncio.sleep(0.01)
        if self._task.done():
            failure = self._task.exception()
            self._close_socket()
            self._task = None
            raise ConsoleUnavailable(f"the console did not start: {failure}")
        log.info("operator console listening on %s", self.url)

    async def stop(self) -> None:
        """Stop accepting, let open requests finish (at most STOP_GRACE s), close."""
        task, server = self._task, self._server
        if task is None or server is None:
            return
        server.should_exit = True
        try:
            await task
        finally:
            self._close_socket()
            self._task = None

    def _close_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()
