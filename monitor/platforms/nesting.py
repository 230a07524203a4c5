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

Pure and linear, with no regular expression: one ``str.split`` and literal searches; the
pass stops as soon as the limit is crossed.
"""

from __future__ import annotations

#: Deeper than this, a page is not parsed: Chromium's own HTML parser stops nesting at 512
#: (kMaximumHTMLParserDOMTreeDepth), and real booking pages nest 15 to 40 deep. lexbor
#: parses a 512-deep nest in about 1 ms.
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
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
#: What may follow a ``<`` that starts a tag or a comment.
_TAG_STARTS = _ASCII_LETTERS | {"/", "!"}


def _name(piece: str) -> str:
    """The tag name at the start of ``piece`` (what follows a ``<`` or ``</``), lower-cased.

    A name ends at a space, ``/`` or ``>``; only the first 64 characters are looked at.
    """
    head = piece[:64].partition(">")[0].partition("/")[0].split(None, 1)
    return head[0].lower() if head else ""


def nesting_depth(html: str, limit: int = NESTING_LIMIT) -> int:
    """The deepest nesting of ``html``'s elements, or ``limit + 1`` once it is above ``limit``.

    Linear: the text is split once at every ``<``; each piece (what follows one ``<`` up to
    the next) is looked at once, and only its first 64 characters unless it is a tag in
    ``svg``/``math`` (whose own end is searched for ``/>``) or a comment.
    """
    stack: list[str] = []
    open_count: dict[str, int] = {}
    foreign = 0
    deepest = 0
    skip_to: str | None = None  # inside a comment ("-->") or raw text ("/script", …)
    pieces = iter(html.split("<"))
    next(pieces)  # the text before the first "<"
    for piece in pieces:
        if skip_to is None and piece[:1] not in _TAG_STARTS:
            continue  # "<" as text ("a < b", "<<<"): nothing opens
        if skip_to is not None:
            if skip_to == "-->":
                if "-->" in piece:
                    skip_to = None
            elif piece[: len(skip_to)].lower() == skip_to:
                skip_to = None
            continue
        if piece.startswith("!--"):
            skip_to = None if piece.find("-->", 3) >= 0 else "-->"
            continue
        closing = piece.startswith("/")
        name = _name(piece[1:65] if closing else piece)
        if not name or name[0] not in _ASCII_LETTERS:
            continue  # "<" as text, "<!DOCTYPE", "<?xml": nothing opens
        if closing:
            if open_count.get(name):
                while stack:
                    closed = stack.pop()
                    open_count[closed] -= 1
                    foreign -= closed in _FOREIGN
                    if closed == name:
                        break
            continue
        if name in _RAW_TEXT:
            skip_to = "/" + name
            continue
        if name in _VOID or name in _IMPLIED_END:
            continue
        if foreign and piece[: piece.find(">") if ">" in piece else len(piece)].endswith("/"):
            continue
        stack.append(name)
        open_count[name] = open_count.get(name, 0) + 1
        foreign += name in _FOREIGN
        if len(stack) > deepest:
            deepest = len(stack)
            if deepest > limit:
                return limit + 1
    return deepest
