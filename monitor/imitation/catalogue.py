"""Every imitation scenario with the outcome the monitor must report (docs/contract.md#outcomes).

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

Decisions where the contract (docs/contract.md#outcomes) leaves room:
- RDV Préfecture ``interstitial`` (403 "Vérifiez que vous êtes humain") is ``captcha``, not
  ``blocked``: the contract lists "a 'prove you are human' challenge" under captcha, which is more
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
from types import MappingProxyType
from typing import Any, Protocol

from monitor.imitation.case import BOTH, BROWSER, Case, make_case
from monitor.imitation.legacy_cases import legacy_cases

#: Monday 6 May 2030, 09:00 Paris: far enough ahead that no slot is ever in the past.
FIRST_DATE = "2030-05-06T09:00"
EARLIEST = "2030-05-06T09:00:00+02:00"
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


class _ScenarioSetter(Protocol):
    def set_scenario(self, key: str, scenario: str, **params: Any) -> None: ...


def install(site: _ScenarioSetter, cases: Iterable[Case] | None = None) -> None:
    """Give every case's key its scenario on ``site``."""
    for case in CATALOGUE if cases is None else cases:
        site.set_scenario(case.key, case.scenario, **case.params)


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
            make_case(
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
            make_case(
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
            # captcha rejected (docs/platforms.md#rdv-prefecture-states-and-outcomes): a link
            # to /cgu/ after a wrong answer.
            make_case(
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
        make_case(
            "rdv-service-public",
            "2401",
            f"/prendre_rdv?{RDVSP_QUERY}2401",
            "no_slot",
            ("unavailable", "no_slot"),
        ),
        make_case(
            "rdv-service-public",
            "2402",
            f"/prendre_rdv?{RDVSP_QUERY}2402",
            "slots",
            ("available", "slots"),
            params={"count": 3, "first_date": FIRST_DATE},
            **found,
        ),
        make_case(
            "rdv-service-public",
            "2403",
            f"/prendre_rdv?{RDVSP_QUERY}2403",
            "slots",
            ("available", "slots"),
            BROWSER,
            over_http=("unavailable", "no_slot"),
            params={"count": 3, "first_date": FIRST_DATE, "late_ms": 300},
            note="says no slot until a fetch its script starts 0.3 s after load",
            **found,
        ),
        make_case(
            "demarches-simplifiees",
            "imitation-ouverte",
            "/commencer/imitation-ouverte",
            "open",
            ("available", "open"),
        ),
        make_case(
            "demarches-simplifiees",
            "imitation-close",
            "/commencer/imitation-close",
            "closed",
            ("unavailable", "closed"),
        ),
        make_case(
            "demarches-simplifiees",
            "imitation-connexion",
            "/commencer/imitation-connexion",
            "login_required",
            ("anomaly", "unrecognized"),
        ),
        make_case(
            "anef",
            "anef/anef-up",
            "/anef-up/particuliers/",
            "up",
            ("available", "open"),
            BROWSER,
            client_rendered=True,
        ),
        make_case(
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
        make_case(
            "anef",
            "anef/anef-maintenance",
            "/anef-maintenance/particuliers/",
            "maintenance",
            ("anomaly", "maintenance"),
        ),
        make_case(
            "anef",
            "anef/anef-login",
            "/anef-login/particuliers/",
            "login_wall",
            ("available", "open"),
            BROWSER,
            client_rendered=True,
        ),
        make_case(
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
            cases.append(make_case(platform, key, path, fault, (status, reason), params=params))
    return cases


CATALOGUE: tuple[Case, ...] = (*legacy_cases(), *_rdv_prefecture(), *_others(), *_faults())
