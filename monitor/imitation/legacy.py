"""The legacy prefecture booking module, ``/booking/create/<id>[/<step>]`` (PLATFORMS.md §1).

Flow, as the server keeps it per ``eZSESSID`` session and form id:

    GET  /booking/create/<id>            step 0, conditions (new eZSESSID cookie if none)
    POST …/0  condition=on&nextButton=…  step 1 desk choice (several desks), else the result;
                                          ``no_calendar``: the ``ul.error`` page instead
    POST …/1  planning=<NNN>&nextButton  result: step 2 no-slot page or step 3 description
    POST …/2  finishButton=Terminer      back to step 0
    POST …/3                              step 4 calendar: first week inline + AJAX for others
    POST …/4  nextButton=Première…       step 5 (also GET …/5/<unix ts> from a free cell)
    POST …/5 → step 6 local captcha (passes only with ``params.captcha_answer``) → 8 → 9

A POST without a known session, or for a step the session is not at, renders step 0 (with
a fresh cookie if the session was unknown), as the real module bounces; posting the desk
to ``/1`` right after the first GET is tolerated, as bots did it. The AJAX week table
``/ezjscore/call/bookingserver::planning::assign::<id>::<planning>::<offset>`` needs no
session; offset 0 is the week of ``params.origin`` (default: the first slot's week), and
each 7 is one week further.

Scenarios (params): ``no_slot`` (``variant``: plain | nbsp | typographic) default;
``slots`` (``count`` = 3, ``first_date``, ``desk_slots`` {desk: count}, ``origin``);
``english_header`` (as slots, English week header); ``slot_race`` (as slots for
``seconds`` = 30 after it is set, then no_slot); ``legend_only`` (as slots up to a calendar
without free cells); ``no_calendar``; ``desk_bounce``; ``module_closed``; ``link_disabled``;
``session_expired`` (the server forgets every session); ``layout_drift``. Every scenario
takes ``desks`` (default [4411, 4412]) and ``desk_labels`` {desk: label}.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.imitation import legacy_pages as pages
from monitor.imitation.frdates import parse_first_date, slot_times
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

    step: int = 0
    planning: str = ""
    slot: datetime | None = None


def desks_of(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(desk id, label) pairs; ids as strings because JSON params bring string keys."""
    labels = {str(k): str(v) for k, v in dict(params.get("desk_labels") or {}).items()}
    desks = [str(desk) for desk in params.get("desks", DEFAULT_DESKS)]
    return [(desk, labels.get(desk, f"Guichet {index}")) for index, desk in enumerate(desks, 1)]


def slots_for(scenario: Scenario, planning: str) -> list[datetime]:
    """The free slots a desk has right now under a scenario (empty: no slot)."""
    params = scenario.params
    if scenario.name not in SLOT_SCENARIOS:
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
            return html_response(self._week(route, scenario, route.parts["planning"]))
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
            flow = self._sessions[sid].setdefault(form_id, _Flow())
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
            free = self._free(scenario, flow.planning)
            if not slots_for(scenario, flow.planning):
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
            for moment in self._free(scenario, flow.planning):
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
        if not slots_for(scenario, planning):
            flow.step = 2
            variant = str(scenario.params.get("variant", "plain"))
            return self._page(pages.no_slot(base, variant), route, request, tab=0)
        flow.step = 3
        label = dict(desks_of(scenario.params)).get(planning, "Guichet")
        return self._page(pages.description(base, label), route, request, tab=1)

    def _calendar(
        self, route: Route, request: Request, scenario: Scenario, flow: _Flow
    ) -> Response:
        base = f"{route.prefix}/booking/create/{route.key}"
        ajax = (
            f"{route.prefix}/ezjscore/call/bookingserver::planning::assign::"
            f"{route.key}::{flow.planning}::"
        )
        table = self._week(route, scenario, flow.planning, offset=0)
        return self._page(pages.calendar_step(base, ajax, table), route, request, tab=2)

    def _chosen(self, route: Route, request: Request, flow: _Flow, moment: datetime) -> Response:
        flow.step, flow.slot = 5, moment
        base = f"{route.prefix}/booking/create/{route.key}"
        return self._page(pages.chosen_slot(base, moment), route, request, tab=2)

    @staticmethod
    def _free(scenario: Scenario, planning: str) -> list[datetime]:
        """Slots shown as free cells (none under ``legend_only``)."""
        return [] if scenario.name == "legend_only" else slots_for(scenario, planning)

    def _week(
        self, route: Route, scenario: Scenario, planning: str, offset: int | None = None
    ) -> str:
        days = int(route.parts.get("offset", "0")) if offset is None else offset
        slots = slots_for(scenario, planning)
        monday = pages.first_monday(slots, scenario.params.get("origin"))
        monday += timedelta(days=7 * (days // 7))
        return pages.week_table(
            prefix=route.prefix,
            form_id=route.key,
            monday=monday,
            slots=self._free(scenario, planning),
            english=scenario.name == "english_header",
        )

    @staticmethod
    def _page(
        body: str, route: Route, request: Request | None = None, *, tab: int | None = None
    ) -> Response:
        banner = request is None or "cookies_ok" not in request.cookies
        return html_response(pages.layout(body, tab=tab, prefix=route.prefix, banner=banner))
