"""Field types shared by the config models: durations, URLs, ids, globs.

Each type validates what the YAML holds (mostly strings) and serialises back to the same
form, so ``model_dump(mode="json")`` reads like the config file.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, PlainValidator

from monitor.config.durations import (
    ActiveHours,
    Jitter,
    format_duration,
    parse_active_hours,
    parse_duration,
    parse_jitter,
)
from monitor.config.errors import Invalid

Language = Literal["fr", "en"]
#: schedule.focus (docs/contract.md#settings)
Focus = Literal["even", "learned"]


class FrozenModel(BaseModel):
    """Base of every config model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if value == 0 and not isinstance(value, bool):
        return timedelta(0)  # YAML reads a bare 0 as an integer
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise Invalid("has no unit; write e.g. 30s, 10m, 2h or 1d", value=value)
    try:
        return parse_duration(value)
    except ValueError:
        raise Invalid(
            "is not a duration; use a number and a unit: 30s, 0.5s, 10m, 2h, 1d (or 0)",
            value=value,
        ) from None


def _positive_duration(value: Any) -> timedelta:
    duration = _duration(value)
    if duration <= timedelta(0):
        raise Invalid("must be longer than zero", value=value)
    return duration


def _jitter(value: Any) -> Jitter:
    if isinstance(value, Jitter):
        return value
    if value == 0 and not isinstance(value, bool):
        return Jitter(duration=timedelta(0))
    try:
        return parse_jitter(value)
    except ValueError:
        raise Invalid(
            "is not a jitter; write a percentage from 0% to 100% or a duration like 30s",
            value=value,
        ) from None


def _active_hours(value: Any) -> ActiveHours:
    if isinstance(value, ActiveHours):
        return value
    try:
        return parse_active_hours(value)
    except ValueError:
        raise Invalid(
            "is not a daily time window; write HH:MM-HH:MM with hours 00-23 and distinct "
            "start and end, e.g. 07:00-21:00 (22:00-06:00 crosses midnight)",
            value=value,
        ) from None


def check_http_url(value: Any) -> str:
    """An absolute http(s) URL with a host, or Invalid."""
    if not isinstance(value, str):
        raise Invalid("is not an http(s) URL", value=value)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        raise Invalid("is not a valid URL", value=value) from None
    if parts.scheme not in ("http", "https") or any(c.isspace() for c in value):
        hint = "" if "://" in value else "; write the full address, e.g. https://www.example.fr/"
        raise Invalid(f"is not an http(s) URL{hint}", value=value)
    if not parts.hostname:
        raise Invalid("has no host name", value=value)
    return value


Duration = Annotated[
    timedelta,
    PlainValidator(_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
PositiveDuration = Annotated[
    timedelta,
    PlainValidator(_positive_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
JitterSpec = Annotated[
    Jitter, PlainValidator(_jitter), PlainSerializer(str, return_type=str, when_used="json")
]
ActiveHoursSpec = Annotated[
    ActiveHours,
    PlainValidator(_active_hours),
    PlainSerializer(str, return_type=str, when_used="json"),
]
HttpUrl = Annotated[str, PlainValidator(check_http_url)]

_FORBIDDEN_IN_IDS = {"/": "'/'", "*": "'*'", "?": "'?'", "[": "'['", " ": "spaces"}
#: The longest ids: they make file names of the status page and the open data (a full id
#: ``<prefecture>/<target>`` plus a suffix must stay well under 255 bytes), and table columns.
MAX_ID_LENGTH = {"prefecture": 40, "target": 80, "channel": 80}
_PREFECTURE_ID = re.compile(r"2[AB]|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_TARGET_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


def _id_text(value: Any, what: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # YAML reads `id: 92` as a number
    if not isinstance(value, str) or not value:
        raise Invalid(f"is not a valid {what} id; write a non-empty string", value=value)
    limit = MAX_ID_LENGTH[what]
    if len(value) > limit:
        raise Invalid(
            f"is {len(value)} characters long; a {what} id is at most {limit} (it names files "
            "of the status page and the open data)",
            value=value,
        )
    for char, name in _FORBIDDEN_IN_IDS.items():
        if char in value or (char == " " and any(c.isspace() for c in value)):
            raise Invalid(f"may not contain {name} in a {what} id", value=value)
    if not value.isprintable():
        raise Invalid(f"may not contain control characters in a {what} id", value=value)
    return value


def _prefecture_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10:
        # `id: 01` is read by YAML as the number 1: the leading zero is already lost.
        raise Invalid('is ambiguous; quote département codes, e.g. id: "01"', value=value)
    text = _id_text(value, "prefecture")
    if not _PREFECTURE_ID.fullmatch(text):
        raise Invalid(
            "is not a département code (92, 2A, 974) or a lowercase slug of letters, digits "
            "and '-'",
            value=value,
        )
    return text


def _target_id(value: Any) -> str:
    text = _id_text(value, "target")
    if not _TARGET_ID.fullmatch(text):
        raise Invalid("may only use letters, digits, '.', '_' and '-'", value=value)
    return text


def _plain_id(value: Any) -> str:
    return _id_text(value, "channel")


def _non_empty(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise Invalid("must not be empty", value=value)
    return value


PrefectureId = Annotated[str, PlainValidator(_prefecture_id)]
TargetId = Annotated[str, PlainValidator(_target_id)]
ChannelId = Annotated[str, PlainValidator(_plain_id)]
Text = Annotated[str, BeforeValidator(_non_empty)]


def check_glob(value: Any) -> str:
    """A target-id glob: non-empty, no spaces, every ``[`` closed (fnmatch would read an
    unclosed one as a literal and silently match nothing)."""
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise Invalid("is not a target glob; write e.g. '92/*' or '75/titre-sejour'", value=value)
    i = 0
    while i < len(value):
        if value[i] == "[":
            j = i + 1
            if j < len(value) and value[j] == "!":
                j += 1
            if j < len(value) and value[j] == "]":
                j += 1  # fnmatch: a ']' right after '[' or '[!' is a literal member
            close = value.find("]", j)
            if close == -1:
                raise Invalid("has an unclosed '[' in a target glob", value=value)
            i = close
        i += 1
    return value


Glob = Annotated[str, PlainValidator(check_glob)]
