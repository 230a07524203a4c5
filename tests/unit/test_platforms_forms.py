"""demarches-simplifiees and anef recognition: open, closed, maintenance, shells."""

from __future__ import annotations

import pytest
from pagecases import URLS, html, page, target

from monitor.domain import Platform
from monitor.platforms import anef, demarches_simplifiees

DS_OPEN = html(
    '<main class="procedure-preview"><h1>Demande de rendez-vous – titre de séjour</h1>'
    '<p>Temps de remplissage estimé : 15 mn</p><a class="fr-btn" href="/users/sign_in">'
    "Commencer la démarche</a></main>"
)
DS_CLOSED = html(
    '<main><h1>Demande de rendez-vous</h1><div class="fr-alert"><p>Cette démarche en ligne a '
    "été close, il n’est plus possible de déposer de dossier.</p></div></main>"
)
DS_SIGN_IN = html(
    '<main class="auth"><h1>Connectez-vous</h1><form><input name="user[email]">'
    '<button class="fr-btn">Se connecter</button></form></main>'
)


@pytest.mark.parametrize(
    ("source", "status", "expected"),
    [
        (DS_OPEN, 200, ("available", "open")),
        (DS_CLOSED, 200, ("unavailable", "closed")),
        (DS_SIGN_IN, 200, ("anomaly", "unrecognized")),
        (DS_OPEN, 500, ("anomaly", "http_error")),
        ("", 200, ("anomaly", "empty_page")),
    ],
    ids=["open", "closed", "sign-in page", "open form on a 500", "empty"],
)
def test_it_recognises_a_demarche_start_page(
    source: str, status: int, expected: tuple[str, str]
) -> None:
    found = demarches_simplifiees.recognise(
        page(source, status=status, url=URLS[Platform.DEMARCHES_SIMPLIFIEES]),
        target(Platform.DEMARCHES_SIMPLIFIEES),
    )
    assert (found.status, found.reason) == expected


ANEF_HOME = html(
    '<app-root><main id="main"><h1>Administration numérique pour les étrangers en France</h1>'
    '<div class="p-tabview"><a role="tab">Je suis en France</a></div></main></app-root>'
)
ANEF_LOGIN = html(
    '<app-root><main class="connexion-inscription"><h1>Connexion ou inscription</h1>'
    '<form class="connexion"><input id="identifiant"></form></main></app-root>'
)
ANEF_SHELL = (
    "<html><head><title>Administration numérique pour les étrangers en France</title></head>"
    "<body><noscript>Ce site nécessite JavaScript.</noscript><app-root></app-root>"
    '<script>var VIEW="e30=";</script></body></html>'
)


@pytest.mark.parametrize(
    ("source", "url_suffix", "expected"),
    [
        (ANEF_HOME, "", ("available", "open")),
        (ANEF_LOGIN, "#/espace-personnel/connexion-inscription", ("available", "open")),
        (html("<main><h1>Site en maintenance</h1></main>"), "", ("anomaly", "maintenance")),
        (ANEF_SHELL, "", ("anomaly", "empty_page")),
        (ANEF_SHELL, "#/espace-personnel/connexion-inscription", ("anomaly", "empty_page")),
        (html("<app-root><h1>Bienvenue</h1></app-root>"), "", ("anomaly", "unrecognized")),
    ],
    ids=["home", "login wall", "maintenance", "shell", "shell on the login route", "unknown"],
)
def test_it_recognises_the_anef_portal_states(
    source: str, url_suffix: str, expected: tuple[str, str]
) -> None:
    found = anef.recognise(
        page(source, url=URLS[Platform.ANEF] + url_suffix), target(Platform.ANEF)
    )
    assert (found.status, found.reason) == expected
