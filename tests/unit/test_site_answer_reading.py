"""What a site sends, read as data: its charsets and its Retry-After headers (issue 25).

A declared charset that is no text encoding browsers know is ignored, decoding never fails,
and any Retry-After gives a pause a timedelta can hold. The pages of a real local site read
by the real http engine are in tests/system/test_site_answers.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.daemon.politeness import RETRY_AFTER_LIMIT, parse_retry_after
from monitor.probes._decoding import decode_body, text_encoding


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("utf-8", "utf-8"),
        (" UTF-8 ", "utf-8"),
        ("windows-1252", "cp1252"),
        ("ISO-8859-1", "cp1252"),  # as browsers do
        ("latin1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("iso-8859-15", "iso8859-15"),
        ("shift_jis", "shift_jis"),
        ("zlib_codec", None),
        ("base64", None),
        ("rot13", None),
        ("bz2", None),
        ("utf-7", None),
        ("idna", None),
        ("punycode", None),
        ("raw_unicode_escape", None),
        ("undefined", None),
        ("a\x00b", None),
        ("x" * 10_000, None),
        ("", None),
        (None, None),
    ],
)
def test_only_text_encodings_browsers_know_are_ever_used(label: str | None, codec: str) -> None:
    assert text_encoding(label) == codec


def test_decoding_never_fails_on_any_declared_charset() -> None:
    body = "<p>créneau €</p>".encode("cp1252")
    for label in ("zlib_codec", "base64", "hex", "rot13", "idna", "utf-16", "iso2022_jp"):
        assert isinstance(decode_body(body, f"text/html; charset={label}"), str)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 30 ", 30.0),
        ("\xb2", None),  # "²": a digit to str.isdigit, not to int (was a ValueError)
        ("9" * 30, float(RETRY_AFTER_LIMIT)),  # was an OverflowError in the daemon's timedelta
        ("9" * 400, float(RETRY_AFTER_LIMIT)),  # was an OverflowError converting to float
        ("Fri, 31 Dec 9999 23:59:59 GMT", float(RETRY_AFTER_LIMIT)),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("-5", None),
        ("soon", None),
    ],
)
def test_any_retry_after_a_site_sends_gives_a_pause_a_timedelta_can_hold(
    header: str, seconds: float | None
) -> None:
    parsed = parse_retry_after(header, datetime(2026, 12, 6, tzinfo=UTC))
    assert parsed == seconds
    if parsed is not None:
        assert timedelta(seconds=parsed) <= timedelta(days=366)
