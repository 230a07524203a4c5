"""A page as recognition reads it: the snapshot, its parsed tree and its visible text.

Recognition never searches raw HTML for words (docs/platforms.md#mistakes-bots-make, 2: "502" or
"disponible" anywhere in the source matches ids, scripts and legends). It reads:

* ``text``: the visible text of the body, normalised — scripts, styles, ``<noscript>`` and
  ``<template>`` left out, so an app shell that renders nothing has no text at all;
* ``headings``: the normalised texts of ``<title>``, ``<h1>`` and ``<h2>``, where error and
  maintenance pages put their message;
* elements, through CSS selectors.

Costs are linear in the page, whatever it holds (issue 25):

* the nesting is measured first (:mod:`~monitor.platforms.nesting`, one pass); a page
  deeper than ``NESTING_LIMIT`` is not parsed at all (lexbor's parse is quadratic in the
  depth) and reads as an empty tree whose :attr:`Page.too_deep` is set;
* each HTML text is parsed once: the visible text comes from the tree, or from a clone of
  it (a C copy, not a second parse) when its body has scripts or styles to leave out; and
  within :func:`parsing_scope` (one probe) every ``Page`` of the same HTML — the flow's,
  ``settle``'s, recognition's — shares one parsed document;
* :meth:`Page.sentence_with` walks the text nodes once instead of taking the text of every
  element;
* :func:`read` parses in a worker thread (lexbor releases the GIL while it parses), so a
  flow never parses on the event loop (:mod:`~monitor.platforms.worker`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from monitor.domain import PageSnapshot, Reason
from monitor.errors import MonitorFault
from monitor.platforms.nesting import too_deep
from monitor.platforms.worker import off_loop
from monitor.probes import forms
from monitor.text import normalise, one_line

#: Elements whose content a reader never sees as text.
_INVISIBLE_TAGS = ["script", "style", "noscript", "template"]
_INVISIBLE = frozenset(_INVISIBLE_TAGS)
_INVISIBLE_SELECTOR = ", ".join(_INVISIBLE_TAGS)
#: Elements whose content a browser running scripts never renders, though a parser without
#: scripting reads it as elements: what they hold is never a sign of anything.
_UNRENDERED = frozenset({"noscript", "template"})
_UNRENDERED_SELECTOR = ", ".join(sorted(_UNRENDERED))


def _unrendered(node: LexborNode) -> bool:
    """Whether ``node`` is inside a ``<noscript>`` or ``<template>`` (depth is bounded by
    ``NESTING_LIMIT``, so the walk up is too)."""
    parent = node.parent
    while parent is not None:
        if parent.tag in _UNRENDERED:
            return True
        parent = parent.parent
    return False


#: Characters of visible text kept (and matched against): the start of the page.
TEXT_LIMIT = 10_000
#: Occurrences of a phrase :meth:`Page.sentence_with` weighs before it picks the smallest.
_OCCURRENCES_WEIGHED = 256
#: What :func:`bounded_text` reads of an element: characters, and nodes of its subtree.
ELEMENT_TEXT_LIMIT = 1_000
ELEMENT_NODES_READ = 256


def bounded_text(node: LexborNode, separator: str = " ", limit: int = ELEMENT_TEXT_LIMIT) -> str:
    """``node.text(separator=separator)``, but reading at most ``ELEMENT_NODES_READ`` nodes
    of its subtree and keeping at most about ``limit`` characters.

    What a heading, a button or a label shows is short; ``node.text()`` copies the whole
    subtree's text, and headings nested in headings (a hostile page) made that quadratic.
    """
    parts: list[str] = []
    size = 0
    for visited, child in enumerate(node.traverse(include_text=True)):
        if visited > ELEMENT_NODES_READ or size > limit:
            break
        if child.is_text_node:
            text = (child.text_content or "")[: limit - size + 1]
            parts.append(text)
            size += len(text)
    return separator.join(parts)


class _Document:
    """One HTML text, measured and parsed once; what every ``Page`` of it shares."""

    def __init__(self, html: str) -> None:
        self.too_deep = too_deep(html)
        self.tree = LexborHTMLParser("" if self.too_deep else html)

    @cached_property
    def visible_text(self) -> str:
        body = self.tree.body
        if body is not None and body.css_first(_INVISIBLE_SELECTOR) is not None:
            copy = self.tree.clone()  # stripping mutates: the page's own tree keeps its scripts
            copy.strip_tags(_INVISIBLE_TAGS)
            body = copy.body
        return one_line(body.text(separator=" ") if body is not None else "", limit=TEXT_LIMIT)

    @cached_property
    def text_index(self) -> _TextIndex:
        return _TextIndex.of(self.tree.body, TEXT_LIMIT)

    @cached_property
    def has_unrendered(self) -> bool:
        """Whether the page holds ``<noscript>`` or ``<template>`` content at all."""
        return self.tree.css_first(_UNRENDERED_SELECTOR) is not None


#: The documents parsed in the current probe, by HTML text (see :func:`parsing_scope`).
_SCOPE: ContextVar[dict[str, _Document] | None] = ContextVar("page_documents", default=None)


@contextmanager
def parsing_scope() -> Iterator[None]:
    """Within this block (one probe), each HTML text is parsed once for every ``Page`` of it,
    and for the HTTP engine's forms (``monitor.probes.forms.TREES``).

    Worker threads started inside the block (:func:`read`, ``asyncio.to_thread``) share it:
    they run in a copy of the context, which holds the same dictionary. The parsed trees
    are let go when the block ends.
    """
    token = _SCOPE.set({})
    trees = forms.TREES.set(_tree_of)  # the HTTP engine's forms read the same trees
    try:
        yield
    finally:
        forms.TREES.reset(trees)
        _SCOPE.reset(token)


def _tree_of(html: str) -> LexborHTMLParser:
    return _document(html).tree


def _document(html: str) -> _Document:
    documents = _SCOPE.get()
    if documents is None:
        return _Document(html)
    found = documents.get(html)
    if found is None:
        found = documents[html] = _Document(html)
    return found


#: Largest HTML text :func:`read` looks up on the event loop (hashing it is linear).
_LOOKED_UP_ON_LOOP = 256 * 1024


async def read(snapshot: PageSnapshot) -> Page:
    """``Page(snapshot)`` built in a worker thread, its visible text too: off the event loop.

    Cancelling the await (the probe's deadline) abandons the thread (see
    :mod:`~monitor.platforms.worker`). The same HTML already read in this probe (a flow
    that walks the same pages for each desk) is not handed to a thread again: its parsed
    document and visible text are taken from :func:`parsing_scope`, and building the
    ``Page`` is then a lookup.
    """
    documents = _SCOPE.get()
    if documents is not None and len(snapshot.html) <= _LOOKED_UP_ON_LOOP:
        known = documents.get(snapshot.html)
        if known is not None and "visible_text" in vars(known):  # read by an earlier step
            return Page(snapshot)

    def build() -> Page:
        page = Page(snapshot)
        _ = page.visible_text
        return page

    return await off_loop(build, name="parse")


class Page:
    """One snapshot, parsed once, with the questions recognition asks of it."""

    def __init__(self, snapshot: PageSnapshot) -> None:
        self.snapshot = snapshot
        self._document = _document(snapshot.html)
        self.tree = self._document.tree

    @property
    def too_deep(self) -> bool:
        """Nested deeper than ``NESTING_LIMIT``: not parsed, its tree is empty."""
        return self._document.too_deep

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

    @property
    def visible_text(self) -> str:
        """The body's visible text, one line, case kept: for details."""
        return self._document.visible_text

    @cached_property
    def text(self) -> str:
        """The body's visible text, normalised: what text anchors are matched against."""
        return normalise(self.visible_text)

    @cached_property
    def headings(self) -> tuple[str, ...]:
        """Normalised texts of the title, h1 and h2 elements, in document order."""
        texts = (normalise(bounded_text(n, "")) for n in self.select("title, h1, h2"))
        return tuple(t for t in texts if t)

    def select(self, selector: str) -> list[LexborNode]:
        """Every rendered element matching ``selector`` (none inside ``<noscript>`` or
        ``<template>``); an invalid selector is the monitor's bug."""
        try:
            found = list(self.tree.css(selector))
        except SelectolaxError as exc:
            raise MonitorFault(
                Reason.INTERNAL, f"invalid CSS selector {selector!r}: {exc}"
            ) from exc
        if not self._document.has_unrendered:
            return found
        return [node for node in found if not _unrendered(node)]

    def has(self, selector: str) -> bool:
        return bool(self.select(selector))

    def first_text(self, selector: str) -> str | None:
        """The one-line text of the first element matching ``selector`` that has any."""
        for node in self.select(selector):
            text = one_line(bounded_text(node))
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
        typography, without the menus and banners around it. ``phrase`` itself when no
        element inside the body holds it whole.
        """
        return self._document.text_index.smallest_holding(normalise(phrase)) or phrase


@dataclass
class _TextIndex:
    """The visible text nodes of a body, in order, and the span of each element over them.

    ``pieces[k]`` is the normalised text of the k-th non-empty visible text node (``shown[k]``
    as written); the text they make joined by spaces is the page's ``text``. Element ``e``
    (0 is the body) covers pieces ``first[e]`` to ``end[e] - 1``; ``parent[e]`` is its
    parent's index (-1 for the body). An element still open when the walk stopped
    (``limit`` reached) ends at infinity.
    """

    parent: list[int] = field(default_factory=list)
    first: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  #: offset of each piece in the text
    owner: list[int] = field(default_factory=list)  #: the element each piece is a child of

    @classmethod
    def of(cls, body: LexborNode | None, limit: int) -> _TextIndex:
        """One walk of ``body`` in document order, stopped after ``limit`` characters."""
        index = cls()
        if body is None:
            return index
        never = 1 << 62
        index._open(-1, never)
        offset = 0
        stack: list[tuple[LexborNode | None, int]] = [(body.child, 0)]
        while stack and offset <= limit:
            node, owner = stack[-1]
            if node is None:
                stack.pop()
                index.end[owner] = len(index.pieces)
                continue
            stack[-1] = (node.next, owner)
            if node.is_text_node:
                written = node.text_content or ""
                piece = normalise(written)
                if piece:
                    index.pieces.append(piece)
                    index.shown.append(written)
                    index.starts.append(offset)
                    index.owner.append(owner)
                    offset += len(piece) + 1
            elif node.is_element_node and node.tag not in _INVISIBLE:
                stack.append((node.child, index._open(owner, never)))
        return index

    def _open(self, parent: int, end: int) -> int:
        self.parent.append(parent)
        self.first.append(len(self.pieces))
        self.end.append(end)
        return len(self.parent) - 1

    def _length(self, element: int) -> int:
        first, end = self.first[element], self.end[element]
        if end > len(self.pieces):
            return 1 << 62
        return self.starts[end - 1] + len(self.pieces[end - 1]) - self.starts[first]

    def smallest_holding(self, needle: str) -> str | None:
        """The text (one line) of the element with the shortest text among those holding an
        occurrence of ``needle``; None when only the body holds it whole.

        Each occurrence (the first ``_OCCURRENCES_WEIGHED``) is placed on its pieces by
        bisection, then its element found by climbing from the first piece's owner: at most
        the page's depth, bounded by the nesting limit.
        """
        if not needle or not self.pieces:
            return None
        text = " ".join(self.pieces)
        best, best_length = -1, 1 << 63
        at = text.find(needle)
        for _ in range(_OCCURRENCES_WEIGHED):
            if at < 0:
                break
            i = bisect_right(self.starts, at) - 1
            j = bisect_right(self.starts, at + len(needle) - 1) - 1
            element = self.owner[i]
            while element > 0 and self.end[element] <= j:
                element = self.parent[element]
            length = self._length(element)
            if element > 0 and length < best_length:
                best, best_length = element, length
            at = text.find(needle, at + 1)
        if best <= 0:
            return None
        return one_line(" ".join(self.shown[self.first[best] : self.end[best]]))
