"""The words of every detail: one sentence per code, in French and in English.

A :class:`~monitor.domain.Detail` says why an outcome is what it is as data (a code and its
values); this module is the one place that turns it into a line for a reader. Values that
are the page's own words (a heading, the no-slot sentence, a week header) are quoted «as
the page wrote them» in both languages; everything else is the monitor's and is translated.
Technical strings (URLs, CSS selectors, ``net::ERR_…`` codes, exception names) are the same
in every language.

:func:`render` with ``tz=None`` gives the *record line*: English, times in UTC ISO 8601, the
line stored in ``outcomes.detail`` and protected by the hash chain. With a time zone it
gives the line a person reads (history, status, dossier, messages), times local.

Stored rows also keep the code and values (``detail_code``, ``detail_args``), written by
:func:`to_json` and read back by :func:`from_json`, so an old attempt reads in French as
well as a new one. A code this version does not know (a row written by a newer one) falls
back to the stored English line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.domain import Detail, DetailValue, Outcome
from monitor.platforms.text import DETAIL_LIMIT, one_line

__all__ = [
    "CODES",
    "detail_columns",
    "from_json",
    "render",
    "render_outcome",
    "structured_detail",
    "to_json",
]

LANGUAGES = ("fr", "en")


class _Values:
    """A detail's values as a template reads them, in one language and time zone."""

    def __init__(self, args: Mapping[str, DetailValue], lang: str, tz: ZoneInfo | None) -> None:
        self._args = args
        self.lang = lang
        self._tz = tz

    def has(self, key: str) -> bool:
        value = self._args.get(key)
        if value is None or value is False:
            return False
        return value != "" and value != ()

    def __getitem__(self, key: str) -> str:
        """The value as text: a nested detail rendered, several joined with "; "."""
        value = self._args.get(key)
        if value is None:
            return ""
        if isinstance(value, Detail):
            return _line(value, self.lang, self._tz)
        if isinstance(value, tuple):
            glue = " ; " if self.lang == "fr" else "; "  # French puts a space before ";"
            return glue.join(_line(part, self.lang, self._tz) for part in value)
        if isinstance(value, float):
            return self.number(value)
        return str(value)

    def q(self, key: str) -> str:
        """The page's own words, quoted as shown."""
        return f"«{self[key]}»"

    def number(self, value: float) -> str:
        text = f"{value:g}"
        return text.replace(".", ",") if self.lang == "fr" else text

    def seconds(self, key: str) -> str:
        value = self._args.get(key)
        number = self.number(float(value)) if isinstance(value, int | float) else "?"
        return f"{number} s" if self.lang == "fr" else f"{number}s"

    def moment(self, key: str) -> str:
        """An ISO 8601 value: as stored in the record line, local time for a reader."""
        text = self[key]
        if self._tz is None:
            return text
        try:
            local = datetime.fromisoformat(text).astimezone(self._tz)
        except ValueError:
            return text
        return local.strftime("%d/%m/%Y à %H:%M" if self.lang == "fr" else "%Y-%m-%d %H:%M")

    def plural(self, key: str, one: str, many: str) -> str:
        """``one`` or ``many`` after the count ``key``, e.g. "1 slot", "3 slots"."""
        value = self._args.get(key)
        return f"{self[key]} {one if value == 1 else many}"


_Words = Callable[[_Values], str]


def _status_line(v: _Values, *, fr: bool) -> str:
    """What an error answer said: "HTTP 502: «Bad Gateway»", or the page's heading."""
    status = f"HTTP {v['status']}" if v.has("status") else ("la page" if fr else "the page")
    if not v.has("heading"):
        return status
    return f"{status} : {v.q('heading')}" if fr else f"{status}: {v.q('heading')}"


#: How the weeks read are named, one week or several: (French, English) patterns.
_SPAN_FR = (" ({first})", " (de {first} à {last})")
_SPAN_EN = (" {first}", " from {first} to {last}")


def _span(v: _Values, one: str, several: str) -> str:
    """The weeks read, by the headers of the first and last as the page wrote them."""
    if not v.has("first"):
        return ""
    pattern = one if v["first"] == v["last"] else several
    return pattern.format(first=v.q("first"), last=v.q("last"))


def _ending(line: str, note: str) -> str:
    """``line`` cut so that ``note`` after it still fits in one detail line."""
    return one_line(line, DETAIL_LIMIT - len(note)) + note


_WHAT_FR = {
    "element": "élément",
    "button": "bouton",
    "field": "champ",
    "checkbox": "case à cocher",
    "select": "liste de choix",
    "form": "formulaire",
    "link": "lien",
}


def _doing(fr: str, en: str) -> tuple[_Words, _Words]:
    """A step of the probe, "loading {url}": the end of a sentence about what failed."""
    return (lambda v: fr.format_map(v)), (lambda v: en.format_map(v))


#: Why a destination was refused (``destination_refused``): (French, English).
_DESTINATION_WHY = {
    "scheme": ("ce n'est pas une adresse http(s)", "not an http(s) address"),
    "internal": (
        "adresse locale ou privée, alors que la cible est publique",
        "a loopback or private address, while the target is public",
    ),
    "malformed": ("adresse illisible", "an unreadable address"),
}


# fmt: off
#: Every code's words: (French, English). The English of a code is its record line.
CODES: dict[str, tuple[_Words, _Words]] = {
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
        lambda v: f"site surchargé : {_status_line(v, fr=True)}",
        lambda v: f"overloaded: {_status_line(v, fr=False)}",
    ),
    "blocked": (
        lambda v: "accès refusé : "
                  + (v.q("text") if v.has("text") else _status_line(v, fr=True)),
        lambda v: "access refused: "
                  + (v.q("text") if v.has("text") else _status_line(v, fr=False)),
    ),
    "error_page": (
        lambda v: f"page d'erreur : {_status_line(v, fr=True)}",
        lambda v: f"error page: {_status_line(v, fr=False)}",
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
        lambda v: _ending(v["finding"], f" (le site demande d'attendre, Retry-After {v['after']})"),
        lambda v: _ending(v["finding"], f" (Retry-After: {v['after']})"),
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
                  f"{v.plural('weeks', 'semaine', 'semaines')} du calendrier{_span(v, *_SPAN_FR)}"
                  + (f", le premier le {v.moment('earliest')}" if v.has("earliest") else "")
                  + (f" ; une semaine n'a pu être lue ({v['unread']})"
                     if v.has("unread") else ""),
        lambda v: f"{v['free']} free slot(s) in {v['weeks']} week(s) of the calendar"
                  f"{_span(v, *_SPAN_EN)}"
                  + (f", earliest {v.moment('earliest')}" if v.has("earliest") else "")
                  + (f"; a week could not be read ({v['unread']})" if v.has("unread") else ""),
    ),
    "calendar_no_week": (
        lambda v: "l'étape du calendrier n'a chargé aucune semaine",
        lambda v: "the calendar step loaded no week",
    ),
    "calendar_no_free_cell": (
        lambda v: f"calendrier sans aucune case libre sur "
                  f"{v.plural('weeks', 'semaine', 'semaines')}{_span(v, *_SPAN_FR)} "
                  "(seule la légende dit « libre »)",
        lambda v: f"calendar without any free cell in {v['weeks']} week(s){_span(v, *_SPAN_EN)} "
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
    # -- the probe's own steps ----------------------------------------------------------
    "probe_timeout": (
        lambda v: f"la sonde n'a pas fini en {v.seconds('seconds')} (settings.probe_timeout)"
                  + (f", sans compter {v.seconds('held')} de retenue par la politesse"
                     if v.has("held") else ""),
        lambda v: f"the probe did not finish within {v.seconds('seconds')} "
                  "(settings.probe_timeout)"
                  + (f", not counting {v['held']}s held back by the politeness gate"
                     if v.has("held") else ""),
    ),
    "step_timeout": (
        lambda v: f"délai de {v.seconds('seconds')} dépassé {v['doing']}",
        lambda v: f"timed out after {v.seconds('seconds')} {v['doing']}",
    ),
    "timed_out": (
        lambda v: f"délai dépassé {v['doing']}",
        lambda v: f"timed out {v['doing']} ({v['message']})",
    ),
    "network_code": (
        lambda v: f"{v['code']} {v['doing']}",
        lambda v: f"{v['code']} {v['doing']}",
    ),
    "request_failed": (
        lambda v: f"requête échouée ({v['failure']}) {v['doing']}",
        lambda v: f"{v['failure']} {v['doing']}",
    ),
    "browser_gone": (
        lambda v: f"Chromium a disparu {v['doing']} : «{v['message']}»",
        lambda v: f"Chromium went away {v['doing']}: {v['message']}",
    ),
    "unexpected_during": (
        lambda v: f"erreur inattendue {v['kind']} {v['doing']} : «{v['message']}»",
        lambda v: f"unexpected {v['kind']} {v['doing']}: {v['message']}",
    ),
    "too_many_redirects": (
        lambda v: f"trop de redirections depuis {v['url']}"
                  + (f" (plus de {v['max']})" if v.has("max") else ""),
        lambda v: (f"more than {v['max']} redirects from {v['url']}" if v.has("max")
                   else f"too many redirects from {v['url']}"),
    ),
    "no_answer": (
        lambda v: f"aucune réponse de {v['where']} en {v.seconds('seconds')} ({v['kind']})",
        lambda v: f"no answer from {v['where']} within {v.seconds('seconds')} ({v['kind']})",
    ),
    "connection_refused": (
        lambda v: f"connexion refusée par {v['where']} ({v['kind']})",
        lambda v: f"connection refused by {v['where']} ({v['kind']})",
    ),
    "connection_reset": (
        lambda v: f"connexion réinitialisée par {v['where']} ({v['kind']})",
        lambda v: f"connection reset by {v['where']} ({v['kind']})",
    ),
    "connection_closed": (
        lambda v: f"connexion fermée par {v['where']} ({v['kind']})",
        lambda v: f"connection closed by {v['where']} ({v['kind']})",
    ),
    "tls_failure": (
        lambda v: f"échec TLS ({v['message']}) avec {v['where']} ({v['kind']})",
        lambda v: f"TLS failure ({v['message']}) with {v['where']} ({v['kind']})",
    ),
    "cannot_resolve": (
        lambda v: f"nom introuvable : {v['where']} ({v['kind']})",
        lambda v: f"cannot resolve the name of {v['where']} ({v['kind']})",
    ),
    "broken_answer": (
        lambda v: f"réponse HTTP invalide de {v['where']} ({v['kind']} : «{v['message']}»)",
        lambda v: f"broken HTTP answer ({v['message']}) from {v['where']} ({v['kind']})",
    ),
    "cannot_connect": (
        lambda v: f"connexion impossible à {v['where']} ({v['kind']} : «{v['message']}»)",
        lambda v: f"cannot connect ({v['message']}) to {v['where']} ({v['kind']})",
    ),
    "connection_failed": (
        lambda v: f"échec de la connexion avec {v['where']} ({v['kind']} : «{v['message']}»)",
        lambda v: f"connection failed ({v['message']}) with {v['where']} ({v['kind']})",
    ),
    "no_element": (
        lambda v: f"aucun {_WHAT_FR.get(v['what'], v['what'])} ne correspond à "
                  f"{v['selector']} sur {v['url']}",
        lambda v: f"no {v['what']} matches '{v['selector']}' on {v['url']}",
    ),
    "no_field": (
        lambda v: f"le formulaire de {v['url']} n'a pas de champ {v['name']}",
        lambda v: f"the form on {v['url']} has no field '{v['name']}'",
    ),
    "field_without_name": (
        lambda v: f"le champ {v['selector']} de {v['url']} n'a pas de nom",
        lambda v: f"field '{v['selector']}' on {v['url']} has no name",
    ),
    "no_choice": (
        lambda v: f"pas de choix {v['value']} pour {v['name']} sur {v['url']}",
        lambda v: f"no choice '{v['value']}' for '{v['name']}' on {v['url']}",
    ),
    "no_option": (
        lambda v: f"pas d'option {v['value']} dans {v['name']} sur {v['url']}",
        lambda v: f"no option '{v['value']}' in '{v['name']}' on {v['url']}",
    ),
    "not_in_form": (
        lambda v: f"{v['selector']} n'est dans aucun formulaire sur {v['url']}",
        lambda v: f"'{v['selector']}' on {v['url']} is not in a form",
    ),
    "button_without_form": (
        lambda v: f"le bouton de {v['url']} n'appartient à aucun formulaire",
        lambda v: f"the button on {v['url']} belongs to no form",
    ),
    "doing.load": _doing("en chargeant {url}", "loading {url}"),
    "doing.submit": _doing("en envoyant le formulaire par {button} sur {url}",
                           "submitting '{button}' on {url}"),
    "doing.click": _doing("en cliquant sur {selector} ({url})", "clicking '{selector}' on {url}"),
    "doing.fill": _doing("en remplissant {selector} ({url})", "filling '{selector}' on {url}"),
    "doing.check": _doing("en cochant {selector} ({url})", "checking '{selector}' on {url}"),
    "doing.select": _doing("en choisissant dans {selector} ({url})",
                           "selecting in '{selector}' on {url}"),
    "doing.wait": _doing("en attendant {selector} sur {url}", "waiting for '{selector}' on {url}"),
    "doing.after_click": _doing("en attendant la page après un clic sur {url}",
                                "waiting for the page after a click on {url}"),
    "doing.open_page": _doing("en ouvrant une page", "opening a page"),
    "doing.open_context": _doing("en ouvrant un contexte de navigateur",
                                 "opening a browser context"),
    "doing.fetch": _doing("en demandant {url}", "fetching {url}"),
    "doing.screenshot": _doing("en faisant la capture d'écran de {url}",
                               "taking a screenshot of {url}"),
    # -- the monitor itself ---------------------------------------------------------------
    "no_page": (
        lambda v: "la sonde s'est terminée sans aucune page",
        lambda v: "the probe ended without any page",
    ),
    "guard": (
        lambda v: f"garde-fou interne : « disponible » sans règle positive ({v['finding']})",
        lambda v: f"internal guard: 'available' without a positive rule ({v['finding']})",
    ),
    "unexpected": (
        lambda v: f"erreur inattendue {v['kind']} dans la sonde : «{v['message']}»",
        lambda v: f"unexpected {v['kind']} in the probe: {v['message']}",
    ),
    "crashed": (
        lambda v: f"erreur interne pendant la sonde : {v['kind']} : «{v['message']}»",
        lambda v: f"internal error while probing: {v['kind']}: {v['message']}",
    ),
    "fault": (
        lambda v: f"erreur du moniteur : «{v['message']}»",
        lambda v: v["message"],
    ),
    "network_down": (
        lambda v: v["why"] + (f" ; la sonde a vu : {v['seen']}" if v.has("seen") else ""),
        lambda v: v["why"] + (f"; the probe saw: {v['seen']}" if v.has("seen") else ""),
    ),
    "own_network_down": (
        lambda v: f"le réseau du moniteur lui-même est coupé ({v['check']})",
        lambda v: f"the monitor's own network is down ({v['check']})",
    ),
    "every_host_failing": (
        lambda v: "tous les sites sondés récemment ont échoué au niveau du réseau : "
                  "le moniteur est hors ligne",
        lambda v: "every site probed recently failed at the network level: "
                  "the monitor is offline",
    ),
    "host_answered": (
        lambda v: f"{v['host']} a répondu",
        lambda v: f"{v['host']} answered",
    ),
    "connectivity_off": (
        lambda v: "vérification de la connectivité désactivée",
        lambda v: "connectivity check disabled",
    ),
    "connectivity_ok": (
        lambda v: "la vérification de la connectivité a répondu",
        lambda v: "connectivity check answered",
    ),
    "connectivity_failed": (
        lambda v: f"la vérification de la connectivité a échoué : {v['failures']}",
        lambda v: f"connectivity check failed: {v['failures']}",
    ),
    "unreachable_url": (
        lambda v: f"{v['url']} : {v['kind']}",
        lambda v: f"{v['url']}: {v['kind']}",
    ),
    # -- hostile pages (issue 12) ---------------------------------------------------------
    "destination_refused": (
        lambda v: f"le site mène à {v['url']}, que le moniteur refuse de demander : "
                  + _DESTINATION_WHY.get(v["why"], (v["why"],) * 2)[0],
        lambda v: f"the site leads to {v['url']}, which the monitor refuses to request: "
                  + _DESTINATION_WHY.get(v["why"], (v["why"],) * 2)[1],
    ),
    "evidence_not_kept": (
        lambda v: f"{v['detail']} ; preuves non conservées ({v['error']})",
        lambda v: f"{v['detail']}; evidence not kept ({v['error']})",
    ),
    "response_too_large": (
        lambda v: f"réponse de {v['url']} coupée au-delà de {v['limit']} octets "
                  "(limite de taille d'une page)",
        lambda v: f"answer from {v['url']} cut off past {v['limit']} bytes "
                  "(the page size limit)",
    ),
}
# fmt: on


def _line(detail: Detail, lang: str, tz: ZoneInfo | None) -> str:
    french, english = CODES[detail.code]
    words = french if lang == "fr" else english
    return words(_Values(detail.args, lang, tz))


def render(detail: Detail, language: str = "en", tz: ZoneInfo | None = None) -> str:
    """``detail`` in ``language`` on one line; ``tz=None``: the record line (UTC times).

    Raises ``KeyError`` for a code this module does not know and ``ValueError`` for a
    language other than "fr" or "en".
    """
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}: use one of {', '.join(LANGUAGES)}")
    return one_line(_line(detail, language, tz), DETAIL_LIMIT)


def record_line(detail: Detail) -> str:
    """The stored ``detail`` of an outcome: English, UTC, the words the chain protects."""
    return render(detail)


def render_outcome(outcome: Outcome, language: str, tz: ZoneInfo) -> str:
    """An outcome's detail for a reader; the recorded line when its code is unknown here."""
    return render_stored(outcome.detail, outcome.structured, language, tz)


def render_stored(line: str, structured: Detail | None, language: str, tz: ZoneInfo) -> str:
    """A stored detail for a reader: from its code and values, else its recorded line."""
    if structured is None or not known(structured):
        return line
    return render(structured, language, tz)


def known(detail: Detail) -> bool:
    """Whether every code in ``detail`` (nested ones too) has words here."""
    if detail.code not in CODES:
        return False
    for value in detail.args.values():
        parts = value if isinstance(value, tuple) else (value,)
        if not all(known(part) for part in parts if isinstance(part, Detail)):
            return False
    return True


def detail_columns(structured: Detail | None) -> dict[str, Any]:
    """The ``detail_code`` and ``detail_args`` columns of a structured detail."""
    if structured is None:
        return {"detail_code": None, "detail_args": None}
    data = to_json(structured)
    return {"detail_code": data["code"], "detail_args": data["args"]}


def structured_detail(code: str | None, args: Any) -> Detail | None:
    """The structured detail of a row; None on rows written before migration 0002."""
    if code is None:
        return None
    return from_json({"code": code, "args": args or {}})


def to_json(detail: Detail) -> dict[str, Any]:
    """``detail`` as a JSON object: ``{"code": …, "args": {…}}``, nested details alike."""
    return {"code": detail.code, "args": {key: _value_json(v) for key, v in detail.args.items()}}


def _value_json(value: DetailValue) -> Any:
    if isinstance(value, Detail):
        return to_json(value)
    if isinstance(value, tuple):
        return [to_json(part) for part in value]
    return value


def from_json(document: Mapping[str, Any]) -> Detail:
    """The detail :func:`to_json` wrote; ``ValueError`` for anything else."""
    code, args = document.get("code"), document.get("args", {})
    if not isinstance(code, str) or not isinstance(args, Mapping):
        raise ValueError(f"not a stored detail: {document!r}")
    return Detail(code, {key: _value_from_json(value) for key, value in args.items()})


def _value_from_json(value: Any) -> DetailValue:
    if isinstance(value, Mapping):
        return from_json(value)
    if isinstance(value, list):
        return tuple(from_json(part) for part in value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError(f"not a stored detail value: {value!r}")
