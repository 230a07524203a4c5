"""The legacy booking module's catalogue cases (``/booking/create/<id>``): every page the
research found, its variants, and the AJAX week calendar.

Slots are dated from the current week, as the module's calendar starts there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from monitor.imitation.case import Case, make_case
from monitor.imitation.frdates import FIRST_SLOT, PARIS, iso, monday_of


def _monday_ahead(weeks: int) -> datetime:
    """Monday 09:00 Paris, ``weeks`` weeks after this week's Monday."""
    today = datetime.now(PARIS).date()
    return datetime.combine(monday_of(today) + timedelta(weeks=weeks), FIRST_SLOT, tzinfo=PARIS)


#: The legacy calendar starts at the current week and the monitor reads six weeks of it,
#: so its slots are dated from today: next Monday (week 1), four weeks ahead (week 4),
#: and seven weeks ahead (beyond the default horizon of six weeks).
LEGACY_FIRST = _monday_ahead(1)
LEGACY_FAR = _monday_ahead(4)
LEGACY_BEYOND = _monday_ahead(7)
LEGACY_FIRST_DATE = LEGACY_FIRST.isoformat(timespec="minutes")
LEGACY_EARLIEST = iso(LEGACY_FIRST)


#: Week header forms read from the header alone: free cells without a step-5 link, day
#: columns without dates (issue 25: abbreviated and numeric headers gave no earliest slot).
HEADER_FORMS = ("abbreviated", "short", "nbsp", "numeric", "numeric_short", "day", "english_of")
#: Legends whose samples reuse the free cells' classes (issue 25: one false slot a week).
LEGEND_FORMS = ("free_classes", "linked", "row", "tfoot")
#: Where the page writes the absolute offset its script starts from.
OFFSET_MARKUPS = ("script", "data", "url")
Row = tuple[str, tuple[str, str], dict[str, Any]]


def _calendar_variants(one_desk: dict[str, Any]) -> list[Row]:
    """Calendars as they come (issue 25): header forms, legends, written offsets, a heavy page."""
    found = {"expected_slot_count": 3, "expected_earliest_slot": LEGACY_EARLIEST}
    rows: list[Row] = [
        (
            "slots",
            ("available", "slots"),
            {
                "params": {**one_desk, "calendar_header": form, "calendar_links": False},
                **found,
                "note": f"{form} week header, cells dated from it alone",
            },
        )
        for form in HEADER_FORMS
    ]
    rows += [
        (
            "legend_only",
            ("anomaly", "unrecognized"),
            {
                "params": {**one_desk, "calendar_legend": form},
                "note": f"legend {form} reuses the free class: never a slot",
            },
        )
        for form in LEGEND_FORMS
    ]
    rows.append(
        (
            "slots",
            ("available", "slots"),
            {
                "params": {**one_desk, "calendar_legend": "row"},
                **found,
                "note": "a legend row in the week's body: the three slots only",
            },
        )
    )
    absolute = {**one_desk, "calendar_origin": "absolute", "calendar_epoch": "1970-01-01"}
    rows += [
        (
            "slots",
            ("available", "slots"),
            {
                "params": {**absolute, "calendar_offset": markup, "calendar_header": "undated"},
                **found,
                "note": f"absolute offset written ({markup}), weeks without a dated header",
            },
        )
        for markup in OFFSET_MARKUPS
    ]
    rows += [
        (
            "slots",
            ("available", "slots"),
            {
                "params": {**absolute, "calendar_endpoint": "script", "calendar_offset": "script"},
                **found,
                "note": "script-built endpoint, var offset = <days since 1970>",
            },
        ),
        (
            "slots",
            ("available", "slots"),
            {
                "params": {**one_desk, "calendar_origin": "absolute", "calendar_header": "numeric"},
                **found,
                "note": "absolute origin calibrated from a numeric week header",
            },
        ),
        (
            "slots",
            ("available", "slots"),
            {
                "params": {**one_desk, "calendar_image_kib": 40},
                **found,
                "note": "a 40 KiB inline base64 logo on the calendar step",
            },
        ),
    ]
    return rows


def legacy_cases() -> list[Case]:
    slots = {"count": 3, "first_date": LEGACY_FIRST_DATE}
    found = {"expected_slot_count": 3, "expected_earliest_slot": LEGACY_EARLIEST}
    one_desk = {**slots, "desks": [4421]}
    rows: list[Row] = [
        ("no_slot", ("unavailable", "no_slot"), {}),
        (
            "no_slot",
            ("unavailable", "no_slot"),
            {"params": {"variant": "nbsp"}, "note": "line break + nbsp in the sentence"},
        ),
        (
            "no_slot",
            ("unavailable", "no_slot"),
            {"params": {"variant": "typographic"}, "note": "typographic apostrophe"},
        ),
        (
            "no_slot",
            ("unavailable", "no_slot"),
            {"params": {"desks": [4421]}, "note": "one desk: no desk-choice page"},
        ),
        ("slots", ("available", "slots"), {"params": slots, **found}),
        ("slots", ("available", "slots"), {"params": {**slots, "desks": [4421]}, **found}),
        (
            "slots",
            ("available", "slots"),
            {
                "params": {**slots, "desk_slots": {"4411": 0, "4412": 3}},
                **found,
                "note": "first desk none, second desk three",
            },
        ),
        (
            "slots",
            ("unavailable", "no_slot"),
            {"params": {**slots, "desk_slots": {"4411": 0, "4412": 0}}},
        ),
        ("english_header", ("available", "slots"), {"params": slots, **found}),
        ("slot_race", ("available", "slots"), {"params": {**slots, "seconds": 3600}, **found}),
        (
            "slot_race",
            ("unavailable", "no_slot"),
            {"params": {**slots, "seconds": 0}, "note": "the slots are already gone"},
        ),
        ("no_calendar", ("unavailable", "no_calendar"), {}),
        ("desk_bounce", ("anomaly", "session_lost"), {}),
        ("module_closed", ("anomaly", "maintenance"), {}),
        ("link_disabled", ("unavailable", "closed"), {}),
        ("session_expired", ("anomaly", "session_lost"), {}),
        (
            "legend_only",
            ("anomaly", "unrecognized"),
            {"params": slots, "note": "step 3 shows; the calendar's only 'libre' is the legend"},
        ),
        ("layout_drift", ("anomaly", "unrecognized"), {}),
        # -- the AJAX week calendar (docs/platforms.md#legacy-booking-the-week-calendar) --
        (
            "slots",
            ("available", "slots"),
            {
                "params": {**slots, "calendar_endpoint": "script"},
                **found,
                "note": "the script assembles the endpoint: no full address in the page",
            },
        ),
        (
            "slots",
            ("available", "slots"),
            {
                "params": {**one_desk, "calendar_endpoint": "script"},
                **found,
                "note": "one desk, its planning id only in the script",
            },
        ),
        (
            "slots",
            ("available", "slots"),
            {
                "params": {**slots, "calendar_origin": "absolute"},
                **found,
                "note": "absolute offsets (days since an origin) computed by the script",
            },
        ),
        (
            "slots",
            ("available", "slots"),
            {"params": {**slots, "calendar_method": "post"}, **found, "note": "GET refused: 405"},
        ),
        (
            "slots",
            ("available", "slots"),
            {"params": {**one_desk, "calendar_delay": 1.5}, **found, "note": "a late table"},
        ),
        (
            "slots",
            ("anomaly", "overloaded"),
            {"params": {**slots, "calendar_status": 502}, "note": "the endpoint answers 502"},
        ),
        (
            "slots",
            ("available", "slots"),
            {
                "params": {"count": 3, "first_date": LEGACY_FAR.isoformat(timespec="minutes")},
                "expected_slot_count": 3,
                "expected_earliest_slot": iso(LEGACY_FAR),
                "note": "every week full, then free slots four weeks ahead",
            },
        ),
        (
            "slots",
            ("anomaly", "unrecognized"),
            {
                "params": {"count": 3, "first_date": LEGACY_BEYOND.isoformat(timespec="minutes")},
                "note": "slots beyond the six weeks read: none seen, never available",
            },
        ),
        (
            "english_header",
            ("available", "slots"),
            {
                "params": {
                    **slots,
                    "desk_slots": {"4411": 0, "4412": 3},
                    "calendar_origin": "absolute",
                    "calendar_method": "post",
                    "calendar_endpoint": "script",
                },
                **found,
                "note": "English header, absolute origin, POST only, slots on the second desk",
            },
        ),
        (
            "slots",
            ("anomaly", "unrecognized"),
            {
                "params": {**one_desk, "vanish_after": 1},
                "note": "the slots go after the first week's answer, before their week is read",
            },
        ),
        *_calendar_variants(one_desk),
    ]
    cases = []
    for index, (scenario, outcome, extra) in enumerate(rows):
        number = 1101 + index
        prefix = "/index.php" if index == 4 else ""  # one slots case under a path prefix
        path = f"{prefix}/booking/create/{number}"
        cases.append(make_case("legacy-booking", str(number), path, scenario, outcome, **extra))
    return cases
