"""Démarches Simplifiées forms used as appointment requests, ``/commencer/<slug>``
(docs/platforms.md#demarches-simplifiees).

Server-rendered, keyed by the slug.

Scenarios: ``open`` (default: title, "Temps de remplissage estimé", "Commencer la
démarche", FranceConnect button), ``closed`` (the closed-démarche message under the title),
``login_required`` (302 to ``/users/sign_in``, a sign-in page that does not show the
démarche at all). ``closed`` takes ``variant`` "typographic" (typographic apostrophes) or
"nbsp" (no-break space and a line break inside the message), off by default
(docs/platforms.md#text-as-the-sites-write-it).
"""

from __future__ import annotations

import re

from monitor.imitation.scenarios import Route, Scenario
from monitor.imitation.wire import (
    Request,
    Response,
    h,
    html_response,
    page,
    redirect,
    retyped,
)

NAME = "demarches-simplifiees"
SCENARIOS = frozenset({"open", "closed", "login_required"})
CLOSED_TEXT = "Cette démarche en ligne a été close, il n'est plus possible de déposer de dossier."
_COMMENCER = re.compile(r"^(?P<prefix>.*?)/commencer/(?P<slug>[A-Za-z0-9_-]+)/?$")
_SIGN_IN = re.compile(r"^(?P<prefix>.*?)/users/sign_in/?$")


class DemarchesSimplifiees:
    """The DS start page; stateless."""

    name = NAME
    scenarios: frozenset[str] = SCENARIOS
    default = "open"

    def route(self, request: Request) -> Route | None:
        if match := _COMMENCER.match(request.path):
            return Route(NAME, (match["slug"],), match["prefix"], {"kind": "start"})
        if match := _SIGN_IN.match(request.path):
            return Route(NAME, (), match["prefix"], {"kind": "sign_in"})
        return None

    def handle(self, request: Request, route: Route, scenario: Scenario) -> Response:
        if route.parts["kind"] == "sign_in":
            return html_response(_sign_in())
        if scenario.name == "login_required":
            return redirect(f"{route.prefix}/users/sign_in")
        title = str(scenario.params.get("title", "Demande de rendez-vous – titre de séjour"))
        if scenario.name == "closed":
            text = retyped(CLOSED_TEXT, str(scenario.params.get("variant", "")), CLOSED_NBSP)
            content = f'<div class="fr-alert fr-alert--warning"><p>{h(text)}</p></div>'
        else:
            content = (
                "<p>Temps de remplissage estimé : 15 mn</p>\n"
                f'<a class="fr-btn fr-btn--lg" href="{h(route.prefix)}/users/sign_in">'
                "Commencer la démarche</a>\n"
                '<div class="france-connect"><a class="france-connect-login-button" '
                f'href="{h(route.prefix)}/france_connect">S’identifier avec FranceConnect</a></div>'
            )
        body = (
            f'{_header()}<main class="procedure-preview">\n'
            f'<h1 class="procedure-title">{h(title)}</h1>\n'
            '<p class="procedure-description">Préfecture de l’Imaginaire (démarche fictive '
            "de l’imitation locale).</p>\n"
            f"{content}\n</main>"
        )
        return html_response(page(title, body))


#: Where the ``nbsp`` variant of the closed message breaks its line and keeps words together.
CLOSED_NBSP = ((", il", ",\n  il"), (" de dossier", "\u00a0de dossier"))


def _header() -> str:
    return (
        '<header class="fr-header"><p class="fr-header__service-title">'
        "démarches-simplifiées.fr</p></header>\n"
    )


def _sign_in() -> str:
    body = (
        f'{_header()}<main class="auth"><h1>Connectez-vous</h1>\n'
        '<form method="post"><label for="user_email">Adresse électronique</label>'
        '<input id="user_email" name="user[email]" type="email">'
        '<label for="user_password">Mot de passe</label>'
        '<input id="user_password" name="user[password]" type="password">'
        '<button type="submit" class="fr-btn">Se connecter</button></form>\n'
        '<a class="france-connect-login-button" href="#">S’identifier avec FranceConnect</a>'
        "</main>"
    )
    return page("Connexion - démarches-simplifiées.fr", body)
