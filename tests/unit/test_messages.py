"""Notification texts: what they say, in French and English, at the right local time."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from wording import english_in

from monitor.alerts.messages import render, render_test
from monitor.alerts.moments import format_day, format_moment
from monitor.alerts.phrasebook import REASON_LABELS, STATUS_LABELS
from monitor.details import record_line, to_json
from monitor.domain import MONITOR_TARGET, Detail, Event, EventKind, Reason, Status

PARIS = ZoneInfo("Europe/Paris")
URL = "https://www.hauts-de-seine.gouv.fr/index.php/booking/create/12083?desk=4411&x=1"
PREFECTURE = "Préfecture des Hauts-de-Seine"
PROCEDURE = "Remise de titre de séjour"
OBSERVED = datetime(2026, 11, 23, 13, 5, tzinfo=UTC)  # 14:05 in Paris (winter, UTC+1)


def event(kind: EventKind, *, reminder: bool = False, **payload: object) -> Event:
    base: dict[str, object] = {
        "status": "available",
        "reason": "slots",
        "detail": "",
        "url": URL,
        "http_status": 200,
        "slot_count": None,
        "earliest_slot": None,
        "since": OBSERVED.isoformat(),
        "outcome_started_at": OBSERVED.isoformat(),
    }
    target = MONITOR_TARGET if kind.value.startswith("monitor") else "92/remise-titre"
    return Event(
        kind=kind,
        target=target,
        occurred_at=OBSERVED,
        reminder=reminder,
        payload=base | payload,
    )


def show(evt: Event, language: str = "fr", *, short: bool = False) -> str:
    message = render(
        evt,
        target_name=PROCEDURE,
        prefecture_name=PREFECTURE,
        language=language,
        tz=PARIS,
        short=short,
    )
    return f"{message.title}\n{message.body}"


SLOTS = event(
    EventKind.SLOTS_OPENED,
    slot_count=3,
    earliest_slot=datetime(2026, 12, 1, 8, 30, tzinfo=UTC).isoformat(),
)
CAPTCHA = event(
    EventKind.ANOMALY_STARTED,
    status="anomaly",
    reason="captcha",
    detail="Saisissez le code de sécurité",
    http_status=200,
    since=datetime(2026, 11, 23, 9, 0, tzinfo=UTC).isoformat(),
)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            [
                PREFECTURE,
                PROCEDURE,
                URL,
                "Créneaux proposés : 3",
                "mardi 1er décembre 2026 à 9 h 30",
                "lundi 23 novembre 2026 à 14 h 05",
            ],
        ),
        (
            "en",
            [
                PREFECTURE,
                PROCEDURE,
                URL,
                "Slots offered: 3",
                "Tuesday 1 December 2026, 09:30",
                "Monday 23 November 2026, 14:05",
            ],
        ),
    ],
)
def test_it_names_place_procedure_time_url_count_and_earliest_slot(
    language: str, expected: list[str]
) -> None:
    text = show(SLOTS, language)
    for fact in expected:
        assert fact in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["3 créneaux", "premier le mardi 1er décembre 2026 à 9 h 30", URL]),
        ("en", ["3 slots", "earliest Tuesday 1 December 2026, 09:30", URL]),
    ],
)
def test_it_keeps_short_messages_to_three_lines(language: str, expected: list[str]) -> None:
    text = show(SLOTS, language, short=True)
    assert len(text.splitlines()) <= 3
    for fact in expected:
        assert fact in text
    assert len(show(SLOTS, language)) > len(text)


@pytest.mark.parametrize(
    ("moment", "french", "english"),
    [
        (
            datetime(2026, 11, 23, 13, 5, tzinfo=UTC),
            "lundi 23 novembre 2026 à 14 h 05",
            "Monday 23 November 2026, 14:05",
        ),
        (
            datetime(2026, 7, 6, 12, 5, tzinfo=UTC),
            "lundi 6 juillet 2026 à 14 h 05",
            "Monday 6 July 2026, 14:05",
        ),
        # The night clocks go forward: 01:30 UTC is 03:30 in Paris, not 02:30.
        (
            datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
            "dimanche 29 mars 2026 à 1 h 30",
            "Sunday 29 March 2026, 01:30",
        ),
        (
            datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
            "dimanche 29 mars 2026 à 3 h 30",
            "Sunday 29 March 2026, 03:30",
        ),
        # New Year's Eve in UTC is already 1 January in Paris.
        (
            datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
            "vendredi 1er janvier 2027 à 0 h 30",
            "Friday 1 January 2027, 00:30",
        ),
    ],
)
def test_it_shows_local_paris_time_across_daylight_saving(
    moment: datetime, french: str, english: str
) -> None:
    assert format_moment(moment, language="fr", tz=PARIS) == french
    assert format_moment(moment, language="en", tz=PARIS) == english
    evt = event(EventKind.SLOTS_OPENED, outcome_started_at=moment.isoformat())
    assert french in show(evt, "fr")
    assert english in show(evt, "en")


def test_it_shows_a_slot_known_only_by_its_date_without_a_time() -> None:
    midnight_paris = datetime(2026, 12, 1, tzinfo=PARIS)
    evt = event(EventKind.SLOTS_OPENED, earliest_slot=midnight_paris.isoformat())
    assert "Premier créneau : mardi 1er décembre 2026\n" in show(evt, "fr")
    assert format_day(midnight_paris, language="en", tz=PARIS) == "Tuesday 1 December 2026"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["un captcha bloque l'accès", "Depuis : lundi 23 novembre 2026 à 10 h 00", URL]),
        ("en", ["a captcha bars the way", "Since: Monday 23 November 2026, 10:00", URL]),
    ],
)
def test_it_says_what_bars_the_way_in_plain_words_and_since_when(
    language: str, expected: list[str]
) -> None:
    text = show(CAPTCHA, language)
    for fact in expected:
        assert fact in text
    assert "Saisissez le code de sécurité" in text


def test_it_gives_the_http_status_of_a_failing_site_only() -> None:
    failing = event(
        EventKind.ANOMALY_STARTED, status="anomaly", reason="overloaded", http_status=502
    )
    assert "le site est surchargé (HTTP 502)" in show(failing, "fr")
    healed = event(EventKind.ANOMALY_RESOLVED, status="unavailable", reason="no_slot")
    assert "État actuel : aucun créneau libre\n" in show(healed, "fr")
    assert "HTTP" not in show(healed, "fr")


@pytest.mark.parametrize(
    ("kind", "french", "english"),
    [
        (EventKind.SLOTS_OPENED, "Rappel : des créneaux sont toujours proposés.", "Reminder: "),
        (EventKind.ANOMALY_STARTED, "Rappel : le site ne fonctionne toujours pas", "Reminder: "),
        (EventKind.MONITOR_DEGRADED, "Rappel : le moniteur rencontre toujours", "Reminder: "),
    ],
)
def test_it_says_when_a_message_is_a_reminder(kind: EventKind, french: str, english: str) -> None:
    reminder = event(kind, reminder=True)
    assert show(reminder, "fr").startswith("Rappel : ")
    assert french in show(reminder, "fr")
    assert show(reminder, "en").startswith(english)
    assert "Rappel" not in show(event(kind), "fr")
    assert "Reminder" not in show(event(kind), "en")


@pytest.mark.parametrize("kind", [EventKind.MONITOR_DEGRADED, EventKind.MONITOR_RECOVERED])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_it_speaks_of_the_monitor_itself_for_health_events(kind: EventKind, language: str) -> None:
    health = event(kind, url=None, detail="connexion perdue", status=None, reason=None)
    for short in (False, True):
        text = show(health, language, short=short)
        assert "http" not in text
        assert PREFECTURE not in text
        assert re.search(r"\b(moniteur|monitor)\b", text, re.IGNORECASE)


def test_it_tells_that_slots_are_gone_and_when_they_were_last_seen() -> None:
    gone = event(
        EventKind.SLOTS_CLOSED,
        status="unavailable",
        reason="no_slot",
        since=datetime(2026, 11, 23, 13, 15, tzinfo=UTC).isoformat(),
        last_available_at=OBSERVED.isoformat(),
    )
    text = show(gone, "fr")
    assert "Plus de créneau depuis : lundi 23 novembre 2026 à 14 h 15" in text
    assert "Dernier créneau vu : lundi 23 novembre 2026 à 14 h 05" in text
    assert "Slots last seen: Monday 23 November 2026, 14:05" in show(gone, "en")


SAMPLES = {kind.value: event(kind) for kind in EventKind} | {"slots": SLOTS, "captcha": CAPTCHA}
SAMPLES |= {f"{kind.value}-reminder": event(kind, reminder=True) for kind in EventKind}


def words_of(text: str) -> set[str]:
    """The words of a message, without its URLs, numbers and the names it was given."""
    text = re.sub(r"https?://\S+", "", text)
    names = f"{PREFECTURE} {PROCEDURE} {CAPTCHA.payload['detail']} Europe/Paris HTTP"
    found = set(re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", text.lower()))
    return found - set(re.findall(r"[^\W\d_]+", names.lower()))


# Every word of the English messages is English, but for these, which French shares.
SHARED = {"cause", "page", "site", "sites", "observations", "captcha", "test", "console"}
SHARED |= {"session"}
ENGLISH = {
    word
    for evt in SAMPLES.values()
    for short in (False, True)
    for word in words_of(show(evt, "en", short=short))
} - SHARED


@pytest.mark.parametrize("evt", SAMPLES.values(), ids=SAMPLES.keys())
@pytest.mark.parametrize("short", [False, True])
def test_it_writes_french_messages_without_english_words(evt: Event, short: bool) -> None:
    assert {"since", "slots", "reminder", "monitor"} <= ENGLISH, "the check must see English"
    words = words_of(show(evt, "fr", short=short))
    assert len(words) > 3
    assert not words & ENGLISH


@pytest.mark.parametrize("kind", list(EventKind))
@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("short", [False, True])
def test_it_renders_every_event_kind_in_both_languages(
    kind: EventKind, language: str, short: bool
) -> None:
    message = render(
        event(kind),
        target_name=PROCEDURE,
        prefecture_name=PREFECTURE,
        language=language,
        tz=PARIS,
        short=short,
    )
    assert message.title
    assert message.body
    assert "{" not in message.title + message.body
    if kind is EventKind.ASSIST_NEEDED:  # the console's address, not the booking page's
        assert PREFECTURE in message.title
    elif not kind.value.startswith("monitor"):
        assert URL in message.body
        assert PREFECTURE in message.title


def test_it_renders_a_message_with_missing_facts() -> None:
    bare = Event(kind=EventKind.SLOTS_OPENED, target="92/x", occurred_at=OBSERVED, payload={})
    assert "lundi 23 novembre 2026 à 14 h 05" in show(bare, "fr")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_it_labels_every_reason_and_status_in_plain_words(language: str) -> None:
    assert set(REASON_LABELS[language]) == set(Reason)
    assert set(STATUS_LABELS[language]) == set(Status)
    for label in [*REASON_LABELS[language].values(), *STATUS_LABELS[language].values()]:
        assert "_" not in label


def test_it_labels_reasons_differently_in_each_language() -> None:
    assert REASON_LABELS["fr"][Reason.CAPTCHA] == "un captcha bloque l'accès"
    assert REASON_LABELS["en"][Reason.CAPTCHA] == "a captcha bars the way"
    for reason in Reason:
        assert REASON_LABELS["fr"][reason] != REASON_LABELS["en"][reason]


@pytest.mark.parametrize(("language", "word"), [("fr", "test"), ("en", "test")])
def test_it_writes_a_test_message(language: str, word: str) -> None:
    message = render_test(language)
    assert word in message.title.lower()
    assert message.body
    assert render_test("fr") != render_test("en")


def test_it_refuses_an_unknown_language() -> None:
    with pytest.raises(ValueError, match="de"):
        show(SLOTS, "de")
    with pytest.raises(ValueError):
        render_test("de")


def test_it_refuses_to_show_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_moment(datetime(2026, 1, 1), language="fr", tz=PARIS)


@pytest.mark.parametrize(
    ("language", "title", "lead"),
    [
        ("fr", "Démarche ouverte", "Le formulaire en ligne de la démarche est ouvert."),
        ("en", "Procedure open", "The procedure's online form is open."),
    ],
)
def test_it_announces_an_open_form_as_open_not_as_slots(
    language: str, title: str, lead: str
) -> None:
    text = show(event(EventKind.SLOTS_OPENED, reason="open"), language)
    assert text.startswith(title)
    assert lead in text
    assert "Créneaux disponibles" not in text and "Slots available" not in text


def _structured(kind: EventKind, detail: Detail, **payload: object) -> Event:
    data = to_json(detail)
    return event(
        kind,
        detail=record_line(detail),
        detail_code=data["code"],
        detail_args=data["args"],
        **payload,
    )


@pytest.mark.parametrize("short", [False, True])
def test_an_anomaly_detail_reads_in_the_channels_language(short: bool) -> None:
    """Signal's short text and email's full one alike."""
    said = Detail(
        "captcha",
        {"refused": False, "text": "Saisissez le code de sécurité", "url": URL},
    )
    started = _structured(
        EventKind.ANOMALY_STARTED, said, status="anomaly", reason="captcha", http_status=200
    )
    french = show(started, "fr", short=short)
    if short:  # the short text names the reason, not the detail
        assert "a captcha bars the way" not in french
        return
    assert "un captcha barre l'accès («Saisissez le code de sécurité»)" in french
    assert "a captcha bars the way" not in french
    assert "a captcha bars the way («Saisissez le code de sécurité»)" in show(started, "en")


def test_a_health_detail_reads_in_the_channels_language() -> None:
    unreachable = Detail(
        "unreachable_url", {"url": "https://www.service-public.fr/", "kind": "ConnectError"}
    )
    check = Detail("connectivity_failed", {"failures": (unreachable,)})
    said = Detail("own_network_down", {"check": check})
    degraded = _structured(
        EventKind.MONITOR_DEGRADED, said, url=None, status="monitor_error", reason=None
    )
    for short in (False, True):
        text = show(degraded, "fr", short=short)
        assert "le réseau du moniteur lui-même est coupé" in text
        assert not english_in(text), text


def test_a_payload_from_before_structured_details_shows_its_recorded_line() -> None:
    old = event(EventKind.ANOMALY_STARTED, status="anomaly", reason="maintenance",
                detail="maintenance: «Site en maintenance»")  # fmt: skip
    assert "maintenance: «Site en maintenance»" in show(old, "fr")
    unknown = event(
        EventKind.ANOMALY_STARTED,
        status="anomaly",
        reason="maintenance",
        detail="the recorded line",
        detail_code="from_a_newer_version",
        detail_args={},
    )
    assert "the recorded line" in show(unknown, "fr")


ASK = Event(
    kind=EventKind.ASSIST_NEEDED,
    target="92/remise-titre",
    occurred_at=OBSERVED,
    payload={
        "console_url": "https://console.example.org/",
        "since": datetime(2026, 11, 23, 12, 0, tzinfo=UTC).isoformat(),
        "end_reason": "sent_back",
    },
)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            [
                f"Session assistée demandée — {PREFECTURE} : {PROCEDURE}",
                "Une personne est demandée pour ouvrir une session assistée",
                f"Préfecture : {PREFECTURE}",
                f"Démarche : {PROCEDURE}",
                "Console : https://console.example.org/",
                "Dernière session terminée : lundi 23 novembre 2026 à 13 h 00 "
                "(le site a renvoyé la session au captcha)",
                "ne répond jamais au captcha et ne réserve jamais",
            ],
        ),
        (
            "en",
            [
                f"Assisted session needed — {PREFECTURE}: {PROCEDURE}",
                "A person is asked to open an assisted session",
                "Console: https://console.example.org/",
                "Last session ended: Monday 23 November 2026, 13:00 "
                "(the site sent the session back to the captcha)",
                "never answers the captcha and never books",
            ],
        ),
    ],
)
def test_assist_needed_asks_a_person_and_gives_the_consoles_address(
    language: str, expected: list[str]
) -> None:
    text = show(ASK, language)
    for part in expected:
        assert part in text
    short = show(ASK, language, short=True)
    assert "https://console.example.org/" in short
    assert len(short.splitlines()) == 2


def test_a_first_assist_needed_has_no_last_session_and_a_reminder_says_so() -> None:
    first = Event(
        kind=EventKind.ASSIST_NEEDED,
        target="92/remise-titre",
        occurred_at=OBSERVED,
        payload={"console_url": "https://console.example.org/"},
    )
    assert "Dernière session" not in show(first)
    again = Event(
        kind=EventKind.ASSIST_NEEDED,
        target="92/remise-titre",
        occurred_at=OBSERVED,
        reminder=True,
        payload={"console_url": "https://console.example.org/"},
    )
    assert show(again).startswith("Rappel : Session assistée demandée")
    assert "Rappel : personne n'a encore ouvert de session assistée." in show(again)
