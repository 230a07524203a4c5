"""Reading a page in linear time (issue 25) on real-shaped pages: the catalogue's pages, as
the http engine fetches them from the imitation, nest far under ``NESTING_LIMIT`` and never
deeper than the tree the parser builds.

The nesting limit, one parse and ``sentence_with`` on pages written by the tests are in
tests/unit/test_page_depth.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.imitation import ImitationSite
from monitor.imitation.catalogue import CATALOGUE, install
from monitor.platforms.nesting import NESTING_LIMIT, nesting_depth


def tree_depth(markup: str) -> int:
    """The depth of the tree lexbor builds (the longest chain of elements)."""
    deepest = 0
    stack: list[tuple[LexborNode, int]] = [(LexborHTMLParser(markup).root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        child = node.child
        while child is not None:
            if child.is_element_node:
                stack.append((child, depth + 1))
            child = child.next
    return deepest


@pytest.fixture(scope="module")
def catalogue_pages() -> Iterator[list[str]]:
    """The HTML of every page of the imitation's catalogue, as the http engine fetches it."""
    with ImitationSite() as site:
        install(site)
        pages = []
        with httpx.Client(timeout=10) as client:
            for case in CATALOGUE:
                if case.scenario in ("slow", "reset", "disconnect"):
                    continue
                pages.append(client.get(site.base_url + case.path).text)
        yield pages


def test_real_shaped_pages_nest_far_under_the_limit(catalogue_pages: list[str]) -> None:
    depths = [nesting_depth(markup, limit=10_000) for markup in catalogue_pages]
    assert max(depths) < NESTING_LIMIT // 8, depths
    # An estimate from below: never deeper than the tree the parser really builds.
    for markup in catalogue_pages:
        assert nesting_depth(markup, limit=10_000) <= tree_depth(markup)
