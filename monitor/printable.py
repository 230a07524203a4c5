"""Text a person reads, without the characters that act instead of being read.

A page's words reach notifications, emails and logs. Among them a site (or whoever wrote
into it) may put raw terminal escapes (``ESC[2J`` clears the operator's screen, ``ESC]8;;``
makes a link, C1's ``CSI`` does the same in one byte), other control characters (``BEL``,
``CR`` that rewrites the line it is on) or Unicode's bidirectional overrides, which show
``exe.txt`` for ``txt.exe``. :func:`printable` replaces each with U+FFFD (``�``), the one
stand-in every font draws (the Control Pictures block's ``␛`` is missing from the fonts the
published pages and the dossier are read in, and showed as an empty box), so that a reader
sees one was there. Line feeds and tabs are kept unless a single line is asked for. Pure
and linear: one pass of a character class. The one place for this: tables, the published
site, the open data, the dossier, details, notifications and logs all call it.
"""

from __future__ import annotations

import re

__all__ = ["REPLACEMENT", "printable"]

#: What every control or bidirectional character becomes.
REPLACEMENT = "\ufffd"

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROLS = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_CONTROLS_AND_LINES = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029]")


def printable(text: str, *, one_line: bool = False) -> str:
    """``text`` with every control character but line feed and tab replaced (those too,
    and the Unicode line separators, when ``one_line``)."""
    pattern = _CONTROLS_AND_LINES if one_line else _CONTROLS
    if pattern.search(text) is None:
        return text
    return pattern.sub(REPLACEMENT, text)
