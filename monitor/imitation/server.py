"""``ImitationSite``: one local server imitating every booking platform, for tests and the demo.

    with ImitationSite() as site:                      # 127.0.0.1, a free port
        site.set_scenario("4401", "slots", count=3, first_date="2026-05-04")
        httpx.get(site.base_url + "/booking/create/4401")
        assert site.max_in_flight() == 1

Each platform module recognises its own path shape anywhere in the path, so prefixes work
(``/index.php/booking/create/<id>``). A key (form id, démarche id, organisation id, slug,
"anef") gets a scenario with ``set_scenario`` or over HTTP, for a daemon in another process:

    POST   /_imitation/scenario  {"key": "4401", "scenario": "slots", "params": {"count": 3}}
    GET    /_imitation/scenario  the current table and the scenario names per platform
    GET    /_imitation/requests  the request log as JSON (see requestlog.LoggedRequest)
    DELETE /_imitation/requests  empties the log
    GET    /_imitation/captcha?key=<démarche id>  {"key", "code"}: the latest RDV Préfecture
                                 captcha code issued for it (404 when none), for a test or
                                 the demo standing in for the person; the product never asks

Admin calls are neither logged nor counted in flight; static assets (step images,
favicon) are logged with ``asset=True`` but not counted in flight (see requestlog.py).
Any key also accepts the infrastructure faults of faults.py; ``/hostile/<name>`` serves the
hostile pages of hostile.py. Every handler runs in its own
thread, so a ``slow`` answer never holds up another request; ``stop()`` interrupts
pending sleeps.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import logging
import socket
import socketserver
import struct
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from monitor.imitation import faults, hostile, hostile_corpus
from monitor.imitation.anef import Anef
from monitor.imitation.ds import DemarchesSimplifiees
from monitor.imitation.legacy import LegacyBooking
from monitor.imitation.rdvpref import RdvPrefecture
from monitor.imitation.rdvsp import RdvServicePublic
from monitor.imitation.requestlog import LoggedRequest, RequestLog
from monitor.imitation.scenarios import FAULTS, Platform, Route, Scenario, ScenarioBook
from monitor.imitation.wire import Action, Request, Response, h, json_response, page, png

logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/_imitation/"
MAX_BODY = 1 << 20
#: A scenario given as a name, (name, params) or {"scenario": name, "params": {...}}.
ScenarioSpec = str | tuple[str, Mapping[str, Any]] | Mapping[str, Any]


def _check_loopback(host: str) -> None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"imitation host must be a 127.x.x.x address, not {host!r}") from None
    if address not in ipaddress.ip_network("127.0.0.0/8"):
        raise ValueError(f"imitation host must be a 127.x.x.x address, not {host!r}")


def _spec(spec: ScenarioSpec) -> tuple[str, Mapping[str, Any]]:
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, tuple):
        return spec[0], spec[1]
    return str(spec["scenario"]), dict(spec.get("params") or {})


class ImitationSite:
    """A local imitation of the booking sites, served from a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        scenarios: Mapping[str, ScenarioSpec] | None = None,
        defaults: Mapping[str, str] | None = None,
    ) -> None:
        """``scenarios``: initial key → scenario; ``defaults``: platform name → scenario
        for keys nobody set (e.g. ``{"legacy-booking": "slots"}``)."""
        _check_loopback(host)
        self.host = host
        self._port = port
        self._rdvpref = RdvPrefecture()
        self.platforms: dict[str, Platform] = {
            p.name: p
            for p in (
                LegacyBooking(),
                self._rdvpref,
                RdvServicePublic(),
                DemarchesSimplifiees(),
                Anef(),
            )
        }
        self._book = ScenarioBook(self.platforms.values(), defaults)
        for key, spec in (scenarios or {}).items():
            name, params = _spec(spec)
            self._book.set(key, name, params)
        self._log = RequestLog()
        self._faults = faults.FaultState()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Bind and serve in a daemon thread; returns once the socket is listening."""
        if self._server is not None:
            raise RuntimeError("imitation site already started")
        self._stopping.clear()
        self._server = _Server((self.host, self._port), self)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"imitation-{self.host}:{self._port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("imitation site listening on %s", self.base_url)

    def stop(self) -> None:
        """Stop serving, wake sleeping handlers, drop open connections. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ImitationSite:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        if self._server is None and self._port == 0:
            raise RuntimeError("start() the imitation site before asking for its URL")
        return f"http://{self.host}:{self._port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- scenarios and log ----------------------------------------------------------------

    def set_scenario(self, key: str, scenario: str, **params: Any) -> None:
        """Give a key a scenario (ValueError if no platform knows the name)."""
        self._book.set(str(key), scenario, params)

    def clear_scenarios(self) -> None:
        self._book.clear()

    @property
    def scenarios(self) -> dict[str, tuple[str, dict[str, Any]]]:
        return {k: (s.name, dict(s.params)) for k, s in self._book.snapshot().items()}

    @property
    def requests(self) -> list[LoggedRequest]:
        """A copy of the request log, in arrival order."""
        return self._log.entries()

    def max_in_flight(self, host: str | None = None) -> int:
        return self._log.max_in_flight(host)

    def reset_log(self) -> None:
        self._log.reset()

    def captcha_code(self, key: str) -> str | None:
        """The code of the latest RDV Préfecture captcha issued for démarche ``key`` (None:
        none yet): what a person would read in its image. For tests and the demo only."""
        return self._rdvpref.captcha_code(str(key))

    # -- serving --------------------------------------------------------------------------

    def _route(self, request: Request) -> tuple[Route | None, Scenario | None]:
        for platform in self.platforms.values():
            route = platform.route(request)
            if route is not None:
                return route, self._book.resolve(route)
        return None, None

    def _respond(
        self, request: Request, route: Route | None, scenario: Scenario | None
    ) -> Response:
        if (corpus := hostile_corpus.respond(request)) is not None:  # issue 25's corpus
            return corpus
        if route is None or scenario is None:
            if (hostile_page := hostile.respond(request.path)) is not None:
                return hostile_page
            if request.path.endswith("/favicon.ico"):
                return Response(body=png(16, 16), content_type="image/png")
            return _index() if request.path == "/" else faults.proxy_error(404)
        platform = self.platforms[route.platform]
        charset: str | None = None
        if scenario.name in FAULTS:
            plan = faults.plan(
                scenario, route.key or route.platform, self._faults, location=request.location
            )
            if plan.response is not None:
                return plan.response
            charset = plan.charset
            if plan.delay > 0 and self._stopping.wait(plan.delay):
                return Response(action=Action.DISCONNECT)
            base = plan.base or self._book.default_of(platform.name)
            scenario = Scenario(base, scenario.params, scenario.since)
        if scenario.name not in platform.scenarios:
            message = f"imitation: scenario {scenario.name!r} does not exist on {platform.name}"
            response = Response(status=500, body=message, content_type="text/plain")
            response.headers.append(("X-Imitation-Error", "unknown-scenario"))
            return response
        response = platform.handle(request, route, scenario)
        return faults.recoded(response, charset) if charset else response

    def _admin(self, request: Request) -> Response:
        path = request.path.removeprefix(ADMIN_PREFIX).strip("/")
        if path == "requests" and request.method == "GET":
            return json_response([dataclasses.asdict(e) for e in self._log.entries()])
        if path == "requests" and request.method == "DELETE":
            self.reset_log()
            return json_response({"ok": True})
        if path == "captcha" and request.method == "GET":
            key = request.query.get("key", "")
            code = self.captcha_code(key) if key else None
            if code is None:
                error = f"no captcha issued for démarche {key!r}" if key else "give ?key=<id>"
                return json_response({"error": error}, 404)
            return json_response({"key": key, "code": code})
        if path == "scenario" and request.method == "GET":
            table = {k: {"scenario": n, "params": p} for k, (n, p) in self.scenarios.items()}
            return json_response({"scenarios": table, "known": self._book.known})
        if path == "scenario" and request.method == "POST":
            try:
                payload = request.json()
                key, name = str(payload["key"]), str(payload["scenario"])
                params = dict(payload.get("params") or {})
                self._book.set(key, name, params)
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                return json_response({"error": str(error)}, 400)
            return json_response({"key": key, "scenario": name, "params": params})
        return json_response({"error": f"no admin endpoint {request.method} {request.path}"}, 404)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], site: ImitationSite) -> None:
        self.site = site
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup of the host; loopback needs none.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]  # type: ignore[assignment]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hang up on slow or faulty answers all the time; that is the point.
        logger.debug("imitation: connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    timeout = 120  # idle keep-alive connections do not hold a thread for ever
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("imitation: " + format, *args)

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without NODELAY, Nagle plus the client's
        # delayed ACK add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.site._connections_lock:
            self.server.site._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.site._connections_lock:
            self.server.site._connections.discard(self.connection)
        with contextlib.suppress(OSError):  # the socket may have been reset on purpose
            super().finish()

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        site = self.server.site
        split = urlsplit(self.path)
        declared = int(self.headers.get("Content-Length") or 0)
        length = min(declared, MAX_BODY)
        if declared > length:
            self.close_connection = True  # the unread rest would corrupt a kept-alive stream
        request = Request(
            method=self.command,
            path=unquote(split.path) or "/",
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
            client=self.client_address[0],
        )
        if request.path.startswith(ADMIN_PREFIX):
            self._write(site._admin(request))
            return
        host = self.headers.get("Host", "")
        route, scenario = site._route(request)
        asset = request.path.endswith("/favicon.ico") or (
            route is not None and route.parts.get("kind") in ("image", "sound")
        )
        seq = site._log.begin(
            method=request.method,
            path=self.path,
            host=host,
            user_agent=self.headers.get("User-Agent", ""),
            platform=route.platform if route else "",
            key=route.key if route else "",
            scenario=scenario.name if scenario else "",
            asset=asset,
        )
        status: int | None = None
        try:
            try:
                response = site._respond(request, route, scenario)
            except Exception:
                logger.exception("imitation: handler failed for %s %s", self.command, self.path)
                response = Response(
                    status=500, body="imitation: internal error", content_type="text/plain"
                )
            status = self._write(response)
        finally:
            site._log.end(seq, host, status, asset=asset)

    def _write(self, response: Response) -> int | None:
        """Send (or withhold) the response; returns the status sent, None if none was."""
        if response.action is Action.RESET:
            self.close_connection = True
            # Linger 0: close() sends RST instead of FIN, the client sees "connection reset".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return None
        if response.action is Action.DISCONNECT:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if response.stream is not None:
            return self._write_stream(response)
        body = response.body_bytes()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return response.status

    def _write_stream(self, response: Response) -> int:
        """Headers, then each chunk as the stream yields it, until the client gives up."""
        assert response.stream is not None
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if response.length is not None:
            self.send_header("Content-Length", str(response.length))
        else:
            self.send_header("Connection", "close")  # the end of the body is the close
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True
        if self.command == "HEAD":
            return response.status
        stopping = self.server.site._stopping
        try:
            for chunk in response.stream():
                if stopping.is_set():
                    break
                self.wfile.write(chunk)
        except OSError:
            pass  # the client stopped reading: what a size cap or a timeout does
        return response.status


def _index() -> Response:
    """The demo's home page: one example link per platform."""
    examples = (
        ("Legacy booking module", "/booking/create/4401"),
        ("Legacy module under /index.php", "/index.php/booking/create/4401"),
        ("RDV Préfecture", "/rdvpref/reservation/demarche/3701/"),
        (
            "RDV Service Public",
            "/prendre_rdv?departement=&motif_name_with_location_type=renouvellement"
            "&public_link_organisation_id=2401",
        ),
        ("Démarches Simplifiées", "/commencer/imitation-pre-demande"),
        ("ANEF", "/particuliers/"),
    )
    items = "".join(f'<li><a href="{h(path)}">{h(label)}</a></li>' for label, path in examples)
    body = (
        "<h1>Imitation locale des sites de rendez-vous</h1>\n"
        "<p>Pages fictives servies sur la boucle locale, pour les tests et la démonstration."
        f"</p>\n<ul>{items}</ul>"
    )
    return Response(body=page("Imitation locale", body))


def serve(
    host: str = "127.0.0.1", port: int = 8765, scenarios: Mapping[str, ScenarioSpec] | None = None
) -> None:
    """Run an imitation site in the foreground until Ctrl-C; prints its base URL."""
    site = ImitationSite(host, port, scenarios=scenarios)
    try:
        # Inside the try: a Ctrl-C that comes as soon as the address is printed must still
        # stop the server thread, or the process waits for it for ever.
        site.start()
        print(site.base_url, flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
