"""The operator console as a Starlette application (docs/contract.md#settings, ``console``).

What a person sees: the ``assist: true`` targets and their sessions (index), one target's
captcha as the monitor's browser has it, and the two forms that act through the desk (open
a session, answer a captcha). The console holds no state of its own beyond two cookies:
everything it shows comes from :class:`~monitor.assist.views.Desk`, every act goes to it.

Every request passes :class:`_Guard` first: unsafe requests from another origin get 403,
requests without a genuine login cookie get 401 (the page says how to get in; static files
and images too), ``?token=…`` logs in and sends the browser to the same page without it.
Every response carries the security headers (:data:`SECURITY_HEADERS`) and ``no-store``.
Pages are Jinja2 templates with autoescape on: a target's name or a reason is text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, tzinfo
from importlib.resources import files
from typing import Any, Final, TypeVar
from urllib.parse import parse_qs, quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.assist.views import (
    AnswerResult,
    Challenge,
    Desk,
    DeskRefusal,
    SessionState,
    SessionView,
)
from monitor.console.access import Access, LoginThrottle, cross_origin_refusal, name_problem
from monitor.console.wording import row
from monitor.printable import printable

__all__ = ["SECURITY_HEADERS", "build_console"]

log = logging.getLogger("monitor.console")

T = TypeVar("T")

LOGIN_COOKIE: Final = "console_login"
NAME_COOKIE: Final = "console_operator"
#: A login lasts this long; then the token is asked again.
LOGIN_DAYS: Final = 30
#: The largest form body read, in bytes (a code, a name, a token, the CSRF token).
FORM_LIMIT: Final = 4096
#: The longest code a person may type.
CODE_MAX: Final = 40
#: Seconds a form waits for the desk's act (opening, a code) before the person is shown a
#: page that follows it: under the politeness gate (15 s between two requests to a host by
#: default) an opening takes half a minute or more, longer than a proxy waits.
ACT_GRACE: Final = 3.0
#: Seconds between two refreshes of the index, and of a page waiting for the desk.
INDEX_REFRESH: Final = 30
WAIT_REFRESH: Final = 2
#: Captcha image types shown as they are; any other (SVG, HTML, …) is not served.
IMAGE_TYPES: Final = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif"}
)
AUDIO_TYPES: Final = frozenset(
    {"audio/wav", "audio/x-wav", "audio/wave", "audio/mpeg", "audio/ogg", "audio/webm",
     "audio/mp4", "audio/aac", "audio/flac"}
)  # fmt: skip

SECURITY_HEADERS: Final[tuple[tuple[str, str], ...]] = (
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self'; media-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
)
#: What a captcha image, audio or screenshot gets besides: it is bytes, never a document.
_MEDIA_CSP: Final = (b"content-security-policy", b"default-src 'none'; sandbox")


def build_console(
    desk: Desk,
    *,
    token: str,
    node: str,
    status_page_url: str | None,
    now: Callable[[], datetime],
    zone: tzinfo | None = None,
    act_grace: float = ACT_GRACE,
) -> Starlette:
    """The console's ASGI application over ``desk``.

    ``token`` is ``settings.console.token``; ``node`` this daemon's node name (shown on each
    page); ``status_page_url`` the public status page, linked when given; ``now`` the clock
    (UTC); ``zone`` the zone times are shown in (``settings.timezone``; Europe/Paris when
    not given); ``act_grace`` how long a form waits for the desk's act (:data:`ACT_GRACE`)."""
    console = _Console(
        desk, Access(token), node, status_page_url, now, zone or ZoneInfo("Europe/Paris")
    )
    console.act_grace = act_grace
    routes = [
        Route("/", console.index, methods=["GET"]),
        Route("/login", console.login, methods=["POST"]),
        Route("/sortir", console.logout, methods=["POST"]),
        Route("/operateur", console.operator_form, methods=["GET"]),
        Route("/operateur", console.operator_set, methods=["POST"]),
        Route("/ouvrir/{target_id:path}", console.open, methods=["POST"]),
        Route("/captcha/{target_id:path}", console.challenge_page, methods=["GET"]),
        Route("/code/{target_id:path}", console.answer, methods=["POST"]),
        Route("/image/{target_id:path}", console.image, methods=["GET"]),
        Route("/audio/{target_id:path}", console.audio, methods=["GET"]),
        Route("/capture/{target_id:path}", console.screenshot, methods=["GET"]),
        Route("/static/console.css", console.stylesheet, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: console.http_error},
    )
    app.add_middleware(_GuardMiddleware, console=console)
    return app


def target_path(prefix: str, target_id: str) -> str:
    """``/captcha/92/remise-titre``: a target's page, its id quoted segment by segment."""
    return f"/{prefix}/{quote(target_id, safe='/')}"


class _Console:
    """The pages and acts; one per application."""

    def __init__(
        self,
        desk: Desk,
        access: Access,
        node: str,
        status_page_url: str | None,
        now: Callable[[], datetime],
        zone: tzinfo,
    ) -> None:
        self.desk = desk
        #: the desk's acts still going on after their form was answered (kept referenced)
        self.acts: set[asyncio.Future[Any]] = set()
        self.act_grace = ACT_GRACE
        self.access = access
        self.throttle = LoginThrottle()
        self.node = node
        self.status_page_url = status_page_url
        self.now = now
        self.zone = zone
        self.env = Environment(
            loader=PackageLoader("monitor.console", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=_shown,
        )
        self.env.filters["path"] = target_path
        self.stylesheet_bytes = files("monitor.console").joinpath("static/console.css").read_bytes()

    # -- rendering ------------------------------------------------------------------------

    def render(
        self, request: Request | None, template: str, status: int = 200, **values: Any
    ) -> HTMLResponse:
        nonce = _nonce(request) if request is not None else None
        operator = self.operator(request) if request is not None and nonce else None
        context = {
            "node": self.node,
            "status_page_url": self.status_page_url,
            "operator": operator,
            "csrf": self.access.csrf_token(nonce) if nonce else "",
            "generated": self.now().astimezone(self.zone).strftime("%d/%m/%Y %H:%M"),
            "refresh": None,
            "message": None,
            **values,
        }
        body = self.env.get_template(template).render(context)
        return HTMLResponse(body, status_code=status)

    def refused_entry(self, message: str | None = None, status: int = 401) -> HTMLResponse:
        """The page every request without a login gets: how to get in, and a form."""
        return self.render(None, "login.html.j2", status=status, message=message)

    def operator(self, request: Request) -> str | None:
        nonce = _nonce(request)
        if nonce is None:
            return None
        return self.access.name_from_cookie(nonce, request.cookies.get(NAME_COOKIE))

    def session(self, target_id: str) -> SessionView:
        for view in self.desk.sessions():
            if view.target_id == target_id:
                return view
        raise HTTPException(404, "Cette démarche n'est pas suivie en session assistée.")

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return self.render(
            request, "message.html.j2", status=exc.status_code, title=_TITLES.get(
                exc.status_code, "Erreur"), message=exc.detail,
        )  # fmt: skip

    # -- forms ----------------------------------------------------------------------------

    async def form(self, request: Request, *, csrf: bool = True) -> Mapping[str, str]:
        """A url-encoded form of at most FORM_LIMIT bytes, its CSRF token checked."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            raise HTTPException(415, "Formulaire attendu (application/x-www-form-urlencoded).")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > FORM_LIMIT:
                raise HTTPException(413, "Formulaire trop long.")
        try:
            fields = parse_qs(
                body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                max_num_fields=8, errors="strict",
            )  # fmt: skip
        except (UnicodeDecodeError, ValueError):
            raise HTTPException(400, "Formulaire illisible.") from None
        values = {key: items[0] for key, items in fields.items()}
        if csrf:
            nonce = _nonce(request)
            if nonce is None or not self.access.csrf_matches(nonce, values.get("csrf")):
                raise HTTPException(
                    403, "Formulaire périmé ou venu d'ailleurs : rechargez la page et recommencez."
                )
        return values

    def login_response(self, request: Request, location: str) -> Response:
        response = RedirectResponse(location, status_code=303)
        response.set_cookie(
            LOGIN_COOKIE,
            self.access.new_login(),
            max_age=LOGIN_DAYS * 86400,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    # -- pages ----------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        if self.operator(request) is None:
            return RedirectResponse("/operateur", status_code=303)
        return self.index_page(request)

    def index_page(self, request: Request, message: str | None = None, status: int = 200
                   ) -> HTMLResponse:  # fmt: skip
        rows = [row(view, self.zone) for view in self.desk.sessions()]
        return self.render(
            request, "index.html.j2", status=status, refresh=INDEX_REFRESH, message=message,
            waiting=[r for r in rows if r.can_open], current=[r for r in rows if not r.can_open],
        )  # fmt: skip

    def token_refusal(self, offered: str) -> HTMLResponse | None:
        """The page refusing ``offered``, or None when it is the token."""
        if self.throttle.blocked():
            return self.refused_entry(
                "Trop de jetons faux ces dernières minutes : réessayez dans une minute.", 429
            )
        if self.access.token_matches(offered):
            return None
        self.throttle.failed()
        return self.refused_entry("Ce jeton n'est pas le bon.")

    async def login(self, request: Request) -> Response:
        values = await self.form(request, csrf=False)
        refused = self.token_refusal(values.get("token", ""))
        return refused or self.login_response(request, "/")

    async def logout(self, request: Request) -> Response:
        await self.form(request)
        response = self.refused_entry("Vous êtes sorti de la console.", status=200)
        response.delete_cookie(LOGIN_COOKIE, httponly=True, samesite="strict")
        response.delete_cookie(NAME_COOKIE, httponly=True, samesite="strict")
        return response

    async def operator_form(self, request: Request) -> Response:
        return self.render(request, "operator.html.j2", name=self.operator(request) or "")

    async def operator_set(self, request: Request) -> Response:
        values = await self.form(request)
        name = values.get("name", "").strip()
        problem = name_problem(name)
        if problem is not None:
            return self.render(request, "operator.html.j2", status=400, name=name, message=problem)
        response = RedirectResponse("/", status_code=303)
        nonce = _nonce(request)
        assert nonce is not None  # the guard let only a login through
        response.set_cookie(
            NAME_COOKIE,
            self.access.name_cookie(nonce, name),
            max_age=LOGIN_DAYS * 86400,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    def acting_operator(self, request: Request) -> str:
        operator = self.operator(request)
        if operator is None:
            raise HTTPException(403, "Indiquez d'abord votre nom (page « Votre nom »).")
        return operator

    async def open(self, request: Request) -> Response:
        target_id = request.path_params["target_id"]
        await self.form(request)
        operator = self.acting_operator(request)
        self.session(target_id)
        try:
            await self.followed(self.desk.open(target_id, operator), f"{target_id}: opening")
        except DeskRefusal as refusal:
            return self.index_page(request, message=str(refusal), status=409)
        # Opened, or still opening: the captcha page waits for it, refreshing itself.
        return RedirectResponse(target_path("captcha", target_id), status_code=303)

    async def challenge_page(self, request: Request) -> Response:
        target_id = request.path_params["target_id"]
        view = self.session(target_id)
        if self.operator(request) is None:
            return RedirectResponse("/operateur", status_code=303)
        challenge = self.desk.challenge(target_id)
        if challenge is None and view.state is SessionState.LIVE:
            return RedirectResponse("/", status_code=303)
        waiting = challenge is None and view.state in (
            SessionState.OPENING,
            SessionState.SUBMITTING,
        )
        return self.challenge_response(request, view, challenge, waiting=waiting)

    def challenge_response(
        self,
        request: Request,
        view: SessionView,
        challenge: Challenge | None,
        *,
        waiting: bool,
        message: str | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        return self.render(
            request,
            "challenge.html.j2",
            status=status,
            refresh=WAIT_REFRESH if waiting else None,
            message=message,
            target=row(view, self.zone),
            challenge=challenge,
            waiting=waiting,
            submitting=view.state is SessionState.SUBMITTING,
            image_shown=challenge is not None and _media_type(challenge.image_type, IMAGE_TYPES),
            audio_shown=challenge is not None
            and challenge.audio is not None
            and _media_type(challenge.audio_type, AUDIO_TYPES),
            code_max=CODE_MAX,
        )

    async def answer(self, request: Request) -> Response:
        target_id = request.path_params["target_id"]
        values = await self.form(request)
        operator = self.acting_operator(request)
        view = self.session(target_id)
        code = values.get("code", "").strip()
        problem = _code_problem(code)
        if problem is not None:
            challenge = self.desk.challenge(target_id)
            return self.challenge_response(
                request, view, challenge, waiting=False, message=problem, status=400
            )
        try:
            result = await self.followed(
                self.desk.answer(target_id, code, operator), f"{target_id}: a code"
            )
        except DeskRefusal as refusal:
            # Still a captcha to answer (the desk refused this code): stay on it.
            challenge = self.desk.challenge(target_id)
            if challenge is not None:
                return self.challenge_response(
                    request, self.session(target_id), challenge, waiting=False,
                    message=str(refusal), status=409,
                )  # fmt: skip
            return self.index_page(request, message=str(refusal), status=409)
        if result is None or result is AnswerResult.REJECTED:
            # Still submitting (the page follows it), or a new image to answer.
            return RedirectResponse(target_path("captcha", target_id), status_code=303)
        return RedirectResponse("/", status_code=303)

    async def followed(self, act: Awaitable[T], what: str) -> T | None:
        """``act``'s result if it ends within ``act_grace`` seconds (its DeskRefusal
        raised); else None, and the act goes on while the pages show its progress (a
        refusal then is logged, and the session's state says it)."""
        task = asyncio.ensure_future(act)
        done, _ = await asyncio.wait({task}, timeout=self.act_grace)
        if task in done:
            return task.result()
        self.acts.add(task)
        task.add_done_callback(lambda ended: self._act_ended(ended, what))
        return None

    def _act_ended(self, task: asyncio.Future[Any], what: str) -> None:
        self.acts.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, DeskRefusal):
            log.info("%s refused: %s", what, error)
        elif error is not None:
            log.error("%s failed: %r", what, error)

    # -- bytes ----------------------------------------------------------------------------

    def current_challenge(self, request: Request) -> Challenge:
        target_id = request.path_params["target_id"]
        self.session(target_id)
        challenge = self.desk.challenge(target_id)
        if challenge is None:
            raise HTTPException(404, "Aucun captcha n'attend sur cette démarche.")
        return challenge

    async def image(self, request: Request) -> Response:
        challenge = self.current_challenge(request)
        if not _media_type(challenge.image_type, IMAGE_TYPES):
            raise HTTPException(415, "Cette image a un format que la console ne montre pas.")
        return _media(challenge.image, challenge.image_type)

    async def audio(self, request: Request) -> Response:
        challenge = self.current_challenge(request)
        if challenge.audio is None or not _media_type(challenge.audio_type, AUDIO_TYPES):
            raise HTTPException(404, "Pas de version audio pour ce captcha.")
        assert challenge.audio_type is not None
        return _media(challenge.audio, challenge.audio_type)

    async def screenshot(self, request: Request) -> Response:
        return _media(self.current_challenge(request).screenshot, "image/png")

    async def stylesheet(self, request: Request) -> Response:
        return Response(self.stylesheet_bytes, media_type="text/css")


_TITLES = {
    400: "Demande incorrecte",
    403: "Refusé",
    404: "Introuvable",
    405: "Méthode non permise",
    409: "Impossible maintenant",
    413: "Trop long",
    429: "Trop d'essais",
    415: "Format refusé",
}


def _nonce(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("console_nonce")
    return value if isinstance(value, str) else None


def _shown(value: Any) -> Any:
    """Every value a template prints, without control or bidirectional characters."""
    if isinstance(value, Markup):
        return value
    return printable(value, one_line=True) if isinstance(value, str) else value


def _media_type(kind: str | None, allowed: frozenset[str]) -> bool:
    return kind is not None and kind.split(";")[0].strip().lower() in allowed


def _media(content: bytes, kind: str) -> Response:
    response = Response(content, media_type=kind.split(";")[0].strip().lower())
    response.headers["content-disposition"] = "inline"
    return response


def _same_page(path: str) -> str:
    """Where to go after ``?token=``: this path, never another host (``//host``)."""
    path = "/" + path.lstrip("/")
    return quote(path, safe="/-._~")


def _code_problem(code: str) -> str | None:
    if not code:
        return "Tapez le code de l'image."
    if len(code) > CODE_MAX:
        return f"Ce code a {len(code)} caractères : {CODE_MAX} au plus."
    if printable(code, one_line=True) != code:
        return "Ce code contient un caractère invisible : tapez seulement ce que montre l'image."
    return None


class _GuardMiddleware:
    """Security headers on every response; cross-origin refusal; the login check."""

    def __init__(self, app: ASGIApp, console: _Console) -> None:
        self.app = app
        self.console = console

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"cache-control"
                ]
                media = any(
                    name.lower() == b"content-type" and value.startswith((b"image/", b"audio/"))
                    for name, value in headers
                )
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS]
                if media:
                    headers = [h for h in headers if h[0] != b"content-security-policy"]
                    headers.append(_MEDIA_CSP)
                message = {**message, "headers": headers}
            await send(message)

        response = self.gate(Request(scope))
        if response is not None:
            await response(scope, receive, send_guarded)
            return
        started = False

        async def send_watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_guarded(message)

        try:
            await self.app(scope, receive, send_watched)
        except Exception:
            # A fault of ours or of the desk: logged with its path (never a query, which
            # may hold the token), and a page with the same headers as every other.
            log.exception("console: %s %s failed", scope["method"], scope["path"])
            if started:
                raise
            failed = self.console.render(
                None, "message.html.j2", status=500, title="Erreur de la console",
                message="La console a rencontré une erreur : réessayez, et voyez le journal "
                "du moniteur si elle revient.",
            )  # fmt: skip
            await failed(scope, receive, send_guarded)

    def gate(self, request: Request) -> Response | None:
        """The response that stops this request here, or None to let it through."""
        console = self.console
        refusal = cross_origin_refusal(
            request.method,
            request.headers.get("host"),
            request.headers.get("origin"),
            request.headers.get("sec-fetch-site"),
        )
        if refusal is not None:
            return console.render(
                None, "message.html.j2", status=403, title="Refusé",
                message=f"Refusé : {refusal}. Utilisez les formulaires de la console elle-même.",
            )  # fmt: skip
        if request.url.path == "/login" and request.method == "POST":
            return None
        offered = request.query_params.get("token")
        if offered is not None:
            refused = console.token_refusal(offered)
            if refused is not None:
                return refused
            # The same page, without the token in the address bar nor the history.
            return console.login_response(request, _same_page(request.url.path))
        nonce = console.access.login_nonce(request.cookies.get(LOGIN_COOKIE))
        if nonce is None:
            return console.refused_entry()
        request.scope.setdefault("state", {})["console_nonce"] = nonce
        return None
