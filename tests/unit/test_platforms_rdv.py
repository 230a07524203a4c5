"""rdv-prefecture and rdv-service-public recognition: pure tables on small pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pagecases import URLS, html, page, target

from monitor.details import record_line
from monitor.domain import Finding, Platform, Status
from monitor.platforms import rdv_prefecture, rdv_service_public

LANDING_URL = URLS[Platform.RDV_PREFECTURE]
CGU_URL = LANDING_URL + "cgu/"
CRENEAU_URL = LANDING_URL + "creneau/"

LANDING = html(
    '<div id="q-app"><main id="contenu"><h1>Demande de titre de séjour</h1>'
    f'<a class="q-btn q-btn-item bg-primary text-white" href="{CGU_URL}">'
    '<span class="q-btn__content">Prendre un rendez-vous</span></a>'
    '<a class="q-btn text-primary" href="/rdvpref/login/">Gérer mes rendez-vous</a></main></div>'
)
CAPTCHA_WALL = html(
    '<div id="q-app"><main id="contenu"><h1>Conditions d\'utilisation</h1><p>Constituez votre '
    "dossier.</p><form><label>Saisissez le code de sécurité affiché dans l’image</label>"
    '<div class="captcha"><img id="captchaFR_CaptchaImage" src="data:image/png;base64,AA=="></div>'
    '<input id="captchaFormulaireExtInput" name="captchaUsercode"><input type="hidden" '
    'name="captchaId" value="x"><button>Suivant</button></form></main></div>'
)
GATE = html(
    '<div id="q-app"><main><h1>Vérification</h1><form><div class="g-recaptcha" '
    'data-sitekey="k"></div><button>Suivant</button></form></main></div>'
)
INTERSTITIAL = html(
    '<main class="challenge"><h1>Un instant…</h1><p>Vérifiez que vous êtes humain.</p></main>',
    title="Un instant…",
)
SHELL = (
    "<!DOCTYPE html><html><head><title>RDV Préfecture</title></head><body><noscript>Ce site "
    'nécessite JavaScript.</noscript><div id="q-app"></div><script>var VIEW="e30=";</script>'
    "</body></html>"
)
NO_SLOT = html(
    '<div id="q-app"><main id="contenu"><h2>Aucun créneau disponible</h2><p>Veuillez réessayer '
    'ultérieurement.</p></main></div><script>window.__INITIAL_STATE__ = {"critere": '
    '{"datePremiereDispo": "", "dateMin": "", "dateMax": ""}};</script>'
)
EMPTY_CRITERE = html(
    '<div id="q-app"><main><h1>Choisissez votre créneau</h1></main></div><script>'
    'window.__INITIAL_STATE__ = {"critere": {"datePremiereDispo": ""}};</script>'
)


def cards(*moments: str) -> str:
    items = "".join(
        f'<li class="row cellule justify-center radio-card"><input type="radio" name="trhId" '
        f'id="trhId_{n}" value="{n}"><label for="trhId_{n}"><time datetime="{moment}">'
        f"{moment}</time></label></li>"
        for n, moment in enumerate(moments, 1)
    )
    return html(
        f'<div id="q-app"><main><h1>Choisissez votre créneau</h1><form><ul>{items}</ul>'
        '<button class="q-btn bg-primary">Suivant</button></form></main></div><script>'
        f'window.__INITIAL_STATE__ = {{"critere": {{"datePremiereDispo": "{moments[0]}"}}}};'
        "</script>"
    )


def rdvpref(source: str, status: int = 200, url: str = CGU_URL) -> Finding:
    return rdv_prefecture.recognise(
        page(source, status=status, url=url), target(Platform.RDV_PREFECTURE)
    )


RDV_PREFECTURE: list[tuple[str, str, int, str, str, str]] = [
    # (case, html, status, final URL, expected status, expected reason)
    ("captcha wall", CAPTCHA_WALL, 200, CGU_URL, "anomaly", "captcha"),
    ("captcha refused", CAPTCHA_WALL, 200, CGU_URL + "?error=invalidCaptcha", "anomaly", "captcha"),
    ("reCAPTCHA gate", GATE, 200, CGU_URL, "anomaly", "captcha"),
    ("interstitial 403", INTERSTITIAL, 403, LANDING_URL, "anomaly", "captcha"),
    ("plain 403", "<h1>403 Forbidden</h1>", 403, LANDING_URL, "anomaly", "blocked"),
    ("sent back to the landing", LANDING, 200, LANDING_URL, "anomaly", "session_lost"),
    ("app shell", SHELL, 200, LANDING_URL, "anomaly", "empty_page"),
    ("no slot", NO_SLOT, 200, CRENEAU_URL, "unavailable", "no_slot"),
    ("empty datePremiereDispo", EMPTY_CRITERE, 200, CRENEAU_URL, "unavailable", "no_slot"),
    (
        "maintenance",
        html("<main><h1>Service en maintenance</h1><p>Revenez plus tard.</p></main>"),
        200,
        LANDING_URL,
        "anomaly",
        "maintenance",
    ),
    (
        "renamed classes",
        html('<div class="v-app-2"><h1>Service en ligne</h1><a class="btn-go">Commencer</a></div>'),
        200,
        LANDING_URL,
        "anomaly",
        "unrecognized",
    ),
    ("slot cards", cards("2030-05-06T09:00:00+02:00"), 200, CRENEAU_URL, "available", "slots"),
]


@pytest.mark.parametrize(
    ("source", "status", "url", "expected_status", "expected_reason"),
    [case[1:] for case in RDV_PREFECTURE],
    ids=[case[0] for case in RDV_PREFECTURE],
)
def test_it_recognises_each_rdv_prefecture_state(
    source: str, status: int, url: str, expected_status: str, expected_reason: str
) -> None:
    found = rdvpref(source, status, url)
    assert (found.status, found.reason) == (expected_status, expected_reason)


def test_aucun_creneau_disponible_is_not_read_as_disponible() -> None:
    found = rdvpref(NO_SLOT, url=CRENEAU_URL)
    assert found.status is Status.UNAVAILABLE
    assert "Aucun créneau disponible" in record_line(found.detail)


def test_it_counts_slot_cards_and_reads_the_earliest() -> None:
    found = rdvpref(
        cards("2030-05-07T10:00:00+02:00", "2030-05-06T09:30:00+02:00"), url=CRENEAU_URL
    )
    assert found.status is Status.AVAILABLE and found.slot_count == 2
    assert found.earliest_slot == datetime(2030, 5, 6, 7, 30, tzinfo=UTC)


# -- RDV Service Public -------------------------------------------------------------------

RDVSP_URL = URLS[Platform.RDV_SERVICE_PUBLIC]


def rdvsp(source: str, status: int = 200) -> Finding:
    return rdv_service_public.recognise(
        page(source, status=status, url=RDVSP_URL), target(Platform.RDV_SERVICE_PUBLIC)
    )


NO_SLOT_SENTENCES = [
    "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé.",
    "Malheureusement, aucun créneau correspondant à votre recherche n’a été trouvé.",
    "Malheureusement, aucun créneau correspondant à votre\n recherche n'a\u00a0été trouvé.",
    "Malheureusement, aucun créneau correspondant à votre invitation n'a été trouvé. "
    "Toutes nos excuses pour cela.",
]


@pytest.mark.parametrize("sentence", NO_SLOT_SENTENCES)
def test_it_reads_every_variant_of_the_no_slot_sentence(sentence: str) -> None:
    found = rdvsp(html(f'<div id="nothing_to_show" class="fr-alert"><p>{sentence}</p></div>'))
    assert (found.status, found.reason) == ("unavailable", "no_slot")
    assert record_line(found.detail).startswith("«Malheureusement")


def test_it_counts_the_slots_of_a_public_link() -> None:
    links = "".join(
        f'<li><a class="fr-btn creneau" href="/prendre_rdv?starts_at={moment}">'
        f'<time datetime="{moment}">x</time></a></li>'
        for moment in ("2030-05-06T10:00:00+02:00", "2030-05-06T09:00:00+02:00")
    )
    found = rdvsp(html(f'<section id="creneaux"><ul>{links}</ul></section>'))
    assert (found.status, found.reason, found.slot_count) == ("available", "slots", 2)
    assert found.earliest_slot == datetime(2030, 5, 6, 7, 0, tzinfo=UTC)


def test_a_rate_limited_public_api_is_blocked() -> None:
    found = rdvsp('{"errors":["Limite d\'appels API atteinte. Merci de patienter.\\n"]}', 429)
    assert (found.status, found.reason) == ("anomaly", "blocked")


def test_a_page_without_slots_nor_message_is_unrecognized() -> None:
    found = rdvsp(html("<main><h1>Choisissez un lieu</h1><p>Paris, Lyon.</p></main>"))
    assert (found.status, found.reason) == ("anomaly", "unrecognized")
