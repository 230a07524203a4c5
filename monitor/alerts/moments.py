"""Moments and days as a notification writes them, in French or English, in local time.

"lundi 23 novembre 2026 à 14 h 05" / "Monday 23 November 2026, 14:05". Day and month names
are written here rather than taken from the system locale, which a daemon in a container
rarely has. Shared by the messages and the evidence reports.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.alerts.phrasebook import checked_language

__all__ = ["format_day", "format_moment"]

# fmt: off
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
# fmt: on


def format_moment(moment: datetime, *, language: str, tz: ZoneInfo) -> str:
    """A timezone-aware moment in local time: "lundi 23 novembre 2026 à 14 h 05" /
    "Monday 23 November 2026, 14:05". Raises ``ValueError`` for a naive datetime."""
    if moment.tzinfo is None:
        # astimezone() would read it as the host's local time, which is never what we mean.
        raise ValueError(f"cannot show a naive datetime: {moment!r}")
    local = moment.astimezone(tz)
    if checked_language(language) == "fr":
        return f"{format_day(local, language='fr', tz=tz)} à {local.hour} h {local.minute:02d}"
    return f"{format_day(local, language='en', tz=tz)}, {local:%H:%M}"


def format_day(moment: datetime, *, language: str, tz: ZoneInfo) -> str:
    """The local date alone: "mardi 1er décembre 2026" / "Tuesday 1 December 2026"."""
    local = moment.astimezone(tz)
    lang = checked_language(language)
    weekday = _WEEKDAYS[lang][local.weekday()]
    month = _MONTHS[lang][local.month - 1]
    day = "1er" if lang == "fr" and local.day == 1 else str(local.day)
    return f"{weekday} {day} {month} {local.year}"
