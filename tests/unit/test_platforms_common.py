"""Rules every platform shares, text normalisation and dates: pure tables on HTML strings."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from pagecases import html, page, target

from monitor.details import record_line
from monitor.domain import Finding, PageSnapshot, Platform, Reason, Status
from monitor.platforms import ADAPTERS, common, dates
from monitor.platforms.page import Page
from monitor.text import normalise, one_line

NGINX = (
    "<html><head><title>{0}</title></head><body><center><h1>{0}</h1></center>"
    "<hr><center>nginx</center></body></html>"
)


# -- text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "Il n'existe plus de plage horaire libre",
        "Il n’existe plus de plage horaire libre",
        "Il n'existe plus de\u00a0plage horaire libre",
        "Il n'existe plus de plage\n      horaire\u202flibre",
        "IL N'EXISTE PLUS DE PLAGE HORAIRE LIBRE",
        "  Il n\u02bcexiste plus de plage horaire libre  ",
    ],
)
def test_it_normalises_apostrophes_spaces_and_case(written: str) -> None:
    assert normalise(written) == "il n'existe plus de plage horaire libre"


@pytest.mark.parametrize("apostrophe", ["\u2019", "\u2018", "\u02bc", "\u00b4", "\u2032"])
@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])
def test_it_straightens_every_apostrophe_and_drops_every_invisible_character(
    apostrophe: str, invisible: str
) -> None:
    written = f"Il n{apostrophe}ex{invisible}iste plus{invisible} de plage"
    assert normalise(written) == "il n'existe plus de plage"
    assert one_line(written) == f"Il n{apostrophe}existe plus de plage"  # apostrophe as shown


def test_it_keeps_accents_when_normalising() -> None:
    assert normalise("Vérification de DISPONIBILITÉ") == "vérification de disponibilité"
    assert normalise("Ce lien a été désactivé") != normalise("Ce lien a ete desactive")


def test_it_cuts_a_detail_to_one_line_of_at_most_300_characters() -> None:
    line = one_line("a\n" * 400)
    assert "\n" not in line and len(line) == 300 and line.endswith("…")


# -- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lundi 6 mai 2030 à 09h00", datetime(2030, 5, 6, 7, 0, tzinfo=UTC)),
        ("Lundi 06 Mai 2030 à 9h30", datetime(2030, 5, 6, 7, 30, tzinfo=UTC)),
        ("1er décembre 2030 à 14:15", datetime(2030, 12, 1, 13, 15, tzinfo=UTC)),
        ("le 3 fevrier 2031", datetime(2031, 2, 2, 23, 0, tzinfo=UTC)),
        ("06/05/2030 à 10h00", datetime(2030, 5, 6, 8, 0, tzinfo=UTC)),
    ],
)
def test_it_reads_french_dates_as_paris_time(text: str, expected: datetime) -> None:
    parsed = dates.parse_french_date(text)
    assert parsed is not None and dates.to_utc(parsed) == expected


@pytest.mark.parametrize(
    "header",
    [
        "Semaine du lundi 27 avril 2020 au dimanche 03 mai 2020",
        "Week from lundi 27 avril 2020 to dimanche 03 mai 2020",
        "semaine du\u00a0lundi 27 avril 2020",
    ],
)
def test_it_reads_the_week_header_in_french_and_in_english(header: str) -> None:
    assert dates.parse_week_header(header) == date(2020, 4, 27)


def test_it_reads_unix_timestamps_and_refuses_implausible_ones() -> None:
    assert dates.from_timestamp("1904281200") == datetime(2030, 5, 6, 7, 0, tzinfo=UTC)
    assert dates.from_timestamp("500") is None  # an id, not a date


def test_it_reads_iso_dates_naive_ones_as_paris_time() -> None:
    assert dates.parse_iso("2030-05-06T09:00:00+02:00") == datetime(2030, 5, 6, 7, tzinfo=UTC)
    naive = dates.parse_iso("2030-05-06T09:00")
    assert naive is not None and dates.to_utc(naive) == datetime(2030, 5, 6, 7, tzinfo=UTC)
    assert dates.parse_iso("") is None  # datePremiereDispo == "" means nothing
    assert dates.parse_clock("plage libre 10h30") == time(10, 30)


# -- infrastructure rules -----------------------------------------------------------------

CAPTCHA_CGU = html(
    '<main id="contenu"><form><label for="captchaFormulaireExtInput">Saisissez le code de '
    'sécurité</label><div class="captcha"><img id="captchaFR_CaptchaImage" src="data:,"></div>'
    '<input id="captchaFormulaireExtInput" name="captchaUsercode"><button>Suivant</button>'
    "</form></main>"
)
INTERSTITIAL = html(
    "<main><h1>Un instant…</h1><p>Vérifiez que vous êtes humain en cochant la case.</p></main>",
    title="Un instant…",
)
SHELL = (
    "<!DOCTYPE html><html><head><title>RDV Préfecture</title></head><body><noscript>Ce site "
    'nécessite JavaScript.</noscript><div id="q-app"></div><script>var VIEW="eyJ4Ijo1MDJ9";'
    "</script></body></html>"
)

INFRASTRUCTURE: list[tuple[str, str, int | None, str | None]] = [
    # (case, html, status, expected reason or None for "no shared rule applies")
    ("nginx 502", NGINX.format("502 Bad Gateway"), 502, "overloaded"),
    ("nginx 503", NGINX.format("503 Service Unavailable"), 503, "overloaded"),
    ("nginx 504", NGINX.format("504 Gateway Timeout"), 504, "overloaded"),
    ("502 page served as 200", NGINX.format("502 Bad Gateway"), 200, "overloaded"),
    (
        "Service surchargé (200)",
        html("<h1>Service surchargé</h1><p>Trop de monde.</p>"),
        200,
        "overloaded",
    ),
    ("403 Forbidden", NGINX.format("403 Forbidden"), 403, "blocked"),
    ("429", NGINX.format("429 Too Many Requests"), 429, "blocked"),
    (
        "rate-limit JSON",
        '{"errors":["Limite d\'appels API atteinte. Merci de patienter.\\n"]}',
        429,
        "blocked",
    ),
    ("500", NGINX.format("500 Internal Server Error"), 500, "http_error"),
    ("404", NGINX.format("404 Not Found"), 404, "http_error"),
    ("410 without a heading", html("<p>Parti.</p>"), 410, "http_error"),
    ("captcha wall", CAPTCHA_CGU, 200, "captcha"),
    ("prove you are human, 403", INTERSTITIAL, 403, "captcha"),
    (
        "reCAPTCHA gate",
        html('<form><div class="g-recaptcha" data-sitekey="x"></div></form>'),
        200,
        "captcha",
    ),
    ("maintenance h1", html("<h1>Site en maintenance</h1>"), 200, "maintenance"),
    ("maintenance 503", html("<h1>Service en maintenance</h1>"), 503, "maintenance"),
    (
        "module closed",
        html("<p>Attention : Cette page n'est pas disponible pour le moment !</p>"),
        200,
        "maintenance",
    ),
    ("empty body", "", 200, "empty_page"),
    ("blank body", "   \n ", 200, "empty_page"),
    ("app shell", SHELL, 200, "empty_page"),
    # Over-broad keywords must not fire (docs/platforms.md#mistakes-bots-make, 2).
    (
        "ids and times with 500 and 502",
        html(
            '<h2>Démarche 5002</h2><p id="planning500">Guichet 502, rendez-vous à 15h00</p>'
            '<a href="/booking/create/5001/5/1904285020">x</a>'
        ),
        200,
        None,
    ),
    ("heading starting with a number", html("<h1>500 rendez-vous proposés</h1>"), 200, None),
    (
        "the word maintenance in a paragraph",
        html("<h1>Accueil</h1><p>Une maintenance est prévue le 3 mai.</p>"),
        200,
        None,
    ),
    ("the word erreur", html("<h1>Accueil</h1><p>En cas d'erreur, recommencez.</p>"), 200, None),
    (
        "a document list, not a captcha",
        html("<p>Apportez votre attestation (code de sécurité sociale).</p>"),
        200,
        None,
    ),
]


@pytest.mark.parametrize(
    ("source", "status", "expected"),
    [case[1:] for case in INFRASTRUCTURE],
    ids=[case[0] for case in INFRASTRUCTURE],
)
def test_it_recognises_infrastructure_pages_by_status_and_heading(
    source: str, status: int | None, expected: str | None
) -> None:
    found = common.infrastructure(Page(page(source, status=status)))
    if expected is None:
        assert found is None
    else:
        assert found is not None and found.status is Status.ANOMALY
        assert found.reason == expected


def test_it_recognises_a_refused_captcha_by_the_url() -> None:
    snapshot = page(
        html("<h1>Conditions</h1>"),
        url="https://x/rdvpref/reservation/demarche/1/cgu/",
        final_url="https://x/rdvpref/reservation/demarche/1/cgu/?error=invalidCaptcha",
    )
    found = common.infrastructure(Page(snapshot))
    assert found is not None and found.reason is Reason.CAPTCHA


@pytest.mark.parametrize("platform", list(Platform))
@pytest.mark.parametrize(
    ("source", "status", "expected"),
    [case[1:] for case in INFRASTRUCTURE if case[3] is not None],
    ids=[case[0] for case in INFRASTRUCTURE if case[3] is not None],
)
def test_no_infrastructure_page_is_ever_available_on_any_platform(
    platform: Platform, source: str, status: int | None, expected: str
) -> None:
    rules = {"available": [{"text": "rendez-vous", "reason": "slots"}]}
    found = _recognise(platform, source, status, rules)
    assert found.status is not Status.AVAILABLE
    assert found.reason == expected


@pytest.mark.parametrize(
    ("source", "status", "header", "reason", "note"),
    [
        (NGINX.format("429 Too Many Requests"), 429, "120", "blocked", " (Retry-After: 120)"),
        (
            NGINX.format("503 Service Unavailable"),
            503,
            "Wed, 21 Oct 2026 07:28:00 GMT",
            "overloaded",
            " (Retry-After: Wed, 21 Oct 2026 07:28:00 GMT)",
        ),
        (
            html("<h1>Service en maintenance</h1>"),
            503,
            "3600",
            "maintenance",
            " (Retry-After: 3600)",
        ),
        (NGINX.format("429 Too Many Requests"), 429, None, "blocked", None),
        (NGINX.format("429 Too Many Requests"), 429, "  ", "blocked", None),
        # Only 429 and 503 answers' Retry-After means "stay away this long".
        (NGINX.format("403 Forbidden"), 403, "120", "blocked", None),
        (NGINX.format("502 Bad Gateway"), 502, "120", "overloaded", None),
    ],
)
def test_the_detail_of_a_429_or_503_page_ends_with_its_retry_after(
    source: str, status: int, header: str | None, reason: str, note: str | None
) -> None:
    snapshot = dataclasses.replace(page(source, status=status), retry_after=header)
    found = common.infrastructure(Page(snapshot))
    assert found is not None and found.reason == reason
    if note is None:
        assert "Retry-After" not in record_line(found.detail)
    else:
        assert record_line(found.detail).endswith(note)
    for platform in Platform:  # every platform's recognition, as the evidence row shows it
        assert record_line(_recognise_snapshot(platform, snapshot).detail) == record_line(
            found.detail
        )


def test_the_retry_after_note_survives_a_detail_cut_to_one_line() -> None:
    long_url = "https://www.example-pref.gouv.fr/" + "x" * 400  # a captcha's detail names it
    snapshot = dataclasses.replace(page(INTERSTITIAL, status=429, url=long_url), retry_after="60")
    found = common.infrastructure(Page(snapshot))
    assert found is not None and found.reason is Reason.CAPTCHA
    assert (
        record_line(found.detail).endswith("… (Retry-After: 60)")
        and len(record_line(found.detail)) <= 300
    )


def _recognise_snapshot(platform: Platform, snapshot: PageSnapshot) -> Finding:
    rules = {"available": [{"text": "rendez-vous", "reason": "slots"}]}
    the_target = target(platform, rules=rules if platform is Platform.GENERIC else None)
    return ADAPTERS[platform].recognise(snapshot, the_target)


def _recognise(
    platform: Platform, source: str, status: int | None, rules: dict[str, Any]
) -> Finding:
    the_target = target(platform, rules=rules if platform is Platform.GENERIC else None)
    return ADAPTERS[platform].recognise(page(source, status=status), the_target)


def test_only_the_positive_constructor_makes_available_findings() -> None:
    positive = common.available(Reason.SLOTS, "3 slots", slot_count=3)
    assert isinstance(positive, common.Positive) and positive.status is Status.AVAILABLE
    with pytest.raises(ValueError):
        common.available(Reason.NO_SLOT, "no")
    with pytest.raises(ValueError):
        common.unavailable(Reason.SLOTS, "yes")
