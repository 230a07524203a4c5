"""French dates for the imitation pages: Europe/Paris time, French day and month names, slots.

Slots are generated, not stored: ``count`` slots from ``first_date``, every 30 minutes
from 09:00 to 11:30 on weekdays (a morning reception desk), so a test knows exactly which
cells are free from two parameters.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
SLOT_STEP = timedelta(minutes=30)
FIRST_SLOT = time(9, 0)
LAST_SLOT = time(11, 30)


class _EuropeParisRule(tzinfo):
    """Europe/Paris from the EU rule, for machines without a tz database (slim containers)."""

    def _dst(self, moment: datetime) -> bool:
        year = moment.year

        def last_sunday(month: int) -> datetime:
            day = datetime(year, month, 31, 1, 0)  # DST changes at 01:00 UTC
            return day - timedelta(days=(day.weekday() + 1) % 7)

        utc = moment.replace(tzinfo=None) - timedelta(hours=1)
        return last_sunday(3) <= utc < last_sunday(10)

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=2 if dt is not None and self._dst(dt) else 1)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=1 if dt is not None and self._dst(dt) else 0)

    def tzname(self, dt: datetime | None) -> str:
        return "CEST" if dt is not None and self._dst(dt) else "CET"


def _paris() -> tzinfo:
    try:
        return ZoneInfo("Europe/Paris")
    except ZoneInfoNotFoundError:  # pragma: no cover - depends on the machine
        return _EuropeParisRule()


PARIS = _paris()


def french_day(day: date) -> str:
    """'lundi 27 avril 2026' with a two-digit day, as in the week header."""
    return f"{DAYS[day.weekday()]} {day.day:02d} {MONTHS[day.month - 1]} {day.year}"


def long_date(moment: datetime) -> str:
    """'lundi 4 mai 2026 à 09h00'."""
    local = moment.astimezone(PARIS)
    return (
        f"{DAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local.year}"
        f" à {local:%Hh%M}"
    )


def week_header(monday: date, *, english: bool = False) -> str:
    """The calendar's ``th[colspan=7]`` text, French or the English fallback (§1.4)."""
    sunday = monday + timedelta(days=6)
    if english:
        return f"Week from {french_day(monday)} to {french_day(sunday)}"
    return f"Semaine du {french_day(monday)} au {french_day(sunday)}"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_first_date(value: object) -> datetime:
    """An aware Europe/Paris datetime from an ISO date or datetime (naive = Paris time).

    ``None`` means the next weekday at 09:00.
    """
    if value is None:
        day = datetime.now(PARIS).date() + timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return datetime.combine(day, FIRST_SLOT, tzinfo=PARIS)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, FIRST_SLOT)
    else:
        text = str(value)
        moment = (
            datetime.combine(date.fromisoformat(text), FIRST_SLOT)
            if len(text) == 10
            else datetime.fromisoformat(text)
        )
    if moment.tzinfo is None:
        return moment.replace(tzinfo=PARIS)
    return moment.astimezone(PARIS)


def slot_times(first: datetime, count: int) -> list[datetime]:
    """``count`` slots from ``first``: every 30 min until 11:30, then the next weekday."""
    slots: list[datetime] = []
    current = first
    while len(slots) < max(0, count):
        slots.append(current)
        current = current + SLOT_STEP
        if current.time() > LAST_SLOT or current.date() != slots[-1].date():
            day = current.date() + timedelta(days=1 if current.time() > LAST_SLOT else 0)
            while day.weekday() >= 5:
                day += timedelta(days=1)
            current = datetime.combine(day, FIRST_SLOT, tzinfo=PARIS)
    return slots


def iso(moment: datetime) -> str:
    """ISO 8601 with the Paris offset, seconds precision."""
    return moment.astimezone(PARIS).isoformat(timespec="seconds")
