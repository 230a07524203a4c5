"""The imitation captcha's image and sound, made from its code
(docs/platforms.md#the-local-imitation).

The image is a 200×70 greyscale PNG with the code drawn in a blocky 5×7 font over stripes,
so that a person at the operator console (or a screenshot) can read it, as they would
read CaptchEtat's distorted string. The sound is a small WAV (8 kHz, 8-bit mono): one short
tone per character, its pitch taken from the character, standing in for the spelled-out
code of the real audio version. Neither is meant to resist a program: the imitation is a
test site, and the monitor never reads either.
"""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib

WIDTH, HEIGHT = 200, 70
#: Codes are short uppercase alphanumerics (docs/platforms.md#rdv-prefecture-the-captcha),
#: without the look-alikes 0/O and 1/I.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# Each glyph: 7 rows of 5 pixels, "#" inked.
_FONT_ROWS = {
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "D": ("####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    "G": (".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".###."),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "I": (".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "J": ("..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."),
    "K": ("#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "N": ("#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "Q": (".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "U": ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "V": ("#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#...#", "#.#.#", "#.#.#", "##.##", "#...#"),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "Y": ("#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."),
    "Z": ("#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"),
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("####.", "....#", "....#", ".###.", "....#", "....#", "####."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": (".###.", "#....", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "....#", ".###."),
}
_UNKNOWN = ("#####", "#...#", "#...#", "#...#", "#...#", "#...#", "#####")
_SCALE = 4  #: each font pixel is a 4×4 block: glyphs 20×28


def _inked(code: str) -> set[tuple[int, int]]:
    """The (x, y) image pixels the code's glyphs cover, centred, each glyph a little
    raised or lowered (a hint of the real captcha's distortion)."""
    shown = code[:8]
    advance = 6 * _SCALE
    left = max(0, (WIDTH - advance * len(shown)) // 2)
    top = (HEIGHT - 7 * _SCALE) // 2
    pixels: set[tuple[int, int]] = set()
    for index, char in enumerate(shown):
        rows = _FONT_ROWS.get(char.upper(), _UNKNOWN)
        shift = (-3, 2, -1, 3, 0, -2, 1, -3)[index]
        for row, line in enumerate(rows):
            for column, mark in enumerate(line):
                if mark != "#":
                    continue
                x0 = left + index * advance + column * _SCALE
                y0 = top + shift + row * _SCALE
                for dy in range(_SCALE):
                    for dx in range(_SCALE):
                        pixels.add((x0 + dx, y0 + dy))
    return pixels


def image(code: str, seed: int = 0) -> bytes:
    """The captcha's PNG: light stripes (varying with ``seed``) and the code in dark ink."""
    inked = _inked(code)
    rows = bytearray()
    for y in range(HEIGHT):
        rows.append(0)  # filter type "none" for this scanline
        for x in range(WIDTH):
            if (x, y) in inked:
                rows.append(30)
            else:
                rows.append(((x * 7 + y * 3 + seed * 11) % 5) * 18 + 160)
    return _png(WIDTH, HEIGHT, bytes(rows))


def _png(width: int, height: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


RATE = 8000  #: samples per second
_TONE = 0.18  #: seconds per character
_GAP = 0.07  #: seconds of silence after each


def sound(code: str) -> bytes:
    """The captcha's WAV: per character a tone (pitch from the character) and a pause."""
    samples = bytearray()
    for char in code[:8]:
        pitch = 300 + (ord(char.upper()) % 40) * 25
        for n in range(int(RATE * _TONE)):
            samples.append(128 + int(90 * math.sin(2 * math.pi * pitch * n / RATE)))
        samples.extend(b"\x80" * int(RATE * _GAP))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(RATE)
        wav.writeframes(bytes(samples))
    return out.getvalue()
