"""Every pattern of the legacy calendar and of the date reader, on adversarial 1 MiB pages.

Issue 25: the endpoint pattern backtracked quadratically on any long run of characters
outside ``\\s"'<>()``: a "Choix d'une plage" page with one 40 KiB inline base64 image cost
11.6 s of CPU, on the event loop. Every pattern there is now RE2 (linear by construction)
and a week's rows are read once. Each case below runs the public function on a 1 MiB input
in a subprocess that must finish within a liveness bound (generous, for a busy two-core
machine: a quadratic pattern takes hours on these inputs, the linear ones milliseconds);
it is not a performance claim. The base64 image comes first.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import monitor

#: Liveness bound for one subprocess (interpreter start, imports, a 1 MiB page parsed).
BOUND_S = 60
MIB = 1 << 20

SETUP = f"""
import base64, os
from monitor.domain import PageSnapshot
from monitor.platforms import dates, legacy_calendar as calendar
from monitor.platforms.page import Page
from monitor.platforms.legacy_calendar import read_week
MIB = {MIB}
STEP4 = "https://www.example-pref.gouv.fr/booking/create/5001/4"
def page(body, url=STEP4):
    html = "<html><body><h2>Choix d'une plage</h2>" + body + "</body></html>"
    return Page(PageSnapshot(url=url, final_url=url, http_status=200, html=html))
def fill(unit):
    return unit * (MIB // len(unit))
"""

CASES = {
    # _ENDPOINT: one inline image, 1 MiB of base64 (no character stops the old lazy prefix).
    "base64 image, endpoint": (
        "image = base64.b64encode(os.urandom(MIB * 3 // 4)).decode()\n"
        'p = page(f\'<img src="data:image/png;base64,{image}"><div id="planning_calendar">\')\n'
        "assert calendar.endpoint_of(p, '4411') is not None  # built from the known pattern"
    ),
    "endpoint look-alikes": (
        "assert calendar.endpoint_of(page(fill('a/ezjscore/call/bookingserver::')), 'x') is None"
    ),
    "endpoint written many times": (
        "body = fill('/ezjscore/call/bookingserver::planning::assign::1::2::3 ')\n"
        "assert calendar.endpoint_of(page(body), '2') is not None"
    ),
    # _PLANNING_VARIABLE: a run of "planning" with no "=" after it.
    "planning variable": (
        "assert calendar.endpoint_of(page(fill('planning')), '') is None\n"
        "assert calendar.endpoint_of(page(fill('planning ')), '') is None"
    ),
    # _WRITTEN_OFFSET: offset-like names with nothing after them, CSS look-alikes.
    "written offset": (
        "assert calendar.written_offset(fill('data-offset')) is None\n"
        "assert calendar.written_offset(fill('offset = ')) is None\n"
        "assert calendar.written_offset(fill('-offset: 0;')) is None"
    ),
    # _FORM_URL: a page address with a long path.
    "form url": (
        "url = 'https://x.fr' + fill('/a')\n"
        "p = page('<div id=\"planning_calendar\">planningId = 4', url=url)\n"
        "assert calendar.endpoint_of(p) is None"
    ),
    # SLOT_LINK and the week reader: one huge href, and one row of 30,000 free cells.
    "slot links and a wide row": (
        "href = fill('/booking/create/1/5/')\n"
        "cells = '<td class=\"status-1 free\">libre 09:00</td>' * 30_000\n"
        'week = page(f\'<table class="calendrier"><tr><th colspan="7">Semaine du 30/11/2026\'\n'
        "            f'</th></tr><tr>{cells}<td><a href=\"{href}\">x</a></td></tr></table>')\n"
        "assert read_week(week).free == 7  # only the seven day columns"
    ),
    # The week header patterns: day-month, numeric and English month-day runs.
    "week header": (
        "for unit in ('1 nov ', '1 nov. ', '1/1', '1/', 'nov 1 ', 'semaine du ', '2026-1'):\n"
        "    dates.parse_week_header(fill(unit))"
    ),
    "clock": "for unit in ('1', '1 h', '1:', '1h '):\n    dates.parse_clock(fill(unit))",
    "french date": (
        "for unit in ('lundi 1 ', '1 mai ', '1/1/', '1er ', '1/1/2030 à '):\n"
        "    dates.parse_french_date(fill(unit))"
    ),
}


def same_package() -> dict[str, str]:
    """The environment for a subprocess that imports the ``monitor`` this test imported."""
    root = str(Path(monitor.__file__).resolve().parent.parent)
    inherited = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, inherited)))}


@pytest.mark.parametrize("name", list(CASES))
def test_each_pattern_reads_an_adversarial_mebibyte_within_the_bound(
    name: str, tmp_path: Path
) -> None:
    code = SETUP + textwrap.dedent(CASES[name])
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=BOUND_S,
            cwd=tmp_path,  # not the checkout: ``-c`` would import from the current directory
            env=same_package(),
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name}: still running after {BOUND_S} s on a 1 MiB input")
    assert done.returncode == 0, done.stderr[-2000:]
