"""Turning a response body into text the way a browser would, for snapshots and recognition.

Prefecture pages still come in ISO-8859-1 or Windows-1252 now and then, sometimes declared
only in a ``<meta>`` tag. Recognition compares French messages with accents, so a body decoded
with the wrong charset would make a known page "unrecognized".

What a site declares is only a label. Python's codec registry also holds codecs that are not
text encodings at all (``zlib_codec``, ``base64``, ``rot13``, ``hex``) or that browsers refuse
(``utf-7``, ``idna``, ``unicode_escape``): a page declaring one must neither crash the probe
nor be decoded with it. Only the encodings of the WHATWG Encoding Standard (the ones browsers
know) are used; any other label is ignored, as a browser ignores it, and the next source
(the ``<meta>`` tag, then UTF-8) decides. As in browsers, ``iso-8859-1`` and ``ascii`` are
read as Windows-1252.
"""

from __future__ import annotations

import codecs
from functools import lru_cache

import re2

_HEADER_CHARSET = re2.compile(r"""(?i)charset\s*=\s*["']?([^"';\s]+)""")
_META_CHARSET = re2.compile(rb"""(?i)<meta[^>]*?charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""")
#: Browsers only look for a <meta> charset near the top of the document.
_META_SCAN_BYTES = 1024
#: No encoding label is longer (the Encoding Standard's longest is 19 characters).
_LABEL_LIMIT = 40

#: The Encoding Standard's encodings that Python has, by their Python codec name.
TEXT_ENCODINGS = frozenset(
    codecs.lookup(name).name
    for name in (
        "utf-8", "utf-16-le", "utf-16-be", "utf-16", "cp866", "iso8859-2", "iso8859-3",
        "iso8859-4", "iso8859-5", "iso8859-6", "iso8859-7", "iso8859-8", "iso8859-10",
        "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16", "koi8-r", "koi8-u",
        "mac-roman", "cp874", "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255",
        "cp1256", "cp1257", "cp1258", "mac-cyrillic", "gbk", "gb18030", "big5", "euc_jp",
        "iso2022_jp", "shift_jis", "euc_kr",
    )
)  # fmt: skip
#: Labels browsers decode with another encoding than their name says.
_AS_BROWSERS_DO = {"iso8859-1": "cp1252", "ascii": "cp1252", "latin-1": "cp1252"}


def text_encoding(label: str | None) -> str | None:
    """The Python codec a browser would decode with for ``label``; None when it is none.

    Pure and total: any string a site sends gives a text encoding or None, never an error.
    """
    if not label or len(label) > _LABEL_LIMIT:
        return None
    return _encoding_named(label)


@lru_cache(maxsize=256)
def _encoding_named(label: str) -> str | None:
    """:func:`text_encoding` of a label of at most ``_LABEL_LIMIT`` characters, remembered:
    sites send the same few labels, and the codec registry's lookup is the dearest step."""
    try:
        name = codecs.lookup(label.strip()).name
    except (LookupError, ValueError):  # unknown, or not even a name (a NUL in it)
        return None
    name = _AS_BROWSERS_DO.get(name, name)
    return name if name in TEXT_ENCODINGS else None


def decode_body(body: bytes, content_type: str | None) -> str:
    """Decode with the byte-order mark, else the header's charset, else a ``<meta>`` charset.

    Falls back to UTF-8; undecodable bytes become U+FFFD rather than failing the probe.
    """
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    charset = _header_encoding(content_type or "")
    if charset is None:
        meta = _META_CHARSET.search(body[:_META_SCAN_BYTES])
        charset = text_encoding(meta.group(1).decode("ascii") if meta else None)
    return body.decode(charset or "utf-8", errors="replace")


#: Longest ``Content-Type`` value whose encoding is remembered (a real one is ~30 characters).
_REMEMBERED_HEADER = 128


def _header_encoding(content_type: str) -> str | None:
    """The text encoding the ``Content-Type`` header's charset names, None when none does;
    remembered for a short header (a site sends the same one on every page)."""
    if len(content_type) <= _REMEMBERED_HEADER:
        return _remembered_header_encoding(content_type)
    return _read_header_encoding(content_type)


def _read_header_encoding(content_type: str) -> str | None:
    header = _HEADER_CHARSET.search(content_type)
    return text_encoding(header.group(1) if header else None)


_remembered_header_encoding = lru_cache(maxsize=64)(_read_header_encoding)
