"""The captcha as the page holds it: where its image and audio are, and data: URLs decoded.

Pure (the desk runs it off the event loop): the page's HTML is parsed by selectolax (linear),
no pattern meets the page text. The image is ``#captchaFR_CaptchaImage`` (or the ``img`` in
``.captcha``): since 2025 an inline ``data:image/…;base64`` URL, earlier an address the
desk fetches through the page's own context; the audio is the ``audio`` element of the
captcha (``#BDC_CaptchaSoundAudio_captchaFR``) or the sound link's address when it names
one (docs/platforms.md#rdv-prefecture-the-captcha).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes, urljoin

from selectolax.lexbor import LexborHTMLParser

__all__ = [
    "ANSWER_FIELD",
    "MAX_MEDIA_BYTES",
    "SUBMIT_BUTTON",
    "CaptchaParts",
    "captcha_parts",
    "decode_data_url",
]

#: The field the person's code is typed into (docs/platforms.md#rdv-prefecture-the-captcha).
ANSWER_FIELD = "#captchaFormulaireExtInput"
#: The button that submits it: the form's own submit button.
SUBMIT_BUTTON = (
    f"form:has({ANSWER_FIELD}) button[type=submit], form:has({ANSWER_FIELD}) input[type=submit]"
)
_IMAGES = ("#captchaFR_CaptchaImage", ".captcha img")
_AUDIO = ("#BDC_CaptchaSoundAudio_captchaFR", ".captcha audio")
_SOUND_LINK = "#captchaFR_SoundLink"
#: The most a captcha image or sound may weigh; a 200×70 PNG is a few kB, a .wav ~100 kB.
MAX_MEDIA_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class CaptchaParts:
    """What the captcha page holds: the answer field, and its image's and audio's sources."""

    has_field: bool
    image: str | None  #: a data: URL or an absolute address
    audio: str | None


def _source(node_src: str | None, base_url: str) -> str | None:
    src = (node_src or "").strip()
    if not src or src.startswith("#") or src.lower().startswith("javascript:"):
        return None
    return src if src.startswith("data:") else urljoin(base_url, src)


def captcha_parts(html: str, base_url: str) -> CaptchaParts:
    """Where the captcha of ``html`` (the page at ``base_url``) keeps its image and audio."""
    tree = LexborHTMLParser(html)
    image = None
    for selector in _IMAGES:
        node = tree.css_first(selector)
        if node is not None and (image := _source(node.attributes.get("src"), base_url)):
            break
    audio = None
    for selector in _AUDIO:
        node = tree.css_first(selector)
        if node is None:
            continue
        src = node.attributes.get("src")
        if not src and (inner := node.css_first("source[src]")) is not None:
            src = inner.attributes.get("src")
        if audio := _source(src, base_url):
            break
    if audio is None and (link := tree.css_first(_SOUND_LINK)) is not None:
        audio = _source(link.attributes.get("href"), base_url)
    return CaptchaParts(tree.css_first(ANSWER_FIELD) is not None, image, audio)


def decode_data_url(url: str, kind: str) -> tuple[str, bytes] | None:
    """``data:<kind>/…[;base64],…`` as (media type, bytes); None when it is not one, is of
    another kind, is malformed or weighs more than :data:`MAX_MEDIA_BYTES`."""
    if not url.startswith("data:"):
        return None
    header, comma, payload = url[5:].partition(",")
    if not comma or len(payload) > MAX_MEDIA_BYTES * 4 // 3 + 4:
        return None
    parts = [part.strip() for part in header.split(";")]
    media_type = parts[0].lower()
    if not media_type.startswith(kind + "/"):
        return None
    try:
        if "base64" in (part.lower() for part in parts[1:]):
            data = base64.b64decode(payload, validate=False)
        else:
            data = unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        return None
    return (media_type, data) if 0 < len(data) <= MAX_MEDIA_BYTES else None
