"""Where the imitation still simplifies the real sites (docs/platforms.md), and tests of fixes.

Audit of the non-legacy imitation against docs/platforms.md (each part cites its heading). Each
item says whether it could change a classification (a real page classified differently from the
imitation's page): yes / no / unknown, why; then "fixed" (by a parameter, off by default,
so every catalogue scenario keeps its meaning; new scenario names would need catalogue
entries) or "left". The legacy module (docs/platforms.md#legacy-booking, Paris included) is
out of this audit.

RDV Préfecture (docs/platforms.md#rdv-prefecture)
- Captcha image only inline base64 (2025); the earlier variant loaded a separate image URL /
  blob (docs/platforms.md#rdv-prefecture-the-captcha, asked for in
  docs/platforms.md#the-local-imitation). unknown: a rule keyed on ``data:image`` would miss
  the earlier page. FIXED: ``captcha_image="url"`` (img → ``/simple-captcha-endpoint?…&t=``,
  image/png, logged as an asset).
- No tarteaucitron consent banner (``#tarteaucitronPersonalize2``,
  docs/platforms.md#rdv-prefecture-addresses-and-steps). yes: an overlay can intercept the
  browser's click on "Prendre un rendez-vous" (timeout instead of captcha) and adds text to the
  page. FIXED: ``cookie_banner="bar"|"modal"`` (modal = backdrop over the page), dismissed by
  either button, gone once the cookie is set.
- "Un instant…" interstitial only with 403; docs/platforms.md#the-local-imitation says 403/503.
  yes: a 503 challenge could read as ``overloaded`` instead of ``captcha``. FIXED:
  ``status=503``.
- The app renders its whole view at once; a real bundle renders its layout, then content after
  a data call (docs/platforms.md#mistakes-bots-make, 5: fixed waits). yes: a probe that
  classifies as soon as the mount is non-empty sees only the header. FIXED:
  ``content_delay_ms`` (header first).
- Links do full page loads; the real Vue/Quasar app changes route client-side (route names
  ``root``/``cgu``/``creneau`` read from the path by a userscript,
  docs/platforms.md#rdv-prefecture-addresses-and-steps) with no navigation event. yes: a
  browser probe waiting for a navigation after its click would time out, or read the landing
  still shown. FIXED: ``client_routing=True`` (fetch the target's view, ``history.pushState``,
  render in place).
- A solved captcha opened ``/creneau/`` for ever; the real session lasts "for a while"
  (docs/platforms.md#rdv-prefecture-the-captcha, one bot reloads every 10 min) and then
  ``/creneau/`` goes back to ``/cgu/`` (SESSION_LOST,
  docs/platforms.md#rdv-prefecture-states-and-outcomes). unknown: only reachable with a
  human-solved session (docs/platforms.md#politeness-and-captchas). FIXED: ``session_seconds``,
  and ``session_reads`` (a number of reads), each sending the session to ``cgu/`` or, with
  ``lost_to="root"``, to the démarche's root.
- Empty ``/creneau/`` state has one typography; whitespace/typography variants are asked for
  (docs/platforms.md#text-as-the-sites-write-it, docs/platforms.md#mistakes-bots-make, 4).
  unknown: the real string is as quoted, but exact matching would break on a re-render or CSS
  ``text-transform``. FIXED: ``variant="nbsp"|"uppercase"``.
- Maintenance page invented (docs/platforms.md has no RDV Préfecture maintenance text), served
  200 and server-rendered only. unknown: a 503 maintenance page must stay ``maintenance`` (more
  specific than ``overloaded``), an app-rendered one is invisible to http. FIXED: ``status``
  and ``rendering="client"``.
- ``/creneau/`` is server-rendered (cards and ``h2`` in the raw HTML); the real page may render
  them client-side with only ``"critere"`` in the HTML. unknown: only reachable past the
  captcha, which the monitor never passes. LEFT.
- Captcha POST is a form POST answered by 302; the real app may validate by XHR. no: the
  monitor never submits the captcha. LEFT.
- No audio element ``#BDC_CaptchaSoundAudio_captchaFR``; "Le code saisi est invalide." is
  invented. no: the captcha is recognised by the image/input ids and the query. FIXED for the
  audio (issue 27: the console shows it to a person): an ``audio`` element with a WAV from
  ``get=sound``, as ``audio[src]`` or ``audio > source`` (``audio="source"``). The sentence
  is LEFT.
- Slot cards carry ``<time datetime>`` and ids ``trhId_1..n``; the real label format and ids
  were not captured. no for status/reason (cards suffice); may change ``earliest_slot``.
  FIXED as far as the monitor reads dates both ways: ``card_dates="text"`` (French words
  only); the real format is still unknown.
- No Quasar dialog (``#q-portal--dialog--1``, "slot just taken") on slot pick (DIALOG). no: the
  monitor never picks a slot. FIXED (issue 27): a card's click opens it, ``dialog="notice"``
  (default), ``"taken"`` or ``"none"``.
- Chained gate only in the order reCAPTCHA-like → image captcha. no: both are captcha walls the
  monitor stops at. LEFT.
- ``JSESSIONID``, ``/api/…`` JSON endpoints, Cloudflare's exact page: claimed only
  (docs/platforms.md#rdv-prefecture-the-slot-page,
  docs/platforms.md#rdv-prefecture-the-captcha). no / unknown: nothing reliable to copy. LEFT.
- Inline view script instead of an external bundle. no: raw HTML is an empty shell either way.
  LEFT.

Paris Préfecture de Police (docs/platforms.md#legacy-booking-paris)
- Runs the legacy module (legacy.py, out of scope). "Service surchargé" and "403 Forbidden" are
  in faults.py; the real status of the overload page is not documented (served 200). unknown: a
  503 overload page would classify the same (``overloaded``). LEFT.

Val-de-Marne eAppointment (docs/platforms.md#platforms-not-covered)
- Not imitated at all (postcode form, DWR AJAX, no-slot = JavaScript ``alert()``, jQuery-UI
  datepicker, ``/captcha?``). yes for a ``generic`` target on it: an ``alert()`` leaves the DOM
  unchanged, the trap of docs/platforms.md#mistakes-bots-make, 1. LEFT: needs a new platform
  module and catalogue entries, outside the files this audit may touch; the contract has no
  eAppointment platform.

Démarches Simplifiées (docs/platforms.md#demarches-simplifiees)
- Closed message only with the straight apostrophe. unknown: as quoted, but DS strings use both
  forms and docs/platforms.md#the-local-imitation asks for both. FIXED:
  ``variant="typographic"|"nbsp"``.
- Closed page status (200), a closed démarche redirecting elsewhere, unknown slugs, domain move
  to demarche.numerique.gouv.fr: not in docs/platforms.md. unknown. LEFT.

RDV Service Public (docs/platforms.md#rdv-service-public)
- Only the search wording of the no-slot text; the same template has an invitation variant
  ("…correspondant à votre invitation n'a été trouvé." + "Toutes nos excuses pour cela."). yes:
  a rule matching only "à votre recherche" reads it as ``unrecognized`` instead of ``no_slot``.
  FIXED: ``wording="invitation"``.
- No typography variants of the sentence (docs/platforms.md#text-as-the-sites-write-it).
  unknown. FIXED: ``variant``.
- "Élargissez votre recherche" (seen in specs) absent. no: not a state anchor. LEFT.
- Slot markup and the public-link wizard steps (motif → lieu → créneau) were not captured; the
  imitation's slot list is its own. unknown. LEFT (no source).
- Rate limit (429, ``Retry-After``, ``RateLimit-*``, JSON) only on the API paths, per address:
  as documented. —

Others (Synbird, RDV360, ClicRDV, ANTS: docs/platforms.md#platforms-not-covered)
- Not imitated. no: out of scope, no prefecture target uses them. LEFT.

ANEF (docs/platforms.md#anef)
- "Site en maintenance" only server-rendered with 200; the source is an injected script reading
  the rendered ``h1``, so the real page may be app-rendered, and 5xx are common. yes:
  app-rendered it is invisible to http (``empty_page``), and a 503 must stay ``maintenance``.
  FIXED: ``rendering="client"``, ``status``.
- Whole view at once (as RDV Préfecture). yes. FIXED: ``content_delay_ms``.
- Home not routed to ``#/``; logged-in APIs and FUNCTIONAL_ERROR not served. no: public pages
  only; the monitor must never call those APIs. LEFT.

Infrastructure faults (docs/platforms.md#the-local-imitation)
- ``rate_limit_then_502`` counted per key; a real proxy throttles an address whatever it asks
  for. yes: a monitor polite per target but not per host would trip the real site
  (``overloaded``) and not the imitation. FIXED: ``pool`` (keys sharing a window).
- ``slow`` stalls before the headers only; a body that stalls after the headers is not
  modelled. unknown: read timeout vs partial body. LEFT: needs server.py/wire.py.
- Error pages are nginx defaults; real proxies may brand them. unknown. LEFT.
- docs/platforms.md#mistakes-bots-make, 2 ("500"/"502" inside ids): no imitation change needed,
  tests can pick such keys. —
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from monitor.imitation import ImitationSite

DEMARCHE = "/rdvpref/reservation/demarche/{}/"


@pytest.fixture
def site() -> Iterator[ImitationSite]:
    with ImitationSite() as running:
        yield running


@pytest.fixture
def client(site: ImitationSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url, timeout=10) as http:
        yield http


def view_of(response: httpx.Response) -> dict[str, object]:
    payload = re.search(r'var VIEW = "([A-Za-z0-9+/=]+)"', response.text)
    assert payload, "not an app shell"
    view: dict[str, object] = json.loads(base64.b64decode(payload[1]))
    return view


def text_of(view: dict[str, object]) -> str:
    return json.dumps(view, ensure_ascii=False)


def pass_captcha(client: httpx.Client, demarche: str) -> None:
    cgu = client.get(DEMARCHE.format(demarche) + "cgu/")
    captcha_id = re.search(r'"captchaId", "value": "([^"]+)"', text_of(view_of(cgu)))
    assert captcha_id
    passed = client.post(
        DEMARCHE.format(demarche) + "cgu/",
        data={"captchaId": captcha_id[1], "captchaUsercode": "XK42"},
    )
    assert passed.headers["Location"].endswith("/creneau/")


# -- RDV Préfecture ----------------------------------------------------------------------------


def test_defaults_are_unchanged(client: httpx.Client) -> None:
    view = view_of(client.get(DEMARCHE.format(3901)))
    assert "later" not in view and "clientRouting" not in view
    assert "tarteaucitron" not in text_of(view)
    cgu = text_of(view_of(client.get(DEMARCHE.format(3901) + "cgu/")))
    assert "data:image/png;base64," in cgu and "get=image" not in cgu


def test_captcha_image_by_url_serves_a_png_while_the_captcha_is_open(
    site: ImitationSite, client: httpx.Client
) -> None:
    site.set_scenario("3902", "captcha_wall", captcha_image="url")
    cgu = text_of(view_of(client.get(DEMARCHE.format(3902) + "cgu/")))
    src = re.search(r'"src": "(/simple-captcha-endpoint\?get=image&c=captchaFR&t=([^"]+))"', cgu)
    assert src and "data:image" not in cgu
    for needle in ("captchaFR_CaptchaImage", "captchaFormulaireExtInput", "code de sécurité"):
        assert needle in cgu
    image = client.get(src[1])
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert [r.asset for r in site.requests if "t=" in r.path] == [True]
    assert client.get("/simple-captcha-endpoint?get=image&c=captchaFR&t=nope").status_code == 404


@pytest.mark.parametrize("kind", ["bar", "modal"])
def test_cookie_banner_is_rendered_until_the_consent_cookie_is_set(
    site: ImitationSite, client: httpx.Client, kind: str
) -> None:
    site.set_scenario("3903", "captcha_wall", cookie_banner=kind)
    for path in ("", "cgu/"):
        view = text_of(view_of(client.get(DEMARCHE.format(3903) + path)))
        assert "tarteaucitronPersonalize2" in view and "Tout accepter" in view
        assert ("tarteaucitronBack" in view) == (kind == "modal")
        assert "data-dismiss" in view
    client.cookies.set("tarteaucitron", "!imitation=true")
    assert "tarteaucitron" not in text_of(view_of(client.get(DEMARCHE.format(3903))))


@pytest.mark.parametrize("status", [403, 503])
def test_interstitial_answers_403_or_503(
    site: ImitationSite, client: httpx.Client, status: int
) -> None:
    site.set_scenario("3904", "interstitial", **({"status": status} if status != 403 else {}))
    challenge = client.get(DEMARCHE.format(3904))
    assert challenge.status_code == status
    assert "Vérifiez que vous êtes humain" in challenge.text


def test_content_delay_renders_the_header_first(site: ImitationSite, client: httpx.Client) -> None:
    site.set_scenario("3905", "captcha_wall", content_delay_ms=800)
    view = view_of(client.get(DEMARCHE.format(3905) + "cgu/"))
    assert "fr-header" in text_of({"n": view["nodes"]})
    assert "captchaFormulaireExtInput" not in text_of({"n": view["nodes"]})
    assert "captchaFormulaireExtInput" in text_of({"n": view["later"]})
    assert view["laterDelay"] == 800


def test_session_seconds_expire_a_solved_captcha(site: ImitationSite, client: httpx.Client) -> None:
    site.set_scenario("3906", "captcha_wall", captcha_answer="XK42", session_seconds=0.3)
    pass_captcha(client, "3906")
    assert client.get(DEMARCHE.format(3906) + "creneau/").status_code == 200
    time.sleep(0.5)
    lost = client.get(DEMARCHE.format(3906) + "creneau/")
    assert lost.status_code == 302 and lost.headers["Location"].endswith("/3906/cgu/")
    site.set_scenario("3907", "captcha_wall", captcha_answer="XK42")  # default: no expiry
    pass_captcha(client, "3907")
    time.sleep(0.5)
    assert client.get(DEMARCHE.format(3907) + "creneau/").status_code == 200


@pytest.mark.parametrize("variant", ["nbsp", "uppercase"])
def test_empty_creneau_typography_variants_keep_the_words(
    site: ImitationSite, client: httpx.Client, variant: str
) -> None:
    site.set_scenario("3908", "captcha_wall", captcha_answer="XK42", variant=variant)
    pass_captcha(client, "3908")
    html = client.get(DEMARCHE.format(3908) + "creneau/").text
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split()).lower()
    assert "aucun créneau disponible veuillez réessayer ultérieurement." in text
    assert "<h2>Aucun créneau disponible</h2>" not in html
    assert '"datePremiereDispo": ""' in html


@pytest.mark.parametrize("rendering", ["server", "client"])
def test_rdvpref_maintenance_status_and_rendering(
    site: ImitationSite, client: httpx.Client, rendering: str
) -> None:
    site.set_scenario("3909", "maintenance", status=503, rendering=rendering)
    answer = client.get(DEMARCHE.format(3909))
    assert answer.status_code == 503
    if rendering == "client":
        assert "maintenance" not in answer.text
        assert "Service en maintenance" in text_of(view_of(answer))
    else:
        assert "<h1>Service en maintenance</h1>" in answer.text


def test_client_routing_is_declared_in_the_view(site: ImitationSite, client: httpx.Client) -> None:
    site.set_scenario("3910", "captcha_wall", client_routing=True)
    assert view_of(client.get(DEMARCHE.format(3910)))["clientRouting"] is True


# -- RDV Service Public, Démarches Simplifiées, ANEF, faults -----------------------------------


def normalised(text: str) -> str:
    return " ".join(text.replace("’", "'").split())


def test_rdvsp_invitation_wording_and_typography(site: ImitationSite, client: httpx.Client) -> None:
    url = "/prendre_rdv?departement=&public_link_organisation_id={}"
    site.set_scenario("2901", "no_slot", wording="invitation")
    invited = client.get(url.format(2901)).text
    assert "Malheureusement, aucun créneau correspondant à votre invitation n'a été trouvé." in (
        invited
    )
    assert "Toutes nos excuses pour cela." in invited and "votre recherche" not in invited
    sentence = "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé."
    for key, variant in (("2902", "typographic"), ("2903", "nbsp")):
        site.set_scenario(key, "no_slot", variant=variant)
        shown = client.get(url.format(key)).text
        assert sentence not in shown and sentence in normalised(shown)
    assert sentence in client.get(url.format(2904)).text  # default unchanged


def test_ds_closed_typography_variants(site: ImitationSite, client: httpx.Client) -> None:
    sentence = "Cette démarche en ligne a été close, il n'est plus possible de déposer de dossier."
    for slug, variant in (("fid-typo", "typographic"), ("fid-nbsp", "nbsp")):
        site.set_scenario(slug, "closed", variant=variant)
        shown = client.get(f"/commencer/{slug}").text
        assert sentence not in shown and sentence in normalised(shown)


@pytest.mark.parametrize("rendering", ["server", "client"])
def test_anef_maintenance_status_and_rendering(
    site: ImitationSite, client: httpx.Client, rendering: str
) -> None:
    site.set_scenario("anef/fid", "maintenance", status=503, rendering=rendering)
    answer = client.get("/fid/particuliers/")
    assert answer.status_code == 503
    if rendering == "client":
        assert "<app-root></app-root>" in answer.text and "Site en maintenance" not in answer.text
        assert "Site en maintenance" in text_of(view_of(answer))
    else:
        assert "<h1>Site en maintenance</h1>" in answer.text
    site.set_scenario("anef/fid2", "up", content_delay_ms=500)
    view = view_of(client.get("/fid2/particuliers/"))
    assert len(view["nodes"]) == 1 and "p-tabview" in text_of({"n": view["later"]})  # type: ignore[arg-type]


def test_rate_limit_pool_is_shared_by_keys(site: ImitationSite, client: httpx.Client) -> None:
    for key in ("2911", "2912"):
        site.set_scenario(key, "rate_limit_then_502", per_minute=2, pool="host")
    site.set_scenario("2913", "rate_limit_then_502", per_minute=2)
    url = "/prendre_rdv?public_link_organisation_id={}"
    statuses = [client.get(url.format(k)).status_code for k in ("2911", "2912", "2911", "2912")]
    assert statuses == [200, 200, 502, 502]
    assert [client.get(url.format(2913)).status_code for _ in range(3)] == [200, 200, 502]


# -- in a real browser -------------------------------------------------------------------------


@pytest.mark.browser
def test_a_browser_sees_the_routing_banner_staging_and_image_url(
    site: ImitationSite, chromium_path: str
) -> None:
    from playwright.sync_api import sync_playwright

    site.set_scenario(
        "3920",
        "captcha_wall",
        client_routing=True,
        cookie_banner="modal",
        content_delay_ms=600,
        captcha_image="url",
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path)
        try:
            page = browser.new_page()
            page.goto(site.url(DEMARCHE.format(3920)))
            page.wait_for_selector("#tarteaucitronBack")
            assert page.query_selector("a.q-btn.bg-primary") is None  # content comes later
            page.wait_for_selector("a.q-btn.bg-primary")
            with pytest.raises(Exception, match="intercepts pointer events"):
                page.click("a.q-btn.bg-primary", timeout=1000)
            page.click("#tarteaucitronPersonalize2")
            assert page.query_selector("#tarteaucitronRoot") is None
            page.evaluate("window.__same_document = true")
            page.click("a.q-btn.bg-primary")
            page.wait_for_selector("#captchaFormulaireExtInput")
            assert page.url.endswith("/3920/cgu/")
            assert page.evaluate("window.__same_document") is True  # no document load
            page.wait_for_function("document.querySelector('.captcha img').naturalWidth === 200")
            assert "tarteaucitron=" in page.evaluate("document.cookie")
            page.reload()
            page.wait_for_selector("#captchaFormulaireExtInput")
            assert page.query_selector("#tarteaucitronRoot") is None
        finally:
            browser.close()
