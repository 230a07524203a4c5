"""Captured pages shown inert: each saved HTML page as escaped source text, never as a page.

A page the monitor saved is a stranger's HTML: opened as such it runs its scripts, which can
read the reader's file path, fetch from the network or write "créneaux disponibles" into a
page recorded as maintenance. The dossier therefore never links the ``evidence/….html`` file
itself: it links ``pages/<digest>.html``, the file's text escaped inside ``<pre>``, under a
Content-Security-Policy that allows no script, frame, image or request at all. The
screenshot shows what the page looked like; the evidence file stays, unchanged, under its
digest for whoever needs the original bytes.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from monitor.evidence.dossier.model import Dossier, EvidenceFile
from monitor.evidence.dossier.words import WORDS
from monitor.printable import printable

#: Nothing may load or run in a source view: only its own inline style sheet.
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
#: At most this much of a page is shown as text (the whole file stays in evidence/).
SHOWN_CHARS = 2 * 1024 * 1024

_STYLE = (
    "body { font: 10pt/1.4 'DejaVu Sans', Arial, sans-serif; margin: 16px; color: #1d1d1f; }"
    "h1 { font-size: 13pt; margin: 0 0 6px; } p { color: #5f6368; font-size: 9pt; }"
    "code { font: 8.5pt 'DejaVu Sans Mono', monospace; overflow-wrap: anywhere; }"
    "pre { font: 8.5pt/1.35 'DejaVu Sans Mono', monospace; white-space: pre-wrap; "
    "overflow-wrap: anywhere; border: 1px solid #d0d0d0; background: #f7f7f7; padding: 8px; }"
)


def shown_text(content: bytes) -> tuple[str, int]:
    """The page's text as shown (UTF-8, control characters as �) and how many characters of
    it were left out past :data:`SHOWN_CHARS`."""
    text = content.decode("utf-8", errors="replace")
    cut = max(0, len(text) - SHOWN_CHARS)
    text = text[:SHOWN_CHARS]
    # A <pre> shows CR and CRLF as the line break LF is (HTML's parser reads them so):
    # written as LF, every other control character and bidi override goes as everywhere.
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    return printable(lines), cut


def source_view(file: EvidenceFile, content: bytes, language: str) -> str:
    """The HTML document that shows ``content`` (a saved page) as inert text."""
    w = WORDS[language]
    text, cut = shown_text(content)
    rest = f"\n… {w['source_cut'] % cut}" if cut else ""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{language}"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="referrer" content="no-referrer">',
            f"<title>{escape(w['source_title'])} {escape(file.sha256[:12])}…</title>",
            f"<style>{_STYLE}</style></head><body>",
            f"<h1>{escape(w['source_title'])}</h1>",
            f"<p>{escape(w['source_note'])}</p>",
            f"<p><code>{escape(file.href)}</code> – SHA-256 <code>{escape(file.sha256)}</code></p>",
            f"<pre>{escape(text)}{escape(rest)}</pre>",
            "</body></html>",
        ]
    )


def write_source_views(out: Path, dossier: Dossier) -> None:
    """``pages/<digest>.html`` for every HTML evidence file copied into the dossier."""
    done: set[str] = set()
    for attempt in dossier.attempts:
        for file in attempt.files:
            if file.state != "copied" or file.is_screenshot or file.path in done:
                continue
            done.add(file.path)
            content = (out / file.href).read_bytes()
            view = out / file.source_href
            view.parent.mkdir(parents=True, exist_ok=True)
            view.write_text(source_view(file, content, dossier.language), encoding="utf-8")
