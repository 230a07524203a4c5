"""What a French text must not contain: the monitor's English, outside quotes and addresses.

``english_in(text)`` returns the English words found in ``text`` after removing what is
not the monitor's own sentence: the page's words quoted «…», URLs, CSS selectors and
dotted or snake_case names (``settings.probe_timeout``, ``datePremiereDispo``), HTTP
header names, ``net::ERR_…`` codes and the program's own name.
"""

from __future__ import annotations

import re

#: Words a French sentence of ours never needs; each is common in our English details.
ENGLISH = frozenset(
    """
    the of at by to in is are was has have with without from within and or for not no any
    every only while after before could can did does slot slots week weeks desk desks answer
    answers answered failed failure timed out probe refused connection matches match offered
    earliest loading waiting fetching clicking filling checking selecting submitting taking
    screenshot sent back form open home portal sign calendar free cell legend says error
    empty unexpected internal guard monitor own network down offline check disabled
    unreachable rule rules recognises element field name choice button belongs shows text
    shell
    """.split()  # noqa: SIM905 (a list of words reads best as words)
)

_QUOTED = re.compile(r"«[^»]*»")
_URL = re.compile(r"\b(?:https?|file)://\S+")
_TECHNICAL = re.compile(
    r"net::ERR_\w+|Retry-After|prefecture-monitor|\S*(?:\w\.\w|\w_\w|[#\[\]=>])\S*"
    r"|\b\w*[a-z][A-Z]\w*\b|\b[A-Z]{2,}\w*\b"
)


def english_in(text: str) -> set[str]:
    """The English words of ``text`` outside the page's quoted words and technical names."""
    plain = _TECHNICAL.sub(" ", _URL.sub(" ", _QUOTED.sub(" ", text)))
    return {word for word in re.findall(r"[^\W\d_]+", plain) if word.lower() in ENGLISH}
