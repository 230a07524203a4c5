"""An in-memory desk for the console's tests: the Desk protocol of monitor/assist/views.py,
with real PNG captcha images (digits drawn in a 3×5 font, noise lines), a real PNG
"screenshot" and a real WAV for the audio version.

It stands in for the daemon's desk (monitor/assist/desk.py), not for the site: its control
side (:attr:`ConsoleDesk.codes`) tells a test the code the current image shows, as the
person would read it. Pure: no file, socket or thread, so the unit tier may use it too.
"""

from __future__ import annotations

import asyncio
import io
import random
import struct
import wave
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from monitor.assist.views import (
    AnswerResult,
    Challenge,
    DeskRefusal,
    EndReason,
    SessionState,
    SessionView,
)

#: Hostile text where the console prints a desk's words: it must stay text.
HOSTILE_NAME = '<script>alert("name")</script><img src=x onerror=alert(1) id=injected>'
HOSTILE_PREFECTURE = "Préfecture <b id=injected-b>\u202egnp.exe</b>"
HOSTILE_OUTCOME = 'anomaly/<svg onload=alert(2) id="injected-svg">'

_DIGITS = {
    "0": "111101101101111",
    "1": "010110010010111",
    "2": "111001111100111",
    "3": "111001111001111",
    "4": "101101111001001",
    "5": "111100111001111",
    "6": "111100111101111",
    "7": "111001001001001",
    "8": "111101111101111",
    "9": "111101111001111",
}


CAPTCHA_WIDTH = 240


class Canvas:
    """An RGB picture in memory, written as PNG."""

    def __init__(self, width: int, height: int, colour: tuple[int, int, int]) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(colour) * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, colour: tuple[int, int, int]) -> None:
        for row in range(max(0, y), min(self.height, y + h)):
            start = (row * self.width + max(0, x)) * 3
            end = (row * self.width + min(self.width, x + w)) * 3
            self.pixels[start:end] = bytes(colour) * ((end - start) // 3)

    def text(self, digits: str, x: int, y: int, scale: int, colour: tuple[int, int, int]) -> None:
        for index, char in enumerate(digits):
            bits = _DIGITS[char]
            for cell, bit in enumerate(bits):
                if bit == "1":
                    column, row = cell % 3, cell // 3
                    left = x + (index * 4 + column) * scale
                    self.rect(left, y + row * scale, scale, scale, colour)

    def png(self) -> bytes:
        raw = b"".join(
            b"\x00" + bytes(self.pixels[r * self.width * 3 : (r + 1) * self.width * 3])
            for r in range(self.height)
        )
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 6))
            + _chunk(b"IEND", b"")
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def captcha_png(code: str, seed: int) -> bytes:
    """The code (5 digits) in large digits over noise: a captcha a person reads, 240×80."""
    noise = random.Random(seed)
    canvas = Canvas(CAPTCHA_WIDTH, 80, (245, 242, 230))
    for _ in range(14):
        shade = tuple(noise.randrange(150, 220) for _ in range(3))
        canvas.rect(noise.randrange(0, CAPTCHA_WIDTH), noise.randrange(0, 80),
                    noise.randrange(20, 90), 2, shade)  # type: ignore[arg-type]  # fmt: skip
    canvas.text(code, 22, 15, 10, (40, 40, 110))
    return canvas.png()


def screenshot_png(code: str, seed: int) -> bytes:
    """A page-like picture: a header band, a text block, the captcha, a field and a button."""
    canvas = Canvas(480, 360, (255, 255, 255))
    canvas.rect(0, 0, 480, 48, (0, 0, 145))
    for line in range(4):
        canvas.rect(24, 72 + line * 16, 400 - line * 40, 8, (200, 200, 210))
    pixels = _decoded(captcha_png(code, seed), CAPTCHA_WIDTH, 80)
    stride = CAPTCHA_WIDTH * 3
    for row in range(80):
        start = ((150 + row) * 480 + 24) * 3
        canvas.pixels[start : start + stride] = pixels[row * stride : (row + 1) * stride]
    canvas.rect(24, 250, 200, 36, (230, 230, 235))
    canvas.rect(24, 300, 120, 36, (0, 0, 145))
    return canvas.png()


def _decoded(png: bytes, width: int, height: int) -> bytes:
    """The pixels of a PNG written by :meth:`Canvas.png` (filter 0 on every row)."""
    length = struct.unpack(">I", png[33:37])[0]
    raw = zlib.decompress(png[41 : 41 + length])
    stride = width * 3 + 1
    return b"".join(raw[r * stride + 1 : (r + 1) * stride] for r in range(height))


def beep_wav() -> bytes:
    """Half a second of a 440 Hz square wave, 8 kHz mono."""
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(1)
        sound.setframerate(8000)
        sound.writeframes(bytes(200 if (i // 9) % 2 else 56 for i in range(4000)))
    return out.getvalue()


@dataclass
class _Target:
    view: SessionView
    audio: bool
    challenge: Challenge | None = None


class ConsoleDesk:
    """The Desk protocol in memory. ``codes[target]`` is the code the current image shows."""

    def __init__(
        self,
        now: Callable[[], datetime],
        *,
        node: str = "node-a",
        hostile: bool = False,
        seed: int = 27,
    ) -> None:
        self.now = now
        self.node = node
        self.random = random.Random(seed)
        self.codes: dict[str, str] = {}
        self.acts: list[tuple[str, ...]] = []
        self.images_given = 0
        self.image_type = "image/png"
        #: Raised by the next open() when set: a fault of the desk, not a refusal.
        self.fault: Exception | None = None
        #: When set, open() and answer() wait for it, the session opening or submitting
        #: meanwhile: a site answering slowly, or a politeness gap between requests.
        self.hold: asyncio.Event | None = None
        start = now()
        waiting = SessionView(
            target_id="75/titre-sejour",
            target_name="Titre de séjour (RDV Préfecture)",
            prefecture="75",
            prefecture_name="Préfecture de police",
            state=SessionState.WAITING,
            operator=None,
            opened_at=None,
            reads_done=0,
            reads_left=6,
            next_read=None,
            last_outcome=None,
            last_outcome_at=None,
            ended_at=None,
            end_reason=None,
            node=node,
        )
        ended = replace(
            waiting,
            target_id="92/naturalisation",
            target_name="Naturalisation (RDV Préfecture)",
            prefecture="92",
            prefecture_name="Préfecture des Hauts-de-Seine",
            state=SessionState.ENDED,
            operator="Amina",
            opened_at=start - timedelta(hours=1, minutes=5),
            reads_done=6,
            reads_left=0,
            last_outcome="unavailable/no_slot",
            last_outcome_at=start - timedelta(minutes=5),
            ended_at=start - timedelta(minutes=5),
            end_reason=EndReason.READS_USED,
        )
        self.targets: dict[str, _Target] = {
            ended.target_id: _Target(ended, audio=False),
            waiting.target_id: _Target(waiting, audio=True),
        }
        if hostile:
            bad = replace(
                ended,
                target_id="93/hostile",
                target_name=HOSTILE_NAME,
                prefecture="93",
                prefecture_name=HOSTILE_PREFECTURE,
                operator='Eve"><img src=x onerror=alert(3)>',
                last_outcome=HOSTILE_OUTCOME,
                end_reason=EndReason.SENT_BACK,
            )
            self.targets[bad.target_id] = _Target(bad, audio=False)

    # -- the Desk protocol ----------------------------------------------------------------

    def sessions(self) -> Sequence[SessionView]:
        return [self.targets[key].view for key in sorted(self.targets)]

    def challenge(self, target_id: str) -> Challenge | None:
        target = self.targets.get(target_id)
        return None if target is None else target.challenge

    async def open(self, target_id: str, operator: str) -> SessionView:
        self.acts.append(("open", target_id, operator))
        if self.fault is not None:
            fault, self.fault = self.fault, None
            raise fault
        target = self.targets.get(target_id)
        if target is None:
            raise DeskRefusal(f"{target_id} n'est pas une démarche assistée.")
        if target.view.state not in (SessionState.WAITING, SessionState.ENDED):
            raise DeskRefusal("Une session est déjà ouverte sur cette démarche.")
        if self.hold is not None:
            target.view = replace(target.view, state=SessionState.OPENING, operator=operator)
            await self.hold.wait()
        target.view = replace(
            target.view,
            state=SessionState.CHALLENGE,
            operator=operator,
            opened_at=self.now(),
            reads_done=0,
            reads_left=6,
            ended_at=None,
            end_reason=None,
        )
        target.challenge = self._new_challenge(target, number=1, rejected=False)
        return target.view

    async def answer(self, target_id: str, code: str, operator: str) -> AnswerResult:
        self.acts.append(("answer", target_id, code, operator))
        if not code.isdigit():
            raise DeskRefusal("Le code de cette image n'a que des chiffres.")
        target = self.targets.get(target_id)
        if target is None or target.challenge is None:
            raise DeskRefusal("Aucun captcha n'attend sur cette démarche.")
        if self.hold is not None:
            shown, target.challenge = target.challenge, None
            target.view = replace(target.view, state=SessionState.SUBMITTING)
            await self.hold.wait()
            target.challenge = shown
        if code == self.codes[target_id]:
            now = self.now()
            target.challenge = None
            target.view = replace(
                target.view,
                state=SessionState.LIVE,
                reads_done=1,
                reads_left=5,
                next_read=now + timedelta(minutes=10),
                last_outcome="unavailable/no_slot",
                last_outcome_at=now,
            )
            return AnswerResult.ACCEPTED
        target.challenge = self._new_challenge(
            target, number=target.challenge.number + 1, rejected=True
        )
        return AnswerResult.REJECTED

    # -- the images -----------------------------------------------------------------------

    def _new_challenge(self, target: _Target, *, number: int, rejected: bool) -> Challenge:
        code = "".join(self.random.choice("0123456789") for _ in range(5))
        self.codes[target.view.target_id] = code
        self.images_given += 1
        seed = self.images_given
        return Challenge(
            target_id=target.view.target_id,
            number=number,
            image=captcha_png(code, seed),
            image_type=self.image_type,
            audio=beep_wav() if target.audio else None,
            audio_type="audio/wav" if target.audio else None,
            screenshot=screenshot_png(code, seed),
            rejected=rejected,
            shown_at=self.now(),
        )
