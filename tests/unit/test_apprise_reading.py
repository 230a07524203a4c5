"""What the Apprise adapter reads without sending: its log lines, the credentials in a URL.

Sending, against a real SMTP server and a Signal stub, is tested in
tests/integration/test_notify.py.
"""

from __future__ import annotations

import pytest

from monitor.alerts import notify
from monitor.config import Channel


@pytest.mark.parametrize(
    ("lines", "permanent"),
    [
        (["Failed to send 1 Signal API notification: Bad Request, error=400."], True),
        (["Failed to send Discord notification: Too Many Requests, error=429."], False),
        (["Failed to send Ntfy notification: Bad Gateway, error=502."], False),
        (["Socket Exception: (535, b'5.7.8 Authentication credentials invalid')"], True),
        (["Socket Exception: (451, b'4.3.0 Try later', 'a@b.c')"], False),
        (["SMTP recipient a@b.c was refused: 550 no such user"], True),
        (["There are no Email recipients to notify"], True),
        (["Socket Exception: [Errno 111] Connection refused"], False),
        (["Socket Exception: timed out"], False),
        (["something nobody foresaw"], False),
    ],
)
def test_it_reads_apprise_log_lines_as_transient_or_permanent(
    lines: list[str], permanent: bool
) -> None:
    assert notify.is_permanent(lines) is permanent


def test_it_masks_credentials_written_in_the_url_itself() -> None:
    literal = Channel(id="x", url="mailtos://bob:hunter2hunter@smtp.example.org?to=a@b.org")
    mask = notify.mask_for(literal)
    # Apprise's privacy form shows the user name: only the password is a secret here.
    assert mask("login as bob with hunter2hunter failed") == "login as bob with **** failed"
    assert mask("call +33612345678 or 0612345678") == "call **** or ****"
    assert (
        mask("HTTP 502 at 127.0.0.1:8080 on 2026-03-02")
        == "HTTP 502 at 127.0.0.1:8080 on 2026-03-02"
    )
