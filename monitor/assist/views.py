"""What the operator console sees of assisted sessions, and the one interface it acts through.

The console (``monitor.console``) only renders these values and calls :class:`Desk`; the
daemon's desk (``monitor.assist.desk``) owns the browser contexts, the reads and the
records. Data flows one way: desk → views → console pages; a person's acts come back only
through :meth:`Desk.open` and :meth:`Desk.answer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

__all__ = [
    "AnswerResult",
    "Challenge",
    "Desk",
    "DeskRefusal",
    "EndReason",
    "SessionState",
    "SessionView",
]


class SessionState(StrEnum):
    """Where one ``assist: true`` target's session stands."""

    WAITING = "waiting"  #: no live session: a person is asked to open one
    OPENING = "opening"  #: the monitor's browser is going to the captcha page
    CHALLENGE = "challenge"  #: the captcha is shown; waiting for the person's code
    SUBMITTING = "submitting"  #: the code was typed into the page and submitted, once
    LIVE = "live"  #: past the captcha: the slot page is read on schedule
    ENDED = "ended"  #: the last session ended (``end_reason``); a new one may be opened


class EndReason(StrEnum):
    """Why a session ended: recorded with it, never as an anomaly of the site."""

    SENT_BACK = "sent_back"  #: the site sent the session back to /cgu/ or the root
    READS_USED = "reads_used"  #: ``settings.assist.max_rereads`` reads were made
    ABANDONED = "abandoned"  #: nobody answered the captcha in time
    BROWSER_FAILED = "browser_failed"  #: the monitor's own browser failed
    STOPPED = "stopped"  #: the daemon stopped, or the target left the config


class AnswerResult(StrEnum):
    """What became of a typed code."""

    ACCEPTED = "accepted"  #: the site opened the slot page: the session is live
    REJECTED = "rejected"  #: the site showed a new image (``?error=invalidCaptcha``)
    OTHER = "other"  #: the site answered something else; see the session's state


@dataclass(frozen=True)
class Challenge:
    """The captcha page as the monitor's browser has it, shown to the person as it is."""

    target_id: str
    number: int  #: 1 for the first image of this opening, +1 after each rejected code
    image: bytes  #: the captcha image's bytes, as the page holds them
    image_type: str  #: its media type, e.g. ``image/png``
    audio: bytes | None  #: the audio version when the page offers one
    audio_type: str | None
    screenshot: bytes  #: a PNG of the page
    rejected: bool  #: the site said the previous code was wrong
    shown_at: datetime  #: UTC


@dataclass(frozen=True)
class SessionView:
    """One ``assist: true`` target and its current (or last) session, for the console."""

    target_id: str
    target_name: str
    prefecture: str  #: the prefecture's id
    prefecture_name: str
    state: SessionState
    operator: str | None  #: who opened the current or last session
    opened_at: datetime | None  #: UTC
    reads_done: int
    reads_left: int
    next_read: datetime | None  #: UTC; None unless live
    last_outcome: str | None  #: ``status/reason`` of the session's last read
    last_outcome_at: datetime | None
    ended_at: datetime | None
    end_reason: EndReason | None
    node: str  #: the daemon node that holds the session's browser context


class DeskRefusal(Exception):
    """An act the desk cannot do now; its message is for the person, in plain words."""


class Desk(Protocol):
    """The daemon's assisted sessions, as the console uses them."""

    def sessions(self) -> Sequence[SessionView]:
        """Every ``assist: true`` target of the config, by prefecture then target id."""
        ...

    def challenge(self, target_id: str) -> Challenge | None:
        """The captcha waiting for a person on that target, if any."""
        ...

    async def open(self, target_id: str, operator: str) -> SessionView:
        """Open the démarche in the target's browser context up to the captcha page.

        Raises :class:`DeskRefusal` (unknown target, a session already opening or live).
        """
        ...

    async def answer(self, target_id: str, code: str, operator: str) -> AnswerResult:
        """Type ``code`` into the captcha page and submit it, once; raises
        :class:`DeskRefusal` when no captcha is waiting."""
        ...
