"""Every notification text, in one place: French by default, English on request.

:func:`render` turns an :class:`~monitor.domain.Event` into a :class:`Message` (title and
body): the prefecture, the procedure, what happened and when (local time in the configured
timezone), the booking URL in full, the slot count and earliest slot when known, and for
anomalies the reason in plain words and since when. ``short=True`` (Signal, SMS-like
channels) keeps the body to two lines under the title; email gets the full text.

Day and month names are written here rather than taken from the system locale, which a
daemon in a container rarely has. ``REASON_LABELS``, ``STATUS_LABELS``,
:func:`format_moment` and :func:`format_day` are shared with the report module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import TypeVar
from zoneinfo import ZoneInfo

from monitor.details import LANGUAGES, from_json, render_stored  # LANGUAGES: the pairs' order
from monitor.domain import Event, EventKind, Reason, Status

__all__ = [
    "LANGUAGES",
    "REASON_LABELS",
    "STATUS_LABELS",
    "Message",
    "format_day",
    "format_moment",
    "render",
    "render_test",
]

_K = TypeVar("_K")


@dataclass(frozen=True)
class Message:
    """A notification ready for a channel: Apprise's title and body."""

    title: str
    body: str


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

_WEEKDAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin",
           "juillet", "août", "septembre", "octobre", "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June",
           "July", "August", "September", "October", "November", "December"),
}

# Every sentence of every message, French then English; "{…}" are filled in.
_WORDS: dict[str, dict[str, str]] = _by_language(
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


def format_moment(moment: datetime, *, language: str, tz: ZoneInfo) -> str:
    """A timezone-aware moment in local time: "lundi 23 novembre 2026 à 14 h 05" /
    "Monday 23 November 2026, 14:05". Raises ``ValueError`` for a naive datetime."""
    if moment.tzinfo is None:
        # astimezone() would read it as the host's local time, which is never what we mean.
        raise ValueError(f"cannot show a naive datetime: {moment!r}")
    local = moment.astimezone(tz)
    if _language(language) == "fr":
        return f"{format_day(local, language='fr', tz=tz)} à {local.hour} h {local.minute:02d}"
    return f"{format_day(local, language='en', tz=tz)}, {local:%H:%M}"


def format_day(moment: datetime, *, language: str, tz: ZoneInfo) -> str:
    """The local date alone: "mardi 1er décembre 2026" / "Tuesday 1 December 2026"."""
    local = moment.astimezone(tz)
    lang = _language(language)
    weekday = _WEEKDAYS[lang][local.weekday()]
    month = _MONTHS[lang][local.month - 1]
    day = "1er" if lang == "fr" and local.day == 1 else str(local.day)
    return f"{weekday} {day} {month} {local.year}"


@dataclass(frozen=True)
class _Facts:
    """What a message can say, read once from the event and its payload."""

    reminder: bool
    words: dict[str, str]
    lang: str
    tz: ZoneInfo
    when: datetime
    since: datetime | None
    url: str | None
    detail: str | None
    reason: str | None
    slot_count: int | None
    earliest_slot: datetime | None
    last_available_at: datetime | None

    def moment(self, value: datetime) -> str:
        return format_moment(value, language=self.lang, tz=self.tz)

    def line(self, key: str, value: str) -> str:
        return f"{self.words[key]}{self.words['colon']}{value}"

    def slots(self) -> str | None:
        if self.slot_count is None:
            return None
        if self.slot_count == 1:
            return self.words["one_slot"]
        return self.words["slots"].format(n=self.slot_count)

    def earliest(self) -> str | None:
        if self.earliest_slot is None:
            return None
        # A slot known only by its date arrives as local midnight: no time to show.
        if self.earliest_slot.astimezone(self.tz).time() == time(0, 0):
            return format_day(self.earliest_slot, language=self.lang, tz=self.tz)
        return self.moment(self.earliest_slot)


# Each builder returns (full lines, short lines); the lead sentence and the footer are added
# by render(), so every message has the same frame.
_Builder = Callable[[_Facts], tuple[list[str], list[str]]]


def _slots_opened(f: _Facts) -> tuple[list[str], list[str]]:
    full = [f.line("observed", f.moment(f.when))]
    if f.reminder and f.since is not None:
        full.append(f.line("offered_since", f.moment(f.since)))
    slots, earliest = f.slots(), f.earliest()
    if f.slot_count is not None:
        full.append(f.line("count", str(f.slot_count)))
    if earliest is not None:
        full.append(f.line("earliest", earliest))
    full += [f.line("book", f.url or ""), "", f.words["advice"]]
    facts = [slots] if slots is not None else []
    if earliest is not None:
        facts.append(f.words["short.earliest"].format(day=earliest))
    facts.append(f.words["short.observed"].format(when=f.moment(f.when)))
    return full, [f.words["list"].join(facts), f.url or ""]


def _slots_closed(f: _Facts) -> tuple[list[str], list[str]]:
    since = f.since or f.when
    full = [f.line("no_slot_since", f.moment(since))]
    if f.last_available_at is not None:
        full.append(f.line("last_seen", f.moment(f.last_available_at)))
    if f.reason is not None:
        full.append(f.line("now", f.reason))
    full.append(f.line("page", f.url or ""))
    short = f.words["short.since"].format(when=f.moment(since))
    if f.reason is not None:
        short = f"{_capitalise(f.reason)}, {short}"
    return full, [short, f.url or ""]


def _anomaly_started(f: _Facts) -> tuple[list[str], list[str]]:
    since = f.since or f.when
    full = [f.line("cause", f.reason or ""), f.line("since", f.moment(since))]
    full.append(f.line("observed", f.moment(f.when)))
    if f.detail:
        full.append(f.line("detail", f.detail))
    full.append(f.line("page", f.url or ""))
    short = f.words["short.since"].format(when=f.moment(since))
    return full, [f"{_capitalise(f.reason or '')}, {short}", f.url or ""]


def _anomaly_resolved(f: _Facts) -> tuple[list[str], list[str]]:
    full = []
    if f.since is not None:
        full.append(f.line("began", f.moment(f.since)))
    full.append(f.line("back", f.moment(f.when)))
    if f.reason is not None:
        full.append(f.line("now", f.reason))
    full.append(f.line("page", f.url or ""))
    return full, [_capitalise(f.words["short.back"].format(when=f.moment(f.when))), f.url or ""]


def _monitor_degraded(f: _Facts) -> tuple[list[str], list[str]]:
    since = f.since or f.when
    full = [f.line("since", f.moment(since))]
    if f.detail:
        full.append(f.line("detail", f.detail))
    full += ["", f.words["monitor_note"]]
    short = _capitalise(f.words["short.since"].format(when=f.moment(since)))
    if f.detail:
        short += f"{f.words['colon']}{f.detail}"
    return full, [short]


def _monitor_recovered(f: _Facts) -> tuple[list[str], list[str]]:
    full = []
    if f.since is not None:
        full.append(f.line("began", f.moment(f.since)))
    full.append(f.line("back", f.moment(f.when)))
    if f.detail:
        full.append(f.line("detail", f.detail))
    return full, [_capitalise(f.words["short.back"].format(when=f.moment(f.when)))]


_BUILDERS: dict[EventKind, _Builder] = {
    EventKind.SLOTS_OPENED: _slots_opened,
    EventKind.SLOTS_CLOSED: _slots_closed,
    EventKind.ANOMALY_STARTED: _anomaly_started,
    EventKind.ANOMALY_RESOLVED: _anomaly_resolved,
    EventKind.MONITOR_DEGRADED: _monitor_degraded,
    EventKind.MONITOR_RECOVERED: _monitor_recovered,
}
_MONITOR_KINDS = frozenset({EventKind.MONITOR_DEGRADED, EventKind.MONITOR_RECOVERED})


def render(
    event: Event,
    *,
    target_name: str,
    prefecture_name: str,
    language: str,
    tz: ZoneInfo,
    short: bool,
) -> Message:
    """The message telling people about ``event``, in ``language`` ("fr" or "en").

    Times are shown in ``tz``. Monitor health events speak of the monitor itself: no
    prefecture, procedure or URL. Raises ``ValueError`` for another language.
    """
    lang = _language(language)
    words = _WORDS[lang]
    facts = _read(event, words=words, lang=lang, tz=tz)
    prefix = words["reminder"] if event.reminder else ""
    kind_key = event.kind.value
    if event.kind is EventKind.SLOTS_OPENED and event.payload.get("reason") == "open":
        kind_key += ".open"
    if event.kind in _MONITOR_KINDS:
        title = f"{prefix}{words[kind_key]}"
        frame: list[str] = []
    else:
        title = f"{prefix}{words[kind_key]} — {prefecture_name}{words['colon']}{target_name}"
        frame = [facts.line("prefecture", prefecture_name), facts.line("procedure", target_name)]
    full, brief = _BUILDERS[event.kind](facts)
    if short:
        return Message(title=title, body="\n".join(brief))
    lead_key = f"lead.{kind_key}"
    if event.reminder and f"{lead_key}.reminder" in words:
        lead_key += ".reminder"
    lead = f"{prefix}{_decapitalise(words[lead_key])}" if prefix else words[lead_key]
    lines = [lead, "", *frame, *full, "", words["footer"].format(tz=tz.key)]
    return Message(title=title, body="\n".join(lines))


def render_test(language: str) -> Message:
    """The message ``monitor notify test`` sends to check that a channel works."""
    words = _WORDS[_language(language)]
    return Message(title=words["test.title"], body=words["test.body"])


def _read(event: Event, *, words: dict[str, str], lang: str, tz: ZoneInfo) -> _Facts:
    payload = event.payload
    reason_value = _text(payload, "reason")
    reason: str | None = None
    if reason_value is not None:
        try:
            reason = REASON_LABELS[lang][Reason(reason_value)]
        except ValueError:
            reason = reason_value  # a reason from a newer version: show it as it is
        http_status = _number(payload, "http_status")
        # The HTTP status helps only when it is the fault, not on a page that worked.
        if http_status is not None and _text(payload, "status") == Status.ANOMALY.value:
            reason += f" (HTTP {http_status})"
    return _Facts(
        reminder=event.reminder,
        words=words,
        lang=lang,
        tz=tz,
        when=_moment(payload, "outcome_started_at") or event.occurred_at,
        since=_moment(payload, "since"),
        url=_text(payload, "url"),
        detail=_detail(payload, lang, tz),
        reason=reason,
        slot_count=_number(payload, "slot_count"),
        earliest_slot=_moment(payload, "earliest_slot"),
        last_available_at=_moment(payload, "last_available_at"),
    )


def _detail(payload: dict[str, object], lang: str, tz: ZoneInfo) -> str | None:
    """The payload's detail in ``lang``: from its code and values, else the recorded line."""
    line = _text(payload, "detail")
    code, args = payload.get("detail_code"), payload.get("detail_args")
    if line is None or not isinstance(code, str) or not isinstance(args, Mapping):
        return line
    try:
        structured = from_json({"code": code, "args": args})
    except ValueError:
        return line  # written by another version: the recorded line says it
    return render_stored(line, structured, lang, tz)


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}: use one of {', '.join(LANGUAGES)}")
    return language


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _decapitalise(text: str) -> str:
    # After "Rappel :" French typography wants lower case; English accepts it too.
    return text[:1].lower() + text[1:]


def _text(payload: dict[str, object], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and value else None


def _number(payload: dict[str, object], key: str) -> int | None:
    value = payload.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _moment(payload: dict[str, object], key: str) -> datetime | None:
    value = _text(payload, key)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None  # a message with one fact missing beats no message at all
    return moment if moment.tzinfo is not None else None
