"""The words of what a site showed: its messages, where a flow ended, slots, the legacy calendar.

One entry per code of :data:`~monitor.domain.PageCode`: ``code: (French words, English
words)``. A new code is named there first (mypy refuses one that is not).
"""

from __future__ import annotations

from monitor.details.values import (
    SPAN_EN,
    SPAN_FR,
    Words,
    ending,
    span,
    status_line,
)
from monitor.domain import PageCode

# fmt: off
#: Each code's words: (French, English). The English of a code is its record line.
PAGE_CODES: dict[PageCode, tuple[Words, Words]] = {
    # -- what the page says ------------------------------------------------------------
    "page_says": (
        lambda v: v.q("text"),
        lambda v: v.q("text"),
    ),
    "unknown_page": (
        lambda v: f"aucune règle de la plateforme ne reconnaît cette page : {v.q('shown')} "
                  f"({v['url']})",
        lambda v: f"no rule of the platform recognises this page: {v.q('shown')} at {v['url']}",
    ),
    "too_deep": (
        lambda v: f"la page imbrique ses éléments sur plus de {v['limit']} niveaux : elle "
                  f"n'est pas lue ({v['url']})",
        lambda v: f"the page nests its elements more than {v['limit']} levels deep and was "
                  f"not read ({v['url']})",
    ),
    "unknown_page_for_target": (
        lambda v: f"aucune règle de la cible ne correspond à cette page : {v.q('shown')} "
                  f"({v['url']})",
        lambda v: f"no rule of the target matches this page: {v.q('shown')} at {v['url']}",
    ),
    "unknown_week_answer": (
        lambda v: f"une réponse du calendrier sans semaine : {v.q('shown')} ({v['url']})",
        lambda v: f"a calendar answer without a week: {v.q('shown')} at {v['url']}",
    ),
    "captcha": (
        lambda v: ("la réponse au captcha a été refusée" if v.has("refused")
                   else "un captcha barre l'accès")
                  + (f" ({v.q('text')})" if v.has("text") else f" (élément {v['selector']})")
                  + f" à l'adresse {v['url']}",
        lambda v: ("the captcha answer was refused" if v.has("refused")
                   else "a captcha bars the way")
                  + (f" ({v.q('text')})" if v.has("text") else f" (element {v['selector']})")
                  + f" at {v['url']}",
    ),
    "maintenance": (
        lambda v: f"maintenance : {v.q('text')}",
        lambda v: f"maintenance: {v.q('text')}",
    ),
    "overloaded": (
        lambda v: f"site surchargé : {status_line(v, fr=True)}",
        lambda v: f"overloaded: {status_line(v, fr=False)}",
    ),
    "blocked": (
        lambda v: "accès refusé : "
                  + (v.q("text") if v.has("text") else status_line(v, fr=True)),
        lambda v: "access refused: "
                  + (v.q("text") if v.has("text") else status_line(v, fr=False)),
    ),
    "error_page": (
        lambda v: f"page d'erreur : {status_line(v, fr=True)}",
        lambda v: f"error page: {status_line(v, fr=False)}",
    ),
    "no_html": (
        lambda v: f"réponse vide (aucun HTML) de {v['url']}",
        lambda v: f"empty answer (no HTML) from {v['url']}",
    ),
    "no_text": (
        lambda v: f"la page n'affiche aucun texte (une application qui ne s'est pas dessinée ?) "
                  f"({v['url']})",
        lambda v: f"the page shows no text (an app shell?) at {v['url']}",
    ),
    "retry_after": (
        lambda v: ending(v["finding"], f" (le site demande d'attendre, Retry-After {v['after']})"),
        lambda v: ending(v["finding"], f" (Retry-After: {v['after']})"),
    ),
    # -- where a flow ended -------------------------------------------------------------
    "back_to_conditions": (
        lambda v: f"renvoyé à la page des conditions en cours de parcours ({v['url']})",
        lambda v: f"sent back to the conditions page in mid-flow ({v['url']})",
    ),
    "back_to_desk_choice": (
        lambda v: f"renvoyé au choix du guichet après avoir choisi un guichet ({v['url']})",
        lambda v: f"sent back to the desk choice after choosing a desk ({v['url']})",
    ),
    "no_calendar_after_description": (
        lambda v: f"le calendrier n'a pas suivi l'étape de description ({v['url']})",
        lambda v: f"the calendar did not follow the description step ({v['url']})",
    ),
    "back_to_landing": (
        lambda v: f"renvoyé à la page d'accueil de la démarche ({v['url']})",
        lambda v: f"sent back to the démarche's landing page ({v['url']})",
    ),
    "desks_missing": (
        lambda v: f"guichet(s) {v['missing']} absent(s) du choix des guichets "
                  f"(proposés : {v['offered']})",
        lambda v: f"desk(s) {v['missing']} not offered on the desk choice "
                  f"(offered: {v['offered']})",
    ),
    # -- slots, forms, portals ------------------------------------------------------------
    "slots_offered": (
        lambda v: f"{v.plural('count', 'créneau proposé', 'créneaux proposés')}"
                  + (f", le premier le {v.moment('earliest')}" if v.has("earliest") else ""),
        lambda v: f"{v['count']} slot(s) offered"
                  + (f", earliest {v.moment('earliest')}" if v.has("earliest") else ""),
    ),
    "no_first_date": (
        lambda v: "l'état de la page a un « datePremiereDispo » vide (aucune première date)",
        lambda v: 'the page\'s state has an empty "datePremiereDispo"',
    ),
    "form_open": (
        lambda v: f"le formulaire est ouvert : {v.q('title')} propose {v.q('start')}",
        lambda v: f"the form is open: {v.q('title')} offers {v.q('start')}",
    ),
    "sign_in_page": (
        lambda v: f"le portail répond avec sa page de connexion {v.q('title')}",
        lambda v: f"the portal answers with its sign-in page {v.q('title')}",
    ),
    "portal_home": (
        lambda v: f"l'accueil public du portail répond : {v.q('title')}",
        lambda v: f"the portal's public home is up: {v.q('title')}",
    ),
    "rule_matches": (
        lambda v: f"{v.plural('count', 'élément correspond', 'éléments correspondent')} à "
                  f"{v['selector']}" + (f" : {v.q('shown')}" if v.has("shown") else ""),
        lambda v: f"{v['count']} element(s) match '{v['selector']}'"
                  + (f": {v.q('shown')}" if v.has("shown") else ""),
    ),
    # -- the legacy calendar ------------------------------------------------------------
    "calendar_free_cells": (
        lambda v: f"{v.plural('free', 'créneau libre', 'créneaux libres')} sur "
                  f"{v.plural('weeks', 'semaine', 'semaines')} du calendrier{span(v, *SPAN_FR)}"
                  + (f", le premier le {v.moment('earliest')}" if v.has("earliest") else "")
                  + (f" ; une semaine n'a pu être lue ({v['unread']})"
                     if v.has("unread") else ""),
        lambda v: f"{v['free']} free slot(s) in {v['weeks']} week(s) of the calendar"
                  f"{span(v, *SPAN_EN)}"
                  + (f", earliest {v.moment('earliest')}" if v.has("earliest") else "")
                  + (f"; a week could not be read ({v['unread']})" if v.has("unread") else ""),
    ),
    "calendar_no_week": (
        lambda v: "l'étape du calendrier n'a chargé aucune semaine",
        lambda v: "the calendar step loaded no week",
    ),
    "calendar_no_free_cell": (
        lambda v: f"calendrier sans aucune case libre sur "
                  f"{v.plural('weeks', 'semaine', 'semaines')}{span(v, *SPAN_FR)} "
                  "(seule la légende dit « libre »)",
        lambda v: f"calendar without any free cell in {v['weeks']} week(s){span(v, *SPAN_EN)} "
                  "(only the legend says 'libre')",
    ),
    "calendar_missing": (
        lambda v: f"l'étape du calendrier n'affiche aucune semaine et ne donne pas l'adresse "
                  f"du calendrier ({v['url']})",
        lambda v: f"the calendar step showed no week and named no calendar address ({v['url']})",
    ),
    # -- several pages, one outcome ----------------------------------------------------
    "by_desk": (
        lambda v: v["desks"],
        lambda v: v["desks"],
    ),
    "desk": (
        lambda v: f"guichet {v['label']} : {v['finding']}",
        lambda v: f"desk {v['label']}: {v['finding']}",
    ),
}
# fmt: on
