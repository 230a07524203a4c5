"""Page templates of RDV Préfecture (docs/platforms.md#rdv-prefecture); flow, sessions: rdvpref.py.

Landing, gate and ``/cgu/`` are view trees for the client-side renderer (spa.py); the slot
page ``/creneau/`` and the "Vos informations" form are server-rendered HTML with the
``"critere"`` state embedded as JSON, as the real page carries it.
"""

from __future__ import annotations

import json
from datetime import datetime

from monitor.imitation import spa
from monitor.imitation.frdates import iso, long_date, parse_first_date, slot_times
from monitor.imitation.scenarios import Scenario
from monitor.imitation.spa import Node, el
from monitor.imitation.wire import Response, h, html_response, page

MOUNT = '<div id="q-app"></div>'


def app(
    nodes: list[Node],
    delay: int,
    *,
    content_delay: int = 0,
    client_routing: bool = False,
    banner: list[Node] | None = None,
) -> str:
    """The app shell for a view. ``content_delay`` > 0: the header renders first and the
    rest that many ms later; ``banner``: consent-banner nodes rendered with the header."""
    first, later = (nodes[:1], nodes[1:]) if content_delay > 0 else (nodes, [])
    return spa.shell(
        title="RDV Préfecture",
        mount="#q-app",
        mount_markup=MOUNT,
        nodes=[*first, *(banner or [])],
        delay_ms=delay,
        page_title="Prise de rendez-vous en préfecture",
        later=later,
        later_delay_ms=content_delay,
        client_routing=client_routing,
    )


#: The consent cookie tarteaucitron sets once a choice is made; no banner after that.
CONSENT_COOKIE = "tarteaucitron"


def cookie_banner(kind: str) -> list[Node]:
    """A tarteaucitron-like consent banner (``#tarteaucitronPersonalize2``,
    docs/platforms.md#rdv-prefecture-addresses-and-steps).

    ``kind`` "bar": a fixed bar at the bottom of the viewport; "modal": a centred box over
    a backdrop that covers the whole page, so nothing under it can be clicked before a
    choice is made. Either button removes it and sets the consent cookie.
    """
    cookie = f"{CONSENT_COOKIE}=!imitation=wait"
    layer = "position:fixed;z-index:2147483647;background:#333;color:#fff;padding:1em;"
    box = (
        layer + "left:0;right:0;bottom:0;"
        if kind == "bar"
        else layer + "top:30%;left:20%;right:20%;"
    )
    alert = el(
        "div",
        {"id": "tarteaucitronAlertBig", "role": "dialog", "style": box},
        el(
            "span",
            {"id": "tarteaucitronDisclaimerAlert"},
            "Ce site utilise des cookies et vous donne le contrôle sur ceux que vous "
            "souhaitez activer",
        ),
        el(
            "button",
            {
                "type": "button",
                "id": "tarteaucitronPersonalize2",
                "class": "tarteaucitronCTAButton tarteaucitronAllow",
                "data-dismiss": "#tarteaucitronRoot",
                "data-cookie": cookie.replace("wait", "true"),
            },
            "✓ Tout accepter",
        ),
        el(
            "button",
            {
                "type": "button",
                "id": "tarteaucitronAllDenied2",
                "class": "tarteaucitronCTAButton tarteaucitronDeny",
                "data-dismiss": "#tarteaucitronRoot",
                "data-cookie": cookie.replace("wait", "false"),
            },
            "✗ Tout refuser",
        ),
    )
    children: list[Node] = [alert]
    if kind != "bar":
        backdrop = "position:fixed;inset:0;z-index:2147483646;background:rgba(0,0,0,0.7);"
        children.insert(0, el("div", {"id": "tarteaucitronBack", "style": backdrop}))
    return [el("div", {"id": "tarteaucitronRoot"}, *children)]


def header() -> Node:
    return el(
        "header",
        {"class": "fr-header"},
        el("p", {"class": "fr-header__service-title"}, "Rendez-vous en préfecture"),
    )


def landing(base: str) -> list[Node]:
    buttons = el(
        "div",
        {"class": "row q-gutter-md"},
        el(
            "a",
            {"class": "q-btn q-btn-item bg-primary text-white", "href": f"{base}/cgu/"},
            el("span", {"class": "q-btn__content"}, "Prendre un rendez-vous"),
        ),
        el(
            "a",
            {
                "class": "q-btn q-btn-item text-primary",
                "href": base.split("/reservation/")[0] + "/login/",
            },
            el("span", {"class": "q-btn__content"}, "Gérer mes rendez-vous"),
        ),
    )
    return [
        header(),
        el(
            "main",
            {"id": "contenu"},
            el("h1", {}, "Demande de titre de séjour (démarche fictive)"),
            buttons,
        ),
    ]


def gate(base: str) -> list[Node]:
    """A local placeholder shaped like a reCAPTCHA checkbox; it calls no outside service."""
    form = el(
        "form",
        {"method": "post", "action": f"{base}/cgu/"},
        el("input", {"type": "hidden", "name": "gate", "value": "1"}),
        el(
            "div",
            {"class": "g-recaptcha", "data-sitekey": "imitation-local"},
            el(
                "label",
                {},
                el("input", {"type": "checkbox", "name": "g-recaptcha-response"}),
                " Je confirme ne pas être un programme (vérification locale)",
            ),
        ),
        el("button", {"type": "submit", "class": "q-btn bg-primary text-white"}, "Suivant"),
    )
    return [header(), el("main", {"id": "contenu"}, el("h1", {}, "Vérification"), form)]


#: The captcha's audio element (docs/platforms.md#rdv-prefecture-the-captcha).
AUDIO_ID = "BDC_CaptchaSoundAudio_captchaFR"


def sound_player(sound_url: str, audio: str) -> Node:
    """The audio version of the captcha: ``audio[src]`` ("src"), or an ``audio`` holding a
    ``source`` of type audio/wav ("source"), as the two markups of players are written."""
    if audio == "source":
        return el(
            "audio",
            {"id": AUDIO_ID, "controls": "", "preload": "none"},
            el("source", {"src": sound_url, "type": "audio/wav"}),
        )
    return el("audio", {"id": AUDIO_ID, "controls": "", "preload": "none", "src": sound_url})


def cgu(
    base: str,
    captcha_id: str,
    image: str,
    rejected: bool,
    *,
    image_url: str | None = None,
    sound_url: str | None = None,
    audio: str = "src",
) -> list[Node]:
    """``image`` is the base64 PNG inlined as a ``data:`` URL (2025); with ``image_url``
    the ``img`` points to that URL instead (the earlier variant,
    docs/platforms.md#rdv-prefecture-the-captcha). ``sound_url``: the audio version, in
    the ``audio`` markup of :func:`sound_player`."""
    parts: list[Node] = [
        el(
            "img",
            {
                "id": "captchaFR_CaptchaImage",
                "alt": "Image du captcha",
                "src": image_url or f"data:image/png;base64,{image}",
            },
        ),
        el("a", {"id": "captchaFR_SoundLink", "href": "#", "title": "Écouter le code"}, "Écouter"),
    ]
    if sound_url is not None:
        parts.append(sound_player(sound_url, audio))
    parts.append(el("button", {"type": "button", "class": "q-btn"}, "Générer un nouveau captcha"))
    captcha = el("div", {"class": "captcha"}, *parts)
    fields: list[Node] = [
        el(
            "label",
            {"for": "captchaFormulaireExtInput"},
            "Saisissez le code de sécurité affiché dans l’image",
        ),
        captcha,
        el(
            "input",
            {
                "id": "captchaFormulaireExtInput",
                "name": "captchaUsercode",
                "type": "text",
                "autocomplete": "off",
            },
        ),
        el("input", {"type": "hidden", "name": "captchaId", "value": captcha_id}),
        el("button", {"type": "submit", "class": "q-btn bg-primary text-white"}, "Suivant"),
    ]
    if rejected:
        fields.insert(0, el("p", {"class": "text-negative"}, "Le code saisi est invalide."))
    form = el("form", {"method": "post", "action": f"{base}/cgu/"}, *fields)
    intro = el(
        "p",
        {},
        "Constituez votre dossier avant de choisir votre créneau. "
        "Les conditions générales d'utilisation s'appliquent.",
    )
    return [
        header(),
        el("main", {"id": "contenu"}, el("h1", {}, "Conditions d'utilisation"), intro, form),
    ]


def drifted_landing(base: str) -> list[Node]:
    return [
        el(
            "div",
            {"class": "v-app-2"},
            el("h1", {"class": "titre-v2"}, "Service en ligne"),
            el("a", {"class": "btn-go", "href": f"{base}/cgu/"}, "Commencer"),
        )
    ]


def drifted_cgu(base: str) -> list[Node]:
    form = el(
        "form",
        {"method": "post", "action": f"{base}/cgu/"},
        el("img", {"id": "verif-image", "alt": "", "src": "data:,"}),
        el("input", {"id": "verif-code", "name": "verif"}),
        el("button", {"type": "submit", "class": "btn-go"}, "Continuer"),
    )
    return [el("div", {"class": "v-app-2"}, el("h1", {"class": "titre-v2"}, "Étape 1"), form)]


RETRY = "Veuillez réessayer ultérieurement."
#: Typography variants of the empty state (``params.variant``), same words
#: (docs/platforms.md#text-as-the-sites-write-it): "nbsp"
#: (no-break spaces, line breaks), "uppercase" (CSS text-transform: a browser's innerText
#: reads "AUCUN CRÉNEAU DISPONIBLE" while the HTML keeps the mixed case).
EMPTY_TEXTS = {
    "nbsp": ("<h2>Aucun\u00a0créneau\n  disponible</h2>", "Veuillez réessayer\n ultérieurement."),
    "uppercase": (
        '<h2 style="text-transform:uppercase">Aucun créneau disponible</h2>',
        "Veuillez   réessayer ultérieurement.",
    ),
}


def creneau(base: str, demarche: str, scenario: Scenario) -> str:
    count = int(scenario.params.get("slot_count", 0))
    slots = slot_times(parse_first_date(scenario.params.get("first_date")), count)
    critere = {
        "idDemarche": int(demarche),
        "datePremiereDispo": iso(slots[0]) if slots else "",
        "dateMin": iso(slots[0]) if slots else "",
        "dateMax": iso(slots[-1]) if slots else "",
    }
    state = json.dumps({"critere": critere}, ensure_ascii=False).replace("</", "<\\/")
    if not slots:
        empty, retry = EMPTY_TEXTS.get(
            str(scenario.params.get("variant", "")), ("<h2>Aucun créneau disponible</h2>", RETRY)
        )
        body = f"{empty}\n<p>{retry}</p>"
    else:
        as_text = scenario.params.get("card_dates") == "text"
        cards = "".join(
            f'<li class="row cellule justify-center radio-card">'
            f'<input type="radio" name="trhId" id="trhId_{n}" value="{n}">'
            f'<label for="trhId_{n}">{_card_date(moment, as_text)}</label></li>\n'
            for n, moment in enumerate(slots, 1)
        )
        body = (
            f'<h1>Choisissez votre créneau</h1>\n<form method="post" action="{h(base)}/creneau/">'
            f'<ul>\n{cards}</ul>\n<button type="submit" class="q-btn bg-primary text-white">'
            "Suivant</button></form>"
        )
        body += _dialog_script(str(scenario.params.get("dialog") or "notice"))
    return page(
        "Choisissez votre créneau",
        f'<div id="q-app"><main id="contenu">{body}</main></div>\n'
        f"<script>window.__INITIAL_STATE__ = {state};</script>",
    )


def _card_date(moment: datetime, as_text: bool) -> str:
    """A slot card's date: in a ``<time datetime>``, or only as French words."""
    words = h(long_date(moment))
    return words if as_text else f'<time datetime="{h(iso(moment))}">{words}</time>'


#: What the dialog on a slot card's click says, per ``params.dialog``
#: (docs/platforms.md#rdv-prefecture-the-slot-page: "sometimes a Quasar dialog").
DIALOG_TEXTS = {
    "notice": (
        "Créneau sélectionné",
        "Ce créneau vous est réservé pendant quelques minutes : complétez vos informations "
        "pour confirmer le rendez-vous.",
    ),
    "taken": (
        "Créneau indisponible",
        "Ce créneau vient d'être réservé par un autre usager. Veuillez en choisir un autre.",
    ),
}
DIALOG_ID = "q-portal--dialog--1"


def _dialog_script(kind: str) -> str:
    """A script that opens a Quasar-like dialog (``#q-portal--dialog--1``, appended to the
    body as Quasar's portals are) when a slot card is clicked; its "OK" closes it."""
    if kind not in DIALOG_TEXTS:
        return ""
    title, text = DIALOG_TEXTS[kind]
    words = json.dumps({"title": title, "text": text}, ensure_ascii=False).replace("</", "<\\/")
    return (
        "\n<script>(function () {\n"
        f"  var words = {words};\n"
        "  function make(tag, cls, text) {\n"
        "    var e = document.createElement(tag); if (cls) { e.className = cls; }\n"
        "    if (text) { e.textContent = text; } return e;\n"
        "  }\n"
        "  document.addEventListener('click', function (event) {\n"
        "    var card = event.target.closest && event.target.closest('li.radio-card');\n"
        f"    if (!card || document.getElementById('{DIALOG_ID}')) {{ return; }}\n"
        f"    var portal = make('div'); portal.id = '{DIALOG_ID}';\n"
        "    var dialog = make('div', 'q-dialog fullscreen q-dialog--modal');\n"
        "    dialog.setAttribute('role', 'dialog'); dialog.setAttribute('aria-modal', 'true');\n"
        "    var card2 = make('div', 'q-card');\n"
        "    card2.appendChild(make('div', 'text-h6', words.title));\n"
        "    card2.appendChild(make('div', 'q-card__section', words.text));\n"
        "    var ok = make('button', 'q-btn text-primary', 'OK'); ok.type = 'button';\n"
        "    ok.addEventListener('click', function () { portal.remove(); });\n"
        "    card2.appendChild(ok);\n"
        "    dialog.appendChild(make('div', 'q-dialog__backdrop fixed-full'));\n"
        "    dialog.appendChild(card2); portal.appendChild(dialog);\n"
        "    document.body.appendChild(portal);\n"
        "  });\n"
        "})();</script>"
    )


def informations() -> str:
    fields = "".join(
        f'<div class="fr-input-group"><label class="fr-label" for="{name}">{h(label)}</label>'
        f'<input class="fr-input" id="{name}" name="{name}"></div>\n'
        for name, label in (
            ("nom", "Nom"),
            ("prenom", "Prénom"),
            ("courriel", "Courriel"),
            ("codePostal", "Code postal"),
        )
    )
    body = (
        f'<main id="contenu"><h1>Vos informations</h1><form method="post">{fields}'
        '<button type="button" class="fr-btn">Confirmer le rendez-vous</button></form></main>'
    )
    return page("Vos informations", body)


def interstitial(status: int = 403) -> Response:
    """A generic "prove you are human" challenge (synthetic: not a copy of any vendor's).

    Such challenges answer 403 or 503 (docs/platforms.md#the-local-imitation); ``status``
    picks which."""
    body = (
        '<main class="challenge"><h1>Un instant…</h1>\n'
        "<p>Vérifiez que vous êtes humain en cochant la case ci-dessous.</p>\n"
        '<div class="challenge-widget"><label><input type="checkbox"> Je suis humain</label>'
        "</div>\n<p>Cette vérification protège le service contre les accès automatisés.</p></main>"
    )
    return html_response(page("Un instant…", body), status)


MAINTENANCE_TEXT = (
    "Le service de prise de rendez-vous est momentanément indisponible pour cause "
    "de maintenance. Merci de revenir plus tard."
)


def maintenance() -> str:
    body = f'<main id="contenu"><h1>Service en maintenance</h1>\n<p>{MAINTENANCE_TEXT}</p></main>'
    return page("Maintenance", body)


def maintenance_view() -> list[Node]:
    """The same maintenance notice, rendered by the app instead of the server."""
    return [
        header(),
        el(
            "main",
            {"id": "contenu"},
            el("h1", {}, "Service en maintenance"),
            el("p", {}, MAINTENANCE_TEXT),
        ),
    ]
