"""Pages nobody here wrote (issue 25): a corpus of hostile pages under ``/hostile-corpus/``.

Each :class:`HostilePage` is served at ``PREFIX + name + …`` and is the target of a real
platform, with what the monitor must conclude per engine. The pages: a huge inline image
or a long word on a "Choix d'une plage" page (backtracking regexes), 100,000 nested divs,
a giant text node, bad charsets, redirects to ``javascript:``/``data:``/``mailto:``/
``about:`` or a port over 65535, a script that builds 64 MiB of text, a 150,000 px tall
page, terminal escapes, bidi overrides and ``<script>`` in every text a page shows, a
legend reusing the free cells' classes, slots or "disponible" only where nobody sees them.

Rules the expectations follow: nothing here is ``available`` except the one honest page
(``honest``: a real calendar that happens to carry a big logo); a site failure is an
``anomaly``, never ``monitor_error``. A reason of ``None`` accepts any anomaly reason,
where the issue leaves the reason to the fix (a charset the monitor refuses, say).

Legacy-booking pages are a short flow: the conditions (``GET``), then the page itself
(``POST …/0``, one desk, no choice), whose calendar endpoint answers week tables under
``PREFIX + name + /ezjscore/call/…``. Every other page is one ``GET`` of ``path``.
Big bodies are built once per process. Stateless: no cookie, no scenario.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from monitor.imitation import legacy_pages as legacy
from monitor.imitation.frdates import FIRST_SLOT, PARIS, monday_of, slot_times
from monitor.imitation.legacy_week import week_table
from monitor.imitation.wire import Request, Response, h, page, redirect

PREFIX = "/hostile-corpus/"
FORM_ID = "9001"
DESK = "4421"
LEGACY = "legacy-booking"
RDVSP = "rdv-service-public"
GENERIC = "generic"
#: (status, reason); reason None: any reason of that status.
Expected = tuple[str, str | None]

#: Terminal escapes, bidi overrides and markup as text, put in front of what a page shows.
ESCAPES = "\x1b[31m\x1b]0;pwned\x07\u202e\u2066&lt;script&gt;alert(1)&lt;/script&gt;\x1b[0m "
NO_SLOT_RDVSP = "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé."
NESTING = 100_000
IMAGE_BYTES = 48 * 1024  #: 64 KiB of base64: ~30 s of backtracking per search before issue 25
WORD_REPEATS = 8 * 1024  #: "planning" × 8192: 64 KiB without a space or a quote
GIANT_TEXT_BYTES = 6 * 1024 * 1024  #: under the 8 MiB cap, so the page is read
TALL_PX = 150_000
SCRIPTED_DOM_MIB = 64


@dataclass(frozen=True)
class HostilePage:
    """One page of the corpus and what the monitor must conclude from it, per engine."""

    name: str
    platform: str
    what: str  #: what is hostile about it, one line
    expected: Mapping[str, Expected]  #: engine -> (status, reason or None)
    #: costs much CPU (where the monitor is quadratic) or browser time: probed on its own
    heavy: bool = False
    honest: bool = False  #: a real page whose truth is slots
    slot_count: int | None = None  #: expected when ``honest``
    rules: Mapping[str, Any] | None = None  #: a generic target's rules
    #: the screenshot must be shorter than this many pixels (a page taller than any cap)
    max_screenshot_height: int | None = None
    #: Chromium lays out megabytes of visible text before anything can read the page: on a
    #: busy machine that takes longer than ``probe_timeout``, and `anomaly/timeout` is then
    #: the honest outcome of the browser engine (the site's page, never the monitor's fault)
    may_time_out_in_browser: bool = False

    @property
    def path(self) -> str:
        """The target URL's path, to append to the imitation's base URL."""
        if self.platform == LEGACY:
            return f"{PREFIX}{self.name}/booking/create/{FORM_ID}"
        return f"{PREFIX}{self.name}/"


def _both(status: str, reason: str | None) -> Mapping[str, Expected]:
    return MappingProxyType({"http": (status, reason), "browser": (status, reason)})


def _each(http: Expected, browser: Expected) -> Mapping[str, Expected]:
    return MappingProxyType({"http": http, "browser": browser})


UNRECOGNIZED = _both("anomaly", "unrecognized")
NO_SLOT = _both("unavailable", "no_slot")
BLOCKED = _both("anomaly", "blocked")
ANY_ANOMALY = _both("anomaly", None)
#: What the http engine reads in a bad charset is the fix's choice; the browser decodes
#: as it always does and sees a page no rule knows.
CHARSET = _each(("anomaly", None), ("anomaly", "unrecognized"))
GENERIC_RULES = MappingProxyType(
    {
        "unavailable": [{"text": "Aucun créneau disponible", "reason": "no_slot"}],
        "available": [
            {"text": "créneaux disponibles", "reason": "slots"},
            {"selector": "a.creneau", "reason": "slots"},
        ],
    }
)

# -- bodies (pure; the big ones built once) ------------------------------------------------


def _plain(title: str, body: str, head: str = "") -> str:
    return page(title, body, head=head)


@functools.cache
def _image() -> str:
    """A deterministic ``data:`` PNG-looking base64 run: a logo a prefecture inlines."""
    seed = hashlib.sha256(b"logo").digest()
    blob = (seed * (IMAGE_BYTES // len(seed) + 1))[:IMAGE_BYTES]
    return base64.b64encode(bytes((b * 31 + i) % 256 for i, b in enumerate(blob))).decode()


@functools.cache
def _deep() -> str:
    body = "<div>" * NESTING + "<p>Prise de rendez-vous</p>" + "</div>" * NESTING
    return _plain("Prise de rendez-vous", body)


@functools.cache
def _giant_text() -> str:
    words = "Veuillez patienter pendant le chargement. "
    filler = words * (GIANT_TEXT_BYTES // len(words))
    return _plain("Prise de rendez-vous", f"<p>{h(NO_SLOT_RDVSP)}</p>\n<p>{filler}</p>")


def _calendar_page(name: str, *, endpoint: str, extra: str = "", title: str = "") -> str:
    """Step 4, "Choix d'une plage", with ``extra`` markup in front of its calendar."""
    prefix = f"{PREFIX.rstrip('/')}/{name}"
    base = f"{prefix}/booking/create/{FORM_ID}"
    step = legacy.calendar_step(
        base, prefix=prefix, form_id=FORM_ID, planning=DESK, endpoint=endpoint, epoch=None
    )
    html = legacy.layout(extra + step, tab=2, prefix=prefix, banner=False)
    return html.replace("<title>", f"<title>{title}", 1) if title else html


def _week(name: str, offset: int, *, slots: bool, mutate: Callable[[str], str] = str) -> str:
    """The week at ``offset`` days from today's week, as the legacy endpoint answers it."""
    today = datetime.now(PARIS).date()
    monday = datetime.combine(monday_of(today + timedelta(days=offset)), FIRST_SLOT, PARIS)
    first = datetime.combine(monday_of(today) + timedelta(weeks=1), FIRST_SLOT, PARIS)
    table = week_table(
        prefix=f"{PREFIX.rstrip('/')}/{name}",
        form_id=FORM_ID,
        monday=monday,
        slots=slot_times(first, 3) if slots else [],
        english=False,
    )
    return mutate(table)


def _legend_with_free_classes(table: str) -> str:
    """A legend whose sample cells are marked up exactly as the free cells are."""
    return table + (
        '<table class="legende"><tr><td class="status-1 free">libre</td>'
        '<td class="status-0 busy">réservé</td><td class="status-2 closed">fermé</td></tr>'
        "</table>"
    )


def _escaped_header(table: str) -> str:
    return re.sub(r'(<th colspan="7">)', rf"\1{ESCAPES}", table, count=1)


def _escapes_no_slot(name: str) -> str:
    prefix = f"{PREFIX.rstrip('/')}/{name}"
    sentence = legacy.NO_SLOT_TEXT["plain"]
    body = (
        f"<h2>{ESCAPES}Vérification de disponibilité</h2>\n"
        f'<form method="post" action="{prefix}/booking/create/{FORM_ID}/2">'
        f"<p>{ESCAPES}{sentence}</p>"
        '<input type="submit" class="Bbutton" name="finishButton" value="Terminer"></form>'
    )
    html = legacy.layout(body, tab=0, prefix=prefix, banner=False)
    return html.replace("<title>", f"<title>{ESCAPES}", 1)


def _redirect(location: str) -> Callable[[], Response]:
    return lambda: redirect(location)


def _html(body: str, content_type: str = "text/html; charset=utf-8") -> Callable[[], Response]:
    return lambda: Response(body=body.encode("utf-8"), content_type=content_type)


_NEUTRAL = _plain(
    "Prise de rendez-vous", "<h1>Prise de rendez-vous</h1><p>Choisissez un motif.</p>"
)
#: ``<a class="creneau" href="…?starts_at=2030-05-06T09:00:00+02:00">`` in UTF-7.
_UTF7_SLOT = (
    "+ADw-a class+AD0AIg-creneau+ACI- href+AD0AIg-/prendre+AF8-rdv?starts+AF8-at+AD0-"
    "2030-05-06T09:00:00+-02:00+ACIAPg-6 mai 09h00+ADw-/a+AD4-"
)
_SLOT_LINK = '<a class="creneau" href="/prendre_rdv?starts_at=2030-05-06T09:00:00%2B02:00">'

#: name -> what the target path answers (a GET on ``path``; legacy: the page after /0).
_SINGLE: dict[str, Callable[[], Response]] = {
    "deep-nesting": lambda: Response(body=_deep()),
    "giant-text-node": lambda: Response(body=_giant_text()),
    "tall-page": _html(
        _plain(
            "Prise de rendez-vous",
            f'<p>{h(NO_SLOT_RDVSP)}</p><div style="height:{TALL_PX}px">…</div><p>Fin</p>',
        )
    ),
    "scripted-giant-dom": _html(
        "<html><body><script>document.body.append('x'.repeat("
        f"{SCRIPTED_DOM_MIB}<<20))</script></body></html>"
    ),
    "slot-link-in-template": _html(
        _plain(
            "Prise de rendez-vous",
            "<h1>Prise de rendez-vous</h1><p>Chargement des créneaux…</p>"
            f"<template>{_SLOT_LINK}6 mai</a></template><!-- {_SLOT_LINK}6 mai</a> -->",
        )
    ),
    "slot-link-in-noscript": _html(
        _plain(
            "Prise de rendez-vous",
            "<h1>Prise de rendez-vous</h1><p>Chargement des créneaux…</p>"
            f"<noscript>{_SLOT_LINK}6 mai</a></noscript>",
        )
    ),
    "utf7-smuggled-slot": lambda: Response(
        body=_plain("Prise de rendez-vous", f"<h1>Prise de rendez-vous</h1><p>{_UTF7_SLOT}</p>"),
        content_type="text/html; charset=utf-7",
    ),
    "charset-zlib-codec": _html(_NEUTRAL, "text/html; charset=zlib_codec"),
    "charset-rot13": _html(_NEUTRAL, "text/html; charset=rot13"),
    "charset-unknown": _html(_NEUTRAL, "text/html; charset=x-imitation-nowhere"),
    "meta-charset-base64": _html(
        _NEUTRAL.replace('<meta charset="utf-8">', "<meta charset=base64>"), "text/html"
    ),
    "redirect-javascript": _redirect("javascript:alert(document.cookie)"),
    "redirect-data": _redirect("data:text/html,<p>Cr%C3%A9neaux disponibles</p>"),
    "redirect-mailto": _redirect("mailto:rdv@example.invalid"),
    "redirect-about": _redirect("about:blank"),
    "redirect-port-overflow": _redirect("http://127.0.0.1:70000/prendre_rdv"),
    "redirect-malformed-host": _redirect("http://[::1/prendre_rdv"),
    "retry-after-escapes": lambda: Response(
        status=503,
        body=_plain("Service surchargé", "<h1>Service surchargé</h1>"),
        headers=[("Retry-After", "120 \x1b[2J\x1b[31mpwned\x1b[0m")],
    ),
    "escapes-unrecognized": _html(
        _plain(
            f"{ESCAPES}Prise de rendez-vous",
            f"<h1>{ESCAPES}Prise de rendez-vous</h1><p>{ESCAPES}Choisissez un motif.</p>",
        ).replace(h(ESCAPES), ESCAPES)
    ),
    "disponible-in-attributes": _html(
        _plain(
            "Prise de rendez-vous",
            '<h1 title="créneaux disponibles">Prise de rendez-vous</h1>'
            '<p data-etat="créneaux disponibles">Chargement…</p>'
            '<img alt="créneaux disponibles" src="/favicon.ico">'
            '<input type="hidden" name="etat" value="créneaux disponibles">'
            '<script>var etat = "créneaux disponibles";</script>'
            "<style>/* créneaux disponibles */</style><!-- créneaux disponibles -->"
            f"<template><p>créneaux disponibles</p>{_SLOT_LINK}6 mai</a></template>",
            head='<meta name="description" content="créneaux disponibles">',
        )
    ),
}
#: legacy pages: name -> (the page after the conditions, week answers have slots?, week mutation)
_LEGACY: dict[str, tuple[Callable[[str], str], bool, Callable[[str], str]]] = {
    "inline-image-calendar": (
        lambda n: _calendar_page(
            n, endpoint="data", extra=f'<img alt="Logo" src="data:image/png;base64,{_image()}">'
        ),
        True,
        str,
    ),
    "planning-word-calendar": (
        lambda n: _calendar_page(
            n,
            endpoint="script",
            extra=f'<input type="hidden" name="jeton" value="{"planning" * WORD_REPEATS}">',
        ),
        False,
        str,
    ),
    "legend-free-classes": (
        lambda n: _calendar_page(n, endpoint="data"),
        False,
        _legend_with_free_classes,
    ),
    "escapes-week-header": (
        lambda n: _calendar_page(n, endpoint="data", title=ESCAPES),
        False,
        _escaped_header,
    ),
    "escapes-no-slot": (_escapes_no_slot, False, str),
}

# -- the table -----------------------------------------------------------------------------


def calendar_page_html(name: str) -> str:
    """The step-4 page of the corpus's legacy calendar page ``name`` (for bench/)."""
    return _LEGACY[name][0](name)


P = HostilePage
CORPUS: tuple[HostilePage, ...] = (
    P(
        "inline-image-calendar",
        LEGACY,
        "an honest calendar step carrying a 64 KiB inline base64 logo",
        _both("available", "slots"),
        heavy=True,
        honest=True,
        slot_count=3,
    ),
    P(
        "planning-word-calendar",
        LEGACY,
        "a calendar step naming its desk after a 64 KiB 'planningplanning…' word",
        UNRECOGNIZED,
        heavy=True,
    ),
    P("legend-free-classes", LEGACY, "no free cell; a legend marked up as free", UNRECOGNIZED),
    P("escapes-week-header", LEGACY, "escapes in the title and week headers", UNRECOGNIZED),
    P("escapes-no-slot", LEGACY, "escapes in the title, heading and sentence", NO_SLOT),
    P("deep-nesting", RDVSP, f"{NESTING:,} nested <div>", UNRECOGNIZED, heavy=True),
    P(
        "giant-text-node",
        RDVSP,
        "a no-slot sentence, a 6 MiB text node",
        NO_SLOT,
        heavy=True,
        may_time_out_in_browser=True,
    ),
    P(
        "tall-page",
        RDVSP,
        f"the no-slot sentence on a {TALL_PX:,} px tall page",
        NO_SLOT,
        heavy=True,
        max_screenshot_height=TALL_PX,
    ),
    P(
        "scripted-giant-dom",
        RDVSP,
        f"an 83-byte page whose script writes {SCRIPTED_DOM_MIB} MiB of text",
        _each(("anomaly", "empty_page"), ("anomaly", "unrecognized")),
        heavy=True,
        may_time_out_in_browser=True,
    ),
    P("slot-link-in-template", RDVSP, "slot links in a <template>, a comment", UNRECOGNIZED),
    P("slot-link-in-noscript", RDVSP, "a slot link only in <noscript>", UNRECOGNIZED),
    P("utf7-smuggled-slot", RDVSP, "a slot link if read as UTF-7", CHARSET),
    P("charset-zlib-codec", RDVSP, "charset=zlib_codec", CHARSET),
    P("charset-rot13", RDVSP, "charset=rot13", CHARSET),
    P("charset-unknown", RDVSP, "a charset nobody knows", CHARSET),
    P("meta-charset-base64", RDVSP, "<meta charset=base64>", CHARSET),
    P("redirect-javascript", RDVSP, "Location: javascript:…", BLOCKED),
    P("redirect-data", RDVSP, "Location: data:…", BLOCKED),
    P("redirect-mailto", RDVSP, "Location: mailto:…", BLOCKED),
    P("redirect-about", RDVSP, "Location: about:blank", BLOCKED),
    P("redirect-port-overflow", RDVSP, "Location: port 70000", ANY_ANOMALY),
    P("redirect-malformed-host", RDVSP, "Location: http://[::1/…", ANY_ANOMALY),
    P("retry-after-escapes", RDVSP, "503, escapes in Retry-After", ANY_ANOMALY),
    P("escapes-unrecognized", RDVSP, "escapes in an unknown page's texts", UNRECOGNIZED),
    P(
        "disponible-in-attributes",
        GENERIC,
        "'créneaux disponibles' only in attributes, scripts, comments, a template",
        UNRECOGNIZED,
        rules=GENERIC_RULES,
    ),
)
BY_NAME: Mapping[str, HostilePage] = MappingProxyType({p.name: p for p in CORPUS})

# -- serving -------------------------------------------------------------------------------

_AJAX = re.compile(
    rf"^ezjscore/call/bookingserver::planning::assign::{FORM_ID}::\d+::(?P<offset>-?\d+)$"
)


def respond(request: Request) -> Response | None:
    """The corpus's answer to ``request``, or None when the path is not one of its pages
    (step images and the favicon then come from the rest of the imitation)."""
    if not request.path.startswith(PREFIX):
        return None
    name, _, rest = request.path.removeprefix(PREFIX).partition("/")
    if name in _SINGLE and rest == "":
        return _SINGLE[name]()
    if name not in _LEGACY:
        return None
    build, slots, mutate = _LEGACY[name]
    if rest == f"booking/create/{FORM_ID}":
        base = f"{PREFIX}{name}/booking/create/{FORM_ID}"
        return Response(body=legacy.layout(legacy.conditions(base), tab=0, prefix="", banner=False))
    if rest == f"booking/create/{FORM_ID}/0" and request.method == "POST":
        return Response(body=build(name))
    ajax = _AJAX.match(rest)
    if ajax:
        return Response(body=_week(name, int(ajax["offset"]), slots=slots, mutate=mutate))
    return None


__all__ = ["BY_NAME", "CORPUS", "PREFIX", "HostilePage", "calendar_page_html", "respond"]
