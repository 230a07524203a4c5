"""Filling a form's fields in the browser the way a person would: by name, checked first.

A field is found by its ``name`` in the form's scope; text and hidden inputs take the
value, a checkbox or radio group checks the box whose value it is, a ``<select>`` picks the
option with that value or label. A field, choice or option the page does not offer is the
page being other than expected: ``ProbeError(Reason.UNRECOGNIZED)``, never a guess.
"""

from __future__ import annotations

from playwright.async_api import Locator, Page

from monitor.domain import Detail, Reason
from monitor.errors import ProbeError

__all__ = ["choose_option", "set_field"]


def _css_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def set_field(page: Page, scope: Locator, name: str, value: str) -> None:
    """Give the field named ``name`` in ``scope`` the value ``value``."""
    candidates = scope.locator(f"[name={_css_string(name)}]")
    # One call says both whether the field is there and what it is.
    kinds: list[list[str]] = await candidates.evaluate_all(
        "els => els.map(e => [e.tagName.toLowerCase(), (e.type || '').toLowerCase(), e.value])"
    )
    if not kinds:
        raise ProbeError(Reason.UNRECOGNIZED, Detail("no_field", {"name": name, "url": page.url}))
    tag, kind = kinds[0][0], kinds[0][1]
    if kind in {"checkbox", "radio"}:
        index = next((i for i, (_, _, own) in enumerate(kinds) if own == value), None)
        if index is None and kind == "radio":
            raise ProbeError(
                Reason.UNRECOGNIZED,
                Detail("no_choice", {"value": value, "name": name, "url": page.url}),
            )
        await candidates.nth(index or 0).check()  # any value checks a lone checkbox
    elif tag == "select":
        await choose_option(page, candidates.first, value, name)
    elif kind == "hidden":
        await candidates.first.evaluate("(e, v) => { e.value = v; }", value)
    else:
        await candidates.first.fill(value)


async def choose_option(page: Page, select: Locator, value: str, what: str) -> None:
    """Pick the option of ``select`` whose value or label is ``value``."""
    offered: list[list[str]] = await select.evaluate(
        "s => Array.from(s.options).map(o => [o.value, o.label.trim()])"
    )
    if not any(value in option for option in offered):
        raise ProbeError(
            Reason.UNRECOGNIZED,
            Detail("no_option", {"value": value, "name": what, "url": page.url}),
        )
    await select.select_option(value)
