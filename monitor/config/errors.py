"""Turn everything that can go wrong while loading a config into one ConfigError line.

A line reads ``<file>: <key path>: <value> <what is wrong>[; <how to fix it>]``, e.g.
``prefectures.yaml: prefectures[0].targets[1].url: 'ftp://x' is not an http(s) URL``.
Pydantic and YAML exceptions never reach the user: their first error is rewritten here.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable, Sequence
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from monitor.config.env import mask_secrets
from monitor.errors import ConfigError

KeyPath = tuple[str | int, ...]
_NO_VALUE: Any = object()


class Invalid(ValueError):
    """Raised by our validators: ``at`` is relative to the model being validated.

    Pydantic wraps a ValueError raised in a validator and keeps the instance in the error
    context, so the location below the model (``targets[3].id``) survives the wrap.
    """

    def __init__(self, message: str, *, at: KeyPath = (), value: object = _NO_VALUE) -> None:
        self.message = message
        self.at = at
        self.value = value
        super().__init__(message)


def key_path(loc: Iterable[str | int]) -> str:
    """``('prefectures', 2, 'targets', 0, 'url')`` -> ``prefectures[2].targets[0].url``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "top level"


def render_value(value: object, loc: KeyPath, secrets: Iterable[str]) -> str:
    """The offending value as the user wrote it, never a secret, at most ~80 characters."""
    text = mask_secrets(repr(value), secrets)
    if loc[:1] == ("channels",) and ("://" in text or (len(loc) >= 3 and loc[2] == "url")):
        # A channel URL holds credentials even when written literally, and may turn up in
        # the value shown for a whole channel entry: show only its scheme.
        scheme = _SCHEME.search(text)
        return f"'{scheme.group(1)}://****'" if scheme else "'****'"
    return text if len(text) <= 80 else text[:77] + "..."


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def error_line(
    source: str, loc: KeyPath, message: str, value: object, secrets: Iterable[str]
) -> str:
    """Assemble one message line; ``value`` may be the _NO_VALUE marker."""
    secrets = tuple(secrets)
    shown = "" if value is _NO_VALUE else render_value(value, loc, secrets) + " "
    return f"{source}: {key_path(loc)}: {shown}{mask_secrets(message, secrets)}"


def from_validation_error(
    exc: ValidationError, source: str, root: type[BaseModel], secrets: Iterable[str]
) -> ConfigError:
    """Rewrite the first pydantic error as a ConfigError; mention how many more there are."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc: KeyPath = tuple(first["loc"])
    value: object = first.get("input", _NO_VALUE)
    error = (first.get("ctx") or {}).get("error")
    if isinstance(error, Invalid):
        loc += error.at
        value = error.value
        message = error.message
    else:
        message, value = _describe(first, loc, root, value)
    line = error_line(source, loc, message, value, secrets)
    if len(errors) > 1:
        more = len(errors) - 1
        line += f" (and {more} more error{'s' if more > 1 else ''})"
    return ConfigError(line, path=source, key=key_path(loc))


def _describe(error: Any, loc: KeyPath, root: type[BaseModel], value: object) -> tuple[str, object]:
    """A message for one of pydantic's own error types, in our words."""
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    if kind == "missing":
        hint = "; start the file with 'version: 1'" if loc == ("version",) else ""
        return f"required key is missing{hint}", _NO_VALUE
    if kind == "extra_forbidden":
        known = known_keys(root, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        hint += f"; known keys: {', '.join(known)}" if known else ""
        return f"is an unknown key{hint}", _NO_VALUE
    if loc == ("version",):
        return "is not a supported version; this monitor reads 'version: 1'", value
    if kind in ("literal_error", "enum"):
        return f"is not one of: {_choices(ctx.get('expected', ''))}", value
    simple = {
        "int_parsing": "is not a whole number",
        "int_type": "is not a whole number",
        "int_from_float": "is not a whole number",
        "bool_parsing": "is not true or false",
        "bool_type": "is not true or false",
        "string_type": "is not a string; quote it",
        "model_type": "is not a mapping (key: value lines)",
        "model_attributes_type": "is not a mapping (key: value lines)",
        "dict_type": "is not a mapping (key: value lines)",
        "tuple_type": "is not a list",
        "list_type": "is not a list",
        "frozen_set_type": "is not a list",
        "set_type": "is not a list",
        "path_type": "is not a path; write it as a string",
    }
    if kind in simple:
        return simple[kind], value
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {"greater_than_equal": ">=", "greater_than": ">"}.get(kind, "<")
        bound = next(iter(ctx.values()), "?")
        return f"must be {sign} {bound}", value
    if kind == "value_error":  # a ValueError from a validator that is not ours
        return str(ctx.get("error", "is not valid")), value
    if kind == "string_too_short":
        return "must not be empty", value
    return str(error.get("msg", "is not valid")), value


def _choices(expected: str) -> str:
    return expected.replace("'", "").replace(" or ", ", ")


def known_keys(root: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The keys the model at ``loc`` accepts, for "did you mean" hints ([] when unknown)."""
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = [a for a in get_args(current) if a is not Ellipsis]
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = field.annotation if field else None
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip ``X | None`` so that the walk in known_keys reaches the model."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return members[0] if len(members) == 1 else None
    return annotation


def from_yaml_error(exc: yaml.YAMLError, source: str) -> ConfigError:
    """Malformed YAML: file, line and column (1-based), what the parser saw, a hint."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "?"
    if "'\\t'" in problem or "tab" in problem:
        message = "a tab character is used for indentation; YAML needs spaces"
    else:
        message = f"invalid YAML: {problem}"
        if "block" in problem:
            message += "; check the indentation of this line and the lines above it"
    return ConfigError(f"{source}: {where}: {message}", path=source)
