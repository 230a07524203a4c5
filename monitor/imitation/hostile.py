"""A hostile site: pages nobody here wrote, built to cost a page reader as much as possible.

Served under ``/hostile/<name>`` (``GET /hostile/deep-nesting``) by the imitation, whatever
scenario is set; each page is a ``hostile_*`` function returning its HTML, so tests and the
benchmark (``bench/hostile_pages.py``) can also read them without a server. Sizes stay
within the monitor's 8 MiB page cap. What each one aims at (issue 25):

    deep-nesting      60,000 unclosed ``<div>`` (293 KiB): lexbor's parse is quadratic
                      in depth (about 8 s of CPU per parse before the nesting limit)
    giant-element     a blocked-access sentence at the top of 2 MiB of text nested 400
                      deep: the old ``sentence_with`` took the text of each of the 400
                      elements (quadratic)
    giant-attribute   one 8 MiB attribute value before the page's one sentence: every
                      pattern that scans the HTML meets it
    many-elements     8 MiB of ``<b>x</b>``, a million elements: only linear work survives
    nested-headings   256 headings nested in one another over 4 MiB of text: taking each
                      heading's whole text is quadratic
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.imitation.wire import Response, page

PREFIX = "/hostile/"
MIB = 1 << 20


def hostile_deep_nesting(levels: int = 60_000) -> str:
    """``levels`` unclosed ``<div>`` around a no-slot sentence."""
    return page("Rendez-vous", "<div>" * levels + "Aucun créneau disponible")


def hostile_giant_element(levels: int = 400, size: int = 2 * MIB) -> str:
    """An access-refused sentence opening ``size`` bytes of text, ``levels`` elements deep."""
    filler = "Veuillez patienter avant de réessayer. " * (size // 40)
    body = "<div>" * levels + "Accès refusé : trop de requêtes. " + filler + "</div>" * levels
    return page("Rendez-vous", body)


def hostile_giant_attribute(size: int = 8 * MIB - 4096) -> str:
    """An element whose one attribute is ``size`` bytes of base64-looking text."""
    value = ("QUFBQUFB" * (size // 8 + 1))[:size]
    return page("Rendez-vous", f'<div data-state="{value}"><p>Aucun créneau disponible</p></div>')


def hostile_many_elements(size: int = 8 * MIB - 4096) -> str:
    """``size`` bytes of tiny sibling elements, then a no-slot sentence."""
    return page("Rendez-vous", "<b>x</b>" * (size // 8) + "<p>Aucun créneau disponible</p>")


def hostile_nested_headings(levels: int = 128, size: int = 4 * MIB) -> str:
    """``2 * levels`` headings, each inside the one before, over ``size`` bytes of text."""
    body = "<h1>x<div><h2>y<div>" * levels + "Accès refusé " + "A " * (size // 2)
    return page("Rendez-vous", body)


#: Each page by the name it is served under.
PAGES: dict[str, Callable[[], str]] = {
    "deep-nesting": hostile_deep_nesting,
    "giant-element": hostile_giant_element,
    "giant-attribute": hostile_giant_attribute,
    "many-elements": hostile_many_elements,
    "nested-headings": hostile_nested_headings,
}


def respond(path: str) -> Response | None:
    """The hostile page at ``path`` (``/hostile/<name>``), None when it is not one."""
    if not path.startswith(PREFIX):
        return None
    make = PAGES.get(path.removeprefix(PREFIX).strip("/"))
    if make is None:
        return Response(status=404, body="no such hostile page", content_type="text/plain")
    return Response(body=make())
