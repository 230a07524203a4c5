"""Every regular expression that meets what a site sends is linear by construction (issue 25).

The patterns are discovered, not listed: every module attribute holding a compiled pattern
in ``monitor.platforms.*`` and ``monitor.probes.*`` (the code that reads pages, headers,
URLs and error texts from sites). Each must be an RE2 pattern (google-re2: no
backtracking, time linear in the input); a stdlib ``re`` pattern is a failure unless it is
listed below, as bounded (no unbounded repetition) or as never seeing a site's text, with
why. Each discovered pattern is then
run on adversarial 1 MiB inputs: long runs of every character it names and of its own
near-misses, the shapes that make a backtracking engine quadratic. The bound is a liveness
one (a quadratic pattern on 1 MiB takes hours, RE2 takes milliseconds), not a benchmark.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import time
from typing import Any

import pytest
import re2

import monitor.platforms
import monitor.probes

#: Stdlib patterns that only ever see our own text (config, code), each with why. None
#: today: every pattern in these packages reads something a site sent.
OWN_TEXT_ONLY: dict[str, str] = {}

#: Stdlib patterns that are linear by construction because they are bounded: no
#: repetition without an upper bound, so one match attempt reads a fixed number of
#: characters at most. Each with its bound and why RE2 is not used.
BOUNDED: dict[str, str] = {
    "monitor.platforms.nesting._TAG": (
        "at most 35 characters per attempt ('<', '/' or '!--', a name of 1 to 32); a "
        "million matches on an 8 MiB page, where RE2's Python wrapper costs 5 µs a match"
    ),
}

MIB = 1 << 20
#: Seconds of CPU all the adversarial inputs of one pattern may take: liveness only.
LIVENESS_BOUND = 20.0


def _is_pattern(value: Any) -> bool:
    return isinstance(value, re.Pattern) or type(value).__module__ == "re2"


def discovered() -> dict[str, Any]:
    """``module.NAME`` → compiled pattern, for every module of the two packages."""
    found: dict[str, Any] = {}
    for package in (monitor.platforms, monitor.probes):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if _is_pattern(value):
                    found[f"{info.name}.{name}"] = value
    return found


PATTERNS = discovered()


def test_the_discovery_finds_the_page_facing_patterns() -> None:
    """The discovery itself works: patterns known to read pages are among those found."""
    assert {
        "monitor.platforms.common._ERROR_HEADING",
        "monitor.platforms.rdv_prefecture.FIRST_AVAILABLE",
        "monitor.platforms.generic._TIMESTAMP_IN_LINK",
        "monitor.probes._decoding._META_CHARSET",
        "monitor.probes._playwright_errors._NET_CODE",
    } <= set(PATTERNS)


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_every_pattern_on_site_text_is_re2(name: str) -> None:
    pattern = PATTERNS[name]
    if not isinstance(pattern, re.Pattern):
        return  # RE2
    assert name in OWN_TEXT_ONLY or name in BOUNDED, (
        f"{name} is a stdlib re pattern in a package that reads what sites send: "
        "compile it with re2 (or list it in BOUNDED or OWN_TEXT_ONLY, with why)"
    )
    if name in BOUNDED:
        unbounded = re.search(r"(?<!\\)[*+]|\{\d*,\}", _source(pattern))
        assert unbounded is None, f"{name} is listed as bounded but repeats without a bound"


def _source(pattern: Any) -> str:
    source = pattern.pattern
    return source.decode("latin-1") if isinstance(source, bytes) else str(source)


def adversarial_inputs(pattern: Any) -> list[str]:
    """1 MiB inputs shaped against ``pattern``: runs of each character it names, runs of
    characters its classes loop over, and its literal pieces repeated as near-misses."""
    source = _source(pattern)
    named = {c for c in source if c.isprintable() and c not in "()[]{}?*+|^$\\"}
    runs = named | set(" \t\n\"'<>=/:;,.-_0aA9")
    inputs = [c * MIB for c in sorted(runs)]
    pieces = [p for p in re.split(r"[\\()\[\]{}?*+|^$]+", source) if len(p) >= 2]
    for piece in pieces:
        inputs.append((piece * (MIB // len(piece) + 1))[:MIB])  # the piece, over and over
        inputs.append((piece + " " * 64) * (MIB // (len(piece) + 64)))  # then a gap
        inputs.append(piece + "0" * MIB)  # the piece, then a run that never ends it
    inputs.append(("<" + "a" * 15) * (MIB // 16))  # tag-like starts that never close
    inputs.append('"' + "x" * MIB)  # a quote never closed
    return inputs


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_every_pattern_stays_alive_on_adversarial_megabytes(name: str) -> None:
    pattern = PATTERNS[name]
    as_bytes = isinstance(pattern.pattern, bytes)
    began = time.process_time()
    for text in adversarial_inputs(pattern):
        subject = text.encode("latin-1", errors="replace") if as_bytes else text
        pattern.search(subject)
        assert time.process_time() - began < LIVENESS_BOUND, f"{name} on {text[:40]!r}…"


def test_the_adversarial_inputs_find_the_quadratic_shape() -> None:
    """The inputs do what they are for: on the old legacy endpoint's shape (a class run,
    then a literal that never comes), cut to 4 KiB each, the stdlib engine already spends
    many times what RE2 spends on them."""
    source = r"[^\s\"'<>()]*/booking/create/\d+/4"
    inputs = [text[:4096] for text in adversarial_inputs(re2.compile(source))]
    spent = {}
    for engine in (re2, re):
        compiled = engine.compile(source)
        began = time.process_time()
        for text in inputs:
            compiled.search(text)
        spent[engine.__name__] = time.process_time() - began
    assert spent["re"] > 10 * max(spent["re2"], 0.005), spent
