"""A tiny web site on 127.0.0.1 for the probe engines' tests, served from a thread.

Tests describe pages as ``Reply`` values (or functions of the ``Received`` request) keyed by
path; the site records every request it got, and how many were in flight at once, so tests
assert on what the server really saw. Real sockets give what a mock cannot: timeouts,
connection resets, redirects and cookies handled by the client's own stack.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit


@dataclass(frozen=True)
class Received:
    """One request as the server got it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  #: lower-case names
    body: bytes

    @property
    def form(self) -> dict[str, list[str]]:
        """An urlencoded POST body, or the query of a GET, as lists of values per name."""
        if self.method == "POST":
            return parse_qs(self.body.decode("latin-1"), keep_blank_values=True)
        return self.query

    @property
    def form_pairs(self) -> list[tuple[str, str]]:
        """The urlencoded body as ordered pairs, to check the order browsers use."""
        raw = self.body.decode("latin-1") if self.method == "POST" else urlsplit(self.path).query
        return parse_qsl(raw, keep_blank_values=True)


@dataclass
class Reply:
    """What the site answers on one path."""

    body: str | bytes = ""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"
    delay: float = 0.0  #: seconds to wait before answering
    reset: bool = False  #: drop the connection with a TCP RST instead of answering


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status=status, headers={"Location": location})


Route = Reply | Callable[[Received], Reply]


class Site:
    """The running site: its URL, its routes, and what it received."""

    def __init__(self, server: ThreadingHTTPServer, routes: dict[str, Route]) -> None:
        self._server = server
        self.routes = routes
        self.received: list[Received] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self._lock = threading.Lock()
        host, port = server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self.port = int(port)

    def url(self, path: str) -> str:
        return self.base_url + path

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.received if urlsplit(r.path).path == path]

    def _enter(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


class _Handler(BaseHTTPRequestHandler):
    site: Site
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest output readable

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        received = Received(
            method=self.command,
            path=self.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        site = self.site
        site._enter(received)
        try:
            route = site.routes.get(parts.path)
            if route is None:
                reply = Reply("<h1>not found</h1>", status=404)
            else:
                reply = route(received) if callable(route) else route
            if reply.delay:
                time.sleep(reply.delay)
            if reply.reset:
                # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True
                return
            payload = reply.body.encode() if isinstance(reply.body, str) else reply.body
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except OSError:
            self.close_connection = True  # the client went away (a timeout test): fine
        finally:
            site._leave()

    def finish(self) -> None:
        with contextlib.suppress(OSError):  # after a deliberate reset the socket is gone
            super().finish()


@contextmanager
def serve(routes: Mapping[str, Route] | None = None) -> Iterator[Site]:
    """Serve ``routes`` on an ephemeral 127.0.0.1 port for the duration of the block."""

    class Handler(_Handler):
        pass  # a class per site, so that concurrent sites do not share ``site``

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False  # do not wait for a deliberately slow page to finish
    site = Site(server, dict(routes or {}))
    Handler.site = site
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="sitefixture", daemon=True
    )
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def unused_port() -> int:
    """A local port nothing listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
