"""What a detail's words are made of: its values as a template reads them, and shared phrases.

A template (one per code and language, in :mod:`~monitor.details.pages` and
:mod:`~monitor.details.faults`) is a function of :class:`Values`, which formats numbers,
durations and times for the reader (UTC on the record line) and quotes «the page's own words».
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.domain import Detail, DetailValue
from monitor.text import DETAIL_LIMIT, one_line


class Values:
    """A detail's values as a template reads them, in one language and time zone."""

    def __init__(
        self,
        args: Mapping[str, DetailValue],
        lang: str,
        tz: ZoneInfo | None,
        nested: Callable[[Detail], str],
    ) -> None:
        self._args = args
        self.lang = lang
        self._tz = tz
        self._nested = nested  # the words of a detail within this one, same language and zone

    def has(self, key: str) -> bool:
        value = self._args.get(key)
        if value is None or value is False:
            return False
        return value != "" and value != ()

    def __getitem__(self, key: str) -> str:
        """The value as text: a nested detail rendered, several joined with "; "."""
        value = self._args.get(key)
        if value is None:
            return ""
        if isinstance(value, Detail):
            return self._nested(value)
        if isinstance(value, tuple):
            glue = " ; " if self.lang == "fr" else "; "  # French puts a space before ";"
            return glue.join(self._nested(part) for part in value)
        if isinstance(value, float):
            return self.number(value)
        return str(value)

    def q(self, key: str) -> str:
        """The page's own words, quoted as shown."""
        return f"«{self[key]}»"

    def number(self, value: float) -> str:
        text = f"{value:g}"
        return text.replace(".", ",") if self.lang == "fr" else text

    def seconds(self, key: str) -> str:
        value = self._args.get(key)
        number = self.number(float(value)) if isinstance(value, int | float) else "?"
        return f"{number} s" if self.lang == "fr" else f"{number}s"

    def moment(self, key: str) -> str:
        """An ISO 8601 value: as stored in the record line, local time for a reader."""
        text = self[key]
        if self._tz is None:
            return text
        try:
            local = datetime.fromisoformat(text).astimezone(self._tz)
        except ValueError:
            return text
        return local.strftime("%d/%m/%Y à %H:%M" if self.lang == "fr" else "%Y-%m-%d %H:%M")

    def plural(self, key: str, one: str, many: str) -> str:
        """``one`` or ``many`` after the count ``key``, e.g. "1 slot", "3 slots"."""
        value = self._args.get(key)
        return f"{self[key]} {one if value == 1 else many}"


Words = Callable[[Values], str]


def status_line(v: Values, *, fr: bool) -> str:
    """What an error answer said: "HTTP 502: «Bad Gateway»", or the page's heading."""
    status = f"HTTP {v['status']}" if v.has("status") else ("la page" if fr else "the page")
    if not v.has("heading"):
        return status
    return f"{status} : {v.q('heading')}" if fr else f"{status}: {v.q('heading')}"


#: How the weeks read are named, one week or several: (French, English) patterns.
SPAN_FR = (" ({first})", " (de {first} à {last})")
SPAN_EN = (" {first}", " from {first} to {last}")


def span(v: Values, one: str, several: str) -> str:
    """The weeks read, by the headers of the first and last as the page wrote them."""
    if not v.has("first"):
        return ""
    pattern = one if v["first"] == v["last"] else several
    return pattern.format(first=v.q("first"), last=v.q("last"))


def ending(text: str, note: str) -> str:
    """``text`` cut so that ``note`` after it still fits in one detail line."""
    return one_line(text, DETAIL_LIMIT - len(note)) + note


WHAT_FR = {
    "element": "élément",
    "button": "bouton",
    "field": "champ",
    "checkbox": "case à cocher",
    "select": "liste de choix",
    "form": "formulaire",
    "link": "lien",
}


def doing(fr: str, en: str) -> tuple[Words, Words]:
    """A step of the probe, "loading {url}": the end of a sentence about what failed."""
    return (lambda v: fr.format_map(v)), (lambda v: en.format_map(v))
