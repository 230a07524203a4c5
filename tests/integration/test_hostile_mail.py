"""Email HTML: what a hostile page wrote reaches the mailbox as text, never as markup.

Apprise sends our plain-text message as a multipart mail whose HTML part it builds from the
text; a page's message holding ``<script>`` or an ``onerror`` attribute must arrive escaped
there, or opening the alert in a web mail would run the page's script. Checked with the
real SMTP server receiving the real mail.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import notifyrig
import pytest
from notifyrig import ENV, anomaly_started, write_config
from smtp_server import AUTH_WITHOUT_TLS_IS_FINE_HERE, SMTPServer

from monitor.alerts import notify
from monitor.config import load_config

pytestmark = AUTH_WITHOUT_TLS_IS_FINE_HERE

HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)"><a href="javascript:1">y</a>'


def load(tmp_path: Path, smtp: SMTPServer, url_suffix: str, language: str) -> Any:
    channels = f"""
  - id: {notifyrig.MAIL}
    url: "{notifyrig.mail_url(smtp.port)}{url_suffix}"
"""
    text = notifyrig.config_text(f"language: {language}", channels)
    return load_config(write_config(tmp_path, text), env=ENV)


async def send_hostile(tmp_path: Path, smtp: SMTPServer, url_suffix: str, language: str) -> Any:
    config = load(tmp_path, smtp, url_suffix, language)
    [mail] = config.channels
    message = notify.compose(mail, anomaly_started(HOSTILE), config)
    assert HOSTILE in message.body  # the page's words are quoted as they were
    await notify.send(mail, message)
    [received] = smtp.wait_for(1)
    return received


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_a_pages_markup_arrives_as_plain_text_in_the_default_mail(
    tmp_path: Path, smtp: SMTPServer, language: str
) -> None:
    received = await send_hostile(tmp_path, smtp, "", language)
    message: EmailMessage = received.message
    # Plain text only: no mail reader renders it as markup.
    assert [part.get_content_type() for part in message.walk()] == ["text/plain"]
    assert HOSTILE in received.text


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_a_pages_markup_arrives_escaped_when_the_channel_asks_for_html(
    tmp_path: Path, smtp: SMTPServer, language: str
) -> None:
    received = await send_hostile(tmp_path, smtp, "&format=html", language)
    part = received.message.get_body(preferencelist=("html",))
    assert part is not None, "no HTML part: the test would prove nothing"
    html = cast(EmailMessage, part).get_content()
    assert "&lt;script&gt;" in html
    assert "&lt;img" in html and "onerror" in html  # there, but as text
    for markup in ("<script", "<img", "<a href"):
        assert markup not in html
    assert "<script" not in received.subject
