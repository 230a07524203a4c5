"""Client-rendered pages: an app shell whose content only a real browser ever sees.

The real RDV Préfecture (Vue/Quasar) and ANEF (Angular) front ends send an empty shell and
build the page in JavaScript. The imitation does the same: the HTML holds a mount point
(``<div id="q-app"></div>``, ``<app-root></app-root>``) and one small inline script carrying
the view as base64-encoded JSON, so none of the page's strings appear in the raw HTML that
a plain HTTP client reads. The script builds the DOM with ``createElement`` (no innerHTML)
after ``delay`` milliseconds, as a bundle would, so browser probes must wait for a state
rather than for the load event.

A view node is ``[tag, {attribute: value}, child, ...]`` where a child is a node or a string.
"""

from __future__ import annotations

import base64
import json
from typing import TypeAlias

from monitor.imitation.wire import h

Node: TypeAlias = "str | list[Node | dict[str, str]]"

_RENDERER = """
(function () {
  var bytes = Uint8Array.from(atob(VIEW), function (c) { return c.charCodeAt(0); });
  var view = JSON.parse(new TextDecoder("utf-8").decode(bytes));
  function build(node) {
    if (typeof node === "string") { return document.createTextNode(node); }
    var element = document.createElement(node[0]);
    var attributes = node[1] || {};
    Object.keys(attributes).forEach(function (name) {
      element.setAttribute(name, attributes[name]);
    });
    for (var i = 2; i < node.length; i++) { element.appendChild(build(node[i])); }
    return element;
  }
  function render() {
    if (view.route && location.hash !== view.route) { location.hash = view.route; }
    if (view.title) { document.title = view.title; }
    var root = document.querySelector(view.mount);
    view.nodes.forEach(function (node) { root.appendChild(build(node)); });
  }
  setTimeout(render, view.delay);
})();
"""


def el(tag: str, attributes: dict[str, str] | None = None, *children: Node) -> Node:
    """A view node; attribute values and texts are set through the DOM, never parsed."""
    return [tag, dict(attributes or {}), *children]


def shell(
    *,
    title: str,
    mount: str,
    mount_markup: str,
    nodes: list[Node],
    delay_ms: int = 100,
    page_title: str | None = None,
    route: str | None = None,
    lang: str = "fr",
) -> str:
    """The app-shell HTML: ``mount_markup`` (the empty root) plus the rendering script.

    ``title`` is the static shell title a plain client sees; ``page_title`` the one the
    script sets; ``route`` a hash route the script navigates to (e.g. a login page).
    """
    view = {
        "mount": mount,
        "nodes": nodes,
        "delay": max(0, int(delay_ms)),
        "title": page_title,
        "route": route,
    }
    payload = base64.b64encode(json.dumps(view, ensure_ascii=False).encode("utf-8")).decode()
    return (
        f'<!DOCTYPE html>\n<html lang="{h(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">\n'
        f"<title>{h(title)}</title>\n</head>\n<body>\n"
        "<noscript>Ce site nécessite JavaScript.</noscript>\n"
        f"{mount_markup}\n"
        f'<script>var VIEW = "{payload}";{_RENDERER}</script>\n'
        "</body>\n</html>\n"
    )
