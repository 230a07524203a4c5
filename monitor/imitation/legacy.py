"""The legacy prefecture booking module, ``/booking/create/<id>[/<step>]``
(docs/platforms.md#legacy-booking).

Flow, as the server keeps it per ``eZSESSID`` session and form id:

    GET  /booking/create/<id>            step 0, conditions (new eZSESSID cookie if none)
    POST …/0  condition=on&nextButton=…  step 1 desk choice (several desks), else the result;
                                          ``no_calendar``: the ``ul.error`` page instead
    POST …/1  planning=<NNN>&nextButton  result: step 2 no-slot page or step 3 description
    POST …/2  finishButton=Terminer      back to step 0
    POST …/3                              step 4 "Choix d'une plage": an EMPTY calendar that
                                          the page's script fills from the AJAX endpoint
    POST …/4  nextButton=Première…       step 5 (also GET …/5/<unix ts> from a free cell)
    POST …/5 → step 6 local captcha (passes only with ``params.captcha_answer``) → 8 → 9

A POST without a known session, or for a step the session is not at, renders step 0 (with
a fresh cookie if the session was unknown), as the real module bounces; posting the desk
to ``/1`` right after the first GET is tolerated, as bots did it.

Step 4 (``POST …/3``, or ``GET …/4`` at step 4) holds no week: ``#planning_calendar`` says
"Chargement du calendrier…" until the page's script POSTs (empty body, ``fetch``) to
``<prefix>/ezjscore/call/bookingserver::planning::assign::<id>::<planning>::<offset>``
and puts the fragment it gets there, or "Le calendrier n'a pas pu être chargé." if the
status is ≥ 400; "Semaine précédente"/"Semaine suivante" load offset ∓ 7. ``<planning>``
is the chosen desk, or the only desk of a form without desk choice. The endpoint answers a
week table fragment (``th[colspan=7]`` header, ``td.status-1.free`` cells linking
``…/5/<unix ts>``, busy and closed cells, a legend saying "libre") to any key and any
request, with or without a session
(docs/platforms.md#legacy-booking-the-week-calendar). Its params, for every scenario:

    calendar_origin    "relative" (default): offset d is the week (Monday-Sunday) holding
                       today + d days, today being ``datetime.now(PARIS)``, so the script
                       starts at 0; "absolute": the week holding ``calendar_epoch`` + d days
                       and the script computes its start from the browser's clock (Paris
                       day). Any integer is accepted, negative too.
    calendar_epoch     ISO date, default "2020-10-19" (a Monday: 175 is 12-18 April 2021)
    calendar_offset    with "absolute": "clock" (default), the script computes its start;
                       "script" / "data" / "url": the server writes today's day number as
                       ``var offset = N;``, ``data-offset="N"`` or at the end of ``data-url``
    calendar_header    the week header's form, a key of ``frdates.HEADER_STYLES`` ("long")
    calendar_legend    ``legacy_week.LEGENDS`` or ``IN_TABLE_LEGENDS`` key ("list")
    calendar_links     False: free cells show their time without a link to step 5
    calendar_image_kib an inline base64 logo of that many KiB on the calendar step
    calendar_endpoint  "data" (default): ``#planning_calendar[data-url]`` holds the address
                       without its offset (plus ``data-offset="0"`` when relative);
                       "script": the script assembles it from ``prefix``, ``formId`` and
                       ``planningId``, no complete address anywhere in the page
    calendar_method    "any" (default): GET and POST answer the same; "post": GET answers
                       405 with ``Allow: POST``
    calendar_delay     seconds (float, default 0) each endpoint answer waits (a late table)
    calendar_status    default 200; ≥ 400 (e.g. 502): an nginx error page with that status
                       instead of the table, while the step pages work normally
    vanish_after       once the endpoint has answered this many week tables for the form
                       id to one session (its eZSESSID; counted since the scenario was set;
                       405 and error answers do not count), that session's slots are gone:
                       later weeks have no free cell and a new walk through the flow in the
                       same session gets the step-2 no-slot page; other sessions still see
                       them, so every probe meets the same race

Every week without a slot shows busy and closed cells only ("every week full"), so the
slots of a ``first_date`` four weeks ahead are the only free cells, at relative offset 28.

Scenarios (params): ``no_slot`` (``variant``: plain | nbsp | typographic) default;
``slots`` (``count`` = 3, ``first_date`` (default the next weekday 09:00), ``desk_slots``
{desk: count}); ``english_header`` (as slots, English week header); ``slot_race`` (as
slots for ``seconds`` = 30 after it is set, then no_slot); ``legend_only`` (as slots up to
a calendar whose weeks have no free cell); ``no_calendar``; ``desk_bounce``;
``module_closed``; ``link_disabled``; ``session_expired`` (the server forgets every
session); ``layout_drift``. Every scenario takes ``desks`` (default [4411, 4412]) and
``desk_labels`` {desk: label} and the calendar params above.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from monitor.imitation import legacy_pages as pages
from monitor.imitation import legacy_week
from monitor.imitation.faults import proxy_error
from monitor.imitation.frdates import PARIS, monday_of, parse_first_date, slot_times
from monitor.imitation.scenarios import Route, Scenario
from monitor.imitation.wire import Bounded, Request, Response, html_response, png

NAME = "legacy-booking"
SLOT_SCENARIOS = frozenset({"slots", "english_header", "slot_race", "legend_only"})
SCENARIOS = SLOT_SCENARIOS | {
    "no_slot",
    "no_calendar",
    "desk_bounce",
    "module_closed",
    "link_disabled",
    "session_expired",
    "layout_drift",
}
DEFAULT_DESKS = (4411, 4412)
COOKIE = "eZSESSID"
#: A Monday: offset 175 is then the week of Monday 12 April 2021 ("175 = 11-18 avril" in
#: docs/platforms.md#legacy-booking-the-week-calendar).
DEFAULT_EPOCH = "2020-10-19"

_CREATE = re.compile(
    r"^(?P<prefix>.*?)/booking/create/(?P<form>\d+)(?:/(?P<step>\d+)(?:/(?P<ts>\d+))?)?/?$"
)
_AJAX = re.compile(
    r"^(?P<prefix>.*?)/ezjscore/call/bookingserver::planning::assign::"
    r"(?P<form>\d+)::(?P<planning>\d+)::(?P<offset>-?\d+)/?$"
)
_IMAGE = re.compile(r"/etape_\d+r?\.png$")


@dataclass
class _Flow:
    """Where one session is in one form's flow."""

    sid: str = ""  #: the eZSESSID it belongs to
    step: int = 0
    planning: str = ""
    slot: datetime | None = None


def _absolute(params: Mapping[str, Any]) -> bool:
    return str(params.get("calendar_origin", "relative")) == "absolute"


def _epoch(params: Mapping[str, Any]) -> date:
    return date.fromisoformat(str(params.get("calendar_epoch", DEFAULT_EPOCH)))


def _written(params: Mapping[str, Any]) -> tuple[str, int] | None:
    """(markup, today's day number) when the server writes the absolute offset in the page."""
    markup = str(params.get("calendar_offset", "clock"))
    if not _absolute(params) or markup == "clock":
        return None
    return markup, (datetime.now(PARIS).date() - _epoch(params)).days


def week_monday(params: Mapping[str, Any], offset: int, today: date | None = None) -> datetime:
    """Monday 00:00 (Paris) of the week an AJAX ``offset`` names under ``calendar_origin``.

    ``relative``: the week containing today + ``offset`` days; ``absolute``: the week
    containing ``calendar_epoch`` + ``offset`` days (both exist:
    docs/platforms.md#legacy-booking-the-week-calendar).
    """
    start = _epoch(params) if _absolute(params) else (today or datetime.now(PARIS).date())
    day = start + timedelta(days=offset)
    return datetime.combine(monday_of(day), datetime.min.time(), tzinfo=PARIS)


def desks_of(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(desk id, label) pairs; ids as strings because JSON params bring string keys."""
    labels = {str(k): str(v) for k, v in dict(params.get("desk_labels") or {}).items()}
    desks = [str(desk) for desk in params.get("desks", DEFAULT_DESKS)]
    return [(desk, labels.get(desk, f"Guichet {index}")) for index, desk in enumerate(desks, 1)]


def slots_for(scenario: Scenario, planning: str, *, gone: bool = False) -> list[datetime]:
    """The free slots a desk has right now under a scenario (empty: no slot).

    ``gone``: the calendar endpoint already answered ``vanish_after`` weeks for the key.
    """
    params = scenario.params
    if scenario.name not in SLOT_SCENARIOS or gone:
        return []
    if scenario.name == "slot_race" and scenario.elapsed() >= float(params.get("seconds", 30)):
        return []
    per_desk = {str(k): int(v) for k, v in dict(params.get("desk_slots") or {}).items()}
    count = per_desk.get(planning, int(params.get("count", 3)))
    return slot_times(parse_first_date(params.get("first_date")), count)


class LegacyBooking:
    """The legacy module; one instance per imitation site (it owns the sessions)."""

    name = NAME
    scenarios: frozenset[str] = SCENARIOS
    default = "no_slot"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: Bounded[str, dict[str, _Flow]] = Bounded()
        #: week tables answered per (form id, scenario's ``since``), for ``vanish_after``
        self._answered: Bounded[tuple[str, float, str], int] = Bounded()

    def route(self, request: Request) -> Route | None:
        if match := _CREATE.match(request.path):
            parts = {"kind": "create", "step": match["step"] or "", "ts": match["ts"] or ""}
            return Route(NAME, (match["form"],), match["prefix"], parts)
        if match := _AJAX.match(request.path):
            parts = {"kind": "ajax", "planning": match["planning"], "offset": match["offset"]}
            return Route(NAME, (match["form"],), match["prefix"], parts)
        if _IMAGE.search(request.path):
            return Route(NAME, (), "", {"kind": "image"})
        return None

    def handle(self, request: Request, route: Route, scenario: Scenario) -> Response:
        kind = route.parts["kind"]
        if kind == "image":
            return Response(body=png(24, 24, seed=len(request.path)), content_type="image/png")
        if kind == "ajax":
            return self._ajax(request, route, scenario)
        if scenario.name == "module_closed":
            return self._page(pages.message_page(pages.MODULE_CLOSED_TEXT, "message"), route)
        if scenario.name == "link_disabled":
            return self._page(pages.message_page(pages.LINK_DISABLED_TEXT, "message"), route)
        sid, flow, fresh = self._flow(request, route.key, forget=scenario.name == "session_expired")
        response = self._step(request, route, scenario, flow, fresh)
        if fresh:
            response.headers.append(("Set-Cookie", f"{COOKIE}={sid}; Path=/; HttpOnly"))
        return response

    # -- sessions -------------------------------------------------------------------------

    def _flow(self, request: Request, form_id: str, *, forget: bool) -> tuple[str, _Flow, bool]:
        """The session's flow for this form; a new session if the cookie is unknown."""
        sid = request.cookies.get(COOKIE, "")
        with self._lock:
            if forget or sid not in self._sessions:
                sid = secrets.token_hex(16)
                self._sessions[sid] = {}
                fresh = True
            else:
                fresh = False
            flow = self._sessions[sid].setdefault(form_id, _Flow(sid=sid))
        return sid, flow, fresh

    # -- steps ----------------------------------------------------------------------------

    def _step(
        self, request: Request, route: Route, scenario: Scenario, flow: _Flow, fresh: bool
    ) -> Response:
        base = f"{route.prefix}/booking/create/{route.key}"
        if scenario.name == "layout_drift":
            if request.method == "POST":
                return html_response(pages.drifted_result())
            return html_response(pages.drifted_start(f"{base}/0"))
        step = int(route.parts["step"] or 0)
        if request.method != "POST":
            return self._get(request, route, scenario, flow, step)
        # Bots posted the desk straight after the first GET and the real module took it;
        # any other jump, or a lost session, starts again from the conditions.
        skipped_conditions = step == 1 and flow.step == 0
        if fresh or (step not in (0, flow.step) and not skipped_conditions):
            flow.step = 0
            return self._page(pages.conditions(base), route, request, tab=0)
        form = request.form()
        desks = desks_of(scenario.params)
        if step == 0 and form.get("condition") != "on":
            return self._page(pages.conditions(base), route, request, tab=0)
        if scenario.name == "no_calendar" and step in (0, 1):
            return self._page(pages.no_calendar(base), route, request, tab=0)
        if step == 0:
            if len(desks) > 1:
                flow.step = 1
                return self._page(pages.desk_choice(base, desks), route, request, tab=0)
            return self._result(route, request, scenario, flow, desks[0][0] if desks else "")
        if step == 1:
            chosen = form.get("planning", "")
            if scenario.name == "desk_bounce" or chosen not in dict(desks):
                return self._page(pages.desk_choice(base, desks), route, request, tab=0)
            return self._result(route, request, scenario, flow, chosen)
        if step == 2:
            flow.step = 0
            return self._page(pages.conditions(base), route, request, tab=0)
        if step == 3:
            flow.step = 4
            return self._calendar(route, request, scenario, flow)
        if step == 4:
            free = self._free(scenario, route.key, flow)
            if not self._slots(scenario, route.key, flow.sid, flow.planning):
                return self._result(route, request, scenario, flow, flow.planning)
            if form.get("nextButton") == pages.FIRST_FREE and free:
                return self._chosen(route, request, flow, free[0])
            return self._calendar(route, request, scenario, flow)
        if step == 5:
            flow.step = 6
            return self._page(pages.captcha_step(base, False), route, request, tab=3)
        if step == 6:
            answer = scenario.params.get("captcha_answer")
            if answer is None or form.get("imitation_captcha_response") != str(answer):
                return self._page(pages.captcha_step(base, True), route, request, tab=3)
            flow.step = 8
            return self._page(pages.personal_details(base), route, request, tab=4)
        flow.step = 9
        return self._page(pages.finished(), route, request, tab=5)

    def _get(
        self, request: Request, route: Route, scenario: Scenario, flow: _Flow, step: int
    ) -> Response:
        base = f"{route.prefix}/booking/create/{route.key}"
        if step == 5 and route.parts["ts"] and flow.step >= 4:
            wanted = int(route.parts["ts"])
            for moment in self._free(scenario, route.key, flow):
                if int(moment.timestamp()) == wanted:
                    return self._chosen(route, request, flow, moment)
            flow.step = 4  # the slot went in the meantime: back to the calendar
            return self._calendar(route, request, scenario, flow)
        if step == 4 and flow.step == 4:
            return self._calendar(route, request, scenario, flow)
        flow.step = 0
        return self._page(pages.conditions(base), route, request, tab=0)

    def _result(
        self, route: Route, request: Request, scenario: Scenario, flow: _Flow, planning: str
    ) -> Response:
        base = f"{route.prefix}/booking/create/{route.key}"
        flow.planning = planning
        if not self._slots(scenario, route.key, flow.sid, planning):
            flow.step = 2
            variant = str(scenario.params.get("variant", "plain"))
            return self._page(pages.no_slot(base, variant), route, request, tab=0)
        flow.step = 3
        label = dict(desks_of(scenario.params)).get(planning, "Guichet")
        return self._page(pages.description(base, label), route, request, tab=1)

    def _calendar(
        self, route: Route, request: Request, scenario: Scenario, flow: _Flow
    ) -> Response:
        """Step 4: no week in the HTML; the page's script loads it from the endpoint."""
        params = scenario.params
        body = pages.calendar_step(
            f"{route.prefix}/booking/create/{route.key}",
            prefix=route.prefix,
            form_id=route.key,
            planning=flow.planning,
            endpoint=str(params.get("calendar_endpoint", "data")),
            epoch=_epoch(params) if _absolute(params) else None,
            written=_written(params),
            image_kib=int(params.get("calendar_image_kib", 0)),
        )
        return self._page(body, route, request, tab=2)

    def _chosen(self, route: Route, request: Request, flow: _Flow, moment: datetime) -> Response:
        flow.step, flow.slot = 5, moment
        base = f"{route.prefix}/booking/create/{route.key}"
        return self._page(pages.chosen_slot(base, moment), route, request, tab=2)

    def _gone(self, scenario: Scenario, form_id: str, sid: str) -> bool:
        """Whether the endpoint already answered ``vanish_after`` weeks to this session."""
        limit = scenario.params.get("vanish_after")
        if limit is None:
            return False
        with self._lock:
            return self._answered.get((form_id, scenario.since, sid), 0) >= int(limit)

    def _slots(self, scenario: Scenario, form_id: str, sid: str, planning: str) -> list[datetime]:
        return slots_for(scenario, planning, gone=self._gone(scenario, form_id, sid))

    def _free(self, scenario: Scenario, form_id: str, flow: _Flow) -> list[datetime]:
        """Slots shown as free cells (none under ``legend_only``)."""
        if scenario.name == "legend_only":
            return []
        return self._slots(scenario, form_id, flow.sid, flow.planning)

    def _ajax(self, request: Request, route: Route, scenario: Scenario) -> Response:
        """One week's table as an HTML fragment, or the endpoint's configured failure."""
        params = scenario.params
        delay = float(params.get("calendar_delay", 0))
        if delay > 0:
            # The platform cannot reach the server's stop event (server.py gives it none);
            # each request has its own daemon handler thread, so this holds up no other
            # request, and stop() does not wait for it.
            time.sleep(delay)
        if params.get("calendar_method", "any") == "post" and request.method != "POST":
            refused = Response(
                status=405,
                body="405 Method Not Allowed: this call takes POST.\n",
                content_type="text/plain; charset=utf-8",
            )
            refused.headers.append(("Allow", "POST"))
            return refused
        status = int(params.get("calendar_status", 200))
        if status >= 400:
            return proxy_error(status)
        # Count and decide under one lock, so concurrent calls cannot both see the slots
        # after the limit; only week tables count (not 405 or error answers).
        limit = params.get("vanish_after")
        # Per session (eZSESSID, "" without one): each probe meets the same race, whatever
        # other clients asked before it.
        with self._lock:
            counted = (route.key, scenario.since, request.cookies.get(COOKIE, ""))
            answered = self._answered.get(counted, 0)
            self._answered[counted] = answered + 1
        gone = limit is not None and answered >= int(limit)
        slots = slots_for(scenario, route.parts["planning"], gone=gone)
        body = legacy_week.week_table(
            prefix=route.prefix,
            form_id=route.key,
            monday=week_monday(params, int(route.parts["offset"])),
            slots=[] if scenario.name == "legend_only" else slots,
            english=scenario.name == "english_header",
            header=str(params.get("calendar_header", "long")),
            legend=str(params.get("calendar_legend", "list")),
            links=bool(params.get("calendar_links", True)),
        )
        return html_response(body, status)

    @staticmethod
    def _page(
        body: str, route: Route, request: Request | None = None, *, tab: int | None = None
    ) -> Response:
        banner = request is None or "cookies_ok" not in request.cookies
        return html_response(pages.layout(body, tab=tab, prefix=route.prefix, banner=banner))
