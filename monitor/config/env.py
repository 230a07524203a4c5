"""``${NAME}`` interpolation in config strings, and the bookkeeping that keeps secrets masked.

Rules (same as a POSIX shell's ``${NAME:-default}``):

- ``${NAME}`` is the variable's value (an empty value is allowed); unset is an error.
- ``${NAME:-default}`` is the default when NAME is unset *or empty*; the default is taken
  literally (no nested ``${…}``) and ends at the first ``}``.
- ``$${`` writes a literal ``${``; a ``$`` not followed by ``{`` is kept as is.

Only string values are interpolated, never mapping keys, so a variable cannot add or
rename settings. Every value taken from the environment is remembered so that it can be
masked wherever it is printed: whatever its variable is called (``${ALICE}`` may hold a
phone number as surely as ``${SIGNAL_TO}``). A value shorter than MIN_MASKED characters is
masked only when its variable's name looks secret (see ``is_secret_name``): masking ``fr``
or ``true`` would mask those letters in every word. Defaults written in the file are no
secrets. ``as_written`` gives a string as the file writes it, each ``${…}`` left unexpanded,
for what is shown to the public (a target's booking URL).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

MASK = "****"
#: The shortest value of a variable with an ordinary name that is masked: shorter ones
#: are words and settings (``true``, ``https``, ``10m``), masked they would blank those
#: words in every log line; a phone number, a token or a password URL is longer.
MIN_MASKED = 8
#: How a ``${…}`` reference is shown where its value must not be.
HIDDEN_REFERENCE = "${…}"
#: A login's local part shorter than this is not masked on its own (it would mask words).
_MIN_LOCAL_PART = 3

_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{")
#: Words of a variable name that mark it secret. TO/FROM/USER/NUMBER because Signal numbers
#: and e-mail accounts identify people. Matched as whole ``_``-separated words so that
#: MONITOR_CONTACT is not taken for a "TO" variable; the unambiguous ones also as substrings.
_SECRET_WORDS = frozenset(
    {"PASSWORD", "TOKEN", "SECRET", "KEY", "USER", "TO", "FROM", "NUMBER"}
    | {"PW", "PWD", "PASS", "PIN", "AUTH", "CRED", "CREDENTIALS", "PHONE", "TEL", "LOGIN"}
)
_SECRET_SUBSTRINGS = ("PASSWORD", "PASSWD", "TOKEN", "SECRET", "APIKEY", "_KEY")


def is_secret_name(name: str) -> bool:
    """Whether values of the environment variable ``name`` must never be printed."""
    upper = name.upper()
    if any(part in _SECRET_WORDS for part in upper.split("_")):
        return True
    return any(marker in upper for marker in _SECRET_SUBSTRINGS)


class MissingVariable(Exception):
    """An unset ``${NAME}`` without default; the loader adds the file and key path."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)


class BadReference(Exception):
    """A ``${`` that does not form ``${NAME}`` or ``${NAME:-default}``."""


@dataclass
class Interpolator:
    """Replaces references in strings and remembers the secret values it inserted."""

    env: Mapping[str, str]
    secrets: set[str] = field(default_factory=set)

    def __call__(self, text: str) -> str:
        """Interpolate one string; raises MissingVariable or BadReference."""

        def replace(match: re.Match[str]) -> str:
            whole, name, default = match.group(0), match.group(1), match.group(2)
            if whole == "$${":
                return "${"
            if name is None:
                raise BadReference(whole)
            value = self.env.get(name)
            if default is not None and not value:
                return default
            if value is None:
                raise MissingVariable(name)
            if value and (is_secret_name(name) or len(value) >= MIN_MASKED):
                self.secrets.add(value)
            return value

        return _REFERENCE.sub(replace, text)


def as_written(text: str) -> str:
    """``text`` as the config file writes it, each ``${NAME}`` or ``${NAME:-default}``
    shown as ``${…}`` (its value may be a secret; its name is nobody's business) and
    ``$${`` as the ``${`` it stands for."""

    def replace(match: re.Match[str]) -> str:
        return "${" if match.group(0) == "$${" else HIDDEN_REFERENCE

    return _REFERENCE.sub(replace, text)


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (as written, percent-encoded or decoded) with ****.

    A login written ``volunteer%40example.org`` (as Apprise wants an ``@`` in a login) is
    shown by Apprise's privacy form decoded, and as its local part alone
    (``mailtos://volunteer:****@…``): those forms are masked too.
    """
    return secret_masker(secrets)(text)


def secret_masker(secrets: Iterable[str]) -> Callable[[str], str]:
    """A function masking ``secrets`` as :func:`mask_secrets` does, their forms worked
    out once (for the log lines: each one goes through it)."""
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        for value in {secret, unquote(secret)}:
            forms.update({value, quote(value, safe=""), quote(value)})
            local, at, _domain = value.partition("@")
            if at and len(local) >= _MIN_LOCAL_PART:
                forms.add(local)
    # Longest first, so that a secret containing another one is masked whole.
    ordered = sorted(forms, key=len, reverse=True)

    def mask(text: str) -> str:
        for form in ordered:
            if form in text:
                text = text.replace(form, MASK)
        return text

    return mask
