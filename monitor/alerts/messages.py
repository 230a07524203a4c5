"""Every notification text, in one place: French by default, English on request.

:func:`render` turns an :class:`~monitor.domain.Event` into a :class:`Message` (title and
body): the prefecture, the procedure, what happened and when (local time in the configured
timezone), the booking URL in full, the slot count and earliest slot when known, and for
anomalies the reason in plain words and since when. ``short=True`` (Signal, SMS-like
channels) keeps the body to two lines under the title; email gets the full text.

The words themselves, in both languages, are in ``monitor.alerts.phrasebook``; dates and
times are written by ``monitor.alerts.moments``. This module puts them together: which
facts each kind of event tells, in which order, in the full (email) and short forms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from monitor.alerts.moments import format_day, format_moment
from monitor.alerts.phrasebook import REASON_LABELS, SENTENCES, checked_language
from monitor.details import from_json, render_stored
from monitor.domain import Event, EventKind, Reason, Status
from monitor.printable import printable

__all__ = ["Message", "render", "render_test"]


@dataclass(frozen=True)
class Message:
    """A notification ready for a channel: Apprise's title and body."""

    title: str
    body: str


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
    console_url: str | None
    end_reason: str | None

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


def _assist_needed(f: _Facts) -> tuple[list[str], list[str]]:
    full = [f.line("console", f.console_url or "")]
    if f.since is not None:
        ended = f.moment(f.since)
        why = f.words.get(f"end.{f.end_reason}") if f.end_reason else None
        full.append(f.line("last_session", f"{ended} ({why})" if why else ended))
    full += ["", f.words["assist_note"]]
    return full, [f.words["short.open_session"].format(url=f.console_url or "")]


_BUILDERS: dict[EventKind, _Builder] = {
    EventKind.SLOTS_OPENED: _slots_opened,
    EventKind.SLOTS_CLOSED: _slots_closed,
    EventKind.ANOMALY_STARTED: _anomaly_started,
    EventKind.ANOMALY_RESOLVED: _anomaly_resolved,
    EventKind.MONITOR_DEGRADED: _monitor_degraded,
    EventKind.MONITOR_RECOVERED: _monitor_recovered,
    EventKind.ASSIST_NEEDED: _assist_needed,
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
    lang = checked_language(language)
    words = SENTENCES[lang]
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
        return _message(title, brief)
    lead_key = f"lead.{kind_key}"
    if event.reminder and f"{lead_key}.reminder" in words:
        lead_key += ".reminder"
    lead = f"{prefix}{_decapitalise(words[lead_key])}" if prefix else words[lead_key]
    lines = [lead, "", *frame, *full, "", words["footer"].format(tz=tz.key)]
    return _message(title, lines)


def render_test(language: str) -> Message:
    """The message ``monitor notify test`` sends to check that a channel works."""
    words = SENTENCES[checked_language(language)]
    return _message(words["test.title"], [words["test.body"]])


def _message(title: str, lines: list[str]) -> Message:
    """The message as sent: a page's words quoted in it (a detail, a name the config took
    from a page) carry no terminal escape, control or bidirectional override."""
    return Message(title=printable(title, one_line=True), body=printable("\n".join(lines)))


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
        console_url=_text(payload, "console_url"),
        end_reason=_text(payload, "end_reason"),
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
