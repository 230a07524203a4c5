"""Scenario switch: which behaviour each key (form id, démarche id, slug, "anef") gets.

A key is looked up most specific first: ``"<platform>:<key>"``, then ``"<key>"``; when
neither is set the platform's default scenario applies. Qualifying a key by platform is
only needed when two platforms share an id (e.g. legacy form 4401 and RDV Préfecture
démarche 4401 on the same imitation site).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from monitor.imitation.wire import Request, Response

#: Infrastructure faults every key accepts, whatever its platform.
FAULTS: frozenset[str] = frozenset(
    {
        "http_500",
        "http_502",
        "http_503",
        "http_504",
        "http_403",
        "http_404",
        "overloaded",
        "reset",
        "disconnect",
        "empty",
        "slow",
        "rate_limited",
        "rate_limit_then_502",
        "flaky",
    }
)
#: Hostile or broken answers (issue 12), faults too; heavy (a 100 MB page, a gzip bomb),
#: so kept out of the catalogue's every-platform matrix: tests/system/test_site_faults.py.
HOSTILE_FAULTS: frozenset[str] = frozenset(
    {"trickle", "huge", "gzip_bomb", "redirect_loop", "malformed", "wrong_charset"}
)
FAULTS = FAULTS | HOSTILE_FAULTS


@dataclass(frozen=True)
class Route:
    """Where a request landed: its platform, key lookup chain and captured path parts."""

    platform: str
    keys: tuple[str, ...]  #: most specific first; ``keys[0]`` is the key reported in logs
    prefix: str = ""  #: whatever came before the platform's own path (e.g. "/index.php")
    parts: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.keys[0] if self.keys else ""


@dataclass(frozen=True)
class Scenario:
    """The behaviour in force for a key, with its parameters and when it was set."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    since: float = field(default_factory=time.monotonic)  #: monotonic time it was set

    def elapsed(self) -> float:
        return time.monotonic() - self.since


class Platform(Protocol):
    """One imitated platform family."""

    name: str  #: the contract's platform name, e.g. "legacy-booking"
    scenarios: frozenset[str]  #: its own scenarios (faults come on top)
    default: str

    def route(self, request: Request) -> Route | None:
        """The route if this platform serves the request's path, else None."""

    def handle(self, request: Request, route: Route, scenario: Scenario) -> Response:
        """Answer a request under a scenario of ``self.scenarios``."""


class ScenarioBook:
    """Thread-safe key → scenario table, validated against the known scenario names."""

    def __init__(self, platforms: Iterable[Platform], defaults: Mapping[str, str] | None = None):
        self._platforms = {platform.name: platform for platform in platforms}
        self._defaults = {name: p.default for name, p in self._platforms.items()}
        self._lock = threading.Lock()
        self._table: dict[str, Scenario] = {}
        for platform_name, scenario in (defaults or {}).items():
            if platform_name not in self._platforms:
                raise ValueError(f"unknown platform {platform_name!r} in defaults")
            self._check(scenario, self._platforms[platform_name].scenarios)
            self._defaults[platform_name] = scenario

    @property
    def known(self) -> dict[str, list[str]]:
        """Scenario names per platform, faults included, for error messages and the admin API."""
        return {
            name: sorted(platform.scenarios | FAULTS) for name, platform in self._platforms.items()
        }

    def set(self, key: str, scenario: str, params: Mapping[str, Any] | None = None) -> Scenario:
        """Give ``key`` a scenario; raises ValueError if no platform knows the name."""
        if not isinstance(key, str) or not key:
            raise ValueError("key must be a non-empty string")
        platform_name, _, _ = key.rpartition(":")
        if platform_name in self._platforms:
            allowed = self._platforms[platform_name].scenarios
        else:
            allowed = frozenset().union(*(p.scenarios for p in self._platforms.values()))
        self._check(scenario, allowed)
        entry = Scenario(scenario, MappingProxyType(dict(params or {})))
        with self._lock:
            self._table[key] = entry
        return entry

    def clear(self) -> None:
        with self._lock:
            self._table.clear()

    def snapshot(self) -> dict[str, Scenario]:
        with self._lock:
            return dict(self._table)

    def resolve(self, route: Route) -> Scenario:
        """The scenario for a route: qualified key, plain key, then the platform default."""
        with self._lock:
            for key in route.keys:
                for candidate in (f"{route.platform}:{key}", key):
                    if candidate in self._table:
                        return self._table[candidate]
        return Scenario(self._defaults[route.platform], MappingProxyType({}), since=0.0)

    def default_of(self, platform_name: str) -> str:
        return self._defaults[platform_name]

    @staticmethod
    def _check(scenario: str, allowed: frozenset[str]) -> None:
        if scenario not in allowed and scenario not in FAULTS:
            names = ", ".join(sorted(allowed | FAULTS))
            raise ValueError(f"unknown scenario {scenario!r}; known: {names}")
