"""Reading the dates booking pages show: French dates, week headers, Unix timestamps, ISO.

Every function returns timezone-aware values; a date or time written without an offset is
Europe/Paris time, as the sites mean it (docs/platforms.md#dates-and-time-zones). Outcomes
store UTC.

Forms handled:

* French dates: ``lundi 6 mai 2030 à 09h00``, ``6 mai 2030``, ``1er juin 2030 à 9:30``,
  ``06/05/2030 09:00``;
* the legacy calendar's week header in the forms the sites print it: ``Semaine du lundi 27
  avril 2020 au dimanche 03 mai 2020``, abbreviated ``Semaine du lun. 30 nov. au dim. 6
  déc.`` (dot or not, any case), numeric ``Semaine du 30/11/2026 au 06/12/2026`` or
  ``30/11 - 06/12``, a week across the new year (``28 déc. au 3 janv. 2027``), the English
  fallbacks ``Week from lundi 27 avril 2020 to dimanche …`` and ``Week of Monday November
  30, 2026``; a year left out is inferred (from the week's last day, else the nearest to
  today);
* Unix timestamps in slot links ``/booking/create/<id>/5/<ts>``;
* ISO 8601 (``datePremiereDispo``, ``<time datetime>``), with or without offset.

Every pattern here meets page text, so every one is RE2 (``google-re2``): linear in the
text, whatever the page sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import re2

from monitor.text import normalise

PARIS = ZoneInfo("Europe/Paris")

MONTHS: dict[str, int] = {
    "janvier": 1,
    "février": 2,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "août": 8,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "décembre": 12,
    "decembre": 12,
}
#: Month names as week headers print them: French abbreviations, and English.
MONTH_NAMES: dict[str, int] = {
    **MONTHS,
    **dict.fromkeys(("janv", "jan", "january"), 1),
    **dict.fromkeys(("févr", "fevr", "fév", "fev", "feb", "february"), 2),
    **dict.fromkeys(("mar", "march"), 3),
    **dict.fromkeys(("avr", "apr", "april"), 4),
    **dict.fromkeys(("may",), 5),
    **dict.fromkeys(("jun", "june"), 6),
    **dict.fromkeys(("juil", "jul", "july"), 7),
    **dict.fromkeys(("aug", "august"), 8),
    **dict.fromkeys(("sept", "sep", "september"), 9),
    **dict.fromkeys(("oct", "october"), 10),
    **dict.fromkeys(("nov", "november"), 11),
    **dict.fromkeys(("déc", "dec", "december"), 12),
}
_DAY_NAMES = "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_ANY_MONTH = "|".join(sorted(MONTH_NAMES, key=len, reverse=True))
_TIME = r"(?P<hour>\d{1,2})\s*(?:h|:)\s*(?P<minute>\d{2})?"
_FRENCH_DATE = re2.compile(
    rf"(?:(?:{_DAY_NAMES})\s+)?(?P<day>\d{{1,2}})(?:er)?\s+(?P<month>{_MONTH})\s+(?P<year>\d{{4}})"
    rf"(?:\s*(?:à|a|,|-)?\s*{_TIME})?"
)
_NUMERIC_DATE = re2.compile(
    rf"\b(?P<day>\d{{1,2}})/(?P<month>\d{{1,2}})/(?P<year>\d{{4}})(?:\s*(?:à|a)?\s*{_TIME})?"
)
_CLOCK = re2.compile(rf"\b{_TIME}")
#: A day and month in a week header, in the order French pages write them: ``30 nov.``,
#: ``1er décembre 2026``, ``30/11/2026``, ``30/11``, ISO ``2026-11-30``.
_HEADER_DAY_MONTH = re2.compile(
    rf"\b(?P<day>\d{{1,2}})(?:er|e)?\.? ?(?P<month>{_ANY_MONTH})\b\.?(?: ?(?P<year>\d{{4}})\b)?"
)
_HEADER_NUMERIC = re2.compile(
    r"\b(?P<day>\d{1,2})/(?P<month>\d{1,2})(?:/(?P<year>\d{4}|\d{2}))?\b"
    r"|\b(?P<iso_year>\d{4})-(?P<iso_month>\d{2})-(?P<iso_day>\d{2})\b"
)
#: The English server's order: ``November 30, 2026``, ``Nov 30``.
_HEADER_MONTH_DAY = re2.compile(
    rf"\b(?P<month>{_ANY_MONTH})\b\.? (?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
    r"(?:,? (?P<year>\d{4})\b)?"
)
#: Timestamps outside these years are ids or counters, not slots.
_PLAUSIBLE_YEARS = range(2000, 2101)


def to_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive value is taken as Europe/Paris time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return moment.astimezone(UTC)


def _at(day: date, hour: str | None, minute: str | None) -> datetime | None:
    try:
        clock = time(int(hour), int(minute or 0)) if hour is not None else time(0, 0)
    except ValueError:
        return None
    return datetime.combine(day, clock, tzinfo=PARIS)


def parse_french_date(text: str) -> datetime | None:
    """The first French date (and time, if written) in ``text``, aware Europe/Paris."""
    folded = normalise(text)
    match: Any = _FRENCH_DATE.search(folded)
    if match:
        month = MONTHS[match["month"]]
    else:
        match = _NUMERIC_DATE.search(folded)
        if not match:
            return None
        month = int(match["month"])
    try:
        day = date(int(match["year"]), month, int(match["day"]))
    except ValueError:
        return None
    return _at(day, match["hour"], match["minute"])


@dataclass(frozen=True)
class _Mention:
    """A day and month a header names, with its year if written."""

    start: int
    end: int
    day: int
    month: int
    year: int | None


def _group(match: Any, name: str) -> str | None:
    """A named group's text; None when unmatched or when the pattern has no such group."""
    value = match[name] if name in match.re.groupindex else None
    return None if value is None else str(value)


def _mention(match: Any) -> _Mention | None:
    if match is None:
        return None
    iso = _group(match, "iso_year") is not None
    day, month, year = (
        _group(match, f"{'iso_' if iso else ''}{n}") for n in ("day", "month", "year")
    )
    if day is None or month is None:
        return None
    number = int(month) if month.isdigit() else MONTH_NAMES.get(month)
    if number is None:
        return None
    full = None if year is None else int(year) + (2000 if len(year) == 2 else 0)
    return _Mention(int(match.start()), int(match.end()), int(day), number, full)


def _next_mention(folded: str, pos: int = 0) -> _Mention | None:
    """The first day named at or after ``pos``: French order or numeric, else English.

    One search per pattern (never every match of a page-long run): linear in the text.
    """
    found = [
        mention
        for pattern in (_HEADER_DAY_MONTH, _HEADER_NUMERIC)
        if (mention := _mention(pattern.search(folded, pos))) is not None
    ]
    if not found:
        english = _mention(_HEADER_MONTH_DAY.search(folded, pos))
        found = [english] if english is not None else []
    return min(found, key=lambda mention: mention.start, default=None)


def _dated(mention: _Mention, year: int) -> date | None:
    try:
        return date(year, mention.month, mention.day)
    except ValueError:
        return None


def _nearest(mention: _Mention, today: date) -> date | None:
    """The date of a yearless ``mention`` nearest to ``today`` (a week across the new year)."""
    candidates = [
        day
        for year in (today.year - 1, today.year, today.year + 1)
        if (day := _dated(mention, year)) is not None
    ]
    return min(candidates, key=lambda day: abs((day - today).days), default=None)


def parse_week_header(text: str, today: date | None = None) -> date | None:
    """The first day of a calendar week header, in any of the forms above; None if none.

    A year the header leaves out is the last day's (one less when the week crosses the new
    year: ``28 déc. au 3 janv. 2027``); with no year at all, the one that puts the day
    nearest to ``today``, and None without ``today``.
    """
    folded = normalise(text)
    first = _next_mention(folded)
    if first is None:
        return None
    if first.year is not None:
        return _dated(first, first.year)
    last = _next_mention(folded, first.end)
    if last is not None and last.year is not None:
        return _dated(first, last.year - 1 if first.month > last.month else last.year)
    return _nearest(first, today) if today is not None else None


def parse_clock(text: str) -> time | None:
    """The first time of day in ``text`` (``09h00``, ``9:30``, ``14h``)."""
    match = _CLOCK.search(normalise(text))
    if not match:
        return None
    try:
        return time(int(match["hour"]), int(match["minute"] or 0))
    except ValueError:
        return None


def monday_of(day: date) -> date:
    """The Monday of ``day``'s week (calendar weeks run Monday to Sunday)."""
    return day - timedelta(days=day.weekday())


def day_in_week(first_day: date, column: int, clock: time, zone: ZoneInfo = PARIS) -> datetime:
    """The moment of a calendar cell: the week's first day plus its column, at ``clock``.

    ``zone`` is the site's time zone (the configured ``settings.timezone``).
    """
    return datetime.combine(first_day + timedelta(days=column), clock, tzinfo=zone)


def from_timestamp(value: str | int) -> datetime | None:
    """A Unix timestamp (seconds) as an aware UTC datetime; None if it is not a plausible one."""
    try:
        moment = datetime.fromtimestamp(int(value), UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.year in _PLAUSIBLE_YEARS else None


def parse_iso(value: str) -> datetime | None:
    """An ISO 8601 date or datetime as aware (naive: Europe/Paris); None for "" or junk."""
    text = value.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0, 0), tzinfo=PARIS)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=PARIS)
