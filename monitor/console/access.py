"""Who may use the console, as pure functions: the token, its cookie, the forms' CSRF tokens,
the cross-origin rule and the operator's name (docs/contract.md#settings, ``console.token``).

The token (``settings.console.token``) is asked once, then never travels again: the browser
keeps a cookie ``nonce.proof`` where ``proof`` is an HMAC of a random nonce keyed by the
token. Checking a cookie recomputes the HMAC and compares in constant time; changing the
token invalidates every cookie. Each form carries a CSRF token derived from the same nonce,
so it changes with each login. The operator's name travels in a second cookie, signed the
same way and bound to the nonce, so that another program on the same host (cookies ignore
ports) can neither forge a login nor put words in an operator's mouth.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import SplitResult, quote, unquote, urlsplit

__all__ = [
    "NAME_MAX",
    "Access",
    "LoginThrottle",
    "cross_origin_refusal",
    "name_problem",
]

#: The longest operator name, in characters.
NAME_MAX = 60
_NONCE_BYTES = 18
_PROOF_LABEL = b"prefecture-monitor console login v1\x00"
_CSRF_LABEL = b"prefecture-monitor console form v1\x00"
_NAME_LABEL = b"prefecture-monitor console operator v1\x00"


@dataclass(frozen=True)
class Access:
    """The console's secret and what it proves. ``token`` is never shown nor logged."""

    token: str

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("the console's token is empty: set MONITOR_CONSOLE_TOKEN")

    def _mac(self, label: bytes, message: str) -> str:
        key = self.token.encode("utf-8")
        return hmac.new(key, label + message.encode("utf-8"), hashlib.sha256).hexdigest()

    def token_matches(self, offered: str) -> bool:
        """Whether ``offered`` is the token, compared in constant time."""
        return hmac.compare_digest(offered.encode("utf-8"), self.token.encode("utf-8"))

    def new_login(self, nonce: str | None = None) -> str:
        """A login cookie's value: a fresh nonce and its proof (never the token)."""
        nonce = nonce if nonce is not None else secrets.token_urlsafe(_NONCE_BYTES)
        return f"{nonce}.{self._mac(_PROOF_LABEL, nonce)}"

    def login_nonce(self, cookie: str | None) -> str | None:
        """The nonce of a genuine login cookie, else None."""
        if not cookie or cookie.count(".") != 1 or len(cookie) > 200:
            return None
        nonce, proof = cookie.split(".")
        if not nonce:
            return None
        expected = self._mac(_PROOF_LABEL, nonce)
        return nonce if hmac.compare_digest(proof.encode(), expected.encode()) else None

    def csrf_token(self, nonce: str) -> str:
        """The token each form of this login carries."""
        return self._mac(_CSRF_LABEL, nonce)

    def csrf_matches(self, nonce: str, offered: str | None) -> bool:
        return offered is not None and hmac.compare_digest(
            offered.encode("utf-8"), self.csrf_token(nonce).encode()
        )

    def name_cookie(self, nonce: str, name: str) -> str:
        """The operator's name, signed for this login."""
        return f"{quote(name, safe='')}.{self._mac(_NAME_LABEL, nonce + chr(0) + name)}"

    def name_from_cookie(self, nonce: str, cookie: str | None) -> str | None:
        """The operator's name from a genuine cookie of this login, else None."""
        if not cookie or "." not in cookie or len(cookie) > 1000:
            return None
        quoted, _, proof = cookie.rpartition(".")
        name = unquote(quoted, errors="strict") if _decodable(quoted) else None
        if name is None or name_problem(name) is not None:
            return None
        expected = self._mac(_NAME_LABEL, nonce + chr(0) + name)
        return name if hmac.compare_digest(proof.encode(), expected.encode()) else None


@dataclass
class LoginThrottle:
    """Wrong tokens tried: after ``limit`` within ``window`` seconds, no token is even
    compared until the oldest of them is ``window`` old. One count for the whole console,
    not per address: behind SSH or a proxy every client is 127.0.0.1. A browser already
    logged in is never affected."""

    limit: int = 10
    window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _failures: deque[float] = field(default_factory=deque)

    def _forget_old(self) -> None:
        now = self.clock()
        while self._failures and now - self._failures[0] >= self.window:
            self._failures.popleft()

    def blocked(self) -> bool:
        self._forget_old()
        return len(self._failures) >= self.limit

    def failed(self) -> None:
        self._forget_old()
        self._failures.append(self.clock())


def _decodable(quoted: str) -> bool:
    try:
        unquote(quoted, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def name_problem(name: str) -> str | None:
    """What is wrong with an operator's name (in French, for the form), or None.

    1 to 60 characters, printable (letters, digits, spaces, punctuation; no control or
    format character such as a bidirectional override), not only spaces."""
    if not name.strip():
        return "Indiquez votre nom (1 à 60 caractères)."
    if len(name) > NAME_MAX:
        return f"Le nom a {len(name)} caractères : 60 au plus."
    for char in name:
        if unicodedata.category(char)[0] == "C" or (char.isspace() and char != " "):
            return (
                f"Le nom contient un caractère invisible (U+{ord(char):04X}) : "
                "lettres, chiffres, espaces et ponctuation seulement."
            )
    return None


def cross_origin_refusal(
    method: str, host: str | None, origin: str | None, fetch_site: str | None
) -> str | None:
    """Why an unsafe request must be refused as cross-origin, or None when it may go on.

    The browser's own word first: ``Sec-Fetch-Site`` must be ``same-origin`` (or ``none``,
    a request the person made). Without it (an older browser), an ``Origin`` must name the
    host the request was sent to. A request with neither comes from no browser (a script
    that then still needs the cookie and the form's CSRF token)."""
    if method.upper() in ("GET", "HEAD", "OPTIONS"):
        return None
    if fetch_site is not None:
        if fetch_site.lower() in ("same-origin", "none"):
            return None
        return f"requête venue d'un autre site (Sec-Fetch-Site: {fetch_site[:40]})"
    if origin is None:
        return None
    parts = urlsplit(origin) if origin != "null" else None
    if parts is None or not parts.netloc or host is None:
        return "requête d'une origine inconnue"
    if parts.netloc.lower() != host.lower() and not _same_with_default_port(parts, host):
        return "requête venue d'une autre origine"
    return None


def _same_with_default_port(origin: SplitResult, host: str) -> bool:
    """``https://example.org`` and ``Host: example.org:443`` name the same place."""
    default = {"http": 80, "https": 443}.get(origin.scheme)
    try:
        port = origin.port or default
    except ValueError:
        return False
    name = (origin.hostname or "").lower()
    shown = f"[{name}]" if ":" in name else name
    return host.lower() in (f"{shown}:{port}", shown) and default is not None
