"""The imitation's request log: what politeness and timing tests count.

Every request (admin calls excepted) is recorded when it arrives, with how many requests
were in flight at that moment, counting itself, on the whole site and for its Host header;
its status and duration are filled in when it finishes.

Static assets (the legacy step images, ``/favicon.ico``) are logged with ``asset=True`` but
kept out of the in-flight counts and of ``max_in_flight``: a browser fetches them in
parallel on its own, while politeness is about the pages the monitor asks for.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the imitation saw it."""

    seq: int  #: arrival order, from 1, never reused (even after reset)
    monotonic: float  #: time.monotonic() at arrival
    wall: float  #: time.time() at arrival (UTC epoch seconds)
    method: str
    path: str  #: as requested, query string included
    host: str  #: the Host header ("127.0.0.1:8765"), "" if absent
    user_agent: str
    in_flight: int  #: requests in progress on the site at arrival, this one included
    in_flight_host: int  #: same, counting only requests with this Host header
    platform: str = ""  #: "" when no platform served the path
    key: str = ""
    scenario: str = ""
    asset: bool = False  #: a static asset a browser fetches by itself (not counted in flight)
    status: int | None = None  #: None while in flight, or when no response was sent
    duration: float | None = None  #: seconds, set when finished

    @property
    def hostname(self) -> str:
        """The Host header without its port."""
        return self.host.rsplit(":", 1)[0] if self.host.count(":") == 1 else self.host


class RequestLog:
    """Thread-safe log with in-flight counters that survive ``reset``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[int, LoggedRequest] = {}
        self._seq = 0
        self._in_flight = 0
        self._in_flight_by_host: dict[str, int] = {}

    def begin(
        self,
        *,
        method: str,
        path: str,
        host: str,
        user_agent: str,
        platform: str = "",
        key: str = "",
        scenario: str = "",
        asset: bool = False,
    ) -> int:
        """Record an arriving request; returns its ``seq`` for ``end``."""
        with self._lock:
            self._seq += 1
            if not asset:
                self._in_flight += 1
                self._in_flight_by_host[host] = self._in_flight_by_host.get(host, 0) + 1
            per_host = self._in_flight_by_host.get(host, 0)
            entry = LoggedRequest(
                seq=self._seq,
                monotonic=time.monotonic(),
                wall=time.time(),
                method=method,
                path=path,
                host=host,
                user_agent=user_agent,
                in_flight=self._in_flight,
                in_flight_host=per_host,
                platform=platform,
                key=key,
                scenario=scenario,
                asset=asset,
            )
            self._entries[entry.seq] = entry
            return entry.seq

    def end(self, seq: int, host: str, status: int | None, *, asset: bool = False) -> None:
        with self._lock:
            if not asset:
                self._in_flight -= 1
                self._in_flight_by_host[host] = self._in_flight_by_host.get(host, 1) - 1
            entry = self._entries.get(seq)
            if entry is not None:  # None: the log was reset meanwhile
                duration = time.monotonic() - entry.monotonic
                self._entries[seq] = dataclasses.replace(entry, status=status, duration=duration)

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries.values())

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()

    def max_in_flight(self, host: str | None = None) -> int:
        """Most requests in flight at once; for one host if given ("127.0.0.2" or with port)."""
        entries = [entry for entry in self.entries() if not entry.asset]
        if host is None:
            return max((entry.in_flight for entry in entries), default=0)
        return max(
            (e.in_flight_host for e in entries if host in (e.host, e.hostname)),
            default=0,
        )
