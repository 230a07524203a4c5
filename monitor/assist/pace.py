"""When an assisted session reads, asks and ends: pure rules on times and addresses.

The desk (:mod:`monitor.assist.desk`) does the I/O; what it decides is here
(docs/contract.md#assisted-sessions):

- where the site put the session's page (:func:`place_of`): the slot page ``/creneau/``,
  the captcha page ``/cgu/`` (rejected code: ``?error=invalidCaptcha``), the démarche's
  root, or elsewhere;
- after each read, whether the session ends (:func:`end_after_read`): sent back to
  ``/cgu/`` or the root, or ``settings.assist.max_rereads`` re-reads made;
- when an unanswered captcha is abandoned, and when the desk wakes next (when
  ``assist_needed`` is due again: ``monitor.alerts.policy.should_ask``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qsl, urlsplit

from monitor.assist.views import EndReason

__all__ = [
    "ABANDON_AFTER",
    "Place",
    "abandoned",
    "end_after_read",
    "is_rejected",
    "next_wake",
    "place_of",
    "reads_left",
]

#: A captcha shown and not answered this long is abandoned: its context is closed.
ABANDON_AFTER = timedelta(minutes=10)
#: The démarche's steps by the path segment after its id (docs/platforms.md#rdv-prefecture).
_STEPS = {"creneau": "slots", "cgu": "captcha"}


class Place(StrEnum):
    """Where a page of the démarche is."""

    SLOTS = "slots"  #: …/demarche/<id>/creneau/
    CAPTCHA = "captcha"  #: …/demarche/<id>/cgu/
    ROOT = "root"  #: …/demarche/<id>/, the landing
    OTHER = "other"  #: anything else (another step, another site)


def place_of(url: str) -> Place:
    """Where ``url`` is in the démarche, from its path alone."""
    segments = [part for part in urlsplit(url).path.split("/") if part]
    try:
        at = len(segments) - 1 - segments[::-1].index("demarche")
    except ValueError:
        return Place.OTHER
    after = segments[at + 1 :]
    if len(after) == 1 and after[0].isdigit():
        return Place.ROOT
    if len(after) == 2 and after[0].isdigit():
        return Place(_STEPS[after[1]]) if after[1] in _STEPS else Place.OTHER
    return Place.OTHER


def is_rejected(url: str) -> bool:
    """The captcha page saying the previous code was wrong (``?error=invalidCaptcha``)."""
    query = dict(parse_qsl(urlsplit(url).query))
    return place_of(url) is Place.CAPTCHA and query.get("error") == "invalidCaptcha"


def end_after_read(place: Place, rereads_done: int, max_rereads: int) -> EndReason | None:
    """Whether a live session ends after a read that found ``place``.

    ``rereads_done``: re-reads made so far, this one included (the first read, right after
    the captcha, is not a re-read).
    """
    if place in (Place.CAPTCHA, Place.ROOT):
        return EndReason.SENT_BACK
    if rereads_done >= max_rereads:
        return EndReason.READS_USED
    return None


def reads_left(rereads_done: int, max_rereads: int) -> int:
    return max(0, max_rereads - rereads_done)


def abandoned(shown_at: datetime, now: datetime, wait: timedelta = ABANDON_AFTER) -> bool:
    """A captcha shown at ``shown_at`` that nobody answered within ``wait``."""
    return now - shown_at >= wait


def next_wake(now: datetime, dues: list[datetime], longest: timedelta) -> datetime:
    """The earliest of ``dues``, and no later than ``longest`` from ``now``."""
    return min([*dues, now + longest])
