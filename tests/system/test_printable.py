"""Control characters from pages never reach a person's screen (issue 25, item 5).

A page's words are quoted in alerts and logs. Raw terminal escapes (``ESC[2J`` clears the
screen of whoever reads ``-v`` logs or the mail with a terminal client), C1 controls and
bidirectional overrides are replaced: in the email's text as the real SMTP server receives
it, in the short (Signal) form, in ``notify test``'s report of what a service answered, and
in log lines, text and JSON. Line feeds, tabs and French text stay as they are.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import notifyrig
import pytest
from notifyrig import ENV, anomaly_started, write_config
from smtp_server import AUTH_WITHOUT_TLS_IS_FINE_HERE, SMTPServer

from monitor import logs
from monitor.alerts import notify
from monitor.alerts.messages import render
from monitor.config import load_config
from monitor.printable import REPLACEMENT, printable

PROJECT = Path(__file__).resolve().parents[2]
#: What a hostile page writes: clear screen, red, a hyperlink, C1 CSI, BEL, CR, an RLO.
HOSTILE = (
    "Créneaux\x1b[2J\x1b[31m disponibles\x1b]8;;https://evil.example/\x07ici\x1b]8;;\x07"
    "\x9b1m\r\u202efdp.exe"
)
FORBIDDEN = ("\x1b", "\x9b", "\x07", "\r", "\u202e", "\u2066")


def _clean(text: str) -> bool:
    return not any(char in text for char in FORBIDDEN)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain café, l’été\n\ttab", "plain café, l’été\n\ttab"),
        ("\x1b[2Jcleared", "\ufffd[2Jcleared"),
        ("bell\x07 cr\r del\x7f", "bell\ufffd cr\ufffd del\ufffd"),
        ("csi\x9b31m nel\x85", f"csi{REPLACEMENT}31m nel{REPLACEMENT}"),
        (
            "name\u202efdp.exe \u2066iso\u2069 \u200flrm",
            f"name{REPLACEMENT}fdp.exe {REPLACEMENT}iso{REPLACEMENT} {REPLACEMENT}lrm",
        ),
        ("\u00a0nbsp and emoji 📅", "\u00a0nbsp and emoji 📅"),
    ],
)
def test_it_replaces_controls_and_keeps_text(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_one_line_replaces_line_breaks_too() -> None:
    assert printable("a\nb\tc\u2028d", one_line=True) == "a\ufffdb\ufffdc\ufffdd"


def test_it_is_linear_on_a_large_hostile_text() -> None:
    text = ("\x1b[31m" + "x" * 60) * 20_000  # 1.3 MB, one escape every 65 characters
    out = printable(text)
    assert len(out) == len(text) and "\x1b" not in out


@pytest.mark.parametrize("short", [False, True])
def test_every_message_body_and_title_is_printable(short: bool) -> None:
    message = render(
        anomaly_started(HOSTILE),
        target_name="Titre\x1b[8m",
        prefecture_name="Hauts-de-Seine\u202e",
        language="fr",
        tz=ZoneInfo("Europe/Paris"),
        short=short,
    )
    assert _clean(message.title) and _clean(message.body)
    assert "\n" not in message.title
    if not short:
        assert "Créneaux\ufffd[2J" in message.body  # the page's words are still quoted


pytestmark = AUTH_WITHOUT_TLS_IS_FINE_HERE


async def test_the_email_text_carries_no_escape(tmp_path: Path, smtp: SMTPServer) -> None:
    channels = f"""
  - id: {notifyrig.MAIL}
    url: "{notifyrig.mail_url(smtp.port)}"
"""
    config = load_config(write_config(tmp_path, notifyrig.config_text("", channels)), env=ENV)
    [mail] = config.channels
    await notify.send(mail, notify.compose(mail, anomaly_started(HOSTILE), config))
    [received] = smtp.wait_for(1)
    text = received.text.replace("\r\n", "\n")  # the mail's own line ends
    assert "disponibles" in text and "\ufffd[2J" in text  # quoted, the ESC shown as �
    assert _clean(text) and _clean(received.subject)


class _Answers(BaseHTTPRequestHandler):
    """A webhook refusing every message with an answer full of escapes."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = HOSTILE.encode()
        self.send_response(400)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def hostile_webhook() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_notify_test_reports_a_hostile_answer_printably(
    tmp_path: Path, hostile_webhook: int, log_format: str
) -> None:
    channels = f"""
  - id: hook
    url: "json://127.0.0.1:{hostile_webhook}/hook"
"""
    config = write_config(tmp_path, notifyrig.config_text("", channels))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "-v", "--config", str(config), "notify", "test"],
        cwd=PROJECT,
        env={**env, **ENV, "MONITOR_LOG_FORMAT": log_format},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "hook" in done.stdout and "FAILED" in done.stdout and "400" in done.stdout
    assert "disponibles" in done.stdout + done.stderr  # the answer is quoted, made printable
    assert _clean(done.stdout) and _clean(done.stderr)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_log_lines_are_printable_and_masked(log_format: str) -> None:
    stream = io.StringIO()
    saved = sys.stderr
    sys.stderr = stream
    try:
        logs.configure(1, log_format)
        logs.hide(lambda text: text.replace("tok-91bf22", "****"))
        logging.getLogger("monitor.test").warning(
            "page said %s; token tok-91bf22", HOSTILE, extra={"target": "92/x\x1b[1m"}
        )
    finally:
        sys.stderr = saved
    written = stream.getvalue()
    assert "Créneaux" in written and "tok-91bf22" not in written
    assert _clean(written)
    if log_format == "json":
        entry = json.loads(written)
        assert _clean(entry["message"]) and _clean(entry["target"])
