"""Reading the dates booking pages show: French dates, week headers, Unix timestamps, ISO.

Every function returns timezone-aware values; a date or time written without an offset is
Europe/Paris time, as the sites mean it (PLATFORMS.md §7.1, 6.). Outcomes store UTC.

Forms handled:

* French dates: ``lundi 6 mai 2030 à 09h00``, ``6 mai 2030``, ``1er juin 2030 à 9:30``,
  ``06/05/2030 09:00``;
* the legacy calendar's week header, French ``Semaine du lundi 27 avril 2020 au dimanche
  03 mai 2020`` or the English fallback ``Week from lundi 27 avril 2020 to dimanche …``;
* Unix timestamps in slot links ``/booking/create/<id>/5/<ts>``;
* ISO 8601 (``datePremiereDispo``, ``<time datetime>``), with or without offset.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

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
_DAY_NAMES = "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_TIME = r"(?P<hour>\d{1,2})\s*(?:h|:)\s*(?P<minute>\d{2})?"
_FRENCH_DATE = re.compile(
    rf"(?:(?:{_DAY_NAMES})\s+)?(?P<day>\d{{1,2}})(?:er)?\s+(?P<month>{_MONTH})\s+(?P<year>\d{{4}})"
    rf"(?:\s*(?:à|a|,|-)?\s*{_TIME})?"
)
_NUMERIC_DATE = re.compile(
    rf"\b(?P<day>\d{{1,2}})/(?P<month>\d{{1,2}})/(?P<year>\d{{4}})(?:\s*(?:à|a)?\s*{_TIME})?"
)
_WEEK_HEADER = re.compile(
    rf"(?:semaine du|week from)\s+(?:(?:{_DAY_NAMES})\s+)?(?P<day>\d{{1,2}})(?:er)?\s+"
    rf"(?P<month>{_MONTH})\s+(?P<year>\d{{4}})"
)
_CLOCK = re.compile(rf"\b{_TIME}")
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
    match = _FRENCH_DATE.search(folded)
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


def parse_week_header(text: str) -> date | None:
    """The first day of a calendar week header, French or English variant."""
    match = _WEEK_HEADER.search(normalise(text))
    if not match:
        return None
    try:
        return date(int(match["year"]), MONTHS[match["month"]], int(match["day"]))
    except ValueError:
        return None


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
