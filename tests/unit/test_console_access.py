"""The console's access rules as pure functions: the token's cookie, CSRF tokens, the
cross-origin rule, operator names, the listen address and the pages' words."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.assist.views import EndReason, SessionState, SessionView
from monitor.config.listen import Listen, parse_listen
from monitor.console.access import Access, LoginThrottle, cross_origin_refusal, name_problem
from monitor.console.wording import outcome_words, row

TOKEN = "correct horse battery staple"


def test_a_login_cookie_proves_the_token_without_holding_it() -> None:
    access = Access(TOKEN)
    cookie = access.new_login()
    nonce = access.login_nonce(cookie)
    assert nonce is not None and cookie.startswith(nonce + ".")
    assert TOKEN not in cookie
    assert access.new_login() != cookie  # a fresh nonce each login


@pytest.mark.parametrize(
    "cookie",
    [None, "", "abc", "abc.", ".abc", "a.b.c", "nonce.0000", "x" * 300],
)
def test_a_forged_or_malformed_login_cookie_is_refused(cookie: str | None) -> None:
    assert Access(TOKEN).login_nonce(cookie) is None


def test_a_cookie_made_with_another_token_is_refused() -> None:
    other = Access("another token").new_login("same-nonce")
    assert Access(TOKEN).login_nonce(other) is None
    assert Access(TOKEN).login_nonce(Access(TOKEN).new_login("same-nonce")) == "same-nonce"


def test_the_token_is_compared_whole() -> None:
    access = Access(TOKEN)
    assert access.token_matches(TOKEN)
    assert not access.token_matches(TOKEN[:-1])
    assert not access.token_matches(TOKEN + " ")
    assert not access.token_matches("")
    assert not access.token_matches("é" * 3)


def test_an_empty_token_is_refused_with_what_to_set() -> None:
    with pytest.raises(ValueError, match="MONITOR_CONSOLE_TOKEN"):
        Access("")


def test_csrf_tokens_belong_to_one_login() -> None:
    access = Access(TOKEN)
    mine = access.csrf_token("nonce-1")
    assert access.csrf_matches("nonce-1", mine)
    assert not access.csrf_matches("nonce-2", mine)
    assert not access.csrf_matches("nonce-1", None)
    assert not access.csrf_matches("nonce-1", mine[:-1] + "0" if mine[-1] != "0" else "1")
    assert Access("another").csrf_token("nonce-1") != mine


def test_the_operator_cookie_is_signed_for_its_login() -> None:
    access = Access(TOKEN)
    cookie = access.name_cookie("n1", "Élodie d'Ars")
    assert access.name_from_cookie("n1", cookie) == "Élodie d'Ars"
    assert access.name_from_cookie("n2", cookie) is None  # another login
    proof = cookie.rpartition(".")[2]
    assert access.name_from_cookie("n1", f"Mallory.{proof}") is None  # name swapped
    assert access.name_from_cookie("n1", "%FF%FE." + proof) is None  # not UTF-8
    assert access.name_from_cookie("n1", None) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Amina", None),
        ("Jean-Pierre O'Brien", None),
        ("x" * 60, None),
        ("", "Indiquez votre nom"),
        ("   ", "Indiquez votre nom"),
        ("x" * 61, "61 caractères"),
        ("Eve\u202eevil", "U+202E"),
        ("Eve\x1b[2J", "U+001B"),
        ("two\nlines", "U+000A"),
        ("tab\there", "U+0009"),
    ],
)
def test_operator_names_are_one_to_sixty_printable_characters(
    name: str, problem: str | None
) -> None:
    found = name_problem(name)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


@pytest.mark.parametrize(
    ("method", "host", "origin", "fetch_site", "refused"),
    [
        ("GET", "127.0.0.1:8470", "http://evil.example", "cross-site", False),
        ("POST", "127.0.0.1:8470", "http://127.0.0.1:8470", "same-origin", False),
        ("POST", "127.0.0.1:8470", "http://127.0.0.1:9999", "same-site", True),
        ("POST", "127.0.0.1:8470", None, "cross-site", True),
        ("POST", "127.0.0.1:8470", None, "none", False),
        # no Sec-Fetch-Site (an older browser): the Origin must be this host
        ("POST", "127.0.0.1:8470", "http://127.0.0.1:8470", None, False),
        ("POST", "127.0.0.1:8470", "http://127.0.0.1:9999", None, True),
        ("POST", "127.0.0.1:8470", "null", None, True),
        ("POST", "console.example.org", "https://console.example.org", None, False),
        ("POST", "console.example.org:443", "https://console.example.org", None, False),
        ("POST", "console.example.org", "https://evil.example.org", None, True),
        ("POST", None, "https://console.example.org", None, True),
        # neither header: no browser sent it; the cookie and the CSRF token still decide
        ("POST", "127.0.0.1:8470", None, None, False),
    ],
)
def test_unsafe_requests_from_another_origin_are_refused(
    method: str, host: str | None, origin: str | None, fetch_site: str | None, refused: bool
) -> None:
    assert (cross_origin_refusal(method, host, origin, fetch_site) is not None) is refused


@pytest.mark.parametrize(
    ("text", "expected", "url"),
    [
        ("127.0.0.1:8470", Listen("127.0.0.1", 8470), "http://127.0.0.1:8470/"),
        ("[::1]:8470", Listen("::1", 8470), "http://[::1]:8470/"),
        ("localhost:0", Listen("localhost", 0), "http://localhost:0/"),
        (" 0.0.0.0:80 ", Listen("0.0.0.0", 80), "http://0.0.0.0:80/"),
    ],
)
def test_listen_addresses_are_read(text: str, expected: Listen, url: str) -> None:
    assert parse_listen(text) == expected
    assert expected.url() == url


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("8470", "no port"),
        ("127.0.0.1", "no port"),
        ("127.0.0.1:", "not a number"),
        ("127.0.0.1:99999", "not a number"),
        ("127.0.0.1:84x", "not a number"),
        ("::1:8470", "IPv6 goes in brackets"),
        ("[::1]8470", "port after"),
        ("[127.0.0.1]:8470", "not an IPv6 address"),
        ("example.org:8470", "neither an IPv4 address nor localhost"),
    ],
)
def test_a_bad_listen_address_says_what_is_expected(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as caught:
        parse_listen(text)
    assert "127.0.0.1:8470" in str(caught.value)


def test_the_real_port_replaces_zero_in_the_url() -> None:
    assert Listen("::1", 0).url(41234) == "http://[::1]:41234/"


def _view(**changes: object) -> SessionView:
    base: dict[str, object] = {
        "target_id": "75/titre",
        "target_name": "Titre",
        "prefecture": "75",
        "prefecture_name": "Préfecture de police",
        "state": SessionState.LIVE,
        "operator": "Amina",
        "opened_at": datetime(2026, 7, 1, 8, 0, tzinfo=UTC),
        "reads_done": 2,
        "reads_left": 4,
        "next_read": datetime(2026, 7, 1, 8, 20, tzinfo=UTC),
        "last_outcome": "available/slots",
        "last_outcome_at": datetime(2026, 7, 1, 8, 10, tzinfo=UTC),
        "ended_at": None,
        "end_reason": None,
        "node": "n1",
    }
    base.update(changes)
    return SessionView(**base)  # type: ignore[arg-type]


def test_a_live_session_shows_its_reads_and_times_in_the_zone() -> None:
    shown = row(_view(), ZoneInfo("Europe/Paris"))
    assert shown.next_read == "01/07/2026 10:20"  # summer time: UTC+2
    assert shown.last_outcome == "créneaux disponibles (available/slots)"
    assert (shown.reads_done, shown.reads_left) == (2, 4)
    assert not shown.can_open and not shown.can_answer and not shown.busy


def test_an_ended_session_says_why_and_may_be_opened_again() -> None:
    shown = row(
        _view(
            state=SessionState.ENDED,
            ended_at=datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
            end_reason=EndReason.SENT_BACK,
        ),
        ZoneInfo("Europe/Paris"),
    )
    assert shown.ended_at == "01/01/2026 13:00"
    assert shown.end_reason == "le site a renvoyé la session au début"
    assert shown.can_open


@pytest.mark.parametrize(
    ("state", "can_open", "can_answer", "busy"),
    [
        (SessionState.WAITING, True, False, False),
        (SessionState.OPENING, False, False, True),
        (SessionState.CHALLENGE, False, True, False),
        (SessionState.SUBMITTING, False, False, True),
        (SessionState.LIVE, False, False, False),
        (SessionState.ENDED, True, False, False),
    ],
)
def test_each_state_offers_its_act(
    state: SessionState, can_open: bool, can_answer: bool, busy: bool
) -> None:
    shown = row(_view(state=state), UTC)
    assert (shown.can_open, shown.can_answer, shown.busy) == (can_open, can_answer, busy)


def test_every_end_reason_and_state_has_words() -> None:
    for reason in EndReason:
        assert row(_view(state=SessionState.ENDED, end_reason=reason), UTC).end_reason
    for state in SessionState:
        assert row(_view(state=state), UTC).state_words


def test_an_unknown_outcome_is_shown_as_it_is() -> None:
    assert outcome_words("weird") == "weird"
    assert outcome_words(None) == ""


def test_wrong_tokens_are_throttled_for_the_window() -> None:
    now = [100.0]
    throttle = LoginThrottle(limit=3, window=60.0, clock=lambda: now[0])
    for _ in range(3):
        assert not throttle.blocked()
        throttle.failed()
    assert throttle.blocked()
    now[0] += 59.9
    assert throttle.blocked()
    now[0] += 0.1  # the oldest failure is a window old
    assert not throttle.blocked()
