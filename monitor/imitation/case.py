"""One catalogue case: a scenario on a key of the imitation, and what the monitor must conclude.

See :mod:`monitor.imitation.catalogue` for the table of every case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

BOTH = ("http", "browser")
BROWSER = ("browser",)


@dataclass(frozen=True)
class Case:
    """One scenario on one key, and what the monitor must conclude from it."""

    platform: str  #: the contract's platform name
    scenario: str
    params: Mapping[str, Any]
    expected_status: str
    expected_reason: str
    engines: tuple[str, ...]  #: engines for which the expectation holds
    path: str  #: path (and query) of the target URL, to append to ``site.base_url``
    key: str = ""  #: the key to give ``set_scenario``
    client_rendered: bool = False  #: the page only exists once a browser ran its script
    #: What the http engine reports where it cannot: a page a script changes after load
    #: reads over HTTP as its HTML says.
    over_http: tuple[str, str] | None = None
    expected_slot_count: int | None = None
    expected_earliest_slot: str | None = None  #: ISO 8601 with offset
    note: str = field(default="", compare=False)

    @property
    def id(self) -> str:
        """A readable test id, e.g. ``legacy-booking/no_slot/1101``."""
        return f"{self.platform}/{self.scenario}/{self.key}"


def expectation(case: Case, engine: str) -> tuple[str, str]:
    """(status, reason) the monitor must report for ``case`` probed with ``engine``."""
    if engine in case.engines:
        return case.expected_status, case.expected_reason
    if engine == "http" and case.client_rendered:
        return "anomaly", "empty_page"
    if engine == "http" and case.over_http is not None:
        return case.over_http
    raise ValueError(f"{case.id}: no expectation for engine {engine!r}")


def make_case(
    platform: str,
    key: str,
    path: str,
    scenario: str,
    outcome: tuple[str, str],
    engines: tuple[str, ...] = BOTH,
    **extra: Any,
) -> Case:
    """A :class:`Case`; ``params`` in ``extra`` become the scenario's parameters."""
    params = MappingProxyType(dict(extra.pop("params", {})))
    return Case(platform, scenario, params, outcome[0], outcome[1], engines, path, key, **extra)
