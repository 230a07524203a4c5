"""Mutated catalogue pages are never ``available`` without a positive sign of slots (issue 25).

The pages: every server-rendered catalogue case, probed once with the real http engine on
the shared imitation (its final pages, with the legacy calendar's week answers as
``parts``). Hypothesis mutates them (delete, duplicate or swap elements, change class names,
insert text or markup, truncate, wrap in deep nesting or where nobody sees it, re-decode in
another charset, put "disponible"/"créneau" in attributes, comments and scripts) and each
mutated page goes through its platform's pure ``recognise``.

A positive sign is what the platforms' own positive rules (``common.available`` callers)
look for, found in a visible place (not inside ``<script>``, ``<style>``, ``<noscript>``
or ``<template>``):

    legacy-booking        a free cell (``td.status-1.free``, ``td.free``) of a week table
                          (a table with the ``th[colspan=7]`` week header or
                          ``table.calendrier``), or a link to step 5 (``…/5/<timestamp>``)
    rdv-service-public    a slot link (``a.creneau``, ``#creneaux a[href*=starts_at=]``)
    rdv-prefecture        a slot card (``input[id^=trhId_]``)
    demarches-simplifiees a link, button or submit whose text starts "Commencer la démarche"
    anef                  the sign-in page or the portal home (its h1 or its tabs)

``available`` is allowed only when the mutated page kept such a sign. Examples Hypothesis
found are kept below as plain regression tests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from pagecases import target
from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.attempt.probe import observe
from monitor.config import Target
from monitor.domain import PageSnapshot, Platform, Status
from monitor.imitation import CATALOGUE, FAULTS, ImitationSite
from monitor.imitation.case import Case
from monitor.platforms import ADAPTERS
from monitor.probes.http import HttpEngine
from monitor.text import normalise

HIDDEN = {"script", "style", "noscript", "template"}
STEP_5 = re.compile(r"/booking/create/\d+/5/\d{9,11}\b")
WORDS = (
    "disponible",
    "Créneaux disponibles",
    "créneau disponible le lundi 7 décembre 2026 à 09h00",
    "plage libre",
    "libre",
    "Première plage horaire libre",
    "Commencer la démarche",
    "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous",
    "\x1b[31m\u202e<script>",
    "Semaine du lundi 07 décembre 2026 au dimanche 13 décembre 2026",
)
CLASSES = ("free", "status-1 free", "status-1", "creneau", "busy", "legende", "", "x y")
FRAGMENTS = (
    '<table class="legende"><tr><td class="status-1 free">libre</td></tr></table>',
    '<div class="legende"><span class="free">libre</span> disponible</div>',
    "<!-- créneaux disponibles : 3 -->",
    '<script>var creneaux = "disponible"; var planningId = 1;</script>',
    "<style>.free::after { content: 'disponible'; }</style>",
    '<span title="créneau disponible" data-etat="disponible">…</span>',
    '<input type="hidden" name="creneau" value="disponible">',
    "<template><td class='free'><a class='creneau'>9h</a></td></template>",
)
CHARSETS = ("latin-1", "cp1252", "utf-16-le", "ascii")
#: Mutation kinds, the likelier ones repeated (200 examples do not cover a uniform draw).
KINDS = (
    *("fragment", "fragment", "fragment", "class", "class", "text", "text", "hide", "hide"),
    *("delete", "duplicate", "swap", "attribute", "truncate", "nest", "charset"),
)


# -- the pages ------------------------------------------------------------------------------


def _server_rendered(case: Case) -> bool:
    return "http" in case.engines and case.scenario not in FAULTS and not case.client_rendered


def _target(case: Case, site: ImitationSite) -> Target:
    platform = Platform(case.platform)
    return dataclasses.replace(
        target(platform, url=site.base_url + case.path, target_id=f"t/{case.key}"),
        host="127.0.0.1",
    )


class Pages(list[tuple[Target, PageSnapshot]]):
    """The collected pages, shown short in Hypothesis's report of a failing example."""

    def __repr__(self) -> str:
        return f"<{len(self)} catalogue pages>"


@pytest.fixture(scope="module")
def pages(imitation: ImitationSite) -> Pages:
    """Every final page of the server-rendered cases, as the http engine saw it."""

    async def collect() -> list[tuple[Target, PageSnapshot]]:
        engine = HttpEngine(user_agent="prefecture-monitor/test", timeout=10.0)
        found: list[tuple[Target, PageSnapshot]] = []
        try:
            for case in filter(_server_rendered, CATALOGUE):
                aimed = _target(case, imitation)
                seen = await observe(aimed, engine, timeout=20.0)
                found.extend((aimed, page) for page in seen.pages)
        finally:
            await engine.aclose()
        return found

    collected = asyncio.run(collect())
    assert len(collected) > 20
    # One page per platform and outcome: forty copies of the no-slot page add nothing.
    kinds: dict[tuple[str, str, str, bool], tuple[Target, PageSnapshot]] = {}
    for aimed, snapshot in collected:
        found = ADAPTERS[aimed.platform].recognise(snapshot, aimed)
        kind = (aimed.platform, found.status, found.reason, bool(snapshot.parts))
        kinds.setdefault(kind, (aimed, snapshot))
    return Pages(kinds.values())


# -- positive signs -------------------------------------------------------------------------


def _visible(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in HIDDEN:
            return False
        parent = parent.parent
    return True


def _nodes(html: str, selector: str) -> list[LexborNode]:
    return [node for node in LexborHTMLParser(html).css(selector) if _visible(node)]


def _in_week_table(cell: LexborNode) -> bool:
    table = cell.parent
    while table is not None and table.tag != "table":
        table = table.parent
    if table is None:
        return False
    return "calendrier" in (table.attributes.get("class") or "").split() or bool(
        table.css("th[colspan='7']")
    )


def _legacy_sign(html: str) -> bool:
    if any(_in_week_table(c) for c in _nodes(html, "td.status-1.free, td.free")):
        return True
    return any(STEP_5.search(a.attributes.get("href") or "") for a in _nodes(html, "a[href]"))


def _ds_sign(html: str) -> bool:
    wanted = normalise("Commencer la démarche")
    for node in _nodes(html, "a, button, input[type=submit]"):
        text = node.text(separator=" ") or node.attributes.get("value") or ""
        if normalise(text).startswith(wanted):
            return True
    return False


def _anef_sign(html: str) -> bool:
    home = normalise("Administration numérique pour les étrangers en France")
    return (
        bool(_nodes(html, ".connexion-inscription, form.connexion, app-root form"))
        or bool(_nodes(html, "app-root .p-tabview"))
        or any(home in normalise(h.text()) for h in _nodes(html, "h1"))
    )


SIGNS: dict[Platform, Callable[[str], bool]] = {
    Platform.LEGACY_BOOKING: _legacy_sign,
    Platform.RDV_SERVICE_PUBLIC: lambda html: bool(
        _nodes(html, "a.creneau, #creneaux a[href*='starts_at=']")
    ),
    Platform.RDV_PREFECTURE: lambda html: bool(_nodes(html, "input[id^=trhId_]")),
    Platform.DEMARCHES_SIMPLIFIEES: _ds_sign,
    Platform.ANEF: _anef_sign,
}


def positive_sign(platform: Platform, snapshot: PageSnapshot) -> bool:
    """Whether the page, or one of its parts, keeps a positive sign (module docstring)."""
    sign = SIGNS[platform]
    return any(sign(page.html) for page in (snapshot, *snapshot.parts))


# -- mutations ------------------------------------------------------------------------------


def _elements(html: str) -> tuple[LexborHTMLParser, list[LexborNode]]:
    tree = LexborHTMLParser(html)
    body = tree.body
    found = [n for n in body.traverse() if n.tag and not n.tag.startswith("-")] if body else []
    return tree, [n for n in found if n.tag != "body"]


def mutate(html: str, draw: Any) -> str:
    """One mutation of ``html`` (``draw`` is Hypothesis's ``data.draw``)."""
    kind = draw(st.sampled_from(KINDS))
    if kind == "truncate":
        return html[: draw(st.integers(0, len(html)))]
    if kind == "charset":
        charset = draw(st.sampled_from(CHARSETS))
        raw = html.replace('charset="utf-8"', f'charset="{charset}"').encode("utf-8")
        return raw.decode(charset, errors="replace")
    tree, nodes = _elements(html)
    if not nodes:
        return html + draw(st.sampled_from(FRAGMENTS))
    node = nodes[draw(st.integers(0, len(nodes) - 1))]
    doc, outer = tree.html or "", node.html or ""
    if kind == "delete":
        return doc.replace(outer, "", 1)
    if kind == "duplicate":
        return doc.replace(outer, outer * 2, 1)
    if kind == "swap":
        other = nodes[draw(st.integers(0, len(nodes) - 1))].html or ""
        if not other or other in outer or outer in other:
            return doc
        return doc.replace(outer, "\0a", 1).replace(other, outer, 1).replace("\0a", other, 1)
    if kind == "class":
        node.attrs["class"] = draw(st.sampled_from(CLASSES))
        return tree.html or ""
    if kind == "text":
        words = draw(st.sampled_from(WORDS) | st.text(max_size=40))
        node.attrs["data-fuzz"] = "1"  # mark, then put the words as the element's first text
        marked = tree.html or ""
        return re.sub(r'(<[^>]*data-fuzz="1"[^>]*>)', lambda m: m[1] + words, marked, count=1)
    if kind == "fragment":
        return doc.replace(outer, outer + draw(st.sampled_from(FRAGMENTS)), 1)
    if kind == "attribute":
        node.attrs[draw(st.sampled_from(("title", "alt", "data-etat", "aria-label")))] = draw(
            st.sampled_from(WORDS)
        )
        return tree.html or ""
    if kind == "nest":
        depth = draw(st.integers(1, 600))
        return doc.replace(outer, "<div>" * depth + outer + "</div>" * depth, 1)
    wrapper = draw(st.sampled_from(("template", "comment", "script")))
    if wrapper == "comment":
        return doc.replace(outer, f"<!-- {outer} -->", 1)
    return doc.replace(outer, f"<{wrapper}>{outer}</{wrapper}>", 1)


def mutated(snapshot: PageSnapshot, data: Any) -> PageSnapshot:
    """``snapshot`` with one to three mutations, each on the page or one of its parts."""
    for _ in range(data.draw(st.integers(1, 3))):
        # The legacy calendar's weeks are where its slots are: mutate them more often.
        count = len(snapshot.parts)
        where = data.draw(st.integers(0, count) | st.integers(1, count)) if count else 0
        if where == 0:
            snapshot = dataclasses.replace(snapshot, html=mutate(snapshot.html, data.draw))
        else:
            parts = list(snapshot.parts)
            part = parts[where - 1]
            parts[where - 1] = dataclasses.replace(part, html=mutate(part.html, data.draw))
            snapshot = dataclasses.replace(snapshot, parts=tuple(parts))
    return snapshot


# -- tests ----------------------------------------------------------------------------------


def _check(aimed: Target, snapshot: PageSnapshot) -> None:
    finding = ADAPTERS[aimed.platform].recognise(snapshot, aimed)
    if finding.status is Status.AVAILABLE:
        assert positive_sign(aimed.platform, snapshot), (aimed.platform, finding)


def test_every_available_catalogue_page_shows_a_positive_sign(
    pages: list[tuple[Target, PageSnapshot]],
) -> None:
    """The sign is not too strict: every page the platforms find available has one."""
    offered = 0
    for aimed, snapshot in pages:
        if ADAPTERS[aimed.platform].recognise(snapshot, aimed).status is Status.AVAILABLE:
            offered += 1
            assert positive_sign(aimed.platform, snapshot), (aimed.url, snapshot.label)
    assert offered >= 3  # legacy slots, RDV Service Public slots, an open DS form


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_mutation_without_a_positive_sign_is_available(
    pages: Pages, data: st.DataObject
) -> None:
    aimed, snapshot = pages[data.draw(st.integers(0, len(pages) - 1), label="page")]
    note(f"{aimed.platform} {aimed.url} desk {snapshot.label!r}")
    _check(aimed, mutated(snapshot, data))


# -- what Hypothesis found ------------------------------------------------------------------


def test_found_a_legend_marked_up_as_free_cells_is_not_a_slot(
    pages: list[tuple[Target, PageSnapshot]],
) -> None:
    """Found by the fuzz (legacy ``legend_only``: weeks without a free cell): a legend
    table whose sample cell is ``td.status-1.free`` after one week's table was counted as
    a free slot, ``available`` with no date (issue 25, "a legend is never a slot")."""
    aimed, snapshot = next(
        (t, s)
        for t, s in pages
        if t.platform is Platform.LEGACY_BOOKING and s.parts and not positive_sign(t.platform, s)
    )
    week = snapshot.parts[0]
    legend = FRAGMENTS[0]
    hostile = dataclasses.replace(
        snapshot, parts=(dataclasses.replace(week, html=week.html + legend), *snapshot.parts[1:])
    )
    assert not positive_sign(aimed.platform, hostile)
    _check(aimed, hostile)
