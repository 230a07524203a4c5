"""A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread) that keeps what it receives.

Apprise talks to it exactly as to a provider's server, so the tests see what a recipient
would get: the subject, the text, the attachments. It can also misbehave the ways real
servers do: be down (stopped, then started again on the same port), answer a command with
an error code, insist on a login, or hold a transaction open until the test releases it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# aiosmtpd logs every command, and warns that this test server takes AUTH without TLS.
logging.getLogger("mail.log").setLevel(logging.ERROR)

#: For test modules: ``pytestmark = AUTH_WITHOUT_TLS_IS_FINE_HERE``.
AUTH_WITHOUT_TLS_IS_FINE_HERE = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning"
)


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ReceivedMail:
    """One message the server accepted (answered 250 to its DATA)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        """The plain-text (or else HTML) body."""
        part = self.message.get_body(preferencelist=("plain", "html"))
        return "" if part is None else cast(EmailMessage, part).get_content()

    @property
    def attachments(self) -> list[Attachment]:
        return [
            Attachment(
                filename=part.get_filename(),
                content_type=part.get_content_type(),
                content=cast(bytes, part.get_payload(decode=True)),
            )
            for part in self.message.iter_attachments()
        ]


def free_port() -> int:
    """A TCP port nothing listens on right now (bind to 0, read it, release it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class _Behaviour:
    #: SMTP reply to MAIL FROM instead of accepting it, e.g. "451 4.3.0 Try again later"
    mail_reply: str | None = None
    #: SMTP reply to RCPT TO instead of accepting it, e.g. "550 5.1.1 No such user"
    rcpt_reply: str | None = None
    #: when set, MAIL FROM waits until this event is set (a server slow to answer)
    hold: threading.Event | None = None


@dataclass
class SMTPServer:
    """The server; ``start()``/``stop()`` can be called repeatedly, the port stays the same."""

    port: int = field(default_factory=free_port)
    #: (login, password) the server requires before MAIL; None accepts anyone, no AUTH
    credentials: tuple[str, str] | None = None
    messages: list[ReceivedMail] = field(default_factory=list)
    #: how many transactions reached MAIL FROM (accepted or not)
    mail_commands: int = 0
    logins: list[tuple[str, bool]] = field(default_factory=list)
    behaviour: _Behaviour = field(default_factory=_Behaviour)

    def __post_init__(self) -> None:
        self._controller: Controller | None = None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        if self._controller is not None:
            return
        kwargs: dict[str, Any] = {}
        if self.credentials is not None:
            kwargs.update(
                auth_required=True, auth_require_tls=False, authenticator=self._authenticate
            )
        controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)
        # The port was free a moment ago, or was ours before a stop(): retry briefly if the
        # kernel has not released it yet.
        deadline = time.monotonic() + 5
        while True:
            try:
                controller.start()
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            if self.behaviour.hold is not None:
                self.behaviour.hold.set()  # never leave a handler blocked in the loop
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> SMTPServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests read ---------------------------------------------------------------------

    def url(self, to: str = "alerts@example.org", *, user: str = "", password: str = "") -> str:
        """An Apprise mailto:// URL for this server: plain SMTP, no TLS, this port."""
        auth = f"{user}:{password}@" if user else ""
        return (
            f"mailto://{auth}127.0.0.1:{self.port}?mode=insecure&from=monitor@example.org&to={to}"
        )

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Wait until at least ``count`` messages arrived; return them all."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.messages) >= count, timeout)
            if len(self.messages) < count:
                raise AssertionError(
                    f"expected {count} message(s) within {timeout}s, got {len(self.messages)}"
                )
            return list(self.messages)

    def wait_for_mail_command(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until ``count`` transactions reached MAIL FROM (e.g. one is being held)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.mail_commands >= count, timeout):
                raise AssertionError(f"no MAIL FROM #{count} within {timeout}s")

    @contextmanager
    def holding(self) -> Iterator[threading.Event]:
        """Hold every transaction at MAIL FROM until the block ends (or the event is set)."""
        release = threading.Event()
        self.behaviour.hold = release
        try:
            yield release
        finally:
            release.set()
            self.behaviour.hold = None

    # -- called from the server's thread -----------------------------------------------------

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert self.credentials is not None
        ok = False
        login = ""
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode()
            ok = (login, auth_data.password.decode()) == self.credentials
        with self._lock:
            self.logins.append((login, ok))
        return AuthResult(success=ok, handled=False)

    def _mail_started(self) -> None:
        with self._changed:
            self.mail_commands += 1
            self._changed.notify_all()

    def _received(self, mail: ReceivedMail) -> None:
        with self._changed:
            self.messages.append(mail)
            self._changed.notify_all()


class _Handler:
    """aiosmtpd's hooks: each returns the SMTP reply line."""

    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        self.server._mail_started()
        hold = self.server.behaviour.hold
        while hold is not None and not hold.is_set():
            await asyncio.sleep(0.02)
        if self.server.behaviour.mail_reply is not None:
            return self.server.behaviour.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.server.behaviour.rcpt_reply is not None:
            return self.server.behaviour.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = cast(
            EmailMessage, message_from_bytes(envelope.original_content, policy=policy.default)
        )
        self.server._received(
            ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                message=message,
            )
        )
        return "250 Message accepted for delivery"
