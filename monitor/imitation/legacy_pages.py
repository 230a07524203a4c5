"""Page templates of the legacy booking module (PLATFORMS.md §1.2-§1.4). Flow is in legacy.py.

Structure and short strings follow the stored pages; ids are fictional. ``base`` is the
form's URL with whatever prefix the request came with (``/index.php/booking/create/4401``),
so every link and form action keeps that prefix.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime, timedelta

from monitor.imitation.frdates import (
    DAYS,
    FIRST_SLOT,
    LAST_SLOT,
    PARIS,
    SLOT_STEP,
    long_date,
    monday_of,
    parse_first_date,
    week_header,
)
from monitor.imitation.wire import h, page, png

#: Tab labels (sic "Cordonnées") with the step number of each tab's image.
TABS = (
    ("Prise de rendez-vous", 1),
    ("Descriptif", 3),
    ("Choix d'une plage", 4),
    ("Contrôle de sécurité", 6),
    ("Cordonnées personnelles", 8),
    ("Valider et terminer", 9),
)
CONDITION_TITLE = (
    "Cliquez la case pour accepter les conditions d'utilisation avant de continuer "
    "le processus de prise de rendez-vous."
)
CONDITION_LABEL = (
    "Veuillez cocher la case pour accepter les conditions d'utilisation avant de continuer "
    "le processus de prise de rendez-vous."
)
#: The no-slot sentence in its three typographic variants (§7.2 "Text realism").
NO_SLOT_TEXT = {
    "plain": (
        "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. "
        "Veuillez recommencer ultérieurement."
    ),
    "nbsp": (
        "Il n'existe plus de plage horaire libre pour votre demande de\u00a0rendez-vous.<br />\n"
        "      Veuillez recommencer\u00a0ultérieurement."
    ),
    "typographic": (
        "Il n’existe plus de plage horaire libre pour votre demande de rendez-vous. "
        "Veuillez recommencer ultérieurement."
    ),
}
NO_CALENDAR_TEXT = "Il n'y a pas calendrier disponible pour effectuer une demande de rendez-vous"
MODULE_CLOSED_TEXT = "Attention : Cette page n'est pas disponible pour le moment !"
LINK_DISABLED_TEXT = "Ce lien a été désactivé définitivement"
FIRST_FREE = "Première plage horaire libre"
IMAGE_DIR = "/design/booking/images"


def layout(body: str, *, tab: int | None, prefix: str, banner: bool) -> str:
    """The prefecture page around a step: cookie banner, anti-scam notice, tabs with images."""
    tabs = ""
    if tab is not None:
        items = []
        for index, (label, number) in enumerate(TABS):
            active = index == tab
            image = f"{prefix}{IMAGE_DIR}/etape_{number}{'r' if active else ''}.png"
            css = ' class="active"' if active else ""
            items.append(f'<li{css}><img src="{h(image)}" alt=""> {h(label)}</li>')
        tabs = '<ul class="etapes">' + "".join(items) + "</ul>\n"
    cookie = (
        '<div id="cookies-banner"><p>Ce site utilise des cookies nécessaires à son '
        'fonctionnement.</p> <a href="javascript:accepter()">Accepter</a></div>\n'
        "<script>function accepter(){document.getElementById('cookies-banner')"
        ".style.display='none';document.cookie='cookies_ok=1; path=/';}</script>\n"
        if banner
        else ""
    )
    notice = (
        "<div class=\"bandeau\">Nous n'avons pas d'autres dates disponibles que celles "
        "indiquées sur ce site.</div>\n"
    )
    content = (
        f'{cookie}<div id="header">Préfecture de l’Imaginaire (imitation locale)</div>\n'
        f'{notice}<div id="inner_Booking">\n{tabs}{body}\n</div>'
    )
    return page("Prise de rendez-vous - Préfecture de l’Imaginaire", content)


def _form(action: str, inner: str) -> str:
    return (
        f'<form id="FormBookingCreate" name="create" method="post" action="{h(action)}">\n'
        f"{inner}\n</form>"
    )


def _button(name: str, value: str) -> str:
    return f'<input type="submit" class="Bbutton" name="{h(name)}" value="{h(value)}">'


def conditions(base: str) -> str:
    inner = (
        "<p>Ce service permet de demander un rendez-vous pour le dépôt d’un dossier de "
        "titre de séjour. Munissez-vous de votre passeport et d'un justificatif de domicile."
        '</p>\n<p class="Bligne"><input type="checkbox" id="condition" name="condition" '
        f'value="on" title="{h(CONDITION_TITLE)}" aria-label="{h(CONDITION_LABEL)}"> '
        '<label for="condition">J’accepte les conditions d’utilisation</label></p>\n'
        f'<div id="submit_Booking">{_button("nextButton", "Effectuer une demande de rendez-vous")}'
        "</div>"
    )
    return _form(f"{base}/0", inner)


def desk_choice(base: str, desks: Sequence[tuple[str, str]]) -> str:
    lines = "".join(
        f'<p class="Bligne"><input type="radio" class="radio" name="planning" '
        f'id="planning{h(desk)}" value="{h(desk)}"> '
        f'<label for="planning{h(desk)}">{h(label)}</label></p>\n'
        for desk, label in desks
    )
    inner = (
        "<p>Que souhaitez-vous effectuer ?</p>\n"
        f'<fieldset id="fchoix_Booking">\n{lines}</fieldset>\n'
        + _button("nextButton", "Etape suivante")
    )
    return "<h2>Choix de la nature du rendez-vous</h2>\n" + _form(f"{base}/1", inner)


def no_calendar(base: str) -> str:
    return _form(f"{base}/1", f'<ul class="error"><li>{h(NO_CALENDAR_TEXT)}</li></ul>')


def no_slot(base: str, variant: str) -> str:
    # The sentence is trusted template text (it carries a <br /> in the "nbsp" variant).
    text = NO_SLOT_TEXT.get(variant, NO_SLOT_TEXT["plain"])
    inner = f"{text}\n{_button('finishButton', 'Terminer')}"
    return "<h2>Vérification de disponibilité</h2>\n" + _form(f"{base}/2", inner)


def description(base: str, desk_label: str) -> str:
    inner = (
        f"<p>{h(desk_label)} : dépôt d’une demande de titre de séjour. Durée : 15 minutes."
        f"</p>\n{_button('nextButton', 'Etape suivante')}"
    )
    return "<h2>Description de la nature du rendez-vous</h2>\n" + _form(f"{base}/3", inner)


def week_table(
    *, prefix: str, form_id: str, monday: datetime, slots: Sequence[datetime], english: bool
) -> str:
    """The AJAX calendar fragment: one week, rows of times, free cells linking step 5."""
    free = {moment.astimezone(PARIS).replace(second=0, microsecond=0): moment for moment in slots}
    days = [monday + timedelta(days=offset) for offset in range(7)]
    head = "".join(f"<th>{DAYS[d.weekday()][:3]}. {d:%d/%m}</th>" for d in days)
    rows = []
    moment_of_day = datetime.combine(monday.date(), FIRST_SLOT)
    while moment_of_day.time() <= LAST_SLOT:
        cells = []
        for day in days:
            at = datetime.combine(day.date(), moment_of_day.time(), tzinfo=PARIS)
            if at in free:
                link = f"{prefix}/booking/create/{form_id}/5/{int(at.timestamp())}"
                cells.append(
                    f'<td class="status-1 free"><a href="{h(link)}" title="{h(long_date(at))}">'
                    f"plage libre</a> {at:%H:%M}</td>"
                )
            elif day.weekday() >= 5:
                cells.append('<td class="status-2 closed">fermé</td>')
            else:
                cells.append(f'<td class="status-0 busy">{at:%H:%M}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
        moment_of_day += SLOT_STEP
    header = week_header(monday.date(), english=english)
    return (
        '<table class="calendrier">\n<thead>\n'
        f'<tr><th colspan="7">{h(header)}</th></tr>\n<tr>{head}</tr>\n</thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n"
        '<div class="legende"><p>Légende</p><ul><li><span class="carre vert"></span>libre</li>'
        '<li><span class="carre gris"></span>réservé</li><li>fermé</li></ul></div>'
    )


def first_monday(slots: Sequence[datetime], origin: object = None) -> datetime:
    """Monday 00:00 of the calendar's first week: ``origin`` if given, else the first slot's."""
    start = parse_first_date(origin) if origin is not None else (slots[0] if slots else None)
    if start is None:
        start = parse_first_date(None)
    return datetime.combine(monday_of(start.date()), datetime.min.time(), tzinfo=PARIS)


def calendar_step(base: str, ajax_url: str, table: str) -> str:
    """Step 4: the first week inline (readable without JavaScript), other weeks via AJAX."""
    script = (
        "<script>document.querySelectorAll('a.semaine').forEach(function(a){"
        "a.addEventListener('click',function(e){e.preventDefault();"
        "fetch(a.dataset.url).then(function(r){return r.text();}).then(function(t){"
        "document.getElementById('planning_calendar').innerHTML=t;});});});</script>"
    )
    nav = f'<p><a class="semaine" href="#" data-url="{h(ajax_url)}7">Semaine suivante</a></p>'
    inner = (
        f'<div id="planning_calendar">\n{table}\n</div>\n{nav}\n{_button("nextButton", FIRST_FREE)}'
    )
    return "<h2>Choix d'une plage</h2>\n" + _form(f"{base}/4", inner) + script


def chosen_slot(base: str, moment: datetime) -> str:
    return (
        "<h2>Choix d'une plage</h2>\n"
        f"<fieldset><legend>Plage horaire choisie</legend>{h(long_date(moment))}</fieldset>\n"
        + _form(f"{base}/5", _button("nextButton", "Etape suivante"))
    )


def captcha_step(base: str, rejected: bool) -> str:
    """Step 6: a local stand-in for the reCAPTCHA widget; it calls no outside service."""
    image = base64.b64encode(png(120, 40, seed=6)).decode()
    error = '<p class="erreur">Le code saisi est incorrect.</p>\n' if rejected else ""
    inner = (
        f'{error}<div id="imitation_captcha" class="imitation-captcha">'
        f'<img src="data:image/png;base64,{image}" alt="Contrôle de sécurité"> '
        '<input type="text" name="imitation_captcha_response" autocomplete="off"></div>\n'
        + _button("nextButton", "Etape suivante")
    )
    return "<h2>Contrôle de sécurité</h2>\n" + _form(f"{base}/6", inner)


def personal_details(base: str) -> str:
    fields = "".join(
        f'<p class="Bligne"><label for="{name}">{h(label)}</label> '
        f'<input type="text" id="{name}" name="{name}"></p>\n'
        for name, label in (
            ("lastname", "Nom"),
            ("firstname", "Prénom"),
            ("email", "Courriel"),
            ("emailcheck", "Confirmation du courriel"),
        )
    )
    inner = fields + _button("nextButton", "Etape suivante")
    return "<h2>Coordonnées personnelles</h2>\n" + _form(f"{base}/8", inner)


def finished() -> str:
    return (
        "<h2>Valider et terminer</h2>\n<ul>"
        "<li>Vous disposez de 60 minutes pour confirmer votre demande de rendez-vous.</li>"
        "<li>Un message électronique vous a été envoyé.</li></ul>"
    )


def message_page(text: str, css: str) -> str:
    return f'<div class="{h(css)}"><p>{h(text)}</p></div>'


def drifted_start(action: str) -> str:
    """A redesigned module: renamed ids, other button values, none of the known strings."""
    body = (
        '<main class="rdv-v2"><h1>Réservation en ligne</h1>\n'
        f'<form id="BookingRequest" method="post" action="{h(action)}">'
        '<label><input type="checkbox" id="accept_terms" name="accept_terms" value="1"> '
        "J’ai lu les règles du service</label>\n"
        '<button type="submit" name="continue" value="go">Continuer</button></form></main>'
    )
    return page("Réservation en ligne", body)


def drifted_result() -> str:
    body = (
        '<main class="rdv-v2"><h1>Réservation en ligne</h1>\n'
        '<section id="booking_result"><p>Aucune réservation possible actuellement. '
        'Revenez plus tard.</p><button type="button" name="close">Fermer</button></section></main>'
    )
    return page("Réservation en ligne", body)
