"""The local imitation of the booking sites: flows, strings, faults, log and admin endpoint.

Everything runs against ``ImitationSite`` on 127.0.0.x; nothing here touches the internet.
"""

from __future__ import annotations

import base64
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from selectolax.parser import HTMLParser, Node

from monitor.domain import REASONS, Platform, Reason, Status, status_of
from monitor.imitation import CATALOGUE, FAULTS, ImitationSite, expectation, install
from monitor.imitation.case import Case
from monitor.imitation.frdates import MONTHS, PARIS, french_day, long_date, monday_of
from monitor.imitation.legacy import SCENARIOS as LEGACY_SCENARIOS
from monitor.imitation.scenarios import HOSTILE_FAULTS

NO_SLOT = (
    "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. "
    "Veuillez recommencer ultérieurement."
)
CONDITIONS = {"condition": "on", "nextButton": "Effectuer une demande de rendez-vous"}
NEXT = {"nextButton": "Etape suivante"}


@pytest.fixture
def site() -> Iterator[ImitationSite]:
    with ImitationSite() as running:
        yield running


@pytest.fixture
def client(site: ImitationSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url, timeout=10) as http:
        yield http


def normalise(text: str) -> str:
    """What the monitor compares: NFKC, one kind of apostrophe, collapsed whitespace."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'")
    return " ".join(text.split())


def dom(response: httpx.Response) -> HTMLParser:
    return HTMLParser(response.text)


def one(tree: HTMLParser | Node, selector: str) -> Node:
    """The first node matching ``selector``; fails the test if there is none."""
    node = tree.css_first(selector)
    assert node is not None, f"nothing matches {selector}"
    return node


def view_of(response: httpx.Response) -> str:
    """The text a browser would render from a client-side app shell (its decoded view)."""
    payload = re.search(r'var VIEW = "([A-Za-z0-9+/=]+)"', response.text)
    assert payload, "not an app shell"
    return json.dumps(json.loads(base64.b64decode(payload[1])), ensure_ascii=False)


def wait_for_arrivals(site: ImitationSite, count: int, timeout: float = 10.0) -> None:
    """Wait until the site has logged ``count`` requests (instead of guessing a sleep)."""
    deadline = time.monotonic() + timeout
    while len(site.requests) < count:
        assert time.monotonic() < deadline, f"{count} requests did not arrive"
        time.sleep(0.01)


def wait_for_finished(site: ImitationSite, count: int, timeout: float = 10.0) -> None:
    """Wait until ``count`` logged requests have finished: the server records a request's
    duration just after sending its answer, so a client may read the log before that."""
    deadline = time.monotonic() + timeout
    while sum(entry.duration is not None for entry in site.requests) < count:
        assert time.monotonic() < deadline, f"{count} requests did not finish"
        time.sleep(0.01)


def start_legacy(client: httpx.Client, form_id: str, prefix: str = "") -> httpx.Response:
    """GET the conditions page, then accept them: the desk choice (or the result)."""
    client.get(f"{prefix}/booking/create/{form_id}")
    return client.post(f"{prefix}/booking/create/{form_id}/0", data=CONDITIONS)


# -- legacy module: the flow ---------------------------------------------------------------


def test_it_sets_ezsessid_and_shows_the_conditions_page_on_first_get(
    client: httpx.Client,
) -> None:
    response = client.get("/booking/create/4401")
    assert response.status_code == 200
    assert "eZSESSID" in response.cookies
    page = dom(response)
    checkbox = one(page, "input#condition")
    assert checkbox.attributes["name"] == "condition"
    assert str(checkbox.attributes["title"]).startswith(
        "Cliquez la case pour accepter les conditions"
    )
    button = one(page, "div#submit_Booking input[name=nextButton]")
    assert button.attributes["value"] == "Effectuer une demande de rendez-vous"
    assert one(page, "#cookies-banner a").text() == "Accepter"
    tabs = [li.text(strip=True) for li in page.css("ul.etapes li")]
    assert tabs == [
        "Prise de rendez-vous",
        "Descriptif",
        "Choix d'une plage",
        "Contrôle de sécurité",
        "Cordonnées personnelles",
        "Valider et terminer",
    ]
    assert "etape_1r.png" in response.text


def test_the_default_flow_ends_on_the_no_slot_page_with_only_terminer(
    client: httpx.Client,
) -> None:
    desks = start_legacy(client, "4401")
    assert one(dom(desks), "h2").text() == "Choix de la nature du rendez-vous"
    radios = dom(desks).css("form#FormBookingCreate fieldset#fchoix_Booking p.Bligne input.radio")
    assert [r.attributes["value"] for r in radios] == ["4411", "4412"]
    assert [r.attributes["id"] for r in radios] == ["planning4411", "planning4412"]
    assert one(dom(desks), "input.Bbutton[name=nextButton]").attributes["value"] == (
        "Etape suivante"
    )
    result = client.post("/booking/create/4401/1", data={"planning": "4411", **NEXT})
    page = dom(result)
    assert one(page, "#inner_Booking h2").text() == "Vérification de disponibilité"
    assert normalise(one(page, "#FormBookingCreate").text()) == NO_SLOT
    buttons = page.css("#FormBookingCreate input[type=submit]")
    assert [(b.attributes["name"], b.attributes["value"]) for b in buttons] == [
        ("finishButton", "Terminer")
    ]
    again = client.post("/booking/create/4401/2", data={"finishButton": "Terminer"})
    assert dom(again).css_first("input#condition") is not None


def monday(weeks: int = 0) -> datetime:
    """Monday 09:00 Paris, ``weeks`` after this week's (the relative calendar's offset 0)."""
    today = datetime.now(PARIS).date()
    nine = datetime.min.time().replace(hour=9)
    return datetime.combine(monday_of(today) + timedelta(weeks=weeks), nine, PARIS)


def week(client: httpx.Client, form: str, planning: str, offset: int, **kw: Any) -> httpx.Response:
    """One AJAX week, POSTed with an empty body as the page's script does."""
    url = f"/ezjscore/call/bookingserver::planning::assign::{form}::{planning}::{offset}"
    return client.request(kw.pop("method", "POST"), url, **kw)


def header_of(response: httpx.Response) -> str:
    return one(dom(response), "th[colspan='7']").text()


def test_slots_lead_through_the_description_to_an_empty_calendar_filled_by_ajax(
    site: ImitationSite, client: httpx.Client
) -> None:
    first_date = monday(1)
    site.set_scenario("4401", "slots", count=4, first_date=first_date.isoformat())
    start_legacy(client, "4401")
    described = client.post("/booking/create/4401/1", data={"planning": "4412", **NEXT})
    assert one(dom(described), "h2").text() == "Description de la nature du rendez-vous"
    assert "etape_3r.png" in described.text
    assert dom(described).css_first("input[name=finishButton]") is None
    calendar = client.post("/booking/create/4401/3", data=NEXT)
    page = dom(calendar)
    assert "etape_4r.png" in calendar.text
    # The week is not in the page: its script loads it
    # (docs/platforms.md#legacy-booking-the-steps, step 4).
    assert page.css("td.status-1.free") == [] and "<table" not in calendar.text
    box = one(page, "#planning_calendar")
    assert box.attributes["data-url"] == (
        "/ezjscore/call/bookingserver::planning::assign::4401::4412::"
    )
    assert box.attributes["data-offset"] == "0"
    assert "Chargement du calendrier…" in box.text()
    assert "fetch(adresse(o), {method: 'POST'})" in calendar.text
    assert [a.text() for a in page.css("a.semaine")] == ["Semaine précédente", "Semaine suivante"]
    assert [li.text(strip=True) for li in page.css("ul.etapes li.active")] == ["Choix d'une plage"]
    again = client.get("/booking/create/4401/4")  # the session is at step 4: the same page
    assert (
        one(dom(again), "#planning_calendar").attributes["data-url"] == box.attributes["data-url"]
    )
    assert "<table" not in again.text
    assert one(page, "input[name=nextButton]").attributes["value"] == (
        "Première plage horaire libre"
    )
    this_week = week(client, "4401", "4412", 0)
    assert this_week.status_code == 200 and "<html" not in this_week.text  # a fragment
    assert dom(this_week).css("td.status-1.free") == []  # the slots are next week
    assert "Légende" in one(dom(this_week), ".legende").text()
    next_week = week(client, "4401", "4412", 7)
    sunday = first_date + timedelta(days=6)
    assert header_of(next_week) == (
        f"Semaine du {french_day(first_date.date())} au {french_day(sunday.date())}"
    )
    free = dom(next_week).css("td.status-1.free")
    assert len(free) == 4
    assert all(one(cell, "a").text() == "plage libre" for cell in free)
    first = one(free[0], "a").attributes["href"]
    assert first == f"/booking/create/4401/5/{int(first_date.timestamp())}"
    chosen = client.get(first)
    assert long_date(first_date) in one(dom(chosen), "#inner_Booking > fieldset").text()


def test_the_rest_of_the_flow_stops_at_a_local_captcha_and_ends_at_step_9(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "slots", count=1, desks=[4411], captcha_answer="K7")
    described = start_legacy(client, "4401")  # one desk: no desk-choice page
    assert "Description de la nature du rendez-vous" in described.text
    client.post("/booking/create/4401/3", data=NEXT)
    chosen = client.post(
        "/booking/create/4401/4", data={"nextButton": "Première plage horaire libre"}
    )
    assert dom(chosen).css_first("#inner_Booking > fieldset") is not None
    captcha = client.post("/booking/create/4401/5", data=NEXT)
    assert "Contrôle de sécurité" in one(dom(captcha), "h2").text()
    assert dom(captcha).css_first("#imitation_captcha") is not None
    assert "google" not in captcha.text.lower()
    wrong = client.post("/booking/create/4401/6", data={"imitation_captcha_response": "no"})
    assert "incorrect" in wrong.text
    details = client.post("/booking/create/4401/6", data={"imitation_captcha_response": "K7"})
    assert {"email", "emailcheck", "firstname", "lastname"} <= {
        node.attributes["name"] for node in dom(details).css("input[type=text]")
    }
    done = client.post("/booking/create/4401/8", data={"email": "a@example.invalid", **NEXT})
    assert "Vous disposez de 60 minutes pour confirmer" in done.text
    assert "Un message électronique vous a été envoyé." in done.text


def test_no_slot_variants_differ_in_typography_but_normalise_to_the_sentence(
    site: ImitationSite, client: httpx.Client
) -> None:
    texts = {}
    for key, variant in (("4402", "nbsp"), ("4403", "typographic")):
        site.set_scenario(key, "no_slot", variant=variant, desks=[4411])
        response = start_legacy(client, key)
        texts[variant] = response.text
        assert normalise(one(dom(response), "#FormBookingCreate").text()) == NO_SLOT
    assert "\u00a0" in texts["nbsp"] and "<br />" in texts["nbsp"]
    assert "Il n’existe plus" in texts["typographic"]


def test_per_desk_slots_give_one_desk_slots_and_the_other_none(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "slots", desk_slots={4411: 0, 4412: 3})
    start_legacy(client, "4401")
    none = client.post("/booking/create/4401/1", data={"planning": "4411", **NEXT})
    assert "Vérification de disponibilité" in none.text
    start_legacy(client, "4401")
    some = client.post("/booking/create/4401/1", data={"planning": "4412", **NEXT})
    assert "Description de la nature du rendez-vous" in some.text
    client.post("/booking/create/4401/3", data=NEXT)
    free = [len(dom(week(client, "4401", "4412", d)).css("td.status-1.free")) for d in (0, 7)]
    assert sum(free) == 3
    assert sum(len(dom(week(client, "4401", "4411", d)).css("td.free")) for d in (0, 7)) == 0


def test_no_calendar_shows_the_error_list_instead_of_the_desks(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "no_calendar")
    response = start_legacy(client, "4401")
    assert one(dom(response), "ul.error").text() == (
        "Il n'y a pas calendrier disponible pour effectuer une demande de rendez-vous"
    )
    assert dom(response).css_first("#fchoix_Booking") is None


def test_desk_bounce_sends_the_desk_choice_back(site: ImitationSite, client: httpx.Client) -> None:
    site.set_scenario("4401", "desk_bounce")
    start_legacy(client, "4401")
    response = client.post("/booking/create/4401/1", data={"planning": "4411", **NEXT})
    assert one(dom(response), "h2").text() == "Choix de la nature du rendez-vous"


def test_session_expired_sends_every_post_back_to_the_conditions(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "session_expired")
    first = client.get("/booking/create/4401")
    response = client.post("/booking/create/4401/0", data=CONDITIONS)
    assert dom(response).css_first("input#condition") is not None
    assert "Choix de la nature" not in response.text
    assert response.cookies["eZSESSID"] != first.cookies["eZSESSID"]


def test_a_post_without_cookie_or_out_of_order_goes_back_to_the_conditions(
    site: ImitationSite,
) -> None:
    site.set_scenario("4401", "slots")
    with httpx.Client(base_url=site.base_url) as cookieless:
        response = cookieless.post("/booking/create/4401/1", data={"planning": "4411", **NEXT})
        assert dom(response).css_first("input#condition") is not None
    with httpx.Client(base_url=site.base_url) as hasty:
        hasty.get("/booking/create/4401")
        skipped = hasty.post("/booking/create/4401/3", data=NEXT)  # never chose a desk
        assert dom(skipped).css_first("input#condition") is not None


def test_posting_the_desk_right_after_the_first_get_is_tolerated_as_bots_did(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "slots")
    client.get("/booking/create/4401")
    response = client.post("/booking/create/4401/1", data={"planning": "4412", **NEXT})
    assert "Description de la nature du rendez-vous" in response.text


@pytest.mark.parametrize(
    ("scenario", "text"),
    [
        ("module_closed", "Attention : Cette page n'est pas disponible pour le moment !"),
        ("link_disabled", "Ce lien a été désactivé définitivement"),
    ],
)
def test_closed_module_and_disabled_link_show_their_message(
    site: ImitationSite, client: httpx.Client, scenario: str, text: str
) -> None:
    site.set_scenario("4401", scenario)
    response = client.get("/booking/create/4401")
    assert response.status_code == 200
    assert text in response.text
    assert dom(response).css_first("input#condition") is None


def test_english_header_variant(site: ImitationSite, client: httpx.Client) -> None:
    site.set_scenario("4401", "english_header")
    start = monday().date()
    header = header_of(week(client, "4401", "4411", 0, method="GET"))
    assert header == (f"Week from {french_day(start)} to {french_day(start + timedelta(6))}")


HEADER = re.compile(r"Semaine du (\w+) (\d{2}) (\w+) (\d{4}) au dimanche (\d{2}) (\w+) (\d{4})")


def header_monday(response: httpx.Response) -> date:
    """The Monday a week table's ``th[colspan=7]`` header names, parsed as a monitor would."""
    found = HEADER.fullmatch(header_of(response))
    assert found, header_of(response)
    assert found[1] == "lundi"
    return date(int(found[4]), MONTHS.index(found[3]) + 1, int(found[2]))


def reach_calendar(client: httpx.Client, form: str = "4401") -> httpx.Response:
    """Walk a single-desk form to its step-4 page."""
    assert "Description de la nature" in start_legacy(client, form).text
    return client.post(f"/booking/create/{form}/3", data=NEXT)


def test_relative_offset_0_is_this_weeks_monday_and_each_7_one_week_more(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "slots")
    today = datetime.now(PARIS).date()
    assert header_monday(week(client, "4401", "4411", 0)) == monday_of(today)
    for offset in (1, 6, 7, 13, 14, -1, -7, -400):
        shown = header_monday(week(client, "4401", "4411", offset))
        assert shown == monday_of(today + timedelta(days=offset))
    # Offset 0 is today's week, not the first slot's: the default slots (next weekday)
    # are at offset 0 or 7, and a week far in the past is just a week without free cells.
    frees = [len(dom(week(client, "4401", "4411", d)).css("td.status-1.free")) for d in (0, 7)]
    assert sum(frees) == 3
    assert dom(week(client, "4401", "4411", -400)).css("td.free") == []


def test_a_slot_four_weeks_ahead_is_only_at_offset_28(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "slots", first_date=monday(4).isoformat())
    frees = [
        len(dom(week(client, "4401", "4411", d)).css("td.status-1.free")) for d in range(0, 42, 7)
    ]
    assert frees == [0, 0, 0, 0, 3, 0]  # every week full but the fourth
    full = dom(week(client, "4401", "4411", 14))
    assert full.css("td.status-0.busy") and ">libre<" in full.html  # busy cells, the legend


def test_absolute_offsets_count_days_from_the_sites_origin(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "slots", calendar_origin="absolute")
    assert header_of(week(client, "4401", "4411", 175)) == (
        "Semaine du lundi 12 avril 2021 au dimanche 18 avril 2021"
    )
    assert header_monday(week(client, "4401", "4411", 181)) == date(2021, 4, 12)
    assert header_monday(week(client, "4401", "4411", -1)) == date(2020, 10, 12)
    site.set_scenario("4401", "slots", calendar_origin="absolute", calendar_epoch="2024-01-01")
    assert header_monday(week(client, "4401", "4411", 8)) == date(2024, 1, 8)
    # Today's week is where the browser's clock puts it, and holds the default slots.
    days = (datetime.now(PARIS).date() - date(2024, 1, 1)).days
    assert header_monday(week(client, "4401", "4411", days)) == monday_of(
        datetime.now(PARIS).date()
    )
    frees = [len(dom(week(client, "4401", "4411", days + d)).css("td.free")) for d in (0, 7)]
    assert sum(frees) == 3


def test_the_absolute_page_computes_its_start_offset_in_the_script(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "slots", calendar_origin="absolute", desks=[4411])
    calendar = reach_calendar(client)
    box = one(dom(calendar), "#planning_calendar")
    assert (
        box.attributes["data-url"] == "/ezjscore/call/bookingserver::planning::assign::4401::4411::"
    )
    assert "data-offset" not in calendar.text
    assert "var epoch = Date.UTC(2020, 9, 19);" in calendar.text
    assert "Date.now()" in calendar.text  # the start offset comes from the browser's clock
    assert "var offset = Math.floor((today - epoch) / 86400000);" in calendar.text
    assert not re.search(r"var offset = -?\d", calendar.text)


def test_the_script_variant_writes_no_complete_endpoint(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "slots", calendar_endpoint="script", desks=[4421])
    calendar = reach_calendar(client)
    text = calendar.text
    assert "bookingserver::planning::assign::4401::4421::" not in text
    assert not re.search(r"bookingserver::planning::assign::\d+::\d+::", text)
    assert "var formId = 4401, planningId = 4421;" in text
    assert (
        "prefix + '/ezjscore/call/bookingserver::planning::assign::' + formId + '::' "
        "+ planningId + '::' + offset"
    ) in text
    assert "var offset = 0;" in text  # relative: the script starts at this week
    box = one(dom(calendar), "#planning_calendar")
    assert "data-url" not in box.attributes and "data-offset" not in box.attributes
    assert dom(calendar).css("td.status-1.free") == [] and "<table" not in text


def test_the_endpoint_answers_without_a_session(site: ImitationSite) -> None:
    site.set_scenario("4401", "slots", first_date=monday(1).isoformat())
    url = "/ezjscore/call/bookingserver::planning::assign::4401::4411::7"
    # No cookie at all (docs/platforms.md#legacy-booking-the-week-calendar).
    answer = httpx.post(site.url(url))
    assert answer.status_code == 200 and "set-cookie" not in answer.headers
    assert len(dom(answer).css("td.status-1.free")) == 3


def test_a_post_only_endpoint_refuses_get_with_405(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "slots", calendar_method="post")
    refused = week(client, "4401", "4411", 0, method="GET")
    assert (refused.status_code, refused.headers["allow"]) == (405, "POST")
    assert "<table" not in refused.text and len(refused.text) < 200
    accepted = week(client, "4401", "4411", 0)  # POST, empty body
    assert accepted.status_code == 200 and one(dom(accepted), "th[colspan='7']")
    site.set_scenario("4401", "slots")  # "any": GET and POST answer the same table
    got, posted = (week(client, "4401", "4411", 0, method=m) for m in ("GET", "POST"))
    assert got.status_code == posted.status_code == 200 and got.text == posted.text


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (502, "Bad Gateway"),
        (503, "Service Unavailable"),
        (504, "Gateway Timeout"),
        (500, "Internal Server Error"),
    ],
)
def test_a_failing_endpoint_answers_an_nginx_page_while_the_steps_work(
    site: ImitationSite, client: httpx.Client, status: int, reason: str
) -> None:
    site.set_scenario("4401", "slots", calendar_status=status, desks=[4411])
    calendar = reach_calendar(client)
    assert calendar.status_code == 200 and one(dom(calendar), "#planning_calendar")
    assert "Le calendrier n'a pas pu être chargé." in calendar.text  # what the script shows
    failed = week(client, "4401", "4411", 0)
    assert failed.status_code == status
    assert f"<title>{status} {reason}</title>" in failed.text
    assert f"<center><h1>{status} {reason}</h1></center>" in failed.text
    assert "<center>nginx</center>" in failed.text and "<table" not in failed.text
    first = client.post(
        "/booking/create/4401/4", data={"nextButton": "Première plage horaire libre"}
    )
    assert "Plage horaire choisie" in first.text  # the steps themselves still work


def test_a_late_table_comes_after_its_delay(site: ImitationSite, client: httpx.Client) -> None:
    site.set_scenario("4401", "slots", calendar_delay=0.5)
    began = time.monotonic()
    answer = week(client, "4401", "4411", 0)
    assert time.monotonic() - began >= 0.5
    assert answer.status_code == 200 and one(dom(answer), "th[colspan='7']")
    began = time.monotonic()
    assert client.get("/booking/create/4401").status_code == 200  # only the endpoint waits
    assert time.monotonic() - began < 0.5


def test_slots_vanish_for_a_session_after_its_nth_calendar_answer(
    site: ImitationSite, client: httpx.Client
) -> None:
    scenario = {"count": 30, "first_date": monday(1).isoformat(), "desks": [4411]}
    site.set_scenario("4401", "slots", **scenario, vanish_after=2)
    site.set_scenario("4402", "slots", **scenario, vanish_after=2)
    assert "Description de la nature" in start_legacy(client, "4401").text  # no answer yet
    assert all(dom(week(client, "4402", "4411", 7)).css("td.free") for _ in range(2))
    assert dom(week(client, "4401", "4411", 7)).css("td.free")  # 4402's answers did not count
    assert dom(week(client, "4401", "4411", 7)).css("td.free")  # the second still has them
    assert dom(week(client, "4401", "4411", 7)).css("td.free") == []  # then they are gone
    assert dom(week(client, "4401", "4411", 0)).css("td.free") == []
    assert dom(week(client, "4402", "4411", 7)).css("td.free") == []
    assert "Vérification de disponibilité" in start_legacy(client, "4401").text
    with httpx.Client(base_url=site.base_url, timeout=10) as other:  # another session
        assert "Description de la nature" in start_legacy(other, "4401").text
        assert dom(week(other, "4401", "4411", 7)).css("td.free")
    site.set_scenario("4401", "slots", **scenario, vanish_after=2)  # set again: a new count
    assert "Description de la nature" in start_legacy(client, "4401").text
    assert dom(week(client, "4401", "4411", 7)).css("td.free")


def test_vanish_after_counts_concurrent_answers_exactly(site: ImitationSite) -> None:
    site.set_scenario("4401", "slots", first_date=monday(1).isoformat(), vanish_after=5)
    url = site.url("/ezjscore/call/bookingserver::planning::assign::4401::4411::7")
    with_slots: list[bool] = []

    def ask() -> None:
        with_slots.append(bool(dom(httpx.post(url, timeout=10)).css("td.free")))

    workers = [threading.Thread(target=ask) for _ in range(12)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    assert sorted(with_slots) == [False] * 7 + [True] * 5


def test_slot_race_shows_slots_then_takes_them_away(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "slot_race", seconds=0.5, desks=[4411])
    assert "Description de la nature" in start_legacy(client, "4401").text
    time.sleep(0.6)
    assert "Vérification de disponibilité" in start_legacy(client, "4401").text


def test_legend_only_calendar_has_no_free_cell_but_says_libre(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "legend_only", desks=[4411])
    start_legacy(client, "4401")
    client.post("/booking/create/4401/3", data=NEXT)
    for offset in range(0, 42, 7):
        answer = week(client, "4401", "4411", offset)
        assert dom(answer).css("td.status-1.free") == []
        assert ">libre<" in answer.text  # the legend still says it


def test_layout_drift_shows_none_of_the_known_strings(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "layout_drift")
    pages = [client.get("/booking/create/4401").text]
    pages.append(client.post("/booking/create/4401/0", data={"accept_terms": "1"}).text)
    for text in pages:
        for known in (
            "condition",
            "nextButton",
            "FormBookingCreate",
            "Etape suivante",
            "plage horaire libre",
            "Vérification de disponibilité",
            "Terminer",
        ):
            assert known not in text


def test_the_index_php_prefix_is_kept_in_every_link(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4405", "slots", count=2, desks=[4411])
    start = client.get("/index.php/booking/create/4405")
    assert one(dom(start), "form").attributes["action"] == "/index.php/booking/create/4405/0"
    client.post("/index.php/booking/create/4405/0", data=CONDITIONS)
    calendar = client.post("/index.php/booking/create/4405/3", data=NEXT)
    ajax = one(dom(calendar), "#planning_calendar").attributes["data-url"]
    assert ajax == "/index.php/ezjscore/call/bookingserver::planning::assign::4405::4411::"
    answers = [client.post(f"{ajax}{offset}") for offset in (0, 7)]
    links = [str(a.attributes["href"]) for r in answers for a in dom(r).css("td.status-1.free a")]
    assert len(links) == 2 and all(
        link.startswith("/index.php/booking/create/4405/5/") for link in links
    )
    assert client.get("/index.php/design/booking/images/etape_4r.png").content.startswith(
        b"\x89PNG"
    )
    assert site.requests[-1].asset and site.requests[-1].in_flight == 0
    assert client.get("/favicon.ico").status_code == 200 and site.requests[-1].asset


# -- infrastructure faults -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "status", "h1"),
    [
        ("http_502", 502, "502 Bad Gateway"),
        ("http_503", 503, "503 Service Unavailable"),
        ("http_504", 504, "504 Gateway Timeout"),
        ("http_403", 403, "403 Forbidden"),
        ("http_500", 500, "500 Internal Server Error"),
        ("http_404", 404, "404 Not Found"),
        ("overloaded", 200, "Service surchargé"),
    ],
)
def test_error_pages_carry_the_h1_bots_match(
    site: ImitationSite, client: httpx.Client, scenario: str, status: int, h1: str
) -> None:
    site.set_scenario("3701", scenario)
    response = client.get("/rdvpref/reservation/demarche/3701/")
    assert response.status_code == status
    assert one(dom(response), "h1").text() == h1


def test_reset_really_resets_the_connection(site: ImitationSite, client: httpx.Client) -> None:
    site.set_scenario("4401", "reset")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        client.get("/booking/create/4401")
    with socket.create_connection((site.host, site.port), timeout=5) as raw:
        raw.sendall(b"GET /booking/create/4401 HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            raw.recv(1024)
    assert site.requests[-1].status is None


def test_empty_answers_200_with_no_body(site: ImitationSite, client: httpx.Client) -> None:
    site.set_scenario("imitation-x", "empty")
    response = client.get("/commencer/imitation-x")
    assert (response.status_code, response.content) == (200, b"")


def test_slow_does_not_block_a_concurrent_request_and_counts_in_flight(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "slow", delay=1.5)
    results: dict[str, Any] = {}

    def slow_get() -> None:
        with httpx.Client(base_url=site.base_url, timeout=10) as other:
            results["slow"] = other.get("/booking/create/4401")

    worker = threading.Thread(target=slow_get)
    worker.start()
    wait_for_arrivals(site, 1)
    started = time.monotonic()
    fast = client.get("/booking/create/4402")
    assert time.monotonic() - started < 1.0
    assert fast.status_code == 200
    worker.join(timeout=10)
    assert "input" in results["slow"].text  # after the delay, the platform's page
    wait_for_finished(site, 2)
    assert site.max_in_flight() == 2
    by_key = {entry.key: entry for entry in site.requests}
    assert by_key["4402"].in_flight == 2 and by_key["4401"].in_flight == 1
    assert by_key["4401"].duration is not None and by_key["4401"].duration >= 1.5
    with pytest.raises(httpx.ReadTimeout):
        client.get("/booking/create/4401", timeout=0.3)


def test_the_log_counts_in_flight_per_host_header(site: ImitationSite) -> None:
    site.set_scenario("4401", "slow", delay=0.8)

    together = threading.Barrier(3)

    def get(host: str) -> None:
        with httpx.Client(headers={"Host": host}, timeout=5) as http:
            together.wait()
            http.get(site.url("/booking/create/4401"))

    workers = [threading.Thread(target=get, args=(h,)) for h in ("a.test", "b.test", "b.test")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert site.max_in_flight() == 3
    assert site.max_in_flight("a.test") == 1
    assert site.max_in_flight("b.test") == 2
    assert site.max_in_flight("c.test") == 0
    entry = site.requests[0]
    assert entry.method == "GET" and entry.user_agent.startswith("python-httpx")
    assert entry.wall > 1e9 and entry.platform == "legacy-booking" and entry.scenario == "slow"
    site.reset_log()
    assert site.requests == []


def test_a_second_site_can_listen_on_127_0_0_2() -> None:
    with ImitationSite("127.0.0.2") as second:
        response = httpx.get(second.url("/booking/create/4401"))
        assert response.status_code == 200
        assert second.max_in_flight("127.0.0.2") == 1


def test_rate_limited_answers_429_with_retry_after(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "rate_limited", retry_after=90)
    response = client.get("/booking/create/4401")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "90"


def test_rate_limit_then_502_trips_beyond_per_minute(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "rate_limit_then_502", per_minute=3, base="slots")
    statuses = [client.get("/booking/create/4401").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 502, 502]


def test_flaky_is_reproducible_with_its_seed(site: ImitationSite, client: httpx.Client) -> None:
    runs = []
    for _ in range(2):
        site.set_scenario("4401", "flaky", p=0.5, seed=7)
        runs.append([client.get("/booking/create/4401").status_code for _ in range(12)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 502}


def test_a_fault_answers_every_path_of_its_key(site: ImitationSite, client: httpx.Client) -> None:
    site.set_scenario("4401", "http_503")
    assert client.post("/booking/create/4401/1", data=NEXT).status_code == 503
    ajax = client.get("/ezjscore/call/bookingserver::planning::assign::4401::4411::0")
    assert ajax.status_code == 503


def test_stop_interrupts_a_slow_answer() -> None:
    site = ImitationSite()
    site.start()
    site.set_scenario("4401", "slow", delay=60)
    failures: list[Exception] = []

    def get() -> None:
        try:
            httpx.get(site.url("/booking/create/4401"), timeout=30)
        except httpx.HTTPError as error:
            failures.append(error)

    worker = threading.Thread(target=get)
    worker.start()
    wait_for_arrivals(site, 1)
    started = time.monotonic()
    site.stop()
    worker.join(timeout=10)
    assert time.monotonic() - started < 5
    assert failures


# -- scenario switch and admin endpoint ------------------------------------------------------


def test_the_admin_endpoint_switches_scenarios_and_serves_the_log(
    site: ImitationSite, client: httpx.Client
) -> None:
    before = start_legacy(client, "4401")
    assert "Choix de la nature" in before.text
    answer = client.post(
        "/_imitation/scenario", json={"key": "4401", "scenario": "no_calendar", "params": {}}
    )
    assert answer.status_code == 200
    assert "pas calendrier disponible" in start_legacy(client, "4401").text
    assert site.scenarios["4401"] == ("no_calendar", {})
    log = client.get("/_imitation/requests").json()
    assert [entry["path"] for entry in log] == [
        "/booking/create/4401",
        "/booking/create/4401/0",
    ] * 2
    assert {"monotonic", "wall", "method", "host", "user_agent", "in_flight"} <= set(log[0])
    refused = client.post("/_imitation/scenario", json={"key": "4401", "scenario": "nonsense"})
    assert refused.status_code == 400 and "nonsense" in refused.json()["error"]
    known = client.get("/_imitation/scenario").json()["known"]
    assert "legend_only" in known["legacy-booking"] and "reset" in known["anef"]
    assert client.delete("/_imitation/requests").status_code == 200
    assert site.requests == []


def test_unknown_keys_get_the_platform_default_which_is_configurable() -> None:
    with (
        ImitationSite(defaults={"legacy-booking": "no_calendar"}) as running,
        httpx.Client(base_url=running.base_url) as client,
    ):
        response = start_legacy(client, "9999")
        assert "pas calendrier disponible" in response.text
    with (
        ImitationSite(scenarios={"9999": ("slots", {"desks": [1]})}) as running,
        httpx.Client(base_url=running.base_url) as client,
    ):
        response = start_legacy(client, "9999")
        assert "Description de la nature" in response.text


def test_a_platform_qualified_key_wins_over_the_plain_key(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4401", "http_502")
    site.set_scenario("rdv-prefecture:4401", "maintenance")
    assert client.get("/booking/create/4401").status_code == 502
    assert "maintenance" in client.get("/rdvpref/reservation/demarche/4401/").text


def test_unknown_scenarios_and_foreign_hosts_are_refused(site: ImitationSite) -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        site.set_scenario("4401", "sometimes")
    with pytest.raises(ValueError, match="127"):
        ImitationSite("0.0.0.0")
    site.set_scenario("4401", "captcha_wall")  # exists, but on another platform
    response = httpx.get(site.url("/booking/create/4401"))
    assert response.status_code == 500 and response.headers["X-Imitation-Error"]


# -- RDV Préfecture ----------------------------------------------------------------------------


def test_rdvpref_landing_and_cgu_are_app_shells_that_only_a_browser_renders(
    client: httpx.Client,
) -> None:
    landing = client.get("/rdvpref/reservation/demarche/3701/")
    assert '<div id="q-app"></div>' in landing.text
    assert "Prendre un rendez-vous" not in landing.text
    view = view_of(landing)
    assert "q-btn q-btn-item bg-primary text-white" in view and "Prendre un rendez-vous" in view
    assert "Gérer mes rendez-vous" in view
    cgu = client.get("/rdvpref/reservation/demarche/3701/cgu/")
    assert "code de sécurité" not in cgu.text
    view = view_of(cgu)
    for needle in (
        "Constituez votre dossier",
        "code de sécurité",
        "captchaFR_CaptchaImage",
        "captchaFR_SoundLink",
        "captchaFormulaireExtInput",
        "captchaUsercode",
        "captchaId",
        "data:image/png;base64,",
        "Suivant",
    ):
        assert needle in view


def test_rdvpref_creneau_without_a_solved_captcha_redirects_to_cgu(client: httpx.Client) -> None:
    response = client.get("/rdvpref/reservation/demarche/3701/creneau/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/rdvpref/reservation/demarche/3701/cgu/"


def test_the_fake_captchetat_endpoints_issue_and_check_codes(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("3701", "captcha_wall", captcha_answer="XK42")
    client.get("/rdvpref/reservation/demarche/3701/cgu/")
    issued = client.get("/simple-captcha-endpoint", params={"get": "image", "c": "captchaFR"})
    body = issued.json()
    assert base64.b64decode(body["imageb64"]).startswith(b"\x89PNG")
    assert client.post("/valider-captcha", json={"uuid": body["uuid"], "code": "xk42"}).json()
    assert not client.post("/valider-captcha", json={"uuid": body["uuid"], "code": "0"}).json()


def test_without_a_test_answer_no_captcha_code_passes(client: httpx.Client) -> None:
    client.get("/rdvpref/reservation/demarche/3701/cgu/")
    issued = client.get("/simple-captcha-endpoint?get=image&c=captchaFR").json()
    response = client.post(
        "/rdvpref/reservation/demarche/3701/cgu/",
        data={"captchaId": issued["uuid"], "captchaUsercode": "AAAA"},
    )
    assert (
        response.headers["Location"]
        == "/rdvpref/reservation/demarche/3701/cgu/?error=invalidCaptcha"
    )


@pytest.mark.parametrize("slot_count", [0, 2])
def test_with_the_test_answer_creneau_shows_slots_or_the_empty_state(
    site: ImitationSite, client: httpx.Client, slot_count: int
) -> None:
    site.set_scenario(
        "3701",
        "captcha_wall",
        captcha_answer="XK42",
        slot_count=slot_count,
        first_date="2026-05-04",
    )
    cgu = client.get("/rdvpref/reservation/demarche/3701/cgu/")
    captcha_id = re.search(r'"captchaId", "value": "([^"]+)"', view_of(cgu))
    assert captcha_id
    passed = client.post(
        "/rdvpref/reservation/demarche/3701/cgu/",
        data={"captchaId": captcha_id[1], "captchaUsercode": "XK42"},
    )
    assert passed.headers["Location"] == "/rdvpref/reservation/demarche/3701/creneau/"
    creneau = client.get("/rdvpref/reservation/demarche/3701/creneau/")
    state = json.loads(re.search(r"__INITIAL_STATE__ = (\{.*\});", creneau.text)[1])  # type: ignore[index]
    cards = dom(creneau).css("ul > li.row.cellule.justify-center.radio-card")
    if slot_count == 0:
        assert one(dom(creneau), "h2").text() == "Aucun créneau disponible"
        assert "Veuillez réessayer ultérieurement." in creneau.text
        assert state["critere"]["datePremiereDispo"] == ""
        assert cards == []
    else:
        assert [one(c, "input").attributes["id"] for c in cards] == ["trhId_1", "trhId_2"]
        assert state["critere"]["datePremiereDispo"] == "2026-05-04T09:00:00+02:00"
        chosen = client.post("/rdvpref/reservation/demarche/3701/creneau/", data={"trhId": "1"})
        assert "Confirmer le rendez-vous" in chosen.text and "fr-input" in chosen.text


def test_rdvpref_barrier_scenarios(site: ImitationSite, client: httpx.Client) -> None:
    site.set_scenario("3702", "interstitial")
    challenge = client.get("/rdvpref/reservation/demarche/3702/")
    assert challenge.status_code == 403
    assert "Un instant…" in challenge.text and "Vérifiez que vous êtes humain" in challenge.text
    site.set_scenario("3703", "chained_recaptcha_like_gate")
    gate = client.get("/rdvpref/reservation/demarche/3703/cgu/")
    assert "g-recaptcha" in view_of(gate) and "captchaFormulaireExtInput" not in view_of(gate)
    client.post(
        "/rdvpref/reservation/demarche/3703/cgu/", data={"gate": "1", "g-recaptcha-response": "on"}
    )
    after = client.get("/rdvpref/reservation/demarche/3703/cgu/")
    assert "captchaFormulaireExtInput" in view_of(after)
    site.set_scenario("3704", "session_lost")
    lost = client.get("/rdvpref/reservation/demarche/3704/cgu/")
    assert lost.headers["Location"] == "/rdvpref/reservation/demarche/3704/"
    site.set_scenario("3705", "spa_shell_only")
    assert '"nodes": []' in view_of(client.get("/rdvpref/reservation/demarche/3705/"))
    site.set_scenario("3706", "version_drift")
    drift = view_of(client.get("/rdvpref/reservation/demarche/3706/cgu/"))
    for known in ("captcha", "code de sécurité", "Constituez", "Suivant", "q-btn"):
        assert known not in drift
    site.set_scenario("3707", "maintenance")
    assert "maintenance" in client.get("/rdvpref/reservation/demarche/3707/").text


# -- RDV Service Public, Démarches Simplifiées, ANEF ------------------------------------------


def test_rdvsp_shows_the_no_slot_text_or_a_dated_slot_list(
    site: ImitationSite, client: httpx.Client
) -> None:
    url = "/prendre_rdv?departement=&public_link_organisation_id=2401"
    empty = client.get(url)
    assert "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé." in (
        empty.text
    )
    assert "Veuillez réessayer ultérieurement." in empty.text
    site.set_scenario("2401", "slots", count=3, first_date="2026-05-04T11:00")
    listed = dom(client.get(url))
    times = [t.attributes["datetime"] for t in listed.css("#creneaux a.creneau time")]
    assert times == [
        "2026-05-04T11:00:00+02:00",
        "2026-05-04T11:30:00+02:00",
        "2026-05-05T09:00:00+02:00",
    ]
    assert one(listed, "#creneaux").attributes["data-slot-count"] == "3"


def test_rdvsp_api_answers_429_with_retry_after_beyond_per_minute(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("public_api", "no_slot", per_minute=5)
    statuses = [client.get("/public_api/public_link").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    refused = client.get("/public_api/public_link")
    assert refused.json() == {"errors": ["Limite d'appels API atteinte. Merci de patienter.\n"]}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Remaining"] == "0"


def test_demarches_simplifiees_open_closed_and_login(
    site: ImitationSite, client: httpx.Client
) -> None:
    opened = client.get("/commencer/imitation-ouverte").text
    for needle in ("Commencer la démarche", "Temps de remplissage estimé", "FranceConnect"):
        assert needle in opened
    site.set_scenario("imitation-close", "closed")
    closed = client.get("/commencer/imitation-close").text
    assert "Cette démarche en ligne a été close, il n'est plus possible de déposer de dossier." in (
        closed
    )
    site.set_scenario("imitation-connexion", "login_required")
    login = client.get("/commencer/imitation-connexion", follow_redirects=True)
    assert login.url.path == "/users/sign_in"
    assert "Commencer la démarche" not in login.text


def test_anef_shell_maintenance_and_login_route(site: ImitationSite, client: httpx.Client) -> None:
    home = client.get("/particuliers/")
    assert "<app-root></app-root>" in home.text
    assert "Administration numérique pour les étrangers en France" in view_of(home)
    assert client.get("/particuliers").status_code == 301
    site.set_scenario("anef", "maintenance")
    assert one(dom(client.get("/particuliers/")), "h1").text() == "Site en maintenance"
    site.set_scenario("anef/other", "login_wall")
    assert "connexion-inscription" in view_of(client.get("/other/particuliers/"))
    site.set_scenario("anef/shell", "spa_shell_only")
    assert '"nodes": []' in view_of(client.get("/shell/particuliers/"))


# -- the catalogue -----------------------------------------------------------------------------


def test_the_catalogue_is_consistent_with_the_outcome_vocabulary() -> None:
    keys = [case.key for case in CATALOGUE]
    assert len(keys) == len(set(keys))
    platforms = {p.value for p in Platform}
    for case in CATALOGUE:
        reason = Reason(case.expected_reason)
        assert status_of(reason) == Status(case.expected_status), case.id
        assert reason in REASONS[Status(case.expected_status)]
        assert case.platform in platforms
        assert set(case.engines) <= {"http", "browser"} and case.engines
        if case.client_rendered:
            assert expectation(case, "http") == ("anomaly", "empty_page")


def test_the_catalogue_covers_every_scenario_of_every_platform() -> None:
    site = ImitationSite()
    for name, platform in site.platforms.items():
        covered = {case.scenario for case in CATALOGUE if case.platform == name}
        # The hostile faults have their own tests (test_site_faults.py): heavy by design.
        assert covered == set(platform.scenarios) | (FAULTS - HOSTILE_FAULTS), name
    assert {c.scenario for c in CATALOGUE} >= LEGACY_SCENARIOS


QUICK = [c for c in CATALOGUE if c.scenario not in {"slow", "reset", "disconnect"}]


@pytest.fixture(scope="module")
def catalogue_site() -> Iterator[ImitationSite]:
    with ImitationSite() as running:
        install(running)
        yield running


@pytest.mark.parametrize("case", QUICK, ids=lambda case: case.id)
def test_every_catalogue_path_answers_under_its_scenario(
    catalogue_site: ImitationSite, case: Case
) -> None:
    response = httpx.get(catalogue_site.url(case.path), timeout=5)
    assert "X-Imitation-Error" not in response.headers
    assert response.status_code < 500 or case.expected_reason in {"overloaded", "http_error"}


# -- running it standalone ---------------------------------------------------------------------


def test_python_m_monitor_imitation_prints_its_url_and_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor.imitation",
            "--port",
            "0",
            "--scenario",
            '4401=slots:{"count": 2}',
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    with process:  # closes its stdout at the end
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
            response = httpx.get(base_url + "/_imitation/scenario").json()
            assert response["scenarios"]["4401"] == {"scenario": "slots", "params": {"count": 2}}
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0


# -- in a real browser -------------------------------------------------------------------------


@pytest.mark.browser
def test_a_browser_sees_the_client_rendered_pages(site: ImitationSite, chromium_path: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path)
        try:
            page = browser.new_page()
            page.goto(site.url("/rdvpref/reservation/demarche/3701/"))
            page.click("a.q-btn.bg-primary.text-white")
            page.wait_for_selector("#captchaFormulaireExtInput")
            assert "code de sécurité" in page.inner_text("#q-app")
            assert page.eval_on_selector(".captcha img", "img => img.naturalWidth") == 200
            site.set_scenario("anef", "login_wall")
            page.goto(site.url("/particuliers/"))
            page.wait_for_selector("main.connexion-inscription")
            assert page.url.endswith("#/espace-personnel/connexion-inscription")
        finally:
            browser.close()


@pytest.mark.browser
def test_a_browser_fills_the_legacy_calendar_from_its_script(
    site: ImitationSite, chromium_path: str
) -> None:
    """Both endpoint styles and both origins: the page's own script loads the weeks."""
    from playwright.sync_api import Page, sync_playwright

    def calendar(page: Page, form: str) -> None:
        page.goto(site.url(f"/index.php/booking/create/{form}"))
        page.check("#condition")
        page.click("input[name=nextButton]")
        page.wait_for_selector("text=Description de la nature du rendez-vous")
        page.click("input[name=nextButton]")
        page.wait_for_selector("#planning_calendar")

    def header(page: Page) -> str:
        return page.inner_text("#planning_calendar th[colspan='7']")

    this_week = monday()
    site.set_scenario("4401", "slots", first_date=monday(1).isoformat(), desks=[4411])
    site.set_scenario(
        "4402",
        "slots",
        desks=[4411],
        calendar_endpoint="script",
        calendar_origin="absolute",
        calendar_method="post",
    )
    site.set_scenario("4403", "slots", desks=[4411], calendar_status=502)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path)
        try:
            page = browser.new_page()
            calendar(page, "4401")
            page.wait_for_selector("#planning_calendar table")
            assert header(page).startswith(f"Semaine du {french_day(this_week.date())}")
            assert page.locator("#planning_calendar td.status-1.free").count() == 0
            page.click("a.suivante")
            page.wait_for_selector("#planning_calendar td.status-1.free")
            assert page.locator("#planning_calendar td.status-1.free").count() == 3
            href = page.get_attribute("#planning_calendar td.free a", "href")
            assert href == f"/index.php/booking/create/4401/5/{int(monday(1).timestamp())}"
            page.click("a.precedente")
            page.wait_for_selector("#planning_calendar td.status-0.busy")
            page.wait_for_function("!document.querySelector('#planning_calendar td.status-1.free')")
            calendar(page, "4402")  # assembled address, absolute offset, POST only
            page.wait_for_selector("#planning_calendar table")
            assert header(page).startswith(f"Semaine du {french_day(this_week.date())}")
            calendar(page, "4403")
            page.wait_for_selector("#planning_calendar p.erreur")
            assert page.inner_text("#planning_calendar") == "Le calendrier n'a pas pu être chargé."
            assert page.locator("#planning_calendar table").count() == 0
        finally:
            browser.close()
    posted = [r for r in site.requests if "ezjscore" in r.path]
    assert posted and all(r.method == "POST" for r in posted)
    assert any(r.path.startswith("/index.php/ezjscore/call/") for r in posted)
