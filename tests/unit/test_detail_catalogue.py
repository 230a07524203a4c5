"""The catalogue of words and the detail-code types are the same set, and every entry has
its words in both languages.

mypy checks that the monitor writes details only with a :data:`~monitor.domain.DetailCode`;
these tests check that every such code has its words, so a code that type-checks can be read.
Which codes the source actually uses is tests/integration/test_detail_codes_used.py.
"""

from __future__ import annotations

from typing import get_args

import pytest

from monitor.details import CODES, LANGUAGES
from monitor.details.faults import FAULT_CODES
from monitor.details.pages import PAGE_CODES
from monitor.domain import DetailCode, FaultCode, PageCode


def _members(alias: object) -> set[str]:
    """The strings of a Literal alias, or of a union of Literal aliases."""
    found: set[str] = set()
    for arg in get_args(alias):
        found |= _members(arg) if get_args(arg) else {arg}
    return found


def test_the_page_words_are_exactly_the_page_codes() -> None:
    assert set(PAGE_CODES) == _members(PageCode)


def test_the_fault_words_are_exactly_the_fault_codes() -> None:
    assert set(FAULT_CODES) == _members(FaultCode)


def test_every_detail_code_has_words_and_every_word_has_its_code() -> None:
    codes = _members(DetailCode)
    assert codes == set(CODES)
    assert len(codes) == len(get_args(PageCode)) + len(get_args(FaultCode))  # none in both


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_entry_has_its_own_words_in_each_language(code: str) -> None:
    """A pair (French, English) of two templates; that each reads in its language, with
    values or without, is tests/unit/test_details.py."""
    entry = CODES[code]
    assert len(entry) == len(LANGUAGES) == 2
    french, english = entry
    assert callable(french) and callable(english) and french is not english


def test_the_members_helper_reads_nested_unions() -> None:
    """The helper above must not pass by finding nothing."""
    assert {"page_says", "doing.load", "screenshot_cut"} <= _members(DetailCode)
    assert "doing.load" not in _members(PageCode)
