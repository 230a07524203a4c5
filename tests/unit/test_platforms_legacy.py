"""legacy-booking recognition: one table of small pages and what each final page means."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pagecases import html, page, target

from monitor.details import record_line
from monitor.domain import Finding, Platform, Status
from monitor.platforms import legacy_booking

TABS = (
    '<ul class="etapes"><li>Prise de rendez-vous</li><li>Descriptif</li><li>Choix d\'une plage'
    "</li><li>Contrôle de sécurité</li><li>Cordonnées personnelles</li><li>Valider et terminer"
    "</li></ul>"
)
BANNER = (
    "<div class=\"bandeau\">Nous n'avons pas d'autres dates disponibles que celles indiquées "
    "sur ce site.</div>"
)


def module(body: str) -> str:
    return html(f'{BANNER}<div id="inner_Booking">{TABS}{body}</div>')


def no_slot(sentence: str) -> str:
    return module(
        '<h2>Vérification de disponibilité</h2><form id="FormBookingCreate" name="create" '
        f'method="post" action="/booking/create/5001/2">{sentence}'
        '<input type="submit" name="finishButton" value="Terminer"></form>'
    )


CONDITIONS = module(
    '<form id="FormBookingCreate" method="post" action="/booking/create/5001/0"><p>Documents.</p>'
    '<input type="checkbox" id="condition" name="condition" value="on"><div id="submit_Booking">'
    '<input type="submit" name="nextButton" value="Effectuer une demande de rendez-vous"></div>'
    "</form>"
)
DESK_CHOICE = module(
    '<h2>Choix de la nature du rendez-vous</h2><form id="FormBookingCreate" method="post" '
    'action="/booking/create/5001/1"><fieldset id="fchoix_Booking"><p class="Bligne">'
    '<input type="radio" class="radio" name="planning" id="planning5011" value="5011">'
    '<label for="planning5011">Guichet 1</label></p><p class="Bligne"><input type="radio" '
    'class="radio" name="planning" id="planning5012" value="5012"><label for="planning5012">'
    'Guichet 2</label></p></fieldset><input type="submit" class="Bbutton" name="nextButton" '
    'value="Etape suivante"></form>'
)
DESCRIPTION = module(
    '<h2>Description de la nature du rendez-vous</h2><form id="FormBookingCreate" method="post"'
    ' action="/booking/create/5001/3"><p>Guichet 1.</p><input type="submit" name="nextButton" '
    'value="Etape suivante"></form>'
)
LEGEND = (
    '<div class="legende"><p>Légende</p><ul><li><span class="carre vert"></span>libre</li>'
    "<li>réservé</li></ul></div>"
)


def calendar(header: str, cells: str) -> str:
    return module(
        '<h2>Choix d\'une plage</h2><form id="FormBookingCreate" method="post" '
        'action="/booking/create/5001/4"><div id="planning_calendar"><table class="calendrier">'
        f'<thead><tr><th colspan="7">{header}</th></tr></thead><tbody><tr>{cells}</tr></tbody>'
        f'</table>{LEGEND}</div><input type="submit" name="nextButton" '
        'value="Première plage horaire libre"></form>'
    )


BUSY = '<td class="status-0 busy">09:00</td>'
#: Wednesday 8 May 2030, 10:30 Paris (08:30 UTC), as the Unix timestamp of a slot link.
WEDNESDAY = int(datetime(2030, 5, 8, 8, 30, tzinfo=UTC).timestamp())
FREE_LINKED = (
    f'<td class="status-1 free"><a href="/booking/create/5001/5/{WEDNESDAY}">plage libre</a> '
    "10:30</td>"
)
FREE_UNLINKED = '<td class="status-1 free">plage libre 11h00</td>'
SENTENCE = (
    "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. "
    "Veuillez recommencer ultérieurement."
)

CASES: list[tuple[str, str, int, str, str]] = [
    # (case, html, status, expected status, expected reason)
    ("no slot", no_slot(SENTENCE), 200, "unavailable", "no_slot"),
    (
        "no slot, typographic apostrophe",
        no_slot(SENTENCE.replace("'", "’")),
        200,
        "unavailable",
        "no_slot",
    ),
    (
        "no slot, NBSP and line break",
        no_slot(SENTENCE.replace("de rendez", "de\u00a0rendez").replace(". V", ".<br />\n  V")),
        200,
        "unavailable",
        "no_slot",
    ),
    ("no slot, upper case", no_slot(SENTENCE.upper()), 200, "unavailable", "no_slot"),
    (
        "no calendar",
        module(
            '<form id="FormBookingCreate"><ul class="error"><li>Il n\'y a pas calendrier '
            "disponible pour effectuer une demande de rendez-vous</li></ul></form>"
        ),
        200,
        "unavailable",
        "no_calendar",
    ),
    (
        "link disabled",
        html('<div class="message"><p>Ce lien a été désactivé définitivement</p></div>'),
        200,
        "unavailable",
        "closed",
    ),
    (
        "module closed",
        html("<p>Attention : Cette page n'est pas disponible pour le moment !</p>"),
        200,
        "anomaly",
        "maintenance",
    ),
    ("back at the conditions", CONDITIONS, 200, "anomaly", "session_lost"),
    ("back at the desk choice", DESK_CHOICE, 200, "anomaly", "session_lost"),
    ("stuck at the description", DESCRIPTION, 200, "anomaly", "unrecognized"),
    (
        "calendar whose only libre is the legend",
        calendar("Semaine du lundi 06 mai 2030 au dimanche 12 mai 2030", BUSY * 7),
        200,
        "anomaly",
        "unrecognized",
    ),
    (
        "calendar with free cells",
        calendar("Semaine du lundi 06 mai 2030 au dimanche 12 mai 2030", BUSY * 2 + FREE_LINKED),
        200,
        "available",
        "slots",
    ),
    (
        "unknown layout",
        html('<main class="rdv-v2"><h1>Réservation en ligne</h1><p>Revenez plus tard.</p></main>'),
        200,
        "anomaly",
        "unrecognized",
    ),
    ("calendar on an error status", calendar("Semaine", FREE_LINKED), 500, "anomaly", "http_error"),
    ("no slot on a 502", no_slot(SENTENCE), 502, "anomaly", "overloaded"),
]


def recognise(source: str, status: int = 200) -> Finding:
    return legacy_booking.recognise(page(source, status=status), target(Platform.LEGACY_BOOKING))


@pytest.mark.parametrize(
    ("source", "status", "expected_status", "expected_reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_it_recognises_each_state_of_the_module(
    source: str, status: int, expected_status: str, expected_reason: str
) -> None:
    found = recognise(source, status)
    assert (found.status, found.reason) == (expected_status, expected_reason)
    assert record_line(found.detail) and "\n" not in record_line(found.detail)


def test_it_shows_the_no_slot_message_itself_in_the_detail() -> None:
    found = recognise(no_slot(SENTENCE.replace("'", "’")))
    assert record_line(found.detail).startswith("«Il n’existe plus de plage horaire libre")
    assert "Descriptif" not in record_line(found.detail)  # the tabs around it are left out


def test_it_counts_free_cells_and_reads_the_earliest_from_the_slot_link() -> None:
    source = calendar(
        "Semaine du lundi 06 mai 2030 au dimanche 12 mai 2030",
        BUSY + BUSY + FREE_LINKED + FREE_UNLINKED,
    )
    found = recognise(source)
    assert found.status is Status.AVAILABLE and found.slot_count == 2
    # The linked cell is Wednesday 10:30; the unlinked one is Thursday (4th column) 11:00.
    assert found.earliest_slot == datetime(2030, 5, 8, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "header",
    [
        "Semaine du lundi 06 mai 2030 au dimanche 12 mai 2030",
        "Week from lundi 06 mai 2030 to dimanche 12 mai 2030",
    ],
)
def test_it_dates_a_cell_without_link_from_the_week_header(header: str) -> None:
    found = recognise(calendar(header, BUSY + FREE_UNLINKED))
    assert found.status is Status.AVAILABLE and found.slot_count == 1
    assert found.earliest_slot is not None
    # Second column: Tuesday 7 May 2030, 11:00 Paris (UTC+2).
    assert found.earliest_slot.astimezone(UTC) == datetime(2030, 5, 7, 9, 0, tzinfo=UTC)


def test_it_reads_the_desks_a_choice_page_offers() -> None:
    from monitor.platforms.page import Page

    assert legacy_booking.desks_on(Page(page(DESK_CHOICE))) == [5011, 5012]
