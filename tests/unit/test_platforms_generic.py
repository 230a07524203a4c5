"""generic recognition: shared rules first, then the target's rules in their order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pagecases import html, page, target

from monitor.domain import Finding, Platform
from monitor.platforms import generic

RULES: dict[str, Any] = {
    "anomaly": [{"text": "Erreur technique", "reason": "http_error"}],
    "unavailable": [
        {"text": "Il n'existe plus de plage horaire libre", "reason": "no_slot"},
        {"selector": "div.ferme", "reason": "closed"},
    ],
    "available": [{"selector": "td.free a", "reason": "slots"}],
}
FREE = (
    '<table><tr><td class="free"><a href="/rdv/5/1904281200">libre</a></td>'
    '<td class="free"><a href="/rdv/slot"><time datetime="2030-05-07T09:00:00+02:00">x</time>'
    "</a></td><td>réservé</td></tr></table>"
)


def recognise(source: str, status: int = 200, rules: dict[str, Any] = RULES) -> Finding:
    the_target = target(Platform.GENERIC, rules=rules)
    return generic.recognise(page(source, status=status), the_target)


@pytest.mark.parametrize(
    ("source", "status", "expected"),
    [
        (html("<p>Il n’existe plus de plage\nhoraire libre.</p>"), 200, ("unavailable", "no_slot")),
        (html('<div class="ferme">Fermé</div>'), 200, ("unavailable", "closed")),
        (html(FREE), 200, ("available", "slots")),
        (html("<p>Erreur technique.</p>" + FREE), 200, ("anomaly", "http_error")),
        (html("<h1>Service surchargé</h1>" + FREE), 200, ("anomaly", "overloaded")),
        (html(FREE), 503, ("anomaly", "overloaded")),
        (html('<div class="g-recaptcha"></div>' + FREE), 200, ("anomaly", "captcha")),
        (html("<p>Bonjour.</p>"), 200, ("anomaly", "unrecognized")),
        (
            html("<p>Toutes les plages sont libres dans la légende</p>"),
            200,
            ("anomaly", "unrecognized"),
        ),
        ("", 200, ("anomaly", "empty_page")),
    ],
    ids=[
        "no-slot text",
        "closed selector",
        "slots selector",
        "anomaly rule before available",
        "shared overload rule first",
        "503 status first",
        "captcha first",
        "nothing matches",
        "the word libre is not a rule",
        "empty",
    ],
)
def test_it_applies_shared_then_target_rules(
    source: str, status: int, expected: tuple[str, str]
) -> None:
    found = recognise(source, status)
    assert (found.status, found.reason) == expected


def test_a_slots_selector_counts_elements_and_reads_their_dates() -> None:
    found = recognise(html(FREE))
    assert found.slot_count == 2
    assert found.earliest_slot == datetime(2030, 5, 6, 7, 0, tzinfo=UTC)
