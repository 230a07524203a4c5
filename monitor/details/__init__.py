"""The words of every detail: one sentence per code, in French and in English.

A :class:`~monitor.domain.Detail` says why an outcome is what it is as data (a code and its
values); this module is the one place that turns it into a line for a reader. Values that
are the page's own words (a heading, the no-slot sentence, a week header) are quoted «as
the page wrote them» in both languages; everything else is the monitor's and is translated.
Technical strings (URLs, CSS selectors, ``net::ERR_…`` codes, exception names) are the same
in every language.

:func:`render` with ``tz=None`` gives the *record line*: English, times in UTC ISO 8601, the
line stored in ``outcomes.detail`` and protected by the hash chain. With a time zone it
gives the line a person reads (history, status, dossier, messages), times local.

Stored rows also keep the code and values (``detail_code``, ``detail_args``), written by
:func:`to_json` and read back by :func:`from_json`, so an old attempt reads in French as
well as a new one. A code this version does not know (a row written by a newer one) falls
back to the stored English line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from monitor.details.faults import FAULT_CODES
from monitor.details.pages import PAGE_CODES
from monitor.details.values import Values, Words
from monitor.domain import Detail, DetailValue, Outcome, StoredCode
from monitor.printable import printable
from monitor.text import DETAIL_LIMIT, one_line

__all__ = [
    "CODES",
    "LANGUAGES",
    "detail_columns",
    "from_json",
    "render",
    "render_outcome",
    "structured_detail",
    "to_json",
]

LANGUAGES = ("fr", "en")  #: every reader's language, in the order of the (French, English) pairs

#: Every code's words: (French, English). The English of a code is its record line. Its
#: keys are exactly the codes of :data:`~monitor.domain.DetailCode`; keyed by ``str``, so
#: that a stored code this version may not know can be looked up.
CODES: dict[str, tuple[Words, Words]] = dict([*PAGE_CODES.items(), *FAULT_CODES.items()])


def line(detail: Detail, lang: str, tz: ZoneInfo | None) -> str:
    """``detail`` in ``lang`` from its code's words (not cut to one line: see render)."""
    french, english = CODES[detail.code]
    words = french if lang == "fr" else english
    return words(Values(detail.args, lang, tz, lambda nested: line(nested, lang, tz)))


def render(detail: Detail, language: str = "en", tz: ZoneInfo | None = None) -> str:
    """``detail`` in ``language`` on one line; ``tz=None``: the record line (UTC times).

    Raises ``KeyError`` for a code this module does not know and ``ValueError`` for a
    language other than "fr" or "en".
    """
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}: use one of {', '.join(LANGUAGES)}")
    # What a page wrote is quoted in it: its terminal escapes and bidi overrides are not
    # let through to the record, a table, a dossier or a message (monitor.printable).
    return printable(one_line(line(detail, language, tz), DETAIL_LIMIT), one_line=True)


def record_line(detail: Detail) -> str:
    """The stored ``detail`` of an outcome: English, UTC, the words the chain protects."""
    return render(detail)


def render_outcome(outcome: Outcome, language: str, tz: ZoneInfo) -> str:
    """An outcome's detail for a reader; the recorded line when its code is unknown here."""
    return render_stored(outcome.detail, outcome.structured, language, tz)


def render_stored(line: str, structured: Detail | None, language: str, tz: ZoneInfo) -> str:
    """A stored detail for a reader: from its code and values, else its recorded line."""
    if structured is None or not known(structured):
        return printable(line, one_line=True)
    return render(structured, language, tz)


def known(detail: Detail) -> bool:
    """Whether every code in ``detail`` (nested ones too) has words here."""
    if detail.code not in CODES:
        return False
    for value in detail.args.values():
        parts = value if isinstance(value, tuple) else (value,)
        if not all(known(part) for part in parts if isinstance(part, Detail)):
            return False
    return True


def detail_columns(structured: Detail | None) -> dict[str, Any]:
    """The ``detail_code`` and ``detail_args`` columns of a structured detail."""
    if structured is None:
        return {"detail_code": None, "detail_args": None}
    data = to_json(structured)
    return {"detail_code": data["code"], "detail_args": data["args"]}


def structured_detail(code: str | None, args: Any) -> Detail | None:
    """The structured detail of a row; None on rows written before migration 0002."""
    if code is None:
        return None
    return from_json({"code": code, "args": args or {}})


def to_json(detail: Detail) -> dict[str, Any]:
    """``detail`` as a JSON object: ``{"code": …, "args": {…}}``, nested details alike."""
    return {"code": detail.code, "args": {key: _value_json(v) for key, v in detail.args.items()}}


def _value_json(value: DetailValue) -> Any:
    if isinstance(value, Detail):
        return to_json(value)
    if isinstance(value, tuple):
        return [to_json(part) for part in value]
    return value


def from_json(document: Mapping[str, Any]) -> Detail:
    """The detail :func:`to_json` wrote; ``ValueError`` for anything else."""
    code, args = document.get("code"), document.get("args", {})
    if not isinstance(code, str) or not isinstance(args, Mapping):
        raise ValueError(f"not a stored detail: {document!r}")
    values = {key: _value_from_json(value) for key, value in args.items()}
    return Detail(StoredCode(code), values)


def _value_from_json(value: Any) -> DetailValue:
    if isinstance(value, Mapping):
        return from_json(value)
    if isinstance(value, list):
        return tuple(from_json(part) for part in value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError(f"not a stored detail value: {value!r}")
