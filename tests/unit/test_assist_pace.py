"""Assisted sessions' pure rules: where a page is, when a session ends, reads, asks, waits;
and the captcha read out of the page as it holds it (monitor.assist.pace, .capture)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from monitor.assist import pace
from monitor.assist.capture import MAX_MEDIA_BYTES, captcha_parts, decode_data_url
from monitor.assist.pace import Place
from monitor.assist.views import EndReason

ROOT = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/3762/"
T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.mark.parametrize(
    ("url", "place"),
    [
        (ROOT, Place.ROOT),
        (ROOT.rstrip("/"), Place.ROOT),
        (ROOT + "cgu/", Place.CAPTCHA),
        (ROOT + "cgu/?error=invalidCaptcha", Place.CAPTCHA),
        (ROOT + "creneau/", Place.SLOTS),
        (ROOT + "creneau", Place.SLOTS),
        (ROOT + "informations/", Place.OTHER),
        ("http://127.0.0.1:8000/prefix/rdvpref/reservation/demarche/12/creneau/", Place.SLOTS),
        ("https://example.org/creneau/", Place.OTHER),
        ("https://example.org/demarche/abc/cgu/", Place.OTHER),
    ],
)
def test_place_of_a_page(url: str, place: Place) -> None:
    assert pace.place_of(url) is place


def test_rejected_only_on_the_captcha_page_with_its_error() -> None:
    assert pace.is_rejected(ROOT + "cgu/?error=invalidCaptcha")
    assert not pace.is_rejected(ROOT + "cgu/")
    assert not pace.is_rejected(ROOT + "cgu/?error=other")
    assert not pace.is_rejected(ROOT + "creneau/?error=invalidCaptcha")


@pytest.mark.parametrize(
    ("place", "rereads", "ending"),
    [
        (Place.SLOTS, 0, None),
        (Place.SLOTS, 5, None),
        (Place.SLOTS, 6, EndReason.READS_USED),
        (Place.CAPTCHA, 0, EndReason.SENT_BACK),
        (Place.ROOT, 3, EndReason.SENT_BACK),
        (Place.CAPTCHA, 6, EndReason.SENT_BACK),  # sent back wins over used up
        (Place.OTHER, 2, None),
    ],
)
def test_end_after_read(place: Place, rereads: int, ending: EndReason | None) -> None:
    assert pace.end_after_read(place, rereads, 6) == ending


def test_reads_left_never_negative() -> None:
    assert [pace.reads_left(done, 2) for done in range(4)] == [2, 1, 0, 0]


def test_abandoned_after_the_wait() -> None:
    assert not pace.abandoned(T, T + pace.ABANDON_AFTER - timedelta(seconds=1))
    assert pace.abandoned(T, T + pace.ABANDON_AFTER)


def test_next_wake_is_the_earliest_due_and_no_later_than_the_longest() -> None:
    longest = timedelta(minutes=1)
    assert pace.next_wake(T, [], longest) == T + longest
    soon, later = T + timedelta(seconds=5), T + timedelta(seconds=9)
    assert pace.next_wake(T, [later, soon], longest) == soon
    assert pace.next_wake(T, [T - timedelta(seconds=5)], longest) == T - timedelta(seconds=5)
    assert pace.next_wake(T, [T + timedelta(hours=1)], longest) == T + longest


def _page(image: str, extra: str = "") -> str:
    return (
        '<main><form><div class="captcha"><img id="captchaFR_CaptchaImage" '
        f'src="{image}"><a id="captchaFR_SoundLink" href="#">Écouter</a>{extra}</div>'
        '<input id="captchaFormulaireExtInput" name="captchaUsercode">'
        '<button type="submit">Suivant</button></form></main>'
    )


def test_inline_image_is_decoded_as_the_page_holds_it() -> None:
    src = "data:image/png;base64," + base64.b64encode(PNG).decode()
    parts = captcha_parts(_page(src), ROOT + "cgu/")
    assert parts.has_field
    assert parts.audio is None  # the sound link names no address
    assert parts.image == src
    assert decode_data_url(src, "image") == ("image/png", PNG)


def test_image_by_address_is_made_absolute_and_audio_element_found() -> None:
    audio = '<audio id="BDC_CaptchaSoundAudio_captchaFR" src="/sound?c=captchaFR"></audio>'
    parts = captcha_parts(_page("/simple-captcha-endpoint?get=image&t=1", audio), ROOT + "cgu/")
    assert parts.image == (
        "https://www.rdv-prefecture.interieur.gouv.fr/simple-captcha-endpoint?get=image&t=1"
    )
    assert parts.audio == "https://www.rdv-prefecture.interieur.gouv.fr/sound?c=captchaFR"


def test_a_page_without_the_field_is_no_captcha() -> None:
    parts = captcha_parts("<main><h1>Maintenance</h1></main>", ROOT + "cgu/")
    assert not parts.has_field
    assert parts.image is None


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/x.png",  # not a data: URL
        "data:text/html;base64,PGgxPg==",  # not an image
        "data:image/png;base64",  # no payload
        "data:image/png;base64,",  # empty
        "data:image/png;base64,!!!",  # not base64
        "data:image/png;base64," + "A" * (MAX_MEDIA_BYTES * 2),  # too heavy
    ],
)
def test_bad_data_urls_are_refused(url: str) -> None:
    assert decode_data_url(url, "image") is None


def test_percent_encoded_data_url() -> None:
    assert decode_data_url("data:audio/wav,RIFF%00%01", "audio") == ("audio/wav", b"RIFF\x00\x01")
