"""Secrets masked by what they are, whatever the variable or key that holds them.

The loader masks the values it interpolated (``monitor.config.env``) and Apprise's privacy
form hides what each service's plugin knows to be a credential. Neither sees a secret
written literally in a place Apprise shows: a webhook's header (``json://host/?+X-Token=…``),
payload or GET parameter (``:field=…``, ``-token=…``), an API key in a query or a path, a
phone number, a database password passed as ``?password=``. These functions mask those by
their shape and their key, on a URL already in its privacy form. Pure functions.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote, urlsplit

from monitor.config.env import MASK

#: A phone number as a Signal URL or a log writes it: ``+33612345678`` or a bare digit run.
PHONE = re.compile(r"\+\d{6,15}\b|(?<![\w.])\d{9,15}(?![\w.])")
#: Words of a query key that say its value is a credential or names a person.
_SECRET_KEY_WORDS = (
    "token",
    "key",
    "secret",
    "pass",
    "pwd",
    "auth",
    "sig",
    "session",
    "cred",
    "bearer",
    "cookie",
    "user",
    "login",
    "phone",
    "number",
    "mail",
)
#: Query keys that name recipients or senders (mailto's to/cc/bcc/from, Signal's to).
_PERSON_KEYS = frozenset({"to", "cc", "bcc", "from", "reply", "source", "targets"})
#: Apprise's prefixes for HTTP headers (+), GET parameters (-) and payload fields (:).
_PASS_THROUGH = ("+", "-", ":")
#: A value shaped like an API key: long, letters mixed with digits, no spaces.
_TOKEN = re.compile(r"(?=[^/]*[A-Za-z])(?=[^/]*\d)[A-Za-z0-9_\-.~+=%]{16,}")
#: Query keys of a database URL that carry a password (libpq's and SQLAlchemy's spellings).
_PASSWORD_KEYS = frozenset({"password", "passwd", "pass", "pwd", "sslpassword"})


def secret_key(key: str) -> bool:
    """Whether the value of the query key ``key`` must never be shown."""
    name = unquote(key).strip()
    if name.startswith(_PASS_THROUGH):
        return True
    lowered = name.lower()
    return lowered in _PERSON_KEYS or any(word in lowered for word in _SECRET_KEY_WORDS)


def secret_shaped(value: str) -> bool:
    """Whether ``value`` looks like a phone number or an API key, whatever its key."""
    decoded = unquote(value)
    return bool(PHONE.fullmatch(decoded) or _TOKEN.fullmatch(decoded))


def mask_url_parts(url: str) -> str:
    """``url`` with every query value under a secret key, and every path segment or query
    value shaped like a secret, replaced by ****; the rest (scheme, host, options) kept.

    Any password in the netloc is masked too. A URL that does not parse is shown as
    ``scheme://****``.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        return _scheme_only(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}:{MASK}@{netloc.rsplit('@', 1)[1]}"
    path = "/".join(MASK if secret_shaped(s) else s for s in parts.path.split("/"))
    query = "&".join(
        f"{_raw_key(field)}={MASK}" if _hidden(field) else field
        for field in parts.query.split("&")
        if field
    )
    return _join(parts, netloc, path, query)


def _raw_key(field: str) -> str:
    return field.split("=", 1)[0]


def _hidden(field: str) -> bool:
    if "=" not in field:
        return secret_shaped(field)
    key, value = field.split("=", 1)
    return bool(value) and (secret_key(key) or secret_shaped(value))


def mask_database_password(url: str, mask: str = MASK) -> str:
    """A database URL with its password replaced by ``mask`` wherever it is written:
    ``user:pass@`` and a ``?password=`` (or ``passwd``, ``sslpassword``…) parameter."""
    try:
        parts = urlsplit(url)
        has_password = parts.password is not None
    except ValueError:
        return _scheme_only(url)
    netloc = parts.netloc
    if has_password:
        netloc = f"{parts.username or ''}:{mask}@{netloc.rsplit('@', 1)[1]}"
    fields = []
    for field in parts.query.split("&"):
        key = field.split("=", 1)[0]
        if "=" in field and unquote(key).lower() in _PASSWORD_KEYS:
            field = f"{key}={mask}"
        if field:
            fields.append(field)
    query = "&".join(fields)
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return _join(parts, netloc, parts.path, query)


def _join(parts: SplitResult, netloc: str, path: str, query: str) -> str:
    """The URL put back together as written: ``sqlite:////abs.db`` keeps its four slashes
    (``urlunsplit`` drops two of them for a scheme it does not know)."""
    url = f"{parts.scheme}://{netloc}{path}" if parts.scheme else f"{netloc}{path}"
    if query:
        url += f"?{query}"
    if parts.fragment:
        url += f"#{parts.fragment}"
    return url


def _scheme_only(url: str) -> str:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    return f"{scheme}://{MASK}" if scheme and re.fullmatch(r"[A-Za-z][\w+.-]*", scheme) else MASK
