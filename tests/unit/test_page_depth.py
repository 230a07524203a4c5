"""Reading a page in linear time (issue 25), the pure part: the nesting limit, one parse,
``sentence_with`` and bounded text, on pages written here.

The catalogue's real-shaped pages, served by the imitation, are read in
tests/integration/test_page_reading.py.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pagecases import html, page, target
from selectolax.lexbor import LexborHTMLParser

from monitor.details import render
from monitor.domain import Platform, Reason, Status
from monitor.imitation.hostile import (
    hostile_deep_nesting,
    hostile_giant_element,
    hostile_nested_headings,
)
from monitor.platforms import ADAPTERS
from monitor.platforms import page as page_module
from monitor.platforms.nesting import NESTING_LIMIT, nesting_depth, too_deep
from monitor.platforms.page import ELEMENT_TEXT_LIMIT, Page, bounded_text, parsing_scope
from monitor.text import normalise, one_line

DEEP = NESTING_LIMIT + 1


@pytest.mark.parametrize(
    ("markup", "depth"),
    [
        ("<div>" * DEEP, DEEP),  # unclosed
        ("<div></div>" * DEEP + "<div><div>", 2),  # closed, then two open
        ("<div/>" * DEEP, DEEP),  # "/>" opens an HTML element all the same
        ("<svg>" + "<path/>" * DEEP + "</svg>", 1),  # but closes in svg
        ("<li>" * DEEP, 0),  # a sibling closes an <li>
        ("<p>x" * DEEP + "<td>" * DEEP, 0),
        ("<br><img src=x><input>" * DEEP, 0),  # void elements
        ("<div></span>" * DEEP, DEEP),  # an end tag of nothing open is ignored
        ("<div><span><b></div>" * DEEP, 3),  # an end tag closes what is above it
        ("<!-- " + "<div>" * DEEP + " -->", 0),  # comments
        ("<script>" + "<div>" * DEEP + "</script>", 0),  # raw text
        ("<SCRIPT type=x>" + "<div>" * DEEP + "</Script >", 0),
        ("<noscript>" + "<div>" * DEEP, DEEP),  # parsed as markup without scripting
        ("a < b " * DEEP + "<<<" * DEEP, 0),  # "<" as text
    ],
)
def test_the_nesting_depth_reads_tags_as_the_parser_stacks_them(markup: str, depth: int) -> None:
    assert nesting_depth(markup) == min(depth, DEEP)


@given(
    st.lists(
        st.sampled_from(["<div>", "</div>", "<p>", "<b>", "</b>", "<!--", "-->", "x", "<br>"]),
        max_size=40,
    )
)
def test_too_deep_says_what_the_pass_says(parts: list[str]) -> None:
    """Its shortcut (no more ``<`` than the limit: not deep) never changes the answer."""
    markup = "".join(parts)
    for limit in (3, 8, 20):
        assert too_deep(markup, limit) == (nesting_depth(markup, limit) > limit)


def test_a_page_with_as_many_tags_as_the_limit_is_not_too_deep_and_one_more_is() -> None:
    assert not too_deep("<div>" * NESTING_LIMIT)
    assert too_deep("<div>" * DEEP)
    assert not too_deep("<li>" * 10 * NESTING_LIMIT)  # many tags, flat: the pass decides


def test_the_nesting_pass_stops_past_the_limit() -> None:
    assert nesting_depth("<div>" * 10 * NESTING_LIMIT) == DEEP
    assert nesting_depth("<div>" * 10, limit=5) == 6


@pytest.mark.parametrize(
    "platform",
    [Platform.RDV_PREFECTURE, Platform.LEGACY_BOOKING, Platform.ANEF, Platform.GENERIC],
)
def test_a_page_past_the_limit_is_unrecognized_as_too_deep_without_being_parsed(
    platform: Platform,
) -> None:
    snapshot = page(hostile_deep_nesting(levels=50_000))
    found = ADAPTERS[platform].recognise(snapshot, target(platform))
    assert (found.status, found.reason) == (Status.ANOMALY, Reason.UNRECOGNIZED)
    assert found.detail.code == "too_deep"
    assert found.detail.args["limit"] == NESTING_LIMIT
    assert "512 levels deep and was not read" in render(found.detail, "en")
    assert "plus de 512 niveaux" in render(found.detail, "fr")
    assert Page(snapshot).tree.body is not None and not Page(snapshot).tree.body.text()


def test_a_page_at_the_limit_is_read_as_usual() -> None:
    markup = html("<div>" * (NESTING_LIMIT - 4) + "<p>Aucun créneau disponible</p>")
    found = ADAPTERS[Platform.RDV_PREFECTURE].recognise(
        page(markup), target(Platform.RDV_PREFECTURE)
    )
    assert (found.status, found.reason) == (Status.UNAVAILABLE, Reason.NO_SLOT)
    assert found.detail.args["text"] == "Aucun créneau disponible"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the HTML parses of ``monitor.platforms.page`` (the length of each text)."""
    seen: list[int] = []
    real = page_module.LexborHTMLParser

    def counting(markup: str) -> LexborHTMLParser:
        seen.append(len(markup))
        return real(markup)

    monkeypatch.setattr(page_module, "LexborHTMLParser", counting)
    return seen


def test_a_page_and_its_visible_text_take_one_parse(parses: list[int]) -> None:
    reading = Page(page(html("<p>Bonjour</p><script>var x = 1;</script>")))
    assert reading.text == "bonjour"
    assert reading.has("script")  # the page's own tree keeps what the text leaves out
    assert len(parses) == 1


def test_within_a_probe_every_page_of_one_html_shares_one_parse(parses: list[int]) -> None:
    snapshot = page(html("<h1>Accès refusé</h1>"), status=403)
    recognise = ADAPTERS[Platform.RDV_PREFECTURE].recognise
    with parsing_scope():
        Page(snapshot).has("a.q-btn")  # the flow's look at it
        Page(snapshot).has("#contenu")  # settle's
        finals = dataclasses.replace(snapshot, label="desk")  # the final snapshot, relabelled
        found = recognise(finals, target(Platform.RDV_PREFECTURE))
    assert found.reason is Reason.BLOCKED
    assert len(parses) == 1
    Page(snapshot)  # outside the scope: nothing kept
    assert len(parses) == 2


def old_sentence_with(markup: str, phrase: str) -> str:
    """The algorithm before issue 25: the text of every element, the shortest holding it.

    On the tree without its scripts: the old one read an element's text with its scripts
    in, so a phrase half in a script was "found" there, which the visible text never shows.
    """
    needle = normalise(phrase)
    best: str | None = None
    tree = LexborHTMLParser(markup)
    tree.strip_tags(["script", "style", "noscript", "template"])
    for node in tree.css("body *"):
        if node.tag in ("script", "style", "noscript", "template"):
            continue
        shown = one_line(node.text(separator=" "))
        if (best is None or len(shown) < len(best)) and needle in normalise(shown):
            best = shown
    return best or phrase


WORDS = st.sampled_from(["accès", "refusé", "Accès refusé", "merci", "le", "site", " ", "x"])

TAGS = st.sampled_from(["div", "p", "span", "b", "section", "script"])


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> str:
    """Small bodies of nested elements and words (scripts included, never shown)."""
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 4 and draw(st.booleans()):
            tag = draw(TAGS)
            parts.append(f"<{tag}>{draw(trees(depth + 1))}</{tag}>")
        else:
            parts.append(draw(WORDS))
    return " ".join(parts) if draw(st.booleans()) else "".join(parts)


@settings(max_examples=300, deadline=None)
@given(body=trees(), phrase=st.sampled_from(["accès refusé", "Merci", "site", "le site"]))
def test_sentence_with_says_what_the_old_algorithm_said(body: str, phrase: str) -> None:
    markup = html(body)
    reading = Page(page(markup))
    if normalise(phrase) not in reading.text:
        return  # recognition only asks for a phrase the page shows
    assert reading.sentence_with(phrase) == old_sentence_with(markup, phrase)


def test_sentence_with_reads_a_giant_nested_text_in_one_pass() -> None:
    """2 MiB of text 400 elements deep: the old algorithm normalised the text 400 times
    (minutes); one pass takes well under the probe timeout (a liveness bound)."""
    reading = Page(page(hostile_giant_element(levels=400, size=2 << 20)))
    began = time.process_time()
    shown = reading.sentence_with("accès refusé")
    assert time.process_time() - began < 10.0
    assert shown.startswith("Accès refusé : trop de requêtes.")
    assert len(shown) <= 300


def test_bounded_text_is_an_elements_text_when_it_is_short() -> None:
    tree = LexborHTMLParser("<body><h1>Site en <b>maintenance</b></h1><p> a \n b </p></body>")
    for selector in ("h1", "p", "body"):
        node = tree.css_first(selector)
        assert bounded_text(node) == node.text(separator=" ")
        assert bounded_text(node, "") == node.text()


def test_headings_nested_in_headings_are_read_in_bounded_time() -> None:
    """256 headings, each holding the next and 4 MiB of text: taking each one's whole text
    took 21 s of CPU; each is now read up to ELEMENT_TEXT_LIMIT characters (liveness bound)."""
    snapshot = page(hostile_nested_headings())
    began = time.process_time()
    reading = Page(snapshot)
    assert len(reading.headings) == 257  # the title and 256 headings
    assert all(len(heading) <= ELEMENT_TEXT_LIMIT + 1 for heading in reading.headings)
    found = ADAPTERS[Platform.RDV_PREFECTURE].recognise(snapshot, target(Platform.RDV_PREFECTURE))
    assert time.process_time() - began < 10.0
    assert found.reason is Reason.BLOCKED


def test_the_forms_of_a_probe_read_its_parsed_tree_and_never_parse_a_deep_page() -> None:
    from monitor.errors import ProbeError
    from monitor.probes.forms import ParsedPage

    markup = html("<form method=post action=/go><input name=a value=1><button>Go</button></form>")
    url = "https://www.example-pref.gouv.fr/booking/create/5001"
    with parsing_scope():
        shown = Page(page(markup))
        form = ParsedPage(markup, url).first("form")
        assert form is not None
        assert form.mem_id == shown.tree.css_first("form").mem_id  # one tree, not two
        deep = html("<form><button>Go</button>" + "<div>" * DEEP)
        with pytest.raises(ProbeError) as refused:
            ParsedPage(deep, url).submission(button="button")
        assert refused.value.reason is Reason.UNRECOGNIZED
    assert ParsedPage(markup, url).submission(button="button").entries == (("a", "1"),)
