"""A local stand-in for signal-cli-rest-api: ``POST /v2/send`` on 127.0.0.1, in a thread.

It answers like the real API (201 and a timestamp) and records every request it got, so a
test sees exactly what Apprise's ``signal://`` plugin sent: ``message``, ``number``,
``recipients`` and ``base64_attachments``. It can be switched to fail (any HTTP status, e.g.
500 or 401), to answer slowly, or be stopped so that connections are refused, then started
again on the same port.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from smtp_server import free_port


@dataclass(frozen=True)
class SignalRequest:
    """One ``POST /v2/send`` as received (whatever the stub answered)."""

    path: str
    payload: dict[str, Any]
    answered: int  #: the HTTP status the stub answered

    @property
    def message(self) -> str:
        return str(self.payload.get("message", ""))

    @property
    def recipients(self) -> list[str]:
        return list(self.payload.get("recipients", []))

    @property
    def attachments(self) -> list[bytes]:
        return [base64.b64decode(item) for item in self.payload.get("base64_attachments", [])]


@dataclass
class SignalStub:
    port: int = field(default_factory=free_port)
    #: HTTP status answered to /v2/send (201 is the real API's success)
    status: int = 201
    #: seconds to wait before answering
    delay: float = 0.0
    #: when set, requests wait for this event before being answered (at most 30 s)
    hold: threading.Event | None = None
    received: list[SignalRequest] = field(default_factory=list)
    #: time.monotonic() at which each request arrived (before any delay or hold)
    arrivals: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._changed = threading.Condition()

    def url(self, source: str = "+33600000001", *targets: str) -> str:
        """An Apprise signal:// URL pointing at this stub."""
        path = "/".join((source, *targets))
        return f"signal://127.0.0.1:{self.port}/{path}"

    def start(self) -> None:
        if self._server is not None:
            return
        deadline = time.monotonic() + 5
        while True:
            try:
                server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until start()."""
        if self.hold is not None:
            self.hold.set()  # shutdown() waits for the handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SignalStub:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @contextmanager
    def holding(self) -> Iterator[threading.Event]:
        """Answer nothing until the block ends (or the event is set): a stuck service."""
        release = threading.Event()
        self.hold = release
        try:
            yield release
        finally:
            release.set()
            self.hold = None

    @property
    def delivered(self) -> list[SignalRequest]:
        """Requests the stub accepted (answered 2xx)."""
        with self._changed:
            return [r for r in self.received if 200 <= r.answered < 300]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[SignalRequest]:
        """Wait until ``count`` requests were accepted; return the accepted ones."""
        with self._changed:
            self._changed.wait_for(lambda: len(self._accepted()) >= count, timeout)
            accepted = self._accepted()
        if len(accepted) < count:
            raise AssertionError(f"expected {count} Signal message(s), got {len(accepted)}")
        return accepted

    def _accepted(self) -> list[SignalRequest]:
        return [r for r in self.received if 200 <= r.answered < 300]

    def _record(self, request: SignalRequest) -> None:
        with self._changed:
            self.received.append(request)
            self._changed.notify_all()


def _handler(stub: SignalStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with stub._changed:
                stub.arrivals.append(time.monotonic())
            if stub.delay:
                time.sleep(stub.delay)
            if stub.hold is not None:
                stub.hold.wait(30)
            if self.path != "/v2/send":
                self._answer(404, {"error": "not found"})
                return
            try:
                payload = json.loads(raw)
            except ValueError:
                self._answer(400, {"error": "invalid JSON"})
                return
            status = stub.status
            stub._record(SignalRequest(self.path, payload, status))
            if 200 <= status < 300:
                self._answer(status, {"timestamp": str(int(time.time() * 1000))})
            else:
                self._answer(status, {"error": f"stub answers {status}"})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
