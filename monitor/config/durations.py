"""Pure parsers for the time expressions of the config file and the command line.

Grammar (decided here, documented in the README):

- duration: one or more ``<number><unit>`` parts, units ``d``, ``h``, ``m``, ``s`` in that
  order, each at most once, lowercase, no spaces: ``30s``, ``10m``, ``2h``, ``1d``,
  ``1h30m``. A number is whole or decimal with a dot and digits on both sides (``0.5s``,
  ``1.5m``, ``0.25h``); the total is rounded to the millisecond. A bare ``0`` is zero.
  Negative values, commas (``1,5s``), bare dots (``.5s``, ``5.s``), words (``10 minutes``)
  and unitless numbers other than ``0`` are rejected, because a silently misread interval
  would either hammer a public site or never probe it.
- jitter: a percentage of the interval (``20%``, ``0%`` to ``100%``, decimals allowed) or a
  duration.
- active hours: ``HH:MM-HH:MM`` in local time; the window may cross midnight
  (``22:00-06:00``); ``24:00`` is accepted as an end meaning midnight.
- when (CLI bounds): an ISO date, an ISO datetime, ``now``, ``today``, or a duration back
  from now (``7d``).

Every parser raises ``ValueError`` with a message meant for the user; callers add the
location (config key path or CLI option).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "ActiveHours",
    "Jitter",
    "format_duration",
    "parse_active_hours",
    "parse_duration",
    "parse_jitter",
    "parse_when",
]

_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_NUMBER = r"(\d+(?:\.\d+)?)"
_DURATION = re.compile(rf"(?:{_NUMBER}d)?(?:{_NUMBER}h)?(?:{_NUMBER}m)?(?:{_NUMBER}s)?")
_DURATION_HINT = "use a number and a unit: 30s, 0.5s, 10m, 2h, 1d (or 0)"
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_HOURS = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


def parse_duration(text: str) -> timedelta:
    """Parse ``30s``, ``0.5s``, ``10m``, ``2h``, ``1d``, ``1h30m`` or ``0`` into a timedelta.

    Decimal amounts are allowed in every unit; the total is rounded to the millisecond
    (``1.5m`` is 90 s, ``0.0001s`` is zero). Raises ValueError for anything else (see the
    module docstring for what and why).
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration; {_DURATION_HINT}")
    stripped = text.strip()
    if stripped == "0":
        return timedelta(0)
    match = _DURATION.fullmatch(stripped)
    if not stripped or match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration; {_DURATION_HINT}")
    # Decimal arithmetic: exact, so "0.1s" is 100 ms and not a binary approximation of it.
    seconds = sum(
        (
            Decimal(amount) * _UNIT_SECONDS[unit]
            for amount, unit in zip(match.groups(), "dhms", strict=True)
            if amount is not None
        ),
        Decimal(0),
    )
    milliseconds = (seconds * 1000).to_integral_value(rounding=ROUND_HALF_EVEN)
    try:
        return timedelta(milliseconds=int(milliseconds))
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None


def format_duration(value: timedelta) -> str:
    """Render a timedelta in the largest unit that divides it exactly (``90m``, ``2h``, ``0s``).

    A fraction of a second is shown in seconds with exactly as many decimals as it needs
    (``1.5s``, ``0.25s``, ``90.001s``; up to six for microseconds), never rounded. Every
    value ``parse_duration`` returns (whole milliseconds) parses back to itself. A negative
    value gets a leading ``-`` and does not parse back: it exists so that display code
    never has to fail.
    """
    if value < timedelta(0):
        return "-" + format_duration(-value)
    seconds = value.days * 86_400 + value.seconds  # exact, unlike total_seconds()
    if value.microseconds:
        return f"{seconds}.{value.microseconds:06d}".rstrip("0") + "s"
    if seconds == 0:
        return "0s"
    for unit, size in _UNIT_SECONDS.items():
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError("unreachable: 1s divides every whole number of seconds")


@dataclass(frozen=True)
class Jitter:
    """Random spread around an interval: a fraction of it, or a fixed duration.

    Exactly one of ``fraction`` (0.0 to 1.0) and ``duration`` is set.
    """

    fraction: float | None = None
    duration: timedelta | None = None

    def __post_init__(self) -> None:
        if (self.fraction is None) == (self.duration is None):
            raise ValueError("a jitter is either a fraction or a duration, not both or neither")
        if self.fraction is not None and not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"jitter fraction {self.fraction!r} is outside 0 to 1")
        if self.duration is not None and self.duration < timedelta(0):
            raise ValueError("a jitter duration cannot be negative")

    def spread(self, interval: timedelta) -> timedelta:
        """The largest +/- shift for a run of ``interval``.

        Capped at the interval itself so that a delay of ``interval - spread`` is never
        negative (a ``5m`` jitter on a ``1m`` interval spreads by ``1m``).
        """
        if self.fraction is not None:
            spread = interval * self.fraction
        else:
            assert self.duration is not None  # __post_init__ guarantees one of the two
            spread = self.duration
        return min(spread, interval)

    def __str__(self) -> str:
        if self.fraction is not None:
            return f"{self.fraction * 100:g}%"
        assert self.duration is not None
        return format_duration(self.duration)


def parse_jitter(text: str) -> Jitter:
    """Parse ``20%`` (0 to 100 %) or a duration (``30s``, ``0``) into a Jitter."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a jitter; write a percentage like 20% or a duration")
    match = _PERCENT.fullmatch(text.strip())
    if match is not None:
        percent = float(match.group(1))
        if percent > 100:
            raise ValueError(f"{text!r} is more than 100%")
        return Jitter(fraction=percent / 100)
    try:
        return Jitter(duration=parse_duration(text))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a jitter; write a percentage like 20% or a duration like 30s"
        ) from None


@dataclass(frozen=True)
class ActiveHours:
    """A daily window in local time; ``end`` before ``start`` means it crosses midnight."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("active hours need a start different from their end")

    def contains(self, local_time: time | datetime) -> bool:
        """Whether a local wall-clock time falls in the window (start included, end not)."""
        moment = local_time.time() if isinstance(local_time, datetime) else local_time
        moment = moment.replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        end = "24:00" if self.end == time(0) else self.end.strftime("%H:%M")
        return f"{self.start.strftime('%H:%M')}-{end}"


def parse_active_hours(text: str) -> ActiveHours:
    """Parse ``07:00-21:00`` (or ``22:00-06:00`` across midnight) into ActiveHours."""
    hint = "write HH:MM-HH:MM, e.g. 07:00-21:00"
    match = _HOURS.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a time window; {hint}")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if (end_h, end_m) == (24, 0):
        end_h = 0  # "until midnight"
    if start_h > 23 or end_h > 23 or start_m > 59 or end_m > 59:
        raise ValueError(f"{text!r} is not a valid time window; hours go 00-23 and minutes 00-59")
    start, end = time(start_h, start_m), time(end_h, end_m)
    if start == end:
        raise ValueError(f"{text!r} starts and ends at the same time; {hint}")
    return ActiveHours(start, end)


def parse_when(text: str, now: datetime, tz: tzinfo | str = UTC) -> datetime:
    """Parse a CLI time bound into an aware UTC datetime.

    Accepts an ISO date (``2026-11-01``: midnight in ``tz``), an ISO datetime (naive ones
    are in ``tz``; ``Z`` and offsets are honoured), ``now``, ``today`` (midnight in ``tz``)
    or a duration back from ``now`` (``7d``, ``12h``). ``now`` must be timezone-aware.
    """
    if now.tzinfo is None:
        raise ValueError("parse_when needs an aware 'now'")
    zone = _zone(tz)
    stripped = text.strip()
    if stripped == "now":
        return now.astimezone(UTC)
    if stripped == "today":
        return _midnight(now.astimezone(zone).date(), zone)
    try:
        return now.astimezone(UTC) - parse_duration(stripped)
    except ValueError:
        pass
    try:
        if len(stripped) == 10:
            return _midnight(date.fromisoformat(stripped), zone)
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date, a time or a duration; "
            "write 2026-11-01, 2026-11-01T08:30, or 7d / 12h for a time back from now"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _zone(tz: tzinfo | str) -> tzinfo:
    if not isinstance(tz, str):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{tz!r} is not a known time zone") from None
