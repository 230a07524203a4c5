"""Structured details: every code has its words in both languages, and a French reader gets
French (the page's own words quoted as the page wrote them); the record line, its JSON and
its place in the chain."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from wording import english_in

from monitor.details import (
    CODES,
    detail_columns,
    from_json,
    known,
    record_line,
    render,
    render_stored,
    structured_detail,
    to_json,
)
from monitor.domain import Detail, DetailValue, Engine, Outcome, Reason, Status
from monitor.store.evidence import canonical_fields, chain_hash

PARIS = ZoneInfo("Europe/Paris")


class _Anything(Mapping[str, DetailValue]):
    """Values for any key a template reads: a number for counts and seconds, else a word."""

    def __getitem__(self, key: str) -> DetailValue:
        if key in {"count", "free", "weeks", "seconds", "held", "status", "max"}:
            return 3
        if key == "earliest":
            return "2027-01-12T08:30:00+00:00"
        if key in {"finding", "doing", "why", "seen", "check", "unread"}:
            return Detail("maintenance", {"text": "Site en maintenance"})
        if key in {"desks", "failures"}:
            return (Detail("page_says", {"text": "Aucun créneau"}),)
        if key == "url":
            return "https://www.example.gouv.fr/booking/create/1"
        return "valeur"

    def get(self, key: str, default: object = None) -> DetailValue:  # type: ignore[override]
        return self[key]

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_reads_in_french_without_english(code: str) -> None:
    detail = Detail(code, _Anything())
    french = render(detail, "fr", PARIS)
    english = render(detail, "en", PARIS)
    assert french and english
    assert not english_in(french), f"{code}: {french}"


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_reads_without_any_value(code: str) -> None:
    """A value a producer left out (None) never crashes a reader."""
    assert isinstance(render(Detail(code), "fr", PARIS), str)
    assert isinstance(render(Detail(code)), str)


def test_the_record_line_is_english_with_utc_times_and_the_reader_gets_local_time() -> None:
    detail = Detail(
        "calendar_free_cells",
        {
            "free": 3,
            "weeks": 6,
            "first": "Semaine du lundi 7 décembre 2026",
            "last": "Semaine du lundi 11 janvier 2027",
            "earliest": "2027-01-12T08:30:00+00:00",
            "unread": Detail("overloaded", {"status": 502, "heading": "Bad Gateway"}),
        },
    )
    assert record_line(detail) == (
        "3 free slot(s) in 6 week(s) of the calendar from «Semaine du lundi 7 décembre 2026» "
        "to «Semaine du lundi 11 janvier 2027», earliest 2027-01-12T08:30:00+00:00; a week "
        "could not be read (overloaded: HTTP 502: «Bad Gateway»)"
    )
    assert render(detail, "fr", PARIS) == (
        "3 créneaux libres sur 6 semaines du calendrier (de «Semaine du lundi 7 décembre 2026» "
        "à «Semaine du lundi 11 janvier 2027»), le premier le 12/01/2027 à 09:30 ; une semaine "
        "n'a pu être lue (site surchargé : HTTP 502 : «Bad Gateway»)"
    )
    assert "2027-01-12 09:30" in render(detail, "en", PARIS)


def test_counts_agree_in_french() -> None:
    one = Detail("slots_offered", {"count": 1, "earliest": None})
    assert render(one, "fr", PARIS) == "1 créneau proposé"
    assert render(Detail("slots_offered", {"count": 4}), "fr", PARIS) == "4 créneaux proposés"
    assert record_line(one) == "1 slot(s) offered"


def test_the_page_words_are_quoted_as_the_page_wrote_them_in_every_language() -> None:
    sentence = "Il n’existe plus de plage horaire libre pour votre demande de rendez-vous"
    desks = Detail(
        "by_desk",
        {
            "desks": (
                Detail(
                    "desk", {"label": "12083", "finding": Detail("page_says", {"text": sentence})}
                ),
                Detail("desk", {"label": "12084", "finding": Detail("calendar_no_week")}),
            )
        },
    )
    assert render(desks, "fr", PARIS) == (
        f"guichet 12083 : «{sentence}» ; guichet 12084 : l'étape du calendrier n'a chargé "
        "aucune semaine"
    )
    assert record_line(desks) == (
        f"desk 12083: «{sentence}»; desk 12084: the calendar step loaded no week"
    )


def test_a_flag_left_false_is_absent() -> None:
    shown = Detail("captcha", {"refused": False, "text": "Code de sécurité", "url": "http://x/"})
    refused = Detail("captcha", {"refused": True, "text": "Code de sécurité", "url": "http://x/"})
    assert record_line(shown).startswith("a captcha bars the way («Code de sécurité»)")
    assert record_line(refused).startswith("the captcha answer was refused")


def test_lines_are_cut_to_one_line_of_the_detail_limit() -> None:
    long = Detail("maintenance", {"text": "très long\n" * 100})
    line = record_line(long)
    assert "\n" not in line and len(line) <= 300 and line.endswith("…")


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language 'de'"):
        render(Detail("no_page"), "de")


def test_json_round_trip_keeps_nested_details_and_value_types() -> None:
    detail = Detail(
        "network_down",
        {
            "why": Detail(
                "own_network_down",
                {
                    "check": Detail(
                        "connectivity_failed",
                        {
                            "failures": (
                                Detail("unreachable_url", {"url": "https://a/", "kind": "X"}),
                            )
                        },
                    )
                },
            ),
            "seen": Detail("probe_timeout", {"seconds": 45.0, "held": 1.5}),
            "flag": True,
            "none": None,
        },
    )
    document = to_json(detail)
    assert (
        document["args"]["why"]["args"]["check"]["args"]["failures"][0]["code"] == "unreachable_url"
    )
    assert from_json(document) == detail
    columns = detail_columns(detail)
    assert structured_detail(columns["detail_code"], columns["detail_args"]) == detail
    assert structured_detail(None, None) is None


def test_json_that_is_not_a_detail_is_refused() -> None:
    with pytest.raises(ValueError, match="not a stored detail"):
        from_json({"code": 3})
    with pytest.raises(ValueError, match="not a stored detail value"):
        from_json({"code": "x", "args": {"v": {1, 2}}})


def test_a_code_this_version_does_not_know_shows_the_recorded_line() -> None:
    newer = Detail("from_a_newer_version", {"x": 1})
    nested = Detail("network_down", {"why": newer})
    assert not known(newer) and not known(nested)
    assert render_stored("the recorded line", newer, "fr", PARIS) == "the recorded line"
    assert render_stored("the recorded line", nested, "fr", PARIS) == "the recorded line"
    assert render_stored("the recorded line", None, "fr", PARIS) == "the recorded line"


#: The canonical keys of a row recorded before structured details (evidence.py).
OLD_KEYS = {
    "target", "prefecture", "started_at", "finished_at", "engine", "status", "reason",
    "detail", "http_status", "url", "final_url", "slot_count", "earliest_slot", "sha256",
}  # fmt: skip


def _outcome(structured: Detail | None) -> Outcome:
    at = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    return Outcome(
        target="92/remise-titre",
        prefecture="92",
        started_at=at,
        finished_at=at,
        engine=Engine.HTTP,
        status=Status.ANOMALY,
        reason=Reason.MAINTENANCE,
        detail="maintenance: «Site en maintenance»",
        url="https://www.example.gouv.fr/booking/create/1",
        structured=structured,
    )


def test_the_chain_covers_the_code_and_values_and_old_rows_hash_as_before() -> None:
    old = _outcome(None)
    assert set(json.loads(canonical_fields(old))) == OLD_KEYS
    structured = _outcome(Detail("maintenance", {"text": "Site en maintenance"}))
    fields = canonical_fields(structured)
    assert b'"detail_code":"maintenance"' in fields
    assert b'"detail_args":{"text":"Site en maintenance"}' in fields
    edited = _outcome(Detail("maintenance", {"text": "Site ouvert"}))
    assert chain_hash(None, structured) != chain_hash(None, edited)
    assert chain_hash(None, structured) != chain_hash(None, old)


def test_the_english_detector_finds_our_english_but_not_the_page_words() -> None:
    assert english_in("the page shows no text (an app shell?) at https://x/") >= {"shows", "text"}
    assert english_in("guichet 1 : «the desk is closed» (settings.probe_timeout)") == set()
    assert english_in("délai dépassé en chargeant https://a/b?x=1 (net::ERR_FAILED)") == set()


def test_no_code_has_words_in_both_tables() -> None:
    """CODES merges the page and fault tables: a code in both would lose one set of words."""
    from monitor.details.faults import FAULT_CODES
    from monitor.details.pages import PAGE_CODES

    assert set(PAGE_CODES) & set(FAULT_CODES) == set()
    assert len(CODES) == len(PAGE_CODES) + len(FAULT_CODES)
