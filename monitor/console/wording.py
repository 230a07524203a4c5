"""The console's words (French first, a short English hint beside) and how its values are
shown: pure functions from the desk's views to what a template prints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from monitor.alerts.phrasebook import STATUS_LABELS
from monitor.assist.views import EndReason, SessionState, SessionView

__all__ = ["Row", "moment", "outcome_words", "row"]

#: Each state, as the operator reads it (French, then English).
STATES: dict[SessionState, tuple[str, str]] = {
    SessionState.WAITING: ("en attente d'une personne", "waiting for someone"),
    SessionState.OPENING: ("ouverture en cours", "opening"),
    SessionState.CHALLENGE: ("captcha à résoudre", "captcha to answer"),
    SessionState.SUBMITTING: ("code envoyé, vérification", "code sent"),
    SessionState.LIVE: ("session active", "live"),
    SessionState.ENDED: ("session terminée", "ended"),
}

#: Why a session ended.
END_REASONS: dict[EndReason, str] = {
    EndReason.SENT_BACK: "le site a renvoyé la session au début",
    EndReason.READS_USED: "toutes les lectures prévues ont été faites",
    EndReason.ABANDONED: "personne n'a répondu au captcha à temps",
    EndReason.BROWSER_FAILED: "le navigateur du moniteur a échoué",
    EndReason.STOPPED: "le moniteur s'est arrêté, ou la démarche a quitté la configuration",
}


#: An outcome's status as the status page and the alerts name it, by its stored value.
_STATUS_WORDS = {status.value: words for status, words in STATUS_LABELS["fr"].items()}


def moment(value: datetime | None, zone: tzinfo) -> str:
    """``07/12/2026 03:12`` in the operator's zone; empty for None."""
    return "" if value is None else value.astimezone(zone).strftime("%d/%m/%Y %H:%M")


def outcome_words(outcome: str | None) -> str:
    """``unavailable/no_slot`` → ``pas de créneau (unavailable/no_slot)``."""
    if not outcome:
        return ""
    status = outcome.split("/", 1)[0]
    words = _STATUS_WORDS.get(status)
    return f"{words} ({outcome})" if words else outcome


@dataclass(frozen=True)
class Row:
    """One target's line on the index, every value already text."""

    target_id: str
    name: str
    prefecture: str
    state: str  #: the state's value, for a CSS class and tests
    state_words: str
    state_hint: str
    operator: str
    opened_at: str
    reads_done: int
    reads_left: int
    next_read: str
    last_outcome: str
    last_outcome_at: str
    ended_at: str
    end_reason: str
    node: str
    can_open: bool  #: a person may open a new session
    can_answer: bool  #: a captcha waits for a code
    busy: bool  #: opening or checking a code: wait a moment


def row(view: SessionView, zone: tzinfo) -> Row:
    """The index's line for one target's session."""
    words, hint = STATES[view.state]
    return Row(
        target_id=view.target_id,
        name=view.target_name,
        prefecture=view.prefecture_name,
        state=view.state.value,
        state_words=words,
        state_hint=hint,
        operator=view.operator or "",
        opened_at=moment(view.opened_at, zone),
        reads_done=view.reads_done,
        reads_left=view.reads_left,
        next_read=moment(view.next_read, zone),
        last_outcome=outcome_words(view.last_outcome),
        last_outcome_at=moment(view.last_outcome_at, zone),
        ended_at=moment(view.ended_at, zone),
        end_reason=END_REASONS[view.end_reason] if view.end_reason else "",
        node=view.node,
        can_open=view.state in (SessionState.WAITING, SessionState.ENDED),
        can_answer=view.state is SessionState.CHALLENGE,
        busy=view.state in (SessionState.OPENING, SessionState.SUBMITTING),
    )
