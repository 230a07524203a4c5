"""Page templates of the legacy booking module (docs/platforms.md#legacy-booking); flow: legacy.py.

Structure and short strings follow the stored pages; ids are fictional. ``base`` is the
form's URL with whatever prefix the request came with (``/index.php/booking/create/4401``),
so every link and form action keeps that prefix.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import date, datetime

from monitor.imitation.frdates import (
    long_date,
)
from monitor.imitation.legacy_week import noise_png
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
#: The no-slot sentence in its three typographic variants
#: (docs/platforms.md#text-as-the-sites-write-it).
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


#: What ``#planning_calendar`` says when the endpoint's answer is not OK (status >= 400).
CALENDAR_ERROR = "Le calendrier n'a pas pu être chargé."
CALENDAR_LOADING = "Chargement du calendrier…"
AJAX_CALL = "/ezjscore/call/bookingserver::planning::assign::"


def ajax_base(prefix: str, form_id: str, planning: str) -> str:
    """The week endpoint without its offset: ``<prefix>/ezjscore/call/…::<form>::<planning>::``."""
    return f"{prefix}{AJAX_CALL}{form_id}::{planning}::"


def _js(value: str) -> str:
    """A JavaScript literal: a bare integer for ids, else a quoted string safe in <script>."""
    if value.isdigit():
        return value
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")


def calendar_step(
    base: str,
    *,
    prefix: str,
    form_id: str,
    planning: str,
    endpoint: str,
    epoch: date | None,
    written: tuple[str, int] | None = None,
    image_kib: int = 0,
) -> str:
    """Step 4: an empty calendar that the page's script fills with a week from the endpoint.

    As on the real module (docs/platforms.md#legacy-booking), the HTML holds no week: without
    JavaScript the calendar is a loading text. The script POSTs with an empty body (as eZ
    Publish's ``$.ez`` does) to the endpoint + offset and puts the fragment it gets into
    ``#planning_calendar``, or an error text if the answer is not OK; the week links load
    offset - 7 / + 7. ``endpoint``: ``"data"`` writes the address without its offset in
    ``data-url`` (and ``data-offset="0"`` when the origin is relative); ``"script"``
    assembles it from variables, so no complete address is in the page. ``epoch`` None: a
    relative origin, the script starts at offset 0; a date: an absolute origin, the script
    computes today's (Paris) day number since ``epoch`` from the browser's clock, unless
    ``written`` gives (markup, offset): the server writes today's day number into the page,
    as ``var offset = N;`` in the script (``"script"``), ``data-offset="N"`` (``"data"``)
    or at the end of ``data-url`` (``"url"``). ``image_kib``: an inline base64 logo of
    that size above the calendar (the honest page a backtracking pattern froze on).
    """
    if endpoint == "script":
        box = '<div id="planning_calendar">'
        where = (
            f"var prefix = {_js(prefix)};\n"
            f"var formId = {_js(form_id)}, planningId = {_js(planning)};\n"
            "function adresse(offset) {\n"
            f"  return prefix + '{AJAX_CALL}' + formId + '::' + planningId + '::' + offset;\n"
            "}\n"
        )
    else:
        markup, number = written or ("", 0)
        attribute = ' data-offset="0"' if epoch is None else ""
        attribute = f' data-offset="{number}"' if markup == "data" else attribute
        url = h(ajax_base(prefix, form_id, planning) + (str(number) if markup == "url" else ""))
        box = f'<div id="planning_calendar" data-url="{url}"{attribute}>'
        where = (
            "var written = box.getAttribute('data-url');\n"
            "var base = written.replace(/-?[0-9]+$/, '');\n"
            "function adresse(offset) { return base + offset; }\n"
        )
    if epoch is None:
        start = (
            "parseInt(box.getAttribute('data-offset') || '0', 10)" if endpoint != "script" else "0"
        )
    elif written is not None:
        start = {
            "data": "parseInt(box.getAttribute('data-offset'), 10)",
            "url": "parseInt(written.slice(base.length), 10)",
        }.get(written[0] if endpoint != "script" else "script", str(written[1]))
    else:
        # Today's date in Paris from the browser's clock, as midnight UTC of that date, so
        # the day number matches the server's whatever the browser's own time zone.
        where += (
            f"var epoch = Date.UTC({epoch.year}, {epoch.month - 1}, {epoch.day});\n"
            "var today = Date.parse(new Intl.DateTimeFormat('en-CA', {timeZone: "
            "'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit'})"
            ".format(Date.now()));\n"
        )
        start = "Math.floor((today - epoch) / 86400000)"
    error = json.dumps(f'<p class="erreur">{h(CALENDAR_ERROR)}</p>', ensure_ascii=False)
    script = (
        "<script>\n(function () {\n"
        "var box = document.getElementById('planning_calendar');\n"
        f"{where}var offset = {start};\n"
        "function charger(o) {\n"
        "  offset = o;\n"
        "  fetch(adresse(o), {method: 'POST'})\n"
        "    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })\n"
        "    .then(function (t) { box.innerHTML = t; })\n"
        f"    .catch(function () {{ box.innerHTML = {error}; }});\n"
        "}\n"
        "document.querySelector('a.precedente').addEventListener('click', function (e) "
        "{ e.preventDefault(); charger(offset - 7); });\n"
        "document.querySelector('a.suivante').addEventListener('click', function (e) "
        "{ e.preventDefault(); charger(offset + 7); });\n"
        "charger(offset);\n"
        "})();\n</script>"
    )
    nav = (
        '<p class="semaines"><a class="semaine precedente" href="#">Semaine précédente</a> '
        '<a class="semaine suivante" href="#">Semaine suivante</a></p>'
    )
    logo = (
        f'<p class="logo"><img alt="Préfecture" src="data:image/png;base64,{noise_png(image_kib)}">'
        "</p>\n"
        if image_kib
        else ""
    )
    inner = (
        f'{logo}{box}<p class="chargement">{h(CALENDAR_LOADING)}</p></div>\n{nav}\n'
        f"{_button('nextButton', FIRST_FREE)}"
    )
    return "<h2>Choix d'une plage</h2>\n" + _form(f"{base}/4", inner) + "\n" + script


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
