"""Text normalisation, so that page messages match whatever their typography.

The sites write the same sentence with straight or typographic apostrophes, non-breaking
spaces and line breaks in the middle (docs/platforms.md#text-as-the-sites-write-it), and
bots that compare exact strings break on it (docs/platforms.md#mistakes-bots-make, 4). Every
anchor and every page text goes through :func:`normalise` before matching: whitespace runs
(NBSP and narrow NBSP included) become one space, apostrophe look-alikes become ``'``, case
is folded. Accents are kept: they are part of the French words (``créneau``, ``désactivé``)
and never vary on these sites.
"""

from __future__ import annotations

import unicodedata

#: Characters the sites (or their editors) use for an apostrophe, each made ``'``.
_APOSTROPHES = (
    "\u2019",  # right single quotation mark, the typographic apostrophe
    "\u2018",  # left single quotation mark
    "\u02bc",  # modifier letter apostrophe
    "\u00b4",  # acute accent used as an apostrophe
    "\u2032",  # prime
)
#: Invisible characters that split words for no reader: removed before matching.
_INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")

#: The longest ``detail`` an outcome keeps (docs/contract.md#outcome-fields: one line).
DETAIL_LIMIT = 300


def normalise(text: str) -> str:
    """The form every match is made on: one-spaced, straight apostrophes, case-folded.

    ``str.split()`` without arguments splits on every Unicode space, NBSP (U+00A0) and
    narrow NBSP (U+202F) included, so line breaks and non-breaking spaces all become one
    plain space. NFC first, so that a decomposed ``é`` equals the composed one.
    """
    text = _replace_each(_INVISIBLE, "", unicodedata.normalize("NFC", text))
    text = _replace_each(_APOSTROPHES, "'", text)
    return " ".join(text.split()).casefold()


def one_line(text: str, limit: int = DETAIL_LIMIT) -> str:
    """``text`` on one line (whitespace collapsed, case kept), cut to ``limit`` characters."""
    line = " ".join(_replace_each(_INVISIBLE, "", unicodedata.normalize("NFC", text)).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _replace_each(marks: tuple[str, ...], by: str, text: str) -> str:
    """``text`` with each of ``marks`` replaced by ``by``.

    One ``str.replace`` per mark present rather than ``str.translate`` with a mapping, which
    looks every character of the text up in a dict: recognition normalises the text of
    every element of a page, and that was most of a classification's CPU.
    """
    for mark in marks:
        if mark in text:
            text = text.replace(mark, by)
    return text


def contains_any(haystack: str, phrases: tuple[str, ...]) -> str | None:
    """The first of ``phrases`` found in the normalised ``haystack``, else None.

    ``haystack`` must already be normalised; phrases are normalised here, so anchors can be
    written as the sites write them.
    """
    for phrase in phrases:
        if normalise(phrase) in haystack:
            return phrase
    return None
