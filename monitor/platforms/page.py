"""A page as recognition reads it: the snapshot, its parsed tree and its visible text.

Recognition never searches raw HTML for words (PLATFORMS.md §6.2, mistake 2: "502" or
"disponible" anywhere in the source matches ids, scripts and legends). It reads:

* ``text``: the visible text of the body, normalised — scripts, styles, ``<noscript>`` and
  ``<template>`` left out, so an app shell that renders nothing has no text at all;
* ``headings``: the normalised texts of ``<title>``, ``<h1>`` and ``<h2>``, where error and
  maintenance pages put their message;
* elements, through CSS selectors.
"""

from __future__ import annotations

from functools import cached_property
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from monitor.domain import PageSnapshot
from monitor.errors import MonitorFault
from monitor.text import normalise, one_line

#: Elements whose content a reader never sees as text.
_INVISIBLE_TAGS = ["script", "style", "noscript", "template"]


class Page:
    """One snapshot, parsed once, with the questions recognition asks of it."""

    def __init__(self, snapshot: PageSnapshot) -> None:
        self.snapshot = snapshot
        self.tree = LexborHTMLParser(snapshot.html)

    @property
    def status(self) -> int | None:
        return self.snapshot.http_status

    @property
    def ok(self) -> bool:
        """Not an HTTP error status (an unknown status counts as fine)."""
        return self.status is None or self.status < 400

    @property
    def url(self) -> str:
        return self.snapshot.final_url or self.snapshot.url

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @cached_property
    def visible_text(self) -> str:
        """The body's visible text, one line, case kept: for details."""
        tree = LexborHTMLParser(self.snapshot.html)  # a second tree: stripping mutates it
        tree.strip_tags(_INVISIBLE_TAGS)
        body = tree.body
        return one_line(body.text(separator=" ") if body is not None else "", limit=10_000)

    @cached_property
    def text(self) -> str:
        """The body's visible text, normalised: what text anchors are matched against."""
        return normalise(self.visible_text)

    @cached_property
    def headings(self) -> tuple[str, ...]:
        """Normalised texts of the title, h1 and h2 elements, in document order."""
        return tuple(t for t in (normalise(n.text()) for n in self.select("title, h1, h2")) if t)

    def select(self, selector: str) -> list[LexborNode]:
        """Every element matching ``selector``; an invalid selector is the monitor's bug."""
        try:
            return list(self.tree.css(selector))
        except SelectolaxError as exc:
            raise MonitorFault("internal", f"invalid CSS selector {selector!r}: {exc}") from exc

    def has(self, selector: str) -> bool:
        return bool(self.select(selector))

    def first_text(self, selector: str) -> str | None:
        """The one-line text of the first element matching ``selector`` that has any."""
        for node in self.select(selector):
            text = one_line(node.text(separator=" "))
            if text:
                return text
        return None

    def contains(self, phrase: str) -> bool:
        """Whether the visible text contains ``phrase`` once both are normalised."""
        return normalise(phrase) in self.text

    def heading_with(self, *phrases: str) -> str | None:
        """The first heading containing one of ``phrases``, as normalised, else None."""
        wanted = [normalise(phrase) for phrase in phrases]
        return next((h for h in self.headings if any(w in h for w in wanted)), None)

    def sentence_with(self, phrase: str) -> str:
        """The message around ``phrase`` as the page shows it, for a detail line.

        The text of the smallest element containing the phrase: the sentence with its own
        typography, without the menus and banners around it.
        """
        needle = normalise(phrase)
        best: str | None = None
        for node in self.select("body *"):
            if node.tag in _INVISIBLE_TAGS:
                continue
            shown = one_line(node.text(separator=" "))
            if (best is None or len(shown) < len(best)) and needle in normalise(shown):
                best = shown
        return best or phrase
