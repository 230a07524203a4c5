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
    GET  /simple-captcha-endpoint?get=image&c=captchaFR&t=<uuid>  the image (PNG)
    GET  /simple-captcha-endpoint?get=sound&c=captchaFR&t=<uuid>  its audio version (WAV)
    POST /valider-captcha {uuid, code} → true | false

The real flow (docs/platforms.md#the-local-imitation): each ``/cgu/`` issues a new captcha
whose code is random (six characters drawn in its image, toned in its sound), checked
server side: a wrong code goes back to ``/cgu/?error=invalidCaptcha`` with a new image, a
right one opens ``/creneau/`` to this session (its ``JSESSIONID`` cookie, claimed:
docs/platforms.md#rdv-prefecture-the-slot-page) for ``session_seconds`` or
``session_reads`` reads, then sends it back (``lost_to``). A test stands in for the person
through the control side, never the product: ``GET /_imitation/captcha?key=<démarche id>``
(``ImitationSite.captcha_code``) gives the code of the latest captcha issued for that
démarche. ``params.captcha_answer`` (older tests) makes every captcha of the key have that
code. ``/creneau/`` shows ``params.slot_count`` (default 0) slots from ``params.first_date``;
the parameters are read on each request, so a test changes the slots between two reads.

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
    session_reads      a solved captcha opens ``/creneau/`` for that many GETs; then 302
    lost_to            where ``/creneau/`` sends a session it refuses (never solved, or
                       past either limit): "cgu" (default) | "root"
    audio              the audio version's markup: "src" (default: ``audio[src]``) |
                       "source" (``audio > source[type=audio/wav]``)
    card_dates         slot cards' dates: "time" (default: ``<time datetime>``) | "text"
                       (the French words only)
    dialog             on a slot card's click: "notice" (default: a Quasar-like dialog
                       ``#q-portal--dialog--1`` to dismiss) | "taken" (it says the slot was
                       just taken) | "none"
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

from monitor.imitation import captcha_media, spa
from monitor.imitation import rdvpref_pages as pages
from monitor.imitation.scenarios import Route, Scenario
from monitor.imitation.spa import Node
from monitor.imitation.wire import (
    Bounded,
    Request,
    Response,
    html_response,
    json_response,
    page,
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
    #: démarche → ``/creneau/`` reads since its captcha was solved
    reads: dict[str, int] = field(default_factory=dict)
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
        self._latest: Bounded[str, str] = Bounded()  # démarche -> its latest issued code

    def captcha_code(self, demarche: str) -> str | None:
        """The code of the latest captcha issued for ``demarche`` (None: none yet): the
        imitation's control side, standing in for the person who reads the image."""
        with self._lock:
            return self._latest.get(demarche)

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
                    # the image or sound itself: logged as an asset
                    parts["kind"] = "sound" if request.query.get("get") == "sound" else "image"
                return Route(NAME, (demarche,) if demarche else (), "", parts)
        return None

    def handle(self, request: Request, route: Route, scenario: Scenario) -> Response:
        name, sub = scenario.name, route.parts["page"]
        if sub == "captcha_image":
            if route.parts.get("kind") == "sound":
                return self._sound(request.query["t"])
            if route.parts.get("kind") == "image":
                return self._image(request.query["t"])
            captcha_id, image = self._issue(scenario, route.key)
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

    def _issue(self, scenario: Scenario, demarche: str) -> tuple[str, str]:
        """A new captcha for ``demarche``: uuid and base64 PNG; its code is unguessable
        unless a test set it (``captcha_answer``), and known to the control side."""
        answer = scenario.params.get("captcha_answer")
        code = (
            str(answer)
            if answer is not None
            else "".join(secrets.choice(captcha_media.ALPHABET) for _ in range(6))
        )
        captcha_id = str(uuid.uuid4())
        with self._lock:
            self._captchas[captcha_id] = code
            if demarche:
                self._latest[demarche] = code
        return captcha_id, base64.b64encode(self._png(captcha_id, code)).decode()

    @staticmethod
    def _png(captcha_id: str, code: str) -> bytes:
        return captcha_media.image(code, seed=int(captcha_id.replace("-", "")[:4], 16))

    def _image(self, captcha_id: str) -> Response:
        """The captcha image by URL (the earlier variant): a PNG while the captcha is open."""
        with self._lock:
            code = self._captchas.get(captcha_id)
        if code is None:
            return html_response(page("Introuvable", "<h1>Image introuvable</h1>"), 404)
        return Response(body=self._png(captcha_id, code), content_type="image/png")

    def _sound(self, captcha_id: str) -> Response:
        """The captcha's audio version: a WAV while the captcha is open."""
        with self._lock:
            code = self._captchas.get(captcha_id)
        if code is None:
            return html_response(page("Introuvable", "<h1>Son introuvable</h1>"), 404)
        return Response(body=captcha_media.sound(code), content_type="audio/wav")

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
            captcha_id, image = self._issue(scenario, route.key)
            rejected = request.query.get("error") == "invalidCaptcha"
            endpoint = f"{route.prefix}/simple-captcha-endpoint"
            image_url = (
                f"{endpoint}?get=image&c=captchaFR&t={captcha_id}"
                if scenario.params.get("captcha_image") == "url"
                else None
            )
            view = (
                pages.drifted_cgu(base)
                if drift
                else pages.cgu(
                    base,
                    captcha_id,
                    image,
                    rejected,
                    image_url=image_url,
                    sound_url=f"{endpoint}?get=sound&c=captchaFR&t={captcha_id}",
                    audio=str(scenario.params.get("audio") or "src"),
                )
            )
            return self._view(request, scenario, view, delay)
        if sub == "creneau":
            if not self._open(session, route.key, scenario, read=request.method == "GET"):
                lost_to = scenario.params.get("lost_to")
                return redirect(f"{base}/" if lost_to == "root" else f"{base}/cgu/")
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
            session.reads[route.key] = 0
            return redirect(f"{base}/creneau/")
        return redirect(f"{base}/cgu/?error=invalidCaptcha")

    def _open(self, session: _Session, demarche: str, scenario: Scenario, *, read: bool) -> bool:
        """Whether the session's solved captcha still opens ``/creneau/``
        (docs/platforms.md#rdv-prefecture-the-captcha: "for a while"): within
        ``session_seconds`` and, for a ``read`` (a GET), ``session_reads``. An expired one
        is forgotten, so the next visit starts at ``/cgu/``."""
        with self._lock:
            solved = session.passed.get(demarche)
            if solved is None:
                return False
            lifetime = scenario.params.get("session_seconds")
            expired = lifetime is not None and time.monotonic() - solved > float(lifetime)
            reads = session.reads.get(demarche, 0) + (1 if read else 0)
            limit = scenario.params.get("session_reads")
            if expired or (limit is not None and reads > int(limit)):
                del session.passed[demarche]
                session.reads.pop(demarche, None)
                return False
            session.reads[demarche] = reads
            return True
