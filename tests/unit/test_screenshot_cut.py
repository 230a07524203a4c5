"""The detail of an attempt whose screenshot shows only the top of its page (pure).

The browser engine cuts a screenshot past its caps (tests/system/test_browser_evidence_caps.py);
the recorded outcome keeps the page's own detail and says what the screenshot kept.
"""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.attempt.record import screenshot_cut
from monitor.details import render
from monitor.domain import Detail, Engine, Outcome, PageSnapshot, ScreenshotCut, Status


def _outcome(detail: Detail) -> Outcome:
    now = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    return Outcome(
        target="92/remise-titre",
        prefecture="92",
        started_at=now,
        finished_at=now,
        engine=Engine.BROWSER,
        status=Status.UNAVAILABLE,
        reason="no_slot",
        detail="",
        url="https://a.example/",
        structured=detail,
    )


def test_the_outcome_of_a_cut_screenshot_says_what_was_kept_in_both_languages() -> None:
    page = PageSnapshot(
        url="https://a.example/",
        final_url="https://a.example/",
        http_status=200,
        html="<p>Aucun créneau</p>",
        screenshot=b"png",
        screenshot_cut=ScreenshotCut(1280, 16384, 1280, 150074),
    )
    inner = Detail("page_says", {"text": "Aucun créneau"})
    outcome = screenshot_cut(_outcome(inner), [page])
    assert outcome.structured is not None
    assert outcome.structured.code == "screenshot_cut"
    assert outcome.structured.args["detail"] == inner
    assert "1280 × 16384 px of 1280 × 150074" in outcome.detail
    assert "capture d'écran réduite" in render(outcome.structured, "fr")


def test_an_outcome_without_a_cut_screenshot_is_unchanged() -> None:
    page = PageSnapshot(url="u", final_url="u", http_status=200, html="<p>x</p>")
    outcome = _outcome(Detail("page_says", {"text": "x"}))
    assert screenshot_cut(outcome, [page]) is outcome
