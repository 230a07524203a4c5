"""The Apprise adapter: one message to one channel, sent or a NotificationError.

:func:`compose` renders an event for a channel (its language; short for Signal);
:func:`send` is the one boundary where Apprise's results become ours. Apprise reports a
failure as ``False`` plus log lines; those lines are captured for the one call, masked, and
read to decide whether retrying can help (``NotificationError.permanent``):

=====================================================  ==========  ==========================
what Apprise saw                                       permanent   why
=====================================================  ==========  ==========================
URL it cannot parse, unknown scheme, bad phone number  yes         the config must change
no recipient at all                                    yes         idem
HTTP 4xx (400, 401, 403, 404, …) from the service      yes         refused: auth, bad request
HTTP 408, 425, 429                                     no          "later", not "never"
HTTP 5xx                                               no          the service is unwell
SMTP 5yz (530/535 auth, 550 mailbox, 554 …)            yes         a permanent negative reply
SMTP 4yz (421, 450, 451, 452)                          no          a transient negative reply
connection refused/reset, DNS, TLS, timeouts           no          the network or the server
anything else                                          no          keeping a message 24 h
                                                                   beats dropping it
=====================================================  ==========  ==========================

Every text that leaves this module is masked: the secrets the config interpolated from the
environment, the URL's own credentials (whatever Apprise's privacy form hides), and
anything shaped like a phone number. Apprise's own log lines name recipients (Signal
numbers), so the ``apprise`` logger never propagates to the application's handlers; its
lines are captured per call and re-logged here, masked, at DEBUG.

Throttling: Apprise sleeps ``request_rate_per_sec`` (5.5 s by default) between two requests
made by one plugin object, e.g. between the Signal recipients of one message. Each send
builds its own plugin object (nothing is shared between channels or between sends) with
that throttle off: the dispatcher already sends one message at a time per channel, which
is the pace we want, and no channel's throttle can hold another channel's message.

Blocking: the Apprise call runs in a worker thread (``executor``, default: the loop's), with
Apprise's own thread pools and deadlines off, so a channel that hangs can only hold the
thread its caller gave it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import apprise
from apprise.attachment.file import AttachFile

from monitor.alerts.messages import Message, render
from monitor.config import Channel, Config
from monitor.config.env import MASK, mask_secrets
from monitor.domain import Event, is_monitor_key
from monitor.errors import NotificationError
from monitor.printable import printable

__all__ = [
    "EMAIL_SCHEMES",
    "SHORT_SCHEMES",
    "Masker",
    "attachment_name",
    "compose",
    "is_permanent",
    "mask_for",
    "send",
    "takes_attachment",
    "wants_short",
]

log = logging.getLogger(__name__)

#: Channels that get the short form of messages (SMS-like: no room for the full text).
SHORT_SCHEMES = frozenset({"signal", "signals"})
#: Channels that get the screenshot attached (docs/contract.md#events-and-notifications).
EMAIL_SCHEMES = frozenset({"mailto", "mailtos"})

_APPRISE_LOGGER = logging.getLogger("apprise")
#: Longest error text kept in an attempt row or shown by ``notify test``.
MAX_ERROR_LENGTH = 500

# "+33612345678", or a long bare digit run: the shapes of a phone number in Apprise's logs.
_PHONE = re.compile(r"\+\d{6,15}\b|(?<![\w.])\d{9,15}(?![\w.])")
_HTTP_STATUS = re.compile(r"\berror=(\d{3})\b")
# smtplib's exceptions print as "(535, b'5.7.8 …')" (refused recipients as a dict of those),
# Apprise's refused-recipient line as "refused: 550 …".
_SMTP_CODE = re.compile(r"\((\d{3}), b['\"]|\brefused: (\d{3})\b")
_RETRY_LATER_HTTP = frozenset({408, 425, 429})
_NO_RECIPIENT = ("no email recipients", "no signal api targets", "there are no ")
#: Shorter URL parts are not masked on their own: they would mask common words.
_MIN_SECRET = 4


def compose(channel: Channel, event: Event, config: Config) -> Message:
    """The message for ``event`` as ``channel`` gets it: its language (else the settings'),
    short for Signal, full otherwise. Raises ValueError for an unsupported language."""
    target = next((t for t in config.targets(include_disabled=True) if t.id == event.target), None)
    if target is not None:
        target_name, prefecture_name = target.name, target.prefecture_name
    else:  # removed from the config since the event: its id still says what it was
        target_name = event.target
        prefecture_name = "" if is_monitor_key(event.target) else event.target.split("/")[0]
    return render(
        event,
        target_name=target_name,
        prefecture_name=prefecture_name,
        language=channel.language or config.settings.language,
        tz=config.settings.tz,
        short=wants_short(channel),
    )


def attachment_name(event: Event, config: Config) -> str:
    """The screenshot's file name as recipients see it: target and local time."""
    local = event.occurred_at.astimezone(config.settings.tz)
    return f"{event.target.replace('/', '-')}-{local:%Y%m%d-%H%M%S}.png"


def scheme_of(channel: Channel) -> str:
    return channel.url.split("://", 1)[0].lower()


def wants_short(channel: Channel) -> bool:
    """Whether the channel gets the short form of messages (Signal)."""
    return scheme_of(channel) in SHORT_SCHEMES


def takes_attachment(channel: Channel) -> bool:
    """Whether the channel gets the screenshot attached (email)."""
    return scheme_of(channel) in EMAIL_SCHEMES


async def send(
    channel: Channel,
    message: Message,
    *,
    attachment: Path | None = None,
    attachment_name: str | None = None,
    executor: Executor | None = None,
) -> None:
    """Send ``message`` to ``channel``; return when the service has accepted it.

    ``attachment`` (a file) goes along when given; ``attachment_name`` is the file name the
    recipient sees. Raises NotificationError, ``permanent`` when retrying cannot help; its
    text is masked. Timeouts are the caller's (``asyncio.wait_for``): the worker thread
    cannot be interrupted, which is why the caller chooses the ``executor``.
    """
    loop = asyncio.get_running_loop()
    call = partial(_send_blocking, channel, message, attachment, attachment_name)
    outcome = await loop.run_in_executor(executor, call)
    if outcome is not None:
        raise outcome


@dataclass(frozen=True)
class _Line:
    level: str
    message: str


def _send_blocking(
    channel: Channel, message: Message, attachment: Path | None, attachment_name: str | None
) -> NotificationError | None:
    """The Apprise call, in a worker thread; returns the failure instead of raising it."""
    _own_apprise_logger()
    mask = mask_for(channel)
    asset = apprise.AppriseAsset(async_mode=False, service_timeout=0)
    with _lines_of_this_thread() as setup_lines:
        plugin = apprise.Apprise.instantiate(channel.url, asset=asset)
    if not plugin:
        _relay(channel, setup_lines, mask)
        reason = _summary(setup_lines, mask) or "unknown scheme or bad value"
        return NotificationError(_clip(f"invalid channel URL: {reason}"), permanent=True)
    plugin.request_rate_per_sec = 0  # see the module docstring: Throttling
    notifier = apprise.Apprise(asset=asset)
    notifier.add(plugin)
    attach = None
    if attachment is not None:
        attach = apprise.AppriseAttachment(asset=asset)
        name = attachment_name or attachment.name
        attach.add(AttachFile(str(attachment), name=name))  # type: ignore[no-untyped-call]
    try:
        result = notifier.notify(
            body=message.body,
            title=message.title,
            body_format=apprise.NotifyFormat.TEXT,
            attach=attach,
            log_level=logging.DEBUG,
        )
    except Exception as exc:  # Apprise itself broke; a retry may well work
        return NotificationError(_clip(mask(f"Apprise failed: {type(exc).__name__}: {exc}")))
    lines = [
        _Line(entry.level, entry.message) for service in result.results for entry in service.logs()
    ]
    _relay(channel, lines, mask)
    if result:
        return None
    permanent = is_permanent(line.message for line in lines)
    reason = _summary(lines, mask) or "the service refused the message (no detail given)"
    return NotificationError(_clip(reason), permanent=permanent)


def is_permanent(messages: Iterable[str]) -> bool:
    """Whether Apprise's log lines for a failed send say that retrying cannot help."""
    for message in messages:
        lowered = message.lower()
        if any(marker in lowered for marker in _NO_RECIPIENT):
            return True
        http = _HTTP_STATUS.search(message)
        if http is not None:
            status = int(http.group(1))
            if 400 <= status < 500 and status not in _RETRY_LATER_HTTP:
                return True
        smtp = _SMTP_CODE.search(message)
        if smtp is not None and (smtp.group(1) or smtp.group(2)).startswith("5"):
            return True
    return False


def _summary(lines: list[_Line], mask: Masker) -> str:
    """The lines worth keeping, masked: warnings and errors, then the low-level cause and
    the service's answer (logged at DEBUG by Apprise), without repeats."""
    kept = [line.message for line in lines if line.level not in ("DEBUG", "TRACE", "INFO")]
    kept += [
        line.message.replace("\r\n", " ")
        for line in lines
        if line.message.startswith(("Socket Exception:", "Response Details:"))
    ]
    # Masked first: lines that differ only by a recipient's number are one line.
    return "; ".join(dict.fromkeys(mask(text.strip()) for text in kept if text.strip()))


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


def mask_for(channel: Channel) -> Masker:
    """A function that masks every secret of ``channel`` in a text (see module docstring)."""
    return Masker(frozenset(_secrets_of(channel)))


@dataclass(frozen=True)
class Masker:
    secrets: frozenset[str]

    def __call__(self, text: str) -> str:
        # What a service answers is quoted in errors and -v logs: no escapes, no controls.
        masked = _PHONE.sub(MASK, mask_secrets(text, self.secrets))
        return printable(masked.replace("\r\n", "\n"))


def _secrets_of(channel: Channel) -> Iterator[str]:
    # Values the loader took from the environment ($SMTP_PASSWORD, $SIGNAL_TO, $ALICE …).
    yield from channel.secrets
    # What Apprise's privacy form leaves out of the URL is, by its judgement, a secret,
    # even when written literally in the file.
    shown = channel.masked_url
    parts = urlsplit(channel.url)
    for value in (parts.username, parts.password):
        if value and value not in shown:
            yield value
            yield unquote(value)
    # Path segments and query values (not keys: "mode" or "to" are no secrets).
    values = [*parts.path.split("/"), *(value for _, value in parse_qsl(parts.query))]
    for value in values:
        for token in re.split(r"[,;\s]+", value):
            if len(token) >= _MIN_SECRET and token not in shown and quote(token) not in shown:
                yield token


# -- Apprise's logger ---------------------------------------------------------------------------


def _own_apprise_logger() -> None:
    """Keep Apprise's lines (they name recipients) out of the application's handlers, but
    let them be produced at every level for the per-call capture. Idempotent."""
    _APPRISE_LOGGER.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in _APPRISE_LOGGER.handlers):
        # Without any handler, logging's last resort would print warnings to stderr.
        _APPRISE_LOGGER.addHandler(logging.NullHandler())
    _APPRISE_LOGGER.setLevel(logging.DEBUG)


class _ThreadCapture(logging.Handler):
    """Collects the ``apprise`` records emitted by one thread (other sends run in others)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.thread = threading.get_ident()
        self.lines: list[_Line] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(_Line(record.levelname, record.getMessage()))


@contextmanager
def _lines_of_this_thread() -> Iterator[list[_Line]]:
    capture = _ThreadCapture()
    _APPRISE_LOGGER.addHandler(capture)
    try:
        yield capture.lines
    finally:
        _APPRISE_LOGGER.removeHandler(capture)


def _relay(channel: Channel, lines: list[_Line], mask: Masker) -> None:
    """Apprise's lines for this call, masked, for whoever runs with -v."""
    if log.isEnabledFor(logging.DEBUG):
        for line in lines:
            log.debug("channel %s: apprise %s: %s", channel.id, line.level, mask(line.message))
