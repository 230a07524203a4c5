"""Infrastructure faults any key can be given, whatever its platform
(docs/platforms.md#the-local-imitation).

Error pages are the plain reverse-proxy kind bots match on (``<h1>502 Bad Gateway</h1>``);
"Service surchargé" is the Préfecture de Police overload page, served with status 200
because that is how it fooled status-only checks.

Faults that sometimes let a request through (``slow``, ``rate_limit_then_502``, ``flaky``)
answer it with the platform's ``params["base"]`` scenario (default: the platform default),
which receives the same params, e.g. ``set_scenario("4401", "slow", delay=2, base="slots",
count=3)``.

Hostile or broken answers (issue 12): ``trickle`` (a page sent ``chunk`` bytes every
``every`` seconds, default 16 B/s), ``huge`` (``size`` MiB of page, default 100; ``declared``
false: no Content-Length), ``gzip_bomb`` (``size`` MiB of HTML gzipped to a few hundred KiB,
default 1024), ``redirect_loop`` (a 302 to the very URL asked), ``malformed`` (broken markup
and control bytes), ``wrong_charset`` (the platform's ``base`` page sent in Latin-1 while
the header says UTF-8).

``rate_limit_then_502`` counts per key by default; keys given the same ``pool`` share one
window, as a real proxy throttles an address whatever page it asks for
(docs/platforms.md#legacy-booking-captcha-and-throttling), so a
monitor polite per target but not per host trips it.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from monitor.imitation.scenarios import Scenario
from monitor.imitation.wire import Action, Response, h, page

_REASON_PHRASES = {
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

#: Defaults of the fault parameters, documented in one place.
DEFAULT_SLOW_DELAY = 60.0  #: seconds, longer than any sane client timeout
DEFAULT_RETRY_AFTER = 30  #: seconds, for ``rate_limited``
DEFAULT_PER_MINUTE = 4  #: ``rate_limit_then_502``: a monitor keeping a 15 s gap never trips it
DEFAULT_FLAKY_P = 0.3
DEFAULT_TRICKLE_EVERY = 1.0  #: seconds between two chunks of a ``trickle``
DEFAULT_TRICKLE_CHUNK = 16  #: bytes per chunk of a ``trickle``
DEFAULT_HUGE_MIB = 100
DEFAULT_BOMB_MIB = 1024
_MIB = 1024 * 1024


def proxy_error(status: int) -> Response:
    """An nginx-style error page, as the prefecture reverse proxies send."""
    title = f"{status} {_REASON_PHRASES.get(status, 'Error')}"
    body = (
        f"<html>\n<head><title>{h(title)}</title></head>\n<body>\n"
        f"<center><h1>{h(title)}</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n"
    )
    return Response(status=status, body=body)


def overloaded_page() -> Response:
    body = (
        '<div id="content"><h1>Service surchargé</h1>\n'
        "<p>Le nombre de connexions est trop important. "
        "Merci de vous reconnecter dans quelques instants.</p></div>"
    )
    return Response(status=200, body=page("Service surchargé", body))


@dataclass
class FaultPlan:
    """What the server does for a fault: answer ``response``, or wait then use the base."""

    response: Response | None = None
    delay: float = 0.0
    base: str | None = None  #: scenario of the platform to answer with; None = its default
    charset: str | None = None  #: re-encode the base answer so (keeping its header)


class FaultState:
    """Per-key counters the stateful faults need (rate windows, seeded random streams)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._streams: dict[tuple[str, float], random.Random] = {}

    def hit(self, key: str, window: float = 60.0) -> int:
        """Record a request for ``key``; return how many fell in the last ``window`` seconds."""
        now = time.monotonic()
        with self._lock:
            hits = self._windows.setdefault(key, deque())
            hits.append(now)
            while hits and hits[0] <= now - window:
                hits.popleft()
            return len(hits)

    def draw(self, key: str, scenario: Scenario, seed: int) -> float:
        """Next number of the seeded stream for this key; a new set_scenario restarts it."""
        with self._lock:
            stream = self._streams.setdefault((key, scenario.since), random.Random(seed))
            return stream.random()


def plan(scenario: Scenario, key: str, state: FaultState, *, location: str = "/") -> FaultPlan:
    """Turn a fault scenario into a plan; ``scenario.name`` must be in FAULTS.

    ``location`` is the path and query asked for (where ``redirect_loop`` sends back to).
    """
    params = scenario.params
    base = params.get("base")
    base = str(base) if base is not None else None
    name = scenario.name
    if name.startswith("http_"):
        return FaultPlan(proxy_error(int(name.removeprefix("http_"))))
    if name == "overloaded":
        return FaultPlan(overloaded_page())
    if name == "reset":
        return FaultPlan(Response(action=Action.RESET))
    if name == "disconnect":
        return FaultPlan(Response(action=Action.DISCONNECT))
    if name == "empty":
        return FaultPlan(Response(status=200, body=b""))
    if name == "slow":
        return FaultPlan(delay=float(params.get("delay", DEFAULT_SLOW_DELAY)), base=base)
    if name == "rate_limited":
        response = proxy_error(429)
        retry_after = int(params.get("retry_after", DEFAULT_RETRY_AFTER))
        response.headers.append(("Retry-After", str(retry_after)))
        return FaultPlan(response)
    if name == "rate_limit_then_502":
        per_minute = int(params.get("per_minute", DEFAULT_PER_MINUTE))
        pool = params.get("pool")
        window = f"pool:{pool}" if pool is not None else f"rate:{key}:{scenario.since}"
        if state.hit(window) > per_minute:
            return FaultPlan(proxy_error(502))
        return FaultPlan(base=base)
    hostile = _hostile(name, params, location)
    if hostile is not None:
        return hostile
    if name == "wrong_charset":
        return FaultPlan(base=base, charset="latin-1")
    if name == "flaky":
        p = float(params.get("p", DEFAULT_FLAKY_P))
        if state.draw(key, scenario, int(params.get("seed", 0))) < p:
            return FaultPlan(proxy_error(502))
        return FaultPlan(base=base)
    raise ValueError(f"not a fault scenario: {name!r}")


def _hostile(name: str, params: Mapping[str, Any], location: str) -> FaultPlan | None:
    """The plans of the hostile or broken answers; None for any other fault."""
    if name == "trickle":
        every = float(params.get("every", DEFAULT_TRICKLE_EVERY))
        chunk = int(params.get("chunk", DEFAULT_TRICKLE_CHUNK))
        return FaultPlan(Response(stream=lambda: _trickle(every, chunk)))
    if name == "huge":
        size = int(float(params.get("size", DEFAULT_HUGE_MIB)) * _MIB)
        declared = bool(params.get("declared", True))
        return FaultPlan(Response(stream=lambda: _huge(size), length=size if declared else None))
    if name == "gzip_bomb":
        bomb = gzip_bomb(int(params.get("size", DEFAULT_BOMB_MIB)))
        response = Response(body=bomb)
        response.headers.append(("Content-Encoding", "gzip"))
        return FaultPlan(response)
    if name == "redirect_loop":
        return FaultPlan(Response(status=302, headers=[("Location", location)]))
    if name == "malformed":
        return FaultPlan(Response(status=200, body=_MALFORMED))
    return None


def _trickle(every: float, chunk: int) -> Iterator[bytes]:
    body = page("Prendre rendez-vous", "<p>" + "Chargement… " * 400 + "</p>").encode()
    for start in range(0, len(body), chunk):
        yield body[start : start + chunk]
        time.sleep(every)


def _huge(size: int) -> Iterator[bytes]:
    head = b"<!doctype html><html><head><title>Rendez-vous</title></head><body>"
    filler = b"<p>Veuillez patienter.</p>\n" * (_MIB // 27 + 1)
    sent = 0
    for part in (head, *([filler] * (size // len(filler) + 1))):
        piece = part[: size - sent]
        if not piece:
            return
        sent += len(piece)
        yield piece


@functools.lru_cache(maxsize=2)
def gzip_bomb(mib: int) -> bytes:
    """``mib`` MiB of one HTML page gzipped (about 1 KiB per MiB): computed once."""
    gzip = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [gzip.compress(b"<!doctype html><html><body><p>")]
    blank = b" " * _MIB
    parts += [gzip.compress(blank) for _ in range(mib)]
    parts.append(gzip.compress(b"</p></body></html>"))
    parts.append(gzip.flush())
    return b"".join(parts)


#: Broken markup: unclosed and misnested tags, stray brackets, NUL and control bytes.
_MALFORMED = (
    b"<html><head><title>Rendez-vous</title><body <<div class=>\x00\x01\x02<p><table><td>"
    b"Bienvenue sur le service de prise de rendez-vous</div></table></td><h1>Rendez-vous "
    b"<b><i>en ligne</b></i><form action=><input name=> \xff\xfe\x80 <<<>>> &#xZZ; &nbsp "
    b"&amp <script>document.write('<p'</scr <!-- unclosed comment <h1>Bienvenue"
)


def recoded(response: Response, charset: str) -> Response:
    """``response`` with its text body encoded in ``charset``, its header left as it was."""
    if isinstance(response.body, bytes):
        return response
    body = response.body.encode(charset, errors="replace")
    return dataclasses.replace(response, body=body)
