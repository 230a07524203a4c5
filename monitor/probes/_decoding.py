"""Turning a response body into text the way a browser would, for snapshots and recognition.

Prefecture pages still come in ISO-8859-1 or Windows-1252 now and then, sometimes declared
only in a ``<meta>`` tag. Recognition compares French messages with accents, so a body decoded
with the wrong charset would make a known page "unrecognized".
"""

from __future__ import annotations

import codecs

import re2

_HEADER_CHARSET = re2.compile(r"""(?i)charset\s*=\s*["']?([^"';\s]+)""")
_META_CHARSET = re2.compile(rb"""(?i)<meta[^>]*?charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""")
#: Browsers only look for a <meta> charset near the top of the document.
_META_SCAN_BYTES = 1024


def _known(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def decode_body(body: bytes, content_type: str | None) -> str:
    """Decode with the byte-order mark, else the header's charset, else a ``<meta>`` charset.

    Falls back to UTF-8; undecodable bytes become U+FFFD rather than failing the probe.
    """
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    header = _HEADER_CHARSET.search(content_type or "")
    charset = _known(header.group(1) if header else None)
    if charset is None:
        meta = _META_CHARSET.search(body[:_META_SCAN_BYTES])
        charset = _known(meta.group(1).decode("ascii") if meta else None)
    return body.decode(charset or "utf-8", errors="replace")
