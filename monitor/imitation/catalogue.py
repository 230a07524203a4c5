"""Every imitation scenario with the outcome the monitor must report (SPEC.md "Outcomes").

A table for table-driven probe tests:

    for case in CATALOGUE:
        site.set_scenario(case.key, case.scenario, **case.params)
        outcome = probe(platform=case.platform, url=site.base_url + case.path, engine=...)
        assert (outcome.status, outcome.reason) == (case.expected_status, case.expected_reason)

Every case has its own key, so ``install(site)`` sets them all on one site at once.
``engines`` lists the engines the expectation holds for. Client-rendered pages
(``client_rendered``: RDV Préfecture landing and ``/cgu/``, ANEF) need the browser; with the
http engine they are an app shell that renders nothing, i.e. ``anomaly/empty_page``
(``expectation(case, "http")`` says so). Server-rendered pages and faults hold for both.

Decisions where SPEC leaves room:
- RDV Préfecture ``interstitial`` (403 "Vérifiez que vous êtes humain") is ``captcha``, not
  ``blocked``: SPEC lists "a 'prove you are human' challenge" under captcha, which is more
  specific than blocked.
- Démarches Simplifiées ``login_required`` (redirect to a sign-in page that does not show
  the démarche) is ``anomaly/unrecognized``: nothing on the page proves the form is open,
  and ``available`` needs a positive sign.
- ANEF ``login_wall`` is ``available/open``: the portal answers and shows its own sign-in
  route, which is how every user enters it.
- Faults whose effect depends on counting (``rate_limit_then_502``, ``flaky``) are listed
  with parameters that make them deterministic (``per_minute=0``, ``p=1.0``).
- ``slow`` uses a 30 s delay: the probe's timeout must be shorter (tests set ~2 s).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Protocol

from monitor.imitation.frdates import FIRST_SLOT, PARIS, iso, monday_of

BOTH = ("http", "browser")
BROWSER = ("browser",)
#: Monday 6 May 2030, 09:00 Paris: far enough ahead that no slot is ever in the past.
FIRST_DATE = "2030-05-06T09:00"
EARLIEST = "2030-05-06T09:00:00+02:00"


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
RDVSP_QUERY = (
    "departement=&motif_name_with_location_type="
    "renouvellement_de_recepisses_arrives_a_echeance-public_office&public_link_organisation_id="
)

#: Expected (status, reason) of each infrastructure fault, on any platform.
FAULT_OUTCOMES: Mapping[str, tuple[str, str, Mapping[str, Any]]] = MappingProxyType(
    {
        "http_502": ("anomaly", "overloaded", {}),
        "http_503": ("anomaly", "overloaded", {}),
        "http_504": ("anomaly", "overloaded", {}),
        "overloaded": ("anomaly", "overloaded", {}),
        "rate_limit_then_502": ("anomaly", "overloaded", {"per_minute": 0}),
        "flaky": ("anomaly", "overloaded", {"p": 1.0, "seed": 1}),
        "http_403": ("anomaly", "blocked", {}),
        "rate_limited": ("anomaly", "blocked", {"retry_after": 120}),
        "http_500": ("anomaly", "http_error", {}),
        "http_404": ("anomaly", "http_error", {}),
        "reset": ("anomaly", "connection", {}),
        "disconnect": ("anomaly", "connection", {}),
        "empty": ("anomaly", "empty_page", {}),
        "slow": ("anomaly", "timeout", {"delay": 30}),
    }
)


@dataclass(frozen=True)
class Case:
    """One scenario on one key, and what the monitor must conclude from it."""

    platform: str  #: SPEC platform name
    scenario: str
    params: Mapping[str, Any]
    expected_status: str
    expected_reason: str
    engines: tuple[str, ...]  #: engines for which the expectation holds
    path: str  #: path (and query) of the target URL, to append to ``site.base_url``
    key: str = ""  #: the key to give ``set_scenario``
    client_rendered: bool = False  #: the page only exists once a browser ran its script
    expected_slot_count: int | None = None
    expected_earliest_slot: str | None = None  #: ISO 8601 with offset
    note: str = field(default="", compare=False)

    @property
    def id(self) -> str:
        """A readable test id, e.g. ``legacy-booking/no_slot/1101``."""
        return f"{self.platform}/{self.scenario}/{self.key}"


class _ScenarioSetter(Protocol):
    def set_scenario(self, key: str, scenario: str, **params: Any) -> None: ...


def expectation(case: Case, engine: str) -> tuple[str, str]:
    """(status, reason) the monitor must report for ``case`` probed with ``engine``."""
    if engine in case.engines:
        return case.expected_status, case.expected_reason
    if engine == "http" and case.client_rendered:
        return "anomaly", "empty_page"
    raise ValueError(f"{case.id}: no expectation for engine {engine!r}")


def install(site: _ScenarioSetter, cases: Iterable[Case] | None = None) -> None:
    """Give every case's key its scenario on ``site``."""
    for case in CATALOGUE if cases is None else cases:
        site.set_scenario(case.key, case.scenario, **case.params)


def _case(
    platform: str,
    key: str,
    path: str,
    scenario: str,
    outcome: tuple[str, str],
    engines: tuple[str, ...] = BOTH,
    **extra: Any,
) -> Case:
    params = MappingProxyType(dict(extra.pop("params", {})))
    return Case(platform, scenario, params, outcome[0], outcome[1], engines, path, key, **extra)


def _legacy() -> list[Case]:
    slots = {"count": 3, "first_date": LEGACY_FIRST_DATE}
    found = {"expected_slot_count": 3, "expected_earliest_slot": LEGACY_EARLIEST}
    one_desk = {**slots, "desks": [4421]}
    rows: list[tuple[str, tuple[str, str], dict[str, Any]]] = [
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
        # -- the AJAX week calendar (PLATFORMS.md §1.1, §1.4) --
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
    ]
    cases = []
    for index, (scenario, outcome, extra) in enumerate(rows):
        number = 1101 + index
        prefix = "/index.php" if index == 4 else ""  # one slots case under a path prefix
        path = f"{prefix}/booking/create/{number}"
        cases.append(_case("legacy-booking", str(number), path, scenario, outcome, **extra))
    return cases


def _rdv_prefecture() -> list[Case]:
    rows: list[tuple[str, tuple[str, str], tuple[str, ...], bool]] = [
        ("captcha_wall", ("anomaly", "captcha"), BROWSER, True),
        ("chained_recaptcha_like_gate", ("anomaly", "captcha"), BROWSER, True),
        ("interstitial", ("anomaly", "captcha"), BOTH, False),
        ("spa_shell_only", ("anomaly", "empty_page"), BOTH, False),
        ("version_drift", ("anomaly", "unrecognized"), BROWSER, True),
        ("session_lost", ("anomaly", "session_lost"), BROWSER, True),
        ("maintenance", ("anomaly", "maintenance"), BOTH, False),
    ]
    return (
        [
            _case(
                "rdv-prefecture",
                str(n),
                f"/rdvpref/reservation/demarche/{n}/",
                scenario,
                outcome,
                engines,
                client_rendered=spa,
            )
            for n, (scenario, outcome, engines, spa) in enumerate(rows, 3701)
        ]
        + [
            _case(
                "rdv-prefecture",
                str(n),
                f"/rdvpref/reservation/demarche/{n}/",
                scenario,
                ("anomaly", "captcha"),
                BROWSER,
                client_rendered=True,
                params={"content_delay_ms": 800},
                note="the app draws its header first, the content 0.8 s later",
            )
            for n, scenario in ((3709, "captcha_wall"), (3710, "chained_recaptcha_like_gate"))
        ]
        + [
            # CAPTCHA_REJECTED (PLATFORMS.md §2.5): a link to /cgu/ after a wrong answer.
            _case(
                "rdv-prefecture",
                "3708",
                "/rdvpref/reservation/demarche/3708/cgu/?error=invalidCaptcha",
                "captcha_wall",
                ("anomaly", "captcha"),
                BROWSER,
                client_rendered=True,
                note="captcha rejected: ?error=invalidCaptcha",
            )
        ]
    )


def _others() -> list[Case]:
    found: dict[str, Any] = {"expected_slot_count": 3, "expected_earliest_slot": EARLIEST}
    return [
        _case(
            "rdv-service-public",
            "2401",
            f"/prendre_rdv?{RDVSP_QUERY}2401",
            "no_slot",
            ("unavailable", "no_slot"),
        ),
        _case(
            "rdv-service-public",
            "2402",
            f"/prendre_rdv?{RDVSP_QUERY}2402",
            "slots",
            ("available", "slots"),
            params={"count": 3, "first_date": FIRST_DATE},
            **found,
        ),
        _case(
            "demarches-simplifiees",
            "imitation-ouverte",
            "/commencer/imitation-ouverte",
            "open",
            ("available", "open"),
        ),
        _case(
            "demarches-simplifiees",
            "imitation-close",
            "/commencer/imitation-close",
            "closed",
            ("unavailable", "closed"),
        ),
        _case(
            "demarches-simplifiees",
            "imitation-connexion",
            "/commencer/imitation-connexion",
            "login_required",
            ("anomaly", "unrecognized"),
        ),
        _case(
            "anef",
            "anef/anef-up",
            "/anef-up/particuliers/",
            "up",
            ("available", "open"),
            BROWSER,
            client_rendered=True,
        ),
        _case(
            "anef",
            "anef/anef-late",
            "/anef-late/particuliers/",
            "up",
            ("available", "open"),
            BROWSER,
            client_rendered=True,
            params={"content_delay_ms": 800},
            note="the banner first, the home 0.8 s later",
        ),
        _case(
            "anef",
            "anef/anef-maintenance",
            "/anef-maintenance/particuliers/",
            "maintenance",
            ("anomaly", "maintenance"),
        ),
        _case(
            "anef",
            "anef/anef-login",
            "/anef-login/particuliers/",
            "login_wall",
            ("available", "open"),
            BROWSER,
            client_rendered=True,
        ),
        _case(
            "anef",
            "anef/anef-shell",
            "/anef-shell/particuliers/",
            "spa_shell_only",
            ("anomaly", "empty_page"),
        ),
    ]


def _faults() -> list[Case]:
    """Every fault on every platform, each on its own key."""
    cases = []
    for index, (fault, (status, reason, params)) in enumerate(FAULT_OUTCOMES.items()):
        legacy, demarche, organisation = 1151 + index, 3751 + index, 2451 + index
        slug = f"imitation-{fault.replace('_', '-')}"
        for platform, key, path in (
            ("legacy-booking", str(legacy), f"/booking/create/{legacy}"),
            ("rdv-prefecture", str(demarche), f"/rdvpref/reservation/demarche/{demarche}/"),
            ("rdv-service-public", str(organisation), f"/prendre_rdv?{RDVSP_QUERY}{organisation}"),
            ("demarches-simplifiees", slug, f"/commencer/{slug}"),
            ("anef", f"anef/{slug}", f"/{slug}/particuliers/"),
        ):
            cases.append(_case(platform, key, path, fault, (status, reason), params=params))
    return cases


CATALOGUE: tuple[Case, ...] = (*_legacy(), *_rdv_prefecture(), *_others(), *_faults())
