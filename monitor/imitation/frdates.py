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


#: How French week headers abbreviate (with a dot, as the sites print them).
SHORT_DAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
SHORT_MONTHS = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
ENGLISH_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
#: The forms the sites print a week header in (``calendar_header``), for Monday 30 Nov 2026:
HEADER_STYLES = {
    "long": "Semaine du lundi 30 novembre 2026 au dimanche 06 décembre 2026",
    "english": "Week from lundi 30 novembre 2026 to dimanche 06 décembre 2026",
    "english_of": "Week of Monday November 30, 2026",
    "abbreviated": "Semaine du lun. 30 nov. au dim. 6 déc. 2026",
    "short": "semaine du lun 30 nov au dim 6 déc",
    "nbsp": "Semaine du lun.\u00a030\u202fnov. au dim.\u00a06\u202fdéc.",
    "numeric": "Semaine du 30/11/2026 au 06/12/2026",
    "numeric_short": "Du 30/11 au 06/12",
    "day": "Lundi 30 novembre 2026",
    "undated": "Planning de la semaine",
}


def _short(day: date, space: str = " ", dot: bool = True) -> str:
    name, month = SHORT_DAYS[day.weekday()], SHORT_MONTHS[day.month - 1]
    if not dot:
        name, month = name.rstrip("."), month.rstrip(".")
    return f"{name}{space}{day.day}{space}{month}"


def week_header(monday: date, *, english: bool = False, style: str = "long") -> str:
    """The calendar's ``th[colspan=7]`` text in one of :data:`HEADER_STYLES`
    (docs/platforms.md#legacy-booking-the-week-calendar).

    ``english``: the English fallback the module's server sometimes answers with.
    """
    sunday = monday + timedelta(days=6)
    if english or style == "english":
        return f"Week from {french_day(monday)} to {french_day(sunday)}"
    forms = {
        "english_of": (
            f"Week of {ENGLISH_DAYS[0]} {ENGLISH_MONTHS[monday.month - 1]} {monday.day}, "
            f"{monday.year}"
        ),
        "abbreviated": f"Semaine du {_short(monday)} au {_short(sunday)} {sunday.year}",
        "short": f"semaine du {_short(monday, dot=False)} au {_short(sunday, dot=False)}",
        "nbsp": (
            f"Semaine du {_short(monday).replace(' ', chr(0xA0), 1).replace(' ', chr(0x202F))}"
            f" au {_short(sunday).replace(' ', chr(0xA0), 1).replace(' ', chr(0x202F))}"
        ),
        "numeric": f"Semaine du {monday:%d/%m/%Y} au {sunday:%d/%m/%Y}",
        "numeric_short": f"Du {monday:%d/%m} au {sunday:%d/%m}",
        "day": french_day(monday).capitalize(),
        "undated": HEADER_STYLES["undated"],
    }
    return forms.get(style, f"Semaine du {french_day(monday)} au {french_day(sunday)}")


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
