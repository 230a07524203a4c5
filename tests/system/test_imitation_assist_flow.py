"""The RDV Préfecture imitation as the real flow a person walks (issue 27, item 3): the code
checked server side, the control side that stands in for the person, ``/creneau/`` open for a
number of reads or a time, the audio version, slots changing between reads, the dialog on a
card's click. In real Chromium where a browser matters, over HTTP elsewhere."""

from __future__ import annotations

import base64
import io
import json
import re
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monitor.imitation import ImitationSite
from monitor.imitation.captcha_media import ALPHABET

DEMARCHE = "/rdvpref/reservation/demarche/{}/"
ADMIN_PATH = "/_imitation/captcha"
MONITOR = Path(__file__).resolve().parents[2] / "monitor"


@pytest.fixture
def site() -> Iterator[ImitationSite]:
    with ImitationSite() as running:
        yield running


@pytest.fixture
def client(site: ImitationSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url) as http:
        yield http


def captcha_id_of(cgu: httpx.Response) -> str:
    found = re.search(r'var VIEW = "([A-Za-z0-9+/=]+)"', cgu.text)
    assert found, "not an app shell"
    view = base64.b64decode(found[1]).decode()
    match = re.search(r'"captchaId", "value": "([^"]+)"', view)
    assert match
    return match[1]


def the_code(client: httpx.Client, demarche: str) -> str:
    """What the person reads in the image: asked of the imitation's control side."""
    answer = client.get(ADMIN_PATH, params={"key": demarche})
    assert answer.status_code == 200, answer.text
    code: str = answer.json()["code"]
    return code


def solve(client: httpx.Client, demarche: str) -> httpx.Response:
    cgu = client.get(DEMARCHE.format(demarche) + "cgu/")
    return client.post(
        DEMARCHE.format(demarche) + "cgu/",
        data={"captchaId": captcha_id_of(cgu), "captchaUsercode": the_code(client, demarche)},
    )


# -- the control side ---------------------------------------------------------------------------


def test_the_control_side_gives_the_latest_code_of_a_demarche(
    site: ImitationSite, client: httpx.Client
) -> None:
    missing = client.get(ADMIN_PATH, params={"key": "4101"})
    assert missing.status_code == 404
    assert "no captcha issued for démarche '4101'" in missing.json()["error"]
    assert client.get(ADMIN_PATH).status_code == 404
    assert site.captcha_code("4101") is None

    client.get(DEMARCHE.format(4101) + "cgu/")
    first = the_code(client, "4101")
    assert len(first) == 6 and set(first) <= set(ALPHABET)
    assert site.captcha_code("4101") == first
    client.get(DEMARCHE.format(4101) + "cgu/")  # a new page, a new captcha
    second = the_code(client, "4101")
    assert site.captcha_code("4101") == second
    assert site.captcha_code("4102") is None  # per démarche
    # Admin calls are not in the request log: they are not the site's traffic.
    assert not any(ADMIN_PATH in entry.path for entry in site.requests)


def test_the_captcha_answer_parameter_still_fixes_every_code(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4103", "captcha_wall", captcha_answer="XK42")
    client.get(DEMARCHE.format(4103) + "cgu/")
    assert site.captcha_code("4103") == "XK42"


def test_nothing_in_the_product_asks_the_control_side() -> None:
    offenders = [
        str(path.relative_to(MONITOR.parent))
        for path in MONITOR.rglob("*.py")
        if "imitation" not in path.relative_to(MONITOR).parts
        and ("_imitation/captcha" in path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    # The check itself sees the path where it is served.
    assert "_imitation/captcha" in (MONITOR / "imitation" / "server.py").read_text("utf-8")


# -- the session after a right code -------------------------------------------------------------


def test_a_wrong_code_goes_back_with_a_new_captcha_and_a_right_one_opens_creneau(
    client: httpx.Client,
) -> None:
    cgu = client.get(DEMARCHE.format(4110) + "cgu/")
    first_id, code = captcha_id_of(cgu), the_code(client, "4110")
    wrong = client.post(
        DEMARCHE.format(4110) + "cgu/", data={"captchaId": first_id, "captchaUsercode": "WRONG1"}
    )
    assert wrong.headers["Location"] == DEMARCHE.format(4110) + "cgu/?error=invalidCaptcha"
    again = client.get(wrong.headers["Location"])
    assert captcha_id_of(again) != first_id and the_code(client, "4110") != code
    # The first captcha is spent: its right code no longer opens anything.
    reused = client.post(
        DEMARCHE.format(4110) + "cgu/", data={"captchaId": first_id, "captchaUsercode": code}
    )
    assert reused.headers["Location"].endswith("?error=invalidCaptcha")
    passed = client.post(
        DEMARCHE.format(4110) + "cgu/",
        data={"captchaId": captcha_id_of(again), "captchaUsercode": the_code(client, "4110")},
    )
    assert passed.headers["Location"] == DEMARCHE.format(4110) + "creneau/"
    assert "Aucun créneau disponible" in client.get(passed.headers["Location"]).text


@pytest.mark.parametrize(("lost_to", "landing"), [(None, "cgu/"), ("cgu", "cgu/"), ("root", "")])
def test_creneau_opens_for_session_reads_then_sends_the_session_back(
    site: ImitationSite, client: httpx.Client, lost_to: str | None, landing: str
) -> None:
    params = {"session_reads": 2, **({"lost_to": lost_to} if lost_to else {})}
    site.set_scenario("4111", "captcha_wall", **params)
    solve(client, "4111")
    creneau = DEMARCHE.format(4111) + "creneau/"
    assert client.get(creneau).status_code == 200
    # Choosing a slot is a POST, not a read of the list.
    site.set_scenario("4111", "captcha_wall", slot_count=1, **params)
    assert "Vos informations" in client.post(creneau, data={"trhId": "1"}).text
    assert client.get(creneau).status_code == 200
    lost = client.get(creneau)
    assert lost.status_code == 302 and lost.headers["Location"] == DEMARCHE.format(4111) + landing
    # Forgotten: the session must pass a new captcha (sent where lost_to says).
    assert client.get(creneau).headers["Location"] == DEMARCHE.format(4111) + landing
    solve(client, "4111")
    assert client.get(creneau).status_code == 200


def test_without_the_session_cookie_creneau_is_closed(client: httpx.Client) -> None:
    solve(client, "4112")
    creneau = DEMARCHE.format(4112) + "creneau/"
    assert client.get(creneau).status_code == 200
    client.cookies.clear()
    assert client.get(creneau).headers["Location"] == DEMARCHE.format(4112) + "cgu/"


def test_slots_appear_between_two_reads_of_one_session(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("4113", "captcha_wall", first_date="2026-05-04")
    solve(client, "4113")
    creneau = DEMARCHE.format(4113) + "creneau/"
    assert "Aucun créneau disponible" in client.get(creneau).text
    site.set_scenario("4113", "captcha_wall", first_date="2026-05-04", slot_count=3)
    html = client.get(creneau).text
    assert re.findall(r'id="(trhId_\d+)"', html) == ["trhId_1", "trhId_2", "trhId_3"]
    assert '"datePremiereDispo": "2026-05-04T09:00:00+02:00"' in html
    site.set_scenario("4113", "captcha_wall", first_date="2026-05-04", slot_count=0)
    assert "Aucun créneau disponible" in client.get(creneau).text


@pytest.mark.parametrize("card_dates", ["time", "text"])
def test_slot_cards_carry_their_dates_in_either_markup(
    site: ImitationSite, client: httpx.Client, card_dates: str
) -> None:
    site.set_scenario(
        "4114", "captcha_wall", first_date="2026-05-04", slot_count=1, card_dates=card_dates
    )
    solve(client, "4114")
    html = client.get(DEMARCHE.format(4114) + "creneau/").text
    assert "lundi 4 mai 2026 à 09h00" in html
    assert ('<time datetime="2026-05-04T09:00:00+02:00">' in html) == (card_dates == "time")


# -- the audio version ---------------------------------------------------------------------------


@pytest.mark.parametrize("audio", ["src", "source"])
def test_the_audio_version_is_a_wav_of_the_current_captcha(
    site: ImitationSite, client: httpx.Client, audio: str
) -> None:
    site.set_scenario("4115", "captcha_wall", audio=audio)
    cgu = client.get(DEMARCHE.format(4115) + "cgu/")
    view = base64.b64decode(re.search(r'var VIEW = "([^"]+)"', cgu.text)[1]).decode()  # type: ignore[index]
    audio_node = re.search(r'\["audio", (\{[^}]*\})(, \["source", (\{[^}]*\})\])?\]', view)
    assert audio_node, view
    attributes = json.loads(audio_node[1])
    assert attributes["id"] == "BDC_CaptchaSoundAudio_captchaFR"
    src = json.loads(audio_node[3])["src"] if audio == "source" else attributes["src"]
    assert ("src" in attributes) == (audio == "src")
    assert src == f"/simple-captcha-endpoint?get=sound&c=captchaFR&t={captcha_id_of(cgu)}"
    sound = client.get(src)
    assert sound.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(sound.content)) as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (1, 8000)
        assert 1.0 < wav.getnframes() / wav.getframerate() < 3.0  # six tones and pauses
    assert [r.asset for r in site.requests if "get=sound" in r.path] == [True]
    assert client.get("/simple-captcha-endpoint?get=sound&c=captchaFR&t=nope").status_code == 404


# -- in a real browser ---------------------------------------------------------------------------


@pytest.mark.browser
def test_a_person_walks_the_flow_in_chromium(site: ImitationSite, chromium_path: str) -> None:
    from playwright.sync_api import sync_playwright

    site.set_scenario("4120", "captcha_wall", first_date="2026-05-04", session_reads=3)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path)
        try:
            page = browser.new_page()
            page.goto(site.url(DEMARCHE.format(4120)))
            page.click("a.q-btn.bg-primary")
            page.wait_for_selector("#captchaFormulaireExtInput")
            first_image = page.get_attribute("#captchaFR_CaptchaImage", "src")
            assert page.query_selector("#BDC_CaptchaSoundAudio_captchaFR") is not None
            assert page.query_selector("#captchaFR_SoundLink") is not None

            # A wrong code: back to cgu/ with the error and a new image.
            page.fill("#captchaFormulaireExtInput", "WRONG1")
            page.click("form button[type=submit]")
            page.wait_for_url("**/4120/cgu/?error=invalidCaptcha")
            page.wait_for_selector("#captchaFormulaireExtInput")
            assert "Le code saisi est invalide." in page.inner_text("#contenu")
            assert page.get_attribute("#captchaFR_CaptchaImage", "src") != first_image

            # The right code, read by the person (here: the control side).
            page.fill("#captchaFormulaireExtInput", site.captcha_code("4120") or "")
            page.click("form button[type=submit]")
            page.wait_for_url("**/4120/creneau/")
            assert "Aucun créneau disponible" in page.inner_text("h2")

            # Slots open while the session lasts: the next read sees them.
            site.set_scenario(
                "4120", "captcha_wall", first_date="2026-05-04", session_reads=3, slot_count=2
            )
            page.reload()
            cards = page.query_selector_all("li.radio-card input[id^=trhId_]")
            assert [card.get_attribute("id") for card in cards] == ["trhId_1", "trhId_2"]

            # A click on a card opens the Quasar-like dialog; "OK" closes it.
            assert page.query_selector("#q-portal--dialog--1") is None
            page.click("label[for=trhId_1]")
            dialog = page.wait_for_selector("#q-portal--dialog--1 [role=dialog]")
            assert dialog is not None and dialog.is_visible()
            assert "Créneau sélectionné" in dialog.inner_text()
            page.click("#q-portal--dialog--1 button")
            assert page.query_selector("#q-portal--dialog--1") is None

            page.reload()  # the third read
            page.wait_for_selector("li.radio-card")
            page.reload()  # past session_reads: back to the captcha
            page.wait_for_selector("#captchaFormulaireExtInput")
            assert page.url.endswith("/4120/cgu/")
        finally:
            browser.close()


@pytest.mark.browser
def test_the_taken_dialog_and_no_dialog(site: ImitationSite, chromium_path: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path)
        try:
            for key, dialog in (("4121", "taken"), ("4122", "none")):
                site.set_scenario(key, "captcha_wall", slot_count=1, dialog=dialog)
                page = browser.new_page()
                page.goto(site.url(DEMARCHE.format(key) + "cgu/"))
                page.wait_for_selector("#captchaFormulaireExtInput")
                page.fill("#captchaFormulaireExtInput", site.captcha_code(key) or "")
                page.click("form button[type=submit]")
                page.wait_for_url(f"**/{key}/creneau/")
                page.click("label[for=trhId_1]")
                if dialog == "taken":
                    shown = page.wait_for_selector("#q-portal--dialog--1 [role=dialog]")
                    assert shown is not None
                    assert "vient d'être réservé" in shown.inner_text()
                else:
                    assert page.is_checked("#trhId_1")
                    assert page.query_selector("#q-portal--dialog--1") is None
                page.close()
        finally:
            browser.close()
