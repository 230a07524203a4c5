"""RDV Service Public public booking links, ``/prendre_rdv?…&public_link_organisation_id=<id>``.

Server-rendered, keyed by the organisation id (docs/platforms.md#rdv-service-public). The
real slot markup was not captured, so the imitation uses this structure (the monitor's
adapter reads it):

    <main id="main">
      <h1>Choisissez un créneau</h1>
      <section id="creneaux" data-slot-count="3">
        <div class="creneaux-jour">
          <h2><time datetime="2026-05-04">lundi 4 mai 2026</time></h2>
          <ul class="creneaux-liste">
            <li><a class="fr-btn creneau" href="/prendre_rdv?…&starts_at=2026-05-04T09:00:00+02:00">
                <time datetime="2026-05-04T09:00:00+02:00">09h00</time></a></li>

and, with no slot, ``div#nothing_to_show.fr-alert`` holding "Malheureusement, aucun créneau
correspondant à votre recherche n'a été trouvé." and "Veuillez réessayer ultérieurement.".

The public API paths ``/public_api/public_link`` and ``/api/v1/public_link`` answer JSON and,
as the real rack-attack rule, 429 with ``Retry-After`` and ``RateLimit-*`` headers beyond
``params.per_minute`` (default 50) requests per minute from one address. Their key is the
``organisation_id`` query parameter if any, else ``"public_api"``.

Scenarios: ``no_slot`` (default), ``slots`` (``count`` = 3, ``first_date``).

``slots`` with ``late_ms`` > 0 is harder than the real, server-rendered page: the HTML says
there is no slot, and a script, ``late_ms`` after the ``load`` event, fetches the page again
(``&partiel=creneaux``: the answer with the slots) and puts its ``#main`` in place of the
first one. Only a browser that waits for that call sees the slots; a plain HTTP client reads
"no slot", as it would on any page a script fills.

``no_slot`` parameters, off by default: ``wording="invitation"`` (the invitation variant of
the same template: "…correspondant à votre invitation n'a été trouvé." + "Toutes nos excuses
pour cela."), ``variant`` "nbsp" (no-break spaces and a line break inside the sentence) or
"typographic" (typographic apostrophe), as a re-rendered template may give
(docs/platforms.md#text-as-the-sites-write-it).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from datetime import datetime
from urllib.parse import urlencode

from monitor.imitation.frdates import DAYS, MONTHS, iso, long_date, parse_first_date, slot_times
from monitor.imitation.scenarios import Route, Scenario
from monitor.imitation.wire import (
    Request,
    Response,
    h,
    html_response,
    json_response,
    page,
    retyped,
)

NAME = "rdv-service-public"
SCENARIOS = frozenset({"no_slot", "slots"})
NO_SLOT_TEXT = "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé."
NO_SLOT_INVITATION = (
    "Malheureusement, aucun créneau correspondant à votre invitation n'a été trouvé."
)
APOLOGY = "Toutes nos excuses pour cela."
RATE_LIMIT_MESSAGE = "Limite d'appels API atteinte. Merci de patienter.\n"
DEFAULT_PER_MINUTE = 50
_PAGE = re.compile(r"^(?P<prefix>.*?)/prendre_rdv/?$")
_API = re.compile(r"/(?:public_api|api/v1)/public_links?/?$")


def _day_title(moment: datetime) -> str:
    return f"{DAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]} {moment.year}"


class RdvServicePublic:
    """RDV Service Public; one instance per site (it owns the API rate-limit windows)."""

    name = NAME
    scenarios: frozenset[str] = SCENARIOS
    default = "no_slot"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    def route(self, request: Request) -> Route | None:
        if match := _PAGE.match(request.path):
            organisation = request.query.get("public_link_organisation_id", "")
            return Route(
                NAME, (organisation,) if organisation else (), match["prefix"], {"kind": "page"}
            )
        if _API.search(request.path):
            organisation = request.query.get("organisation_id", "")
            keys = (organisation, "public_api") if organisation else ("public_api",)
            return Route(NAME, keys, "", {"kind": "api"})
        return None

    def handle(self, request: Request, route: Route, scenario: Scenario) -> Response:
        if route.parts["kind"] == "api":
            return self._api(request, scenario)
        if "starts_at" in request.query:
            return html_response(_chosen(request.query["starts_at"]))
        slots = []
        late_ms = int(scenario.params.get("late_ms", 0))
        if scenario.name == "slots" and (late_ms <= 0 or "partiel" in request.query):
            first = parse_first_date(scenario.params.get("first_date"))
            slots = slot_times(first, int(scenario.params.get("count", 3)))
        later = late_ms if scenario.name == "slots" and not slots else 0
        return html_response(_search_page(route, request, slots, scenario, later))

    def _api(self, request: Request, scenario: Scenario) -> Response:
        limit = int(scenario.params.get("per_minute", DEFAULT_PER_MINUTE))
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(request.client, deque())
            while hits and hits[0] <= now - 60:
                hits.popleft()
            hits.append(now)
            count, oldest = len(hits), hits[0]
        reset = max(1, math.ceil(oldest + 60 - now))
        headers = [
            ("RateLimit-Limit", str(limit)),
            ("RateLimit-Remaining", str(max(0, limit - count))),
            ("RateLimit-Reset", str(reset)),
        ]
        if count > limit:
            response = json_response({"errors": [RATE_LIMIT_MESSAGE]}, 429)
            response.headers += [("Retry-After", str(reset)), *headers]
            return response
        organisation = request.query.get("organisation_id", "")
        response = json_response(
            {
                "public_links": [
                    {
                        "external_id": organisation or "imitation",
                        "public_link": "/prendre_rdv?"
                        + urlencode({"public_link_organisation_id": organisation or "0"}),
                    }
                ]
            }
        )
        response.headers += headers
        return response


#: Where the ``nbsp`` variant of the no-slot sentence keeps words together and breaks.
NO_SLOT_NBSP = ((" à ", "\u00a0à "), (" correspondant", "\n  correspondant"))


#: Fetches the page's slots ``late_ms`` after load and puts them in place (see the docstring).
_LATE_SLOTS = """<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    var url = new URL(location.href);
    url.searchParams.set("partiel", "creneaux");
    fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.text();
    }).then(function (text) {
      var fetched = new DOMParser().parseFromString(text, "text/html");
      var main = fetched.querySelector("#main");
      if (main) { document.querySelector("#main").replaceWith(document.importNode(main, true)); }
    });
  }, %d);
});
</script>"""


def _search_page(
    route: Route, request: Request, slots: list[datetime], scenario: Scenario, late_ms: int = 0
) -> str:
    if not slots:
        invitation = scenario.params.get("wording") == "invitation"
        variant = str(scenario.params.get("variant", ""))
        text = retyped(NO_SLOT_INVITATION if invitation else NO_SLOT_TEXT, variant, NO_SLOT_NBSP)
        extra = f"<p>{h(APOLOGY)}</p>\n" if invitation else ""
        result = (
            '<div id="nothing_to_show" class="fr-alert fr-alert--info">\n'
            f"<p>{h(text)}</p>\n{extra}<p>Veuillez réessayer ultérieurement.</p>\n</div>"
        )
    else:
        query = {name: value for name, value in request.query.items() if name != "partiel"}
        days: dict[str, list[datetime]] = {}
        for moment in slots:
            days.setdefault(moment.date().isoformat(), []).append(moment)
        blocks = []
        for day, moments in days.items():
            links = "".join(
                '<li><a class="fr-btn fr-btn--secondary creneau" href="'
                + h(f"{route.prefix}/prendre_rdv?" + urlencode({**query, "starts_at": iso(moment)}))
                + f'"><time datetime="{h(iso(moment))}">{moment:%Hh%M}</time></a></li>'
                for moment in moments
            )
            blocks.append(
                f'<div class="creneaux-jour">\n<h2><time datetime="{day}">'
                f'{h(_day_title(moments[0]))}</time></h2>\n<ul class="creneaux-liste">{links}'
                "</ul>\n</div>"
            )
        result = (
            f'<h1>Choisissez un créneau</h1>\n<section id="creneaux" '
            f'data-slot-count="{len(slots)}">\n' + "\n".join(blocks) + "\n</section>"
        )
    body = (
        '<header class="fr-header"><p class="fr-header__service-title">RDV Service Public'
        "</p></header>\n"
        '<main id="main" class="fr-container">\n<p class="fr-text--lead">Préfecture de '
        "l’Imaginaire — Renouvellement de récépissé (lieu fictif)</p>\n"
        f"{result}\n</main>"
    )
    if late_ms > 0:
        body += "\n" + _LATE_SLOTS % late_ms
    return page("Prendre rendez-vous - RDV Service Public", body)


def _chosen(starts_at: str) -> str:
    try:
        when = long_date(parse_first_date(starts_at))
    except ValueError:
        when = starts_at
    body = (
        '<main id="main"><h1>Votre rendez-vous</h1>\n'
        f"<p>Créneau choisi : {h(when)}</p>\n<p>Connectez-vous pour confirmer.</p></main>"
    )
    return page("Votre rendez-vous - RDV Service Public", body)
