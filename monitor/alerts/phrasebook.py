"""Every word of the notifications, French then English, and the languages they come in.

Each entry is a (French, English) pair, split into one table per language at import:
``REASON_LABELS`` and ``STATUS_LABELS`` name the outcomes' reasons and statuses in plain
words (shared with the evidence dossier), ``SENTENCES`` holds every title, lead, line label
and short form a message is built from ("{…}" are filled in by ``monitor.alerts.messages``).
A change of wording is made here, in both languages at once.
"""

from __future__ import annotations

from typing import TypeVar

from monitor.details import LANGUAGES  # the pairs' order
from monitor.domain import Reason, Status

__all__ = ["REASON_LABELS", "SENTENCES", "STATUS_LABELS", "checked_language"]

_K = TypeVar("_K")


def _by_language(table: dict[_K, tuple[str, str]]) -> dict[str, dict[_K, str]]:
    """Split a table of (French, English) pairs into one dict per language."""
    return {
        lang: {key: texts[i] for key, texts in table.items()} for i, lang in enumerate(LANGUAGES)
    }


# fmt: off
#: Plain-language label of every reason, per language: REASON_LABELS["fr"][Reason.CAPTCHA].
REASON_LABELS: dict[str, dict[Reason, str]] = _by_language(
    {
        Reason.SLOTS: ("des créneaux sont proposés", "slots are offered"),
        Reason.OPEN: ("le formulaire ou le portail est ouvert", "the form or portal is open"),
        Reason.NO_SLOT: ("aucun créneau libre", "no free slot"),
        Reason.NO_CALENDAR: ("aucun guichet ni calendrier ouvert", "no desk or calendar open"),
        Reason.CLOSED: ("la démarche est fermée", "the procedure is closed"),
        Reason.CAPTCHA: ("un captcha bloque l'accès", "a captcha bars the way"),
        Reason.MAINTENANCE: ("le site est en maintenance", "the site is under maintenance"),
        Reason.OVERLOADED: ("le site est surchargé", "the site is overloaded"),
        Reason.HTTP_ERROR: ("le site renvoie une erreur", "the site returns an error"),
        Reason.TIMEOUT: ("le site ne répond pas à temps", "the site does not answer in time"),
        Reason.CONNECTION: ("le site est injoignable", "the site cannot be reached"),
        Reason.BLOCKED: ("l'accès est refusé ou limité", "access is refused or limited"),
        Reason.SESSION_LOST: ("la session est perdue en cours de démarche",
                              "the session is lost midway"),
        Reason.EMPTY_PAGE: ("la page est vide", "the page is empty"),
        Reason.UNRECOGNIZED: ("la page n'est pas reconnue (sa présentation a changé)",
                              "the page is not recognised (its layout changed)"),
        Reason.BROWSER_CRASH: ("le navigateur du moniteur s'est arrêté",
                               "the monitor's browser stopped"),
        Reason.NETWORK_DOWN: ("le moniteur n'a plus accès au réseau",
                              "the monitor has lost the network"),
        Reason.INTERNAL: ("erreur interne du moniteur", "internal error in the monitor"),
    }
)

#: Plain-language label of every status, per language: STATUS_LABELS["en"][Status.ANOMALY].
STATUS_LABELS: dict[str, dict[Status, str]] = _by_language(
    {
        Status.AVAILABLE: ("créneaux disponibles", "slots available"),
        Status.UNAVAILABLE: ("pas de créneau", "no slot"),
        Status.ANOMALY: ("anomalie du site", "site anomaly"),
        Status.MONITOR_ERROR: ("erreur du moniteur", "monitor error"),
    }
)

# Every sentence of every message, French then English; "{…}" are filled in.
SENTENCES: dict[str, dict[str, str]] = _by_language(
    {
        "colon": (" : ", ": "),
        "list": (" ; ", "; "),
        "reminder": ("Rappel : ", "Reminder: "),
        "slots_opened": ("Créneaux disponibles", "Slots available"),
        # A form or portal without slots (Démarches Simplifiées, ANEF) is "open", not slots.
        "slots_opened.open": ("Démarche ouverte", "Procedure open"),
        "lead.slots_opened.open": ("Le formulaire en ligne de la démarche est ouvert.",
                                   "The procedure's online form is open."),
        "lead.slots_opened.open.reminder": ("La démarche en ligne est toujours ouverte.",
                                            "The online procedure is still open."),
        "slots_closed": ("Créneaux disparus", "Slots gone"),
        "anomaly_started": ("Site en anomalie", "Site anomaly"),
        "anomaly_resolved": ("Site rétabli", "Site back to normal"),
        "monitor_degraded": ("Moniteur en difficulté", "Monitor degraded"),
        "monitor_recovered": ("Moniteur rétabli", "Monitor recovered"),
        "assist_needed": ("Session assistée demandée", "Assisted session needed"),
        "lead.assist_needed": (
            "Une personne est demandée pour ouvrir une session assistée : répondre au captcha "
            "dans la console, pour que le moniteur lise la page des créneaux.",
            "A person is asked to open an assisted session: answer the captcha in the console, "
            "so that the monitor can read the slot page.",
        ),
        "lead.assist_needed.reminder": (
            "Personne n'a encore ouvert de session assistée.",
            "Nobody has opened an assisted session yet.",
        ),
        "lead.slots_opened": ("Des créneaux de rendez-vous sont proposés.",
                              "Appointment slots are offered."),
        "lead.slots_opened.reminder": ("Des créneaux sont toujours proposés.",
                                       "Slots are still offered."),
        "lead.slots_closed": ("Les créneaux signalés ne sont plus proposés.",
                              "The slots reported are no longer offered."),
        "lead.anomaly_started": ("Le site de rendez-vous ne fonctionne pas normalement.",
                                 "The booking site is not working normally."),
        "lead.anomaly_started.reminder": ("Le site ne fonctionne toujours pas normalement.",
                                          "The booking site is still not working normally."),
        "lead.anomaly_resolved": ("Le site de rendez-vous fonctionne de nouveau.",
                                  "The booking site works again."),
        "lead.monitor_degraded": (
            "Le moniteur lui-même rencontre un problème : "
            "ses observations sont suspendues ou incomplètes.",
            "The monitor itself has a problem: its observations are paused or incomplete.",
        ),
        "lead.monitor_degraded.reminder": ("Le moniteur rencontre toujours un problème.",
                                           "The monitor still has a problem."),
        "lead.monitor_recovered": ("Le moniteur fonctionne de nouveau.",
                                   "The monitor works again."),
        "prefecture": ("Préfecture", "Prefecture"),
        "procedure": ("Démarche", "Procedure"),
        "observed": ("Constaté", "Observed"),
        "since": ("Depuis", "Since"),
        "offered_since": ("Proposés depuis", "Offered since"),
        "count": ("Créneaux proposés", "Slots offered"),
        "earliest": ("Premier créneau", "Earliest slot"),
        "cause": ("Cause", "Cause"),
        "detail": ("Détail", "Detail"),
        "book": ("Réserver", "Book at"),
        "page": ("Page", "Page"),
        "now": ("État actuel", "Now"),
        "no_slot_since": ("Plus de créneau depuis", "No slot since"),
        "last_seen": ("Dernier créneau vu", "Slots last seen"),
        "began": ("Début du problème", "Problem began"),
        "back": ("Rétabli", "Back to normal"),
        "console": ("Console", "Console"),
        "last_session": ("Dernière session terminée", "Last session ended"),
        "assist_note": (
            "Le moniteur ne répond jamais au captcha et ne réserve jamais : il lit la page des "
            "créneaux au rythme d'une personne, dans la session que vous ouvrez.",
            "The monitor never answers the captcha and never books: it reads the slot page at "
            "a person's pace, within the session you open.",
        ),
        "short.open_session": ("ouvrir une session : {url}", "open a session: {url}"),
        "end.sent_back": ("le site a renvoyé la session au captcha",
                          "the site sent the session back to the captcha"),
        "end.reads_used": ("toutes les lectures prévues ont été faites",
                           "every planned read was made"),
        "end.abandoned": ("personne n'a répondu au captcha à temps",
                          "nobody answered the captcha in time"),
        "end.browser_failed": ("le navigateur du moniteur a échoué",
                               "the monitor's browser failed"),
        "end.stopped": ("le moniteur s'est arrêté", "the monitor stopped"),
        "one_slot": ("1 créneau", "1 slot"),
        "slots": ("{n} créneaux", "{n} slots"),
        "short.earliest": ("premier le {day}", "earliest {day}"),
        "short.observed": ("constaté le {when}", "seen {when}"),
        "short.since": ("depuis le {when}", "since {when}"),
        "short.back": ("rétabli le {when}", "back to normal {when}"),
        "advice": ("Réservez vous-même sans attendre : le moniteur ne réserve jamais.",
                   "Book yourself without delay: the monitor never books."),
        "monitor_note": (
            "Les sites observés ne sont pas en cause : "
            "les observations de cette période ne comptent pas contre eux.",
            "The sites are not at fault: observations from this period do not count against them.",
        ),
        "footer": ("Heures en {tz}.", "Times in {tz}."),
        "test.title": ("Message de test de prefecture-monitor", "prefecture-monitor test message"),
        "test.body": (
            "Ceci est un message de test envoyé par « monitor notify test ». S'il vous parvient, "
            "ce canal fonctionne : les alertes de créneaux et d'anomalies arriveront ici.",
            "This is a test message sent by “monitor notify test”. If you can read it, "
            "this channel works: slot and anomaly alerts will arrive here.",
        ),
    }
)
# fmt: on


def checked_language(language: str) -> str:
    """``language`` itself, if notifications are written in it; else ``ValueError``."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}: use one of {', '.join(LANGUAGES)}")
    return language
