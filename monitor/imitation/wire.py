"""The request and response values the imitation platforms work with, and small page helpers.

Platforms never see ``http.server``: the server turns each HTTP request into a ``Request``,
asks a platform for a ``Response`` and writes it (or, for fault scenarios, resets or hangs
up the connection instead).
"""

from __future__ import annotations

import html
import json
import struct
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from http.cookies import SimpleCookie
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

K = TypeVar("K")
V = TypeVar("V")


class Bounded(OrderedDict[K, V]):
    """A dict that forgets its oldest entries beyond ``limit`` (sessions of a long demo)."""

    def __init__(self, limit: int = 10_000) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        while len(self) > self.limit:
            self.popitem(last=False)


def h(text: object) -> str:
    """HTML-escape anything interpolated into a template (text or double-quoted attribute).

    Apostrophes stay literal, as on the real pages: every attribute here is double-quoted,
    and a raw-HTML search for "n'existe" must still find the sentence.
    """
    return html.escape(str(text), quote=False).replace('"', "&quot;")


@dataclass(frozen=True)
class Request:
    """One parsed HTTP request."""

    method: str
    path: str  #: path without the query string
    query: Mapping[str, str]  #: first value of each query parameter
    headers: Mapping[str, str]  #: lower-cased names
    body: bytes = b""
    client: str = "127.0.0.1"  #: peer address

    @property
    def cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is just "no cookies"
            return {}
        return {name: morsel.value for name, morsel in jar.items()}

    def form(self) -> dict[str, str]:
        """The urlencoded body (first value of each field)."""
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8") or "null")

    @property
    def location(self) -> str:
        """The path and query this request asked for, as a ``Location`` would name it."""
        return self.path + (f"?{urlencode(self.query)}" if self.query else "")


class Action(Enum):
    """What the server does with the connection."""

    RESPOND = "respond"  #: send the response
    RESET = "reset"  #: close with SO_LINGER 0: the client sees a TCP reset, no response
    DISCONNECT = "disconnect"  #: close cleanly without sending a byte


@dataclass
class Response:
    """What to send back. ``body`` may be text (sent as UTF-8) or bytes."""

    status: int = 200
    body: str | bytes = ""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    action: Action = Action.RESPOND
    #: Instead of ``body``: chunks sent as they come (a trickle, a huge page); the
    #: connection is closed after the last one unless ``length`` is declared.
    stream: Callable[[], Iterator[bytes]] | None = None
    length: int | None = None  #: the Content-Length announced for ``stream``

    def body_bytes(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


def retyped(text: str, variant: str, nbsp: Sequence[tuple[str, str]]) -> str:
    """The same words in another typography
    (docs/platforms.md#text-as-the-sites-write-it).

    ``typographic``: typographic apostrophes; ``nbsp``: the ``nbsp`` replacements (no-break
    spaces, line breaks), which depend on the sentence; anything else: ``text`` as it is.
    """
    if variant == "typographic":
        return text.replace("'", "’")
    if variant == "nbsp":
        for old, new in nbsp:
            text = text.replace(old, new)
    return text


def html_response(body: str, status: int = 200) -> Response:
    return Response(status=status, body=body)


def json_response(value: object, status: int = 200) -> Response:
    return Response(
        status=status,
        body=json.dumps(value, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )


def redirect(location: str, status: int = 302) -> Response:
    return Response(status=status, headers=[("Location", location)], body="")


def page(title: str, body: str, *, lang: str = "fr", head: str = "") -> str:
    """A minimal HTML document; ``body`` and ``head`` are already-escaped markup."""
    return (
        f'<!DOCTYPE html>\n<html lang="{h(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{h(title)}</title>\n{head}</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def png(width: int, height: int, seed: int = 0) -> bytes:
    """A valid greyscale PNG with a few stripes: stands in for captcha and step images."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        raw = kind + data
        return struct.pack(">I", len(data)) + raw + struct.pack(">I", zlib.crc32(raw))

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type "none" for this scanline
        rows.extend(((x * 7 + y * 3 + seed * 11) % 5) * 40 + 60 for x in range(width))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )
