"""Client-rendered pages: an app shell whose content only a real browser ever sees.

The real RDV Préfecture (Vue/Quasar) and ANEF (Angular) front ends send an empty shell and
build the page in JavaScript. The imitation does the same: the HTML holds a mount point
(``<div id="q-app"></div>``, ``<app-root></app-root>``) and one small inline script carrying
the view as base64-encoded JSON, so none of the page's strings appear in the raw HTML that
a plain HTTP client reads. The script builds the DOM with ``createElement`` (no innerHTML)
after ``delay`` milliseconds, as a bundle would, so browser probes must wait for a state
rather than for the load event.

A view node is ``[tag, {attribute: value}, child, ...]`` where a child is a node or a string.

Optional realism, all off by default (docs/platforms.md#rdv-prefecture-the-captcha,
docs/platforms.md#pages-drawn-by-a-script):
- ``later`` / ``later_delay_ms``: render in two stages, as a bundle fills its layout first and
  the content after its data call, so a probe classifying on "the mount is no longer empty"
  sees a page with no state on it yet;
- ``client_routing``: in-app links (``<a href>`` to the same origin) do not load a new
  document: the script fetches the target, takes its view and renders it in place after a
  ``history.pushState``, as Vue Router does (no navigation event, only the URL changes;
  a target that is not an app shell is loaded normally);
- ``data-dismiss="<selector>"`` on an element: a click removes that selector's element and
  sets ``data-cookie`` (if any) as a cookie, for consent banners.
"""

from __future__ import annotations

import base64
import json
from typing import TypeAlias

from monitor.imitation.wire import h

Node: TypeAlias = "str | list[Node | dict[str, str]]"

_RENDERER = """
(function () {
  var view = decode(VIEW);
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
  function decode(payload) {
    var bytes = Uint8Array.from(atob(payload), function (c) { return c.charCodeAt(0); });
    return JSON.parse(new TextDecoder("utf-8").decode(bytes));
  }
  function render(current) {
    if (current.route && location.hash !== current.route) { location.hash = current.route; }
    if (current.title) { document.title = current.title; }
    var root = document.querySelector(current.mount);
    current.nodes.forEach(function (node) { root.appendChild(build(node)); });
    if (current.later && current.later.length) {
      setTimeout(function () {
        current.later.forEach(function (node) { root.appendChild(build(node)); });
      }, current.laterDelay || 0);
    }
  }
  function go(href) {
    fetch(href, { credentials: "same-origin" }).then(function (response) {
      return response.text().then(function (text) {
        var found = new RegExp('var VIEW = "([A-Za-z0-9+/=]+)"').exec(text);
        if (!response.ok || !found) { location.assign(response.url || href); return; }
        var next = decode(found[1]);
        history.pushState({}, "", response.url || href);
        var root = document.querySelector(next.mount);
        while (root.firstChild) { root.removeChild(root.firstChild); }
        setTimeout(function () { render(next); }, next.delay);
      });
    }, function () { location.assign(href); });
  }
  document.addEventListener("click", function (event) {
    var dismiss = event.target.closest && event.target.closest("[data-dismiss]");
    if (dismiss) {
      var gone = document.querySelector(dismiss.getAttribute("data-dismiss"));
      if (gone) { gone.parentNode.removeChild(gone); }
      if (dismiss.getAttribute("data-cookie")) {
        document.cookie = dismiss.getAttribute("data-cookie") + "; path=/";
      }
      event.preventDefault();
      return;
    }
    if (!view.clientRouting) { return; }
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || link.origin !== location.origin) { return; }
    if (link.getAttribute("href").charAt(0) === "#") { return; }
    event.preventDefault();
    go(link.href);
  });
  window.addEventListener("popstate", function () { location.reload(); });
  setTimeout(function () { render(view); }, view.delay);
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
    later: list[Node] | None = None,
    later_delay_ms: int = 0,
    client_routing: bool = False,
) -> str:
    """The app-shell HTML: ``mount_markup`` (the empty root) plus the rendering script.

    ``title`` is the static shell title a plain client sees; ``page_title`` the one the
    script sets; ``route`` a hash route the script navigates to (e.g. a login page);
    ``later`` nodes are appended ``later_delay_ms`` after ``nodes``; ``client_routing``
    turns in-app links into client-side route changes (see the module docstring).
    """
    view: dict[str, object] = {
        "mount": mount,
        "nodes": nodes,
        "delay": max(0, int(delay_ms)),
        "title": page_title,
        "route": route,
    }
    if later:
        view["later"] = later
        view["laterDelay"] = max(0, int(later_delay_ms))
    if client_routing:
        view["clientRouting"] = True
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
