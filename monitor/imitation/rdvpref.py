"""The national "RDV Préfecture" system, ``/rdvpref/reservation/demarche/<id>/``
(docs/platforms.md#rdv-prefecture, docs/platforms.md#the-local-imitation).

    GET  …/demarche/<id>/          landing (client-rendered): "Prendre un rendez-vous" → cgu/
    GET  …/demarche/<id>/cgu/      CGU + local fake CaptchEtat (client-rendered)
    POST …/demarche/<id>/cgu/      captchaUsercode + captchaId: right → 302 creneau/,
                                   wrong → 302 cgu/?error=invalidCaptcha
    GET  …/demarche/<id>/creneau/  needs the post-captcha session, else 302 cgu/;
                                   server-rendered slot list or "Aucun créneau disponible"
    POST …/demarche/<id>/creneau/  a chosen trhId → "Vos informations" (nothing beyond)
    GET  /simple-captcha-endpoint?get=image&c=captchaFR → {uuid, imageb64}
    POST /valider-captcha {uuid, code} → true | false

The captcha code is random, so nothing can pass it, unless a test gives the key
``params.captcha_answer``: every captcha of that key then has that code. The monitor itself
must never try. With a passed captcha, ``/creneau/`` shows ``params.slot_count`` (default 0)
slots from ``params.first_date``. The session cookie is ``JSESSIONID`` (claimed:
docs/platforms.md#rdv-prefecture-the-slot-page).

Scenarios: ``captcha_wall`` (default), ``chained_recaptcha_like_gate`` (a local
``div.g-recaptcha``-like checkbox page before the image captcha), ``interstitial`` (403
"Un instant…" / "Vérifiez que vous êtes humain", server-rendered, synthetic),
``spa_shell_only`` (the script renders nothing), ``version_drift`` (renamed classes and ids,
none of the known strings), ``session_lost`` (``cgu/`` redirects to the landing),
``maintenance`` (server-rendered, status 200). ``render_delay_ms`` (default 100) sets how
long the script waits before rendering.

Parameters for what real versions vary (all off by default, so the scenarios above keep
their meaning; tests/system/test_imitation_fidelity.py lists why each exists):

    content_delay_ms   > 0: the header renders first, the page content that much later
    client_routing     true: "Prendre un rendez-vous" changes route client-side (pushState,
                       no document load), as Vue Router does
    cookie_banner      "bar" | "modal": a tarteaucitron-like consent banner on the
                       client-rendered pages until the ``tarteaucitron`` cookie is set;
                       "modal" covers the page with a backdrop
    captcha_image      "url": the captcha ``img`` loads ``/simple-captcha-endpoint?…&t=<uuid>``
                       (image/png) instead of an inline base64 ``data:`` URL
    session_seconds    a solved captcha opens ``/creneau/`` for that long; then 302 cgu/
    variant            "nbsp" | "uppercase": typography of the empty ``/creneau/`` state
    status             ``interstitial``: 403 (default) or 503; ``maintenance``: 200 (default)
    rendering          ``maintenance``: "server" (default) | "client" (rendered by the app)
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

from monitor.imitation import rdvpref_pages as pages
from monitor.imitation import spa
from monitor.imitation.scenarios import Route, Scenario
from monitor.imitation.spa import Node
from monitor.imitation.wire import (
    Bounded,
    Request,
    Response,
    html_response,
    json_response,
    page,
    png,
    redirect,
)

NAME = "rdv-prefecture"
SCENARIOS = frozenset(
    {
        "captcha_wall",
        "chained_recaptcha_like_gate",
        "interstitial",
        "spa_shell_only",
        "version_drift",
        "session_lost",
        "maintenance",
    }
)
COOKIE = "JSESSIONID"
_DEMARCHE = re.compile(
    r"^(?P<prefix>.*?)/rdvpref/reservation/demarche/(?P<id>\d+)(?:/(?P<page>[a-z]+))?/?$"
)
_CAPTCHA_IMAGE = re.compile(r"/simple-captcha-endpoint$")
_CAPTCHA_CHECK = re.compile(r"/valider-captcha$")


@dataclass
class _Session:
    demarche: str = ""  #: the last démarche this session visited (for the captcha endpoint)
    #: démarche → monotonic time its captcha was solved
    passed: dict[str, float] = field(default_factory=dict)
    gate_passed: set[str] = field(default_factory=set)  #: first gate of the chained scenario


class RdvPrefecture:
    """RDV Préfecture; one instance per site (it owns sessions and issued captchas)."""

    name = NAME
    scenarios: frozenset[str] = SCENARIOS
    default = "captcha_wall"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: Bounded[str, _Session] = Bounded()
        self._captchas: Bounded[str, str] = Bounded()  # uuid -> expected code

    def route(self, request: Request) -> Route | None:
        if match := _DEMARCHE.match(request.path):
            parts = {"page": match["page"] or ""}
            return Route(NAME, (match["id"],), match["prefix"], parts)
        for kind, pattern in (("captcha_image", _CAPTCHA_IMAGE), ("captcha_check", _CAPTCHA_CHECK)):
            if pattern.search(request.path):
                sid = request.cookies.get(COOKIE, "")
                with self._lock:
                    demarche = self._sessions[sid].demarche if sid in self._sessions else ""
                parts = {"page": kind}
                if kind == "captcha_image" and request.query.get("t"):
                    parts["kind"] = "image"  # the image itself: logged as an asset
                return Route(NAME, (demarche,) if demarche else (), "", parts)
        return None

    def handle(self, request: Request, route: Route, scenario: Scenario) -> Response:
        name, sub = scenario.name, route.parts["page"]
        if sub == "captcha_image":
            if route.parts.get("kind") == "image":
                return self._image(request.query["t"])
            captcha_id, image = self._issue(scenario)
            return json_response({"uuid": captcha_id, "imageb64": image})
        if sub == "captcha_check":
            payload = request.json() if request.body else {}
            if not isinstance(payload, dict):
                return json_response(False)
            with self._lock:
                expected = self._captchas.get(str(payload.get("uuid", "")))
            code = str(payload.get("code", "")).upper()
            return json_response(expected is not None and code == expected.upper())
        if name == "interstitial":
            return pages.interstitial(int(scenario.params.get("status", 403)))
        if name == "maintenance":
            status = int(scenario.params.get("status", 200))
            if scenario.params.get("rendering") == "client":
                delay = int(scenario.params.get("render_delay_ms", 100))
                return html_response(pages.app(pages.maintenance_view(), delay), status)
            return html_response(pages.maintenance(), status)
        sid, session, fresh = self._session(request, route.key)
        response = self._page(request, route, scenario, session, sub)
        if fresh:
            response.headers.append(("Set-Cookie", f"{COOKIE}={sid}; Path=/; HttpOnly"))
        return response

    def _session(self, request: Request, demarche: str) -> tuple[str, _Session, bool]:
        sid = request.cookies.get(COOKIE, "")
        with self._lock:
            fresh = sid not in self._sessions
            if fresh:
                sid = secrets.token_hex(16)
                self._sessions[sid] = _Session()
            session = self._sessions[sid]
            session.demarche = demarche
        return sid, session, fresh

    def _issue(self, scenario: Scenario) -> tuple[str, str]:
        """A new captcha: uuid and base64 PNG; its code is unguessable unless a test set it."""
        answer = scenario.params.get("captcha_answer")
        code = str(answer) if answer is not None else secrets.token_hex(8).upper()
        captcha_id = str(uuid.uuid4())
        with self._lock:
            self._captchas[captcha_id] = code
        return captcha_id, base64.b64encode(self._png(captcha_id)).decode()

    @staticmethod
    def _png(captcha_id: str) -> bytes:
        return png(200, 70, seed=int(captcha_id.replace("-", "")[:4], 16))

    def _image(self, captcha_id: str) -> Response:
        """The captcha image by URL (the earlier variant): a PNG while the captcha is open."""
        with self._lock:
            known = captcha_id in self._captchas
        if not known:
            return html_response(page("Introuvable", "<h1>Image introuvable</h1>"), 404)
        return Response(body=self._png(captcha_id), content_type="image/png")

    def _view(
        self, request: Request, scenario: Scenario, nodes: list[Node], delay: int
    ) -> Response:
        """A client-rendered page with the realism parameters of the scenario applied."""
        params = scenario.params
        kind = str(params.get("cookie_banner") or "")
        banner = (
            pages.cookie_banner(kind)
            if kind and pages.CONSENT_COOKIE not in request.cookies
            else None
        )
        html = pages.app(
            nodes,
            delay,
            content_delay=int(params.get("content_delay_ms", 0)),
            client_routing=bool(params.get("client_routing", False)),
            banner=banner,
        )
        return html_response(html)

    def _page(
        self, request: Request, route: Route, scenario: Scenario, session: _Session, sub: str
    ) -> Response:
        base = f"{route.prefix}/rdvpref/reservation/demarche/{route.key}"
        delay = int(scenario.params.get("render_delay_ms", 100))
        if scenario.name == "spa_shell_only":
            return html_response(
                spa.shell(
                    title="RDV Préfecture",
                    mount="#q-app",
                    mount_markup=pages.MOUNT,
                    nodes=[],
                    delay_ms=delay,
                )
            )
        drift = scenario.name == "version_drift"
        if sub == "":
            view = pages.drifted_landing(base) if drift else pages.landing(base)
            return self._view(request, scenario, view, delay)
        if sub == "cgu":
            if scenario.name == "session_lost":
                return redirect(f"{base}/")
            if request.method == "POST":
                return self._submit_cgu(request, route, scenario, session, base)
            if (
                scenario.name == "chained_recaptcha_like_gate"
                and route.key not in session.gate_passed
            ):
                return self._view(request, scenario, pages.gate(base), delay)
            captcha_id, image = self._issue(scenario)
            rejected = request.query.get("error") == "invalidCaptcha"
            image_url = (
                f"{route.prefix}/simple-captcha-endpoint?get=image&c=captchaFR&t={captcha_id}"
                if scenario.params.get("captcha_image") == "url"
                else None
            )
            view = (
                pages.drifted_cgu(base)
                if drift
                else pages.cgu(base, captcha_id, image, rejected, image_url=image_url)
            )
            return self._view(request, scenario, view, delay)
        if sub == "creneau":
            if not self._open(session, route.key, scenario):
                return redirect(f"{base}/cgu/")
            if request.method == "POST" and request.form().get("trhId"):
                return html_response(pages.informations())
            return html_response(pages.creneau(base, route.key, scenario))
        return html_response(page("Page introuvable", "<h1>Page introuvable</h1>"), 404)

    def _submit_cgu(
        self, request: Request, route: Route, scenario: Scenario, session: _Session, base: str
    ) -> Response:
        form = request.form()
        if form.get("gate") == "1":  # the first gate of the chained scenario
            if form.get("g-recaptcha-response") == "on":
                session.gate_passed.add(route.key)
            return redirect(f"{base}/cgu/")
        with self._lock:
            expected = self._captchas.pop(form.get("captchaId", ""), None)
        if expected is not None and form.get("captchaUsercode", "").upper() == expected.upper():
            session.passed[route.key] = time.monotonic()
            return redirect(f"{base}/creneau/")
        return redirect(f"{base}/cgu/?error=invalidCaptcha")

    @staticmethod
    def _open(session: _Session, demarche: str, scenario: Scenario) -> bool:
        """Whether the session's solved captcha still opens ``/creneau/``
        (docs/platforms.md#rdv-prefecture-the-captcha: "for a
        while"); an expired one is forgotten, so the next visit starts at ``/cgu/``."""
        solved = session.passed.get(demarche)
        if solved is None:
            return False
        lifetime = scenario.params.get("session_seconds")
        if lifetime is not None and time.monotonic() - solved > float(lifetime):
            del session.passed[demarche]
            return False
        return True
