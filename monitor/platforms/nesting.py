"""How deep a page nests, measured in one linear pass before the HTML parser sees it.

lexbor's parse is quadratic in the depth of the tree it builds (measured with selectolax
0.4.13: 4,096 nested ``<div>`` parse in 0.03 s, 32,768 in 3.2 s, 65,536 in 13 s), so a page
of a few hundred KiB could hold a probe for minutes. :func:`nesting_depth` reads the tags
the way the parser would stack them, closely enough to bound its work:

* comments and the raw text of ``script``, ``style``, ``textarea``, ``title`` and the like
  are skipped (a ``<`` there opens nothing);
* void elements (``br``, ``img``, ``input``, …) and ``/>`` inside ``svg``/``math`` open
  nothing; outside them ``<div/>`` opens a ``div``, as in a browser;
* elements a sibling closes implicitly (``p``, ``li``, ``td``, ``option``, …) are not
  counted: a page of unclosed ``<li>`` is flat;
* an end tag closes the innermost open element of its name and every element above it; an
  end tag with no such element open is ignored, as the parser ignores it.

It is an estimate from below of the stack the parser builds (a ``p`` inside a ``div``
inside a ``p`` counts once), which is what matters: a page it calls deep is deep.

Pure and linear: one bounded pattern and literal searches; the pass stops as soon as the
limit is crossed.
"""

from __future__ import annotations

import re

#: Deeper than this, a page is not parsed: Chromium's own HTML parser stops nesting at 512
#: (kMaximumHTMLParserDOMTreeDepth); the imitation's pages nest at most 9 deep, real
#: booking pages a few dozen levels at most. lexbor parses a 512-deep nest in about 1 ms,
#: 4,096 in 0.03 s, 65,536 in 13 s (BENCHMARKS §9).
NESTING_LIMIT = 512

_VOID = frozenset(
    [
        "area",
        "base",
        "basefont",
        "bgsound",
        "br",
        "col",
        "embed",
        "frame",
        "hr",
        "image",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
#: Closed by their next sibling or their parent's end: not counted.
_IMPLIED_END = frozenset(
    [
        "p",
        "li",
        "dt",
        "dd",
        "option",
        "optgroup",
        "tr",
        "td",
        "th",
        "thead",
        "tbody",
        "tfoot",
        "caption",
        "colgroup",
        "rb",
        "rp",
        "rt",
        "rtc",
        "html",
        "head",
        "body",
    ]
)
_FOREIGN = frozenset({"svg", "math"})
_RAW_TEXT = frozenset(
    ["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext"]
)
#: A comment's start, or a start or end tag's name (at most 32 characters are read of it).
#: Bounded: each match reads at most 35 characters, so the pass is linear in the page
#: (the stdlib engine, faster per match than RE2's wrapper on the million tags of 8 MiB).
_TAG = re.compile(r"<(?:(!--)|(/?)([A-Za-z][A-Za-z0-9:-]{0,31}))")


def too_deep(html: str, limit: int = NESTING_LIMIT) -> bool:
    """Whether ``html`` nests deeper than ``limit``.

    Every element the pass counts is opened by a ``<``: a page with no more than ``limit``
    of them cannot be too deep, which one count in C tells without the pass (most pages a
    probe meets are small forms).
    """
    return html.count("<") > limit and nesting_depth(html, limit) > limit


def nesting_depth(html: str, limit: int = NESTING_LIMIT) -> int:
    """The deepest nesting of ``html``'s elements, or ``limit + 1`` once it is above ``limit``.

    Linear: one pass of ``_TAG`` (a bounded pattern) over the text; comments are skipped
    with one literal search each, and a start tag in ``svg``/``math`` is checked for ``/>``
    in the text before the next tag only, so no character is read twice.
    """
    stack: list[str] = []
    open_count: dict[str, int] = {}
    foreign = 0
    deepest = 0
    skip_until = 0  # the end of a comment
    raw: str | None = None  # inside raw text: the name of the element that ends it
    pending: tuple[str, int] | None = None  # a foreign start tag and where its name ends
    for tag in _TAG.finditer(html):
        start = tag.start()
        if pending is not None:
            name, after = pending
            pending = None
            end = html.find(">", after, start)
            if not (end > after and html[end - 1] == "/"):  # "<path/>" opens nothing
                stack.append(name)
                open_count[name] = open_count.get(name, 0) + 1
                foreign += name in _FOREIGN
                if len(stack) > deepest:
                    deepest = len(stack)
                    if deepest > limit:
                        return limit + 1
        if start < skip_until:
            continue
        if tag.group(1):  # "<!--": nothing opens until "-->"
            end = html.find("-->", tag.end() - 2)
            skip_until = len(html) if end < 0 else end + 3
            continue
        name = tag.group(3).lower()
        if raw is not None:
            if tag.group(2) and name == raw:
                raw = None
            continue
        if tag.group(2):  # an end tag
            if open_count.get(name):
                while stack:
                    closed = stack.pop()
                    open_count[closed] -= 1
                    foreign -= closed in _FOREIGN
                    if closed == name:
                        break
            continue
        if name in _RAW_TEXT:
            raw = name
            continue
        if name in _VOID or name in _IMPLIED_END:
            continue
        if foreign:
            pending = (name, tag.end())
            continue
        stack.append(name)
        open_count[name] = open_count.get(name, 0) + 1
        foreign += name in _FOREIGN
        if len(stack) > deepest:
            deepest = len(stack)
            if deepest > limit:
                return limit + 1
    if pending is not None:
        deepest = max(deepest, len(stack) + 1)
    return min(deepest, limit + 1)
