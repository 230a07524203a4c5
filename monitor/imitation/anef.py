"""The ANEF portal's public pages, ``/particuliers/`` (docs/platforms.md#anef).

An Angular-like shell: ``<app-root></app-root>`` filled by the inline script (see spa.py).
The key is ``"anef"``; when the path has a prefix (``/demo-2/particuliers/``) the key
``"anef/demo-2"`` is tried first, so several ANEF imitations can run side by side.

Scenarios: ``up`` (default; the public home: ``h1`` "Administration numérique pour les
étrangers en France", PrimeNG-like tabs), ``maintenance`` (server-rendered ``h1`` "Site en
maintenance", status 200, so both engines see it), ``login_wall`` (the script routes to
``#/espace-personnel/connexion-inscription`` and renders the sign-in form),
``spa_shell_only`` (the script renders nothing). ``render_delay_ms`` as on RDV Préfecture.

Parameters, off by default: ``content_delay_ms`` (> 0: the banner renders first, the page
content that much later), and for ``maintenance`` ``status`` (default 200; e.g. 503) and
``rendering`` ("server", the default, or "client": the ``h1`` is rendered by the app, so
only a browser sees it — docs/platforms.md#anef only says an extension reads the rendered ``h1``).
"""

from __future__ import annotations

import re

from monitor.imitation import spa
from monitor.imitation.scenarios import Route, Scenario
from monitor.imitation.spa import Node, el
from monitor.imitation.wire import Request, Response, html_response, page, redirect

NAME = "anef"
SCENARIOS = frozenset({"up", "maintenance", "login_wall", "spa_shell_only"})
TITLE = "Administration numérique pour les étrangers en France"
LOGIN_ROUTE = "#/espace-personnel/connexion-inscription"
MAINTENANCE_TEXT = "Le site est momentanément indisponible. Merci de votre compréhension."
_PORTAL = re.compile(r"^(?P<prefix>.*?)/particuliers(?P<slash>/?)$")


class Anef:
    """ANEF public pages; stateless."""

    name = NAME
    scenarios: frozenset[str] = SCENARIOS
    default = "up"

    def route(self, request: Request) -> Route | None:
        if match := _PORTAL.match(request.path):
            prefix = match["prefix"]
            keys = (f"anef{prefix}", "anef") if prefix else ("anef",)
            return Route(NAME, keys, prefix, {"slash": match["slash"]})
        return None

    def handle(self, request: Request, route: Route, scenario: Scenario) -> Response:
        if not route.parts["slash"]:
            return redirect(f"{route.prefix}/particuliers/", 301)
        params = scenario.params
        client = params.get("rendering") == "client"
        if scenario.name == "maintenance" and not client:
            body = (
                '<main class="maintenance"><h1>Site en maintenance</h1>\n'
                f"<p>{MAINTENANCE_TEXT}</p>"
                "</main>"
            )
            return html_response(page("ANEF", body), int(params.get("status", 200)))
        nodes: list[Node] = []
        route_to = None
        if scenario.name == "up":
            nodes = _home()
        elif scenario.name == "login_wall":
            nodes, route_to = _login(), LOGIN_ROUTE
        elif scenario.name == "maintenance":
            nodes = _maintenance()
        content_delay = int(params.get("content_delay_ms", 0))
        first, later = (nodes[:1], nodes[1:]) if content_delay > 0 else (nodes, [])
        html = spa.shell(
            title="ANEF",
            mount="app-root",
            mount_markup="<app-root></app-root>",
            nodes=first,
            delay_ms=int(params.get("render_delay_ms", 100)),
            page_title=TITLE if nodes else None,
            route=route_to,
            later=later,
            later_delay_ms=content_delay,
        )
        status = int(params.get("status", 200)) if scenario.name == "maintenance" else 200
        return html_response(html, status)


def _banner() -> Node:
    return el(
        "header", {"class": "header-anef"}, el("p", {"class": "marianne"}, "RÉPUBLIQUE FRANÇAISE")
    )


def _home() -> list[Node]:
    tabs = el(
        "div",
        {"class": "p-tabview"},
        el(
            "ul",
            {"class": "p-tabview-nav", "role": "tablist"},
            el("li", {}, el("a", {"role": "tab", "href": "#/"}, "Je suis en France")),
            el("li", {}, el("a", {"role": "tab", "href": "#/"}, "Je souhaite venir en France")),
        ),
        el(
            "div",
            {"class": "p-tabview-panels"},
            el("p", {}, "Effectuez vos démarches de titre de séjour en ligne."),
        ),
    )
    account = el("a", {"class": "p-button", "href": LOGIN_ROUTE}, "Se connecter")
    return [_banner(), el("main", {"id": "main"}, el("h1", {}, TITLE), tabs, account)]


def _maintenance() -> list[Node]:
    return [
        _banner(),
        el(
            "main",
            {"class": "maintenance"},
            el("h1", {}, "Site en maintenance"),
            el("p", {}, MAINTENANCE_TEXT),
        ),
    ]


def _login() -> list[Node]:
    form = el(
        "form",
        {"class": "connexion"},
        el("label", {"for": "identifiant"}, "Identifiant"),
        el("input", {"id": "identifiant", "type": "text"}),
        el("label", {"for": "password"}, "Mot de passe"),
        el("input", {"id": "password", "type": "password"}),
        el("button", {"type": "button", "class": "p-button"}, "Se connecter"),
        el("a", {"href": LOGIN_ROUTE}, "Créer mon compte"),
    )
    return [
        _banner(),
        el(
            "main",
            {"id": "main", "class": "connexion-inscription"},
            el("h1", {}, "Connexion ou inscription"),
            form,
        ),
    ]
