"""Benchmark the probe engines against the bare floor and against what hobby bots do.

    make bench-probes      # or: .venv/bin/python bench/probes.py [--targets N] [--rounds R]

Every approach probes the same N targets on the local imitation (``python -m
monitor.imitation`` in its own process, on 127.0.0.1): half legacy-booking forms (two desks
each, so six page loads a probe: GET the conditions, POST them, POST a desk, twice; the
"no slot" page) and half rdv-service-public links (one page load, "no slot"), with
``--concurrency`` probes at once (4: the browser engine's default ``max_contexts``).

Browser (issue 13 item 1):
  engine  the daemon's own path, ``build_daemon(...).runner.run(target, slot)``: probe claim,
          politeness gate, Playwright with Debian's Chromium (one browser, a context per
          probe), classification, evidence (HTML + full-page screenshot under their
          SHA-256), the outcome row with its chain in SQLite
  engine, <switch>
          the same with one per-step cost switched off for its rounds (``--switches``, from
          ``SWITCHES``: the quiet windows, the per-step content() read, the cookie banner
          click, the gate's CDP Fetch pauses): what that cost is worth. Bench knobs, not
          settings: each is unsafe for the daemon (the reason is in its docstring). The
          "before: …" switches put back an earlier, safe version of a step instead: the
          before/after of a change in one run
  floor   a bare Playwright loop: one browser, a fresh context per probe, the same page
          loads (goto, check, click), nothing read or kept
  floor + content, screenshot, networkidle wait
          the floor doing what the engine does besides loading: after each load it waits
          for the network to go quiet (Playwright's "networkidle": 500 ms without a
          request, at most 1.5 s), then reads each final page's HTML (one per desk, as the
          engine keeps) and takes a full-page screenshot (kept nowhere)
  same-work floor
          the same, each final page's HTML and screenshot written under its SHA-256 with
          the probe's row and hash chain in SQLite (``same_work.Keeper``)
  bots    a fresh Chromium launched and closed for every probe, the same page loads

HTTP (item 2):
  engine  the same daemon path with the httpx engine (classification, evidence, row)
  bare    an ``httpx.AsyncClient`` per probe doing the same requests, nothing parsed
  same-work loop
          the bare loop parsing the final page once, writing it under its digest with a row
  engine, <switch>
          the engine with a cost removed in the round of issue 30 item 3 put back
          (``--http-switches``, from ``HTTP_SWITCHES``): before and after in one run
  ``--cprofile FILE`` profiles the http rounds, every thread on its own CPU clock

Politeness does not bound the runs: the config sets ``per_host_concurrency`` to the
concurrency and ``per_host_min_gap`` to 0 s, so the gate lets ``--concurrency`` probes
through at once, the same limit the baselines get from a semaphore.

Rounds are interleaved (engine, floor, bots; the order rotates each round) after one
warm-up round each; the figures are medians over rounds of probes per second, CPU
seconds per probe (this process and its descendants: Playwright's driver and Chromium),
and evidence bytes per probe; each ratio compares with the baseline of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import ctypes
import json
import logging
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from playwright.async_api import Browser, Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from selectolax.lexbor import LexborHTMLParser

sys.path.insert(0, str(Path(__file__).resolve().parent))
import proctree
from same_work import Keeper

from monitor.probes.browser import VIEWPORT
from monitor.probes.chromium import find_chromium

#: The Chromium the daemon would pick ($MONITOR_BROWSER first): every approach runs on it.
CHROMIUM = find_chromium(None)
DESKS = (4411, 4412)
#: The same-work floors (issue 30 item 4): the bare loops also keeping what the engine keeps.
SAME_WORK_BROWSER = "same-work floor: + HTML and screenshot written with digests, a row"
SAME_WORK_HTTP = "same-work floor: + parse, page written with its digest, a row"
RDVSP_QUERY = (
    "departement=&motif_name_with_location_type="
    "renouvellement_de_recepisses_arrives_a_echeance-public_office&public_link_organisation_id="
)


@contextlib.contextmanager
def imitation() -> Iterator[str]:
    """The imitation in its own process; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor.imitation", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://"), base_url
        yield base_url
    finally:
        process.terminate()
        process.wait()


def targets(base_url: str, count: int, engine: str) -> list[dict[str, Any]]:
    """``count`` targets, legacy-booking and rdv-service-public alternately."""
    found = []
    for number in range(count):
        if number % 2 == 0:
            platform, url = "legacy-booking", f"{base_url}/booking/create/{7000 + number}"
        else:
            platform, url = (
                "rdv-service-public",
                f"{base_url}/prendre_rdv?{RDVSP_QUERY}{8000 + number}",
            )
        found.append(
            {
                "id": f"t{number:04d}",
                "name": f"t{number}",
                "platform": platform,
                "url": url,
                "engine": engine,
            }
        )
    return found


def write_config(
    directory: Path,
    targets_: list[dict[str, Any]],
    *,
    concurrency: int,
    channels: list[Any] | None = None,
) -> Path:
    """A prefectures.yaml for the daemon on ``targets_`` with politeness out of the way."""
    config = {
        "version": 1,
        "settings": {
            "database": f"sqlite:///{directory / 'monitor.db'}",
            "evidence_dir": str(directory / "evidence"),
            "user_agent": "prefecture-monitor/bench (+https://example.invalid)",
            "schedule": {"interval": "15m", "jitter": "0%"},
            "politeness": {"per_host_concurrency": concurrency, "per_host_min_gap": "0s"},
            # Above the default 45 s: on a machine shared by other jobs (load 20-40 on two
            # cores) a six-page probe may take longer; a timeout would end it early.
            "probe_timeout": "120s",
            "connectivity_check": [],
            "browser": {"executable_path": CHROMIUM, "max_contexts": concurrency},
        },
        "channels": channels or [],
        "prefectures": [{"id": "b", "name": "Préfecture de banc", "targets": targets_}],
    }
    path = directory / "prefectures.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


def directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# --- the approaches: each is an async context yielding "probe every target once" ---------

Round = Callable[[], Awaitable[None]]
#: Outcomes of the engine other than the expected unavailable/no_slot, by status/reason.
UNEXPECTED: dict[str, int] = {}


# --- the browser engine's per-step costs, switched off one at a time (issue 30 item 2) ---
#
# Each switch patches the engine's modules for its approach's rounds only and puts them back
# after: bench knobs, never settings. Each is unsafe for the daemon (the reason is given);
# what it measures is what that cost is worth.


@contextlib.contextmanager
def _patched(owner: Any, **values: Any) -> Iterator[None]:
    saved = {name: getattr(owner, name) for name in values}
    for name, value in values.items():
        setattr(owner, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(owner, name, value)


@contextlib.contextmanager
def quiet_windows_off() -> Iterator[None]:
    """The session's two quiet windows at 0: only requests in flight waited for (a fetch a
    timer starts after load would be missed)."""
    from monitor.probes import _browser_session as session

    with _patched(session, QUIET_AFTER_STEP=0.0, QUIET_BEFORE_EVIDENCE=0.0):
        yield


@contextlib.contextmanager
def step_reads_off() -> Iterator[None]:
    """No ``content()`` read after a step: the HTML of the same step of the same URL read
    once (in the warm-up), then reused (the imitation's pages do not change; a real site's
    would be missed). The evidence's own read before the screenshot stays."""
    from monitor.probes import _browser_session as session

    seen: dict[tuple[str, int], str] = {}
    capture = session.BrowserSession._capture

    async def settled(self: Any) -> Any:
        await self._activity.quiet(session.QUIET_AFTER_STEP, limit=session.SETTLE_SECONDS)
        url = self._page.url
        step = self._bench_steps = getattr(self, "_bench_steps", 0) + 1
        key = (url, step)
        if key not in seen:
            seen[key] = (await capture(self))[0].html
        snapshot = session.PageSnapshot(
            url=self._navigation.url or url,
            final_url=url,
            http_status=self._navigation.status,
            html=seen[key],
            retry_after=self._navigation.retry_after,
        )
        self._snapshot = snapshot
        self._read_at = (self._steps, self._activity.moves)
        return snapshot

    with _patched(session.BrowserSession, _settled=settled):
        yield


@contextlib.contextmanager
def cookie_banner_off() -> Iterator[None]:
    """The legacy flow never clicks the cookie banner (on a site where it covers the form,
    the form's controls could not be clicked)."""
    from monitor.platforms import legacy_booking

    with _patched(legacy_booking, COOKIE_ACCEPT="#no-such-banner a"):
        yield


@contextlib.contextmanager
def fetch_pauses_off() -> Iterator[None]:
    """No request paused over CDP ``Fetch``: the gate, the destination rules and the size
    cap announced in headers are all skipped (unsafe: redirects off the public web would
    be followed). A main-frame document's start is taken from ``Network`` events instead."""
    from monitor.probes import _page_gate

    async def enable(self: Any) -> None:
        def started(event: dict[str, Any]) -> None:
            if event.get("type") == "Document" and event.get("frameId") == self._main_frame_id:
                self._on_main_document()

        self._cdp.on("Network.requestWillBeSent", started)
        self._cdp.on("Network.responseReceived", self._on_document_answer)
        self._cdp.on("Network.dataReceived", self._on_document_data)
        await self._cdp.send(
            "Network.enable", {"maxTotalBufferSize": 0, "maxResourceBufferSize": 0}
        )

    with _patched(_page_gate.PageGate, enable=enable):
        yield


@contextlib.contextmanager
def answer_pauses_off() -> Iterator[None]:
    """Documents paused at their request only, not again at their answer's headers (unsafe:
    a redirect Chromium will not follow, to ``javascript:`` or ``file:``, is no longer named,
    and a page announcing more than the cap is read until its bytes are counted past it)."""
    with _gated_only("requestStage", "Request"):
        yield


@contextlib.contextmanager
def documents_only_paused() -> Iterator[None]:
    """Only documents paused (at their request and answer), not the calls scripts make
    (unsafe: a page's XHR and ``fetch`` calls to the site skip the politeness gate and the
    destination rules): whether Chromium's interception of sub-resources is what costs."""
    with _gated_only("resourceType", "Document"):
        yield


@contextlib.contextmanager
def _gated_only(field: str, value: str) -> Iterator[None]:
    """The gate's ``Fetch`` patterns reduced to those whose ``field`` is ``value``."""
    from monitor.probes import _page_gate

    gated = [pattern for pattern in _page_gate._GATED if pattern[field] == value]
    with _patched(_page_gate, _GATED=gated):
        yield


@contextlib.contextmanager
def small_viewport() -> Iterator[None]:
    """The engine at Playwright's default 1280 × 720 instead of its 1280 × 900 (which the
    floors use too): what the taller screen costs (its screenshots have 25 % more pixels).
    Unsafe: evidence of a different size from every earlier attempt's."""
    from monitor.probes import browser

    with _patched(browser, VIEWPORT={"width": 1280, "height": 720}):
        yield


@contextlib.contextmanager
def old_reads() -> Iterator[None]:
    """The reads as they were before this branch (safe; for before/after in one run): a new
    isolated world for every read, and the final page read again for the evidence (its
    HTML, then its size in a second call) although the flow read it a moment before."""
    from monitor.probes import _browser_session as session
    from monitor.probes import _page_read

    async def call(self: Any, function: str, *args: object) -> object:
        self._world = None
        return await call_in_world(self, function, *args)

    async def evidence(self: Any, *, reuse: bool = False) -> Any:
        return await evidence_as_now(self, reuse=False)

    async def html_and_size(self: Any) -> Any:
        return await self.html(), _page_read._size(await self._call(_page_read._SIZE))

    call_in_world = _page_read.PageReader._call
    evidence_as_now = session.BrowserSession._evidence
    with (
        _patched(_page_read.PageReader, _call=call, html_and_size=html_and_size),
        _patched(session.BrowserSession, _evidence=evidence),
    ):
        yield


@contextlib.contextmanager
def old_navigation_events() -> Iterator[None]:
    """Navigations followed as before this branch (safe; for before/after in one run):
    Playwright's ``response`` and ``requestfailed`` page events, whose subscription makes
    the driver send a request and a response object for every sub-resource."""
    from playwright.async_api import Request, Response

    from monitor.probes import _navigation

    def is_main(self: Any, request: Request) -> bool:
        try:
            return request.is_navigation_request() and request.frame == self._page.main_frame
        except Exception:
            return False  # a request of a frame that is already gone

    def on_response(self: Any, response: Response) -> None:
        if is_main(self, response.request):
            self.record(response)

    def on_request_failed(self: Any, request: Request) -> None:
        if not is_main(self, request):
            return
        failure = request.failure or ""
        if "ERR_ABORTED" not in failure:
            self.failure = (failure, request.url)
        self.done.set()

    def watch(self: Any) -> None:
        self._page.on("response", lambda response: on_response(self, response))
        self._page.on("requestfailed", lambda request: on_request_failed(self, request))
        self._page.on("load", self._on_load)

    with _patched(_navigation.Navigation, watch=watch):
        yield


@contextlib.contextmanager
def old_event_wrapper() -> Iterator[None]:
    """DevTools events through Playwright's public ``CDPSession.on`` as before this branch
    (safe; for before/after in one run): each listener's call deep-copies the event's
    parameters and inspects the listener's signature."""
    from monitor.probes import _devtools

    def on(self: Any, method: str, handler: Any) -> None:
        self._cdp.on(method, handler)

    with _patched(_devtools.DevTools, on=on):
        yield


@contextlib.contextmanager
def before_all() -> Iterator[None]:
    """Every "before: …" switch at once: the engine as it was before this branch."""
    with old_reads(), old_navigation_events(), old_event_wrapper(), old_form_fields():
        yield


@contextlib.contextmanager
def old_form_fields() -> Iterator[None]:
    """A field's presence asked apart from its kind, as before this branch (safe)."""
    from monitor.probes import _browser_session, _form_fields

    set_field = _form_fields.set_field

    async def counted_first(page: Any, scope: Any, name: str, value: str) -> None:
        await scope.locator(f"[name={_form_fields._css_string(name)}]").count()
        await set_field(page, scope, name, value)

    with _patched(_browser_session, set_field=counted_first):
        yield


#: The per-step costs the browser profile switches off, one per approach.
SWITCHES: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "quiet windows at 0": quiet_windows_off,
    "no per-step content() read": step_reads_off,
    "no cookie banner click": cookie_banner_off,
    "no CDP Fetch pauses": fetch_pauses_off,
    "no answer pauses": answer_pauses_off,
    "documents only paused": documents_only_paused,
    "a 1280 x 720 viewport": small_viewport,
    "before: a world per read, evidence read again": old_reads,
    "before: navigations from Playwright's page events": old_navigation_events,
    "before: DevTools events through CDPSession.on": old_event_wrapper,
    "before: all of this branch": before_all,
}


# --- the http engine as it was before this round (issue 30 item 3) -----------------------
#
# Safe variants, unlike the browser switches: each puts back one cost this round removed, so
# that one run measures the engine before and after side by side (interleaved rounds).


@contextlib.contextmanager
def thread_per_call() -> Iterator[None]:
    """``off_loop`` starting a new daemon thread for every call (before: no thread reused)."""
    from monitor.platforms import worker

    def start(job: Callable[[], None], name: str) -> None:
        threading.Thread(target=job, name=name, daemon=True).start()

    with _patched(worker._WORKERS, run=start):
        yield


@contextlib.contextmanager
def no_read_lookup() -> Iterator[None]:
    """``read()`` handing every page to a thread, even one this probe already read."""
    from monitor.platforms import page

    with _patched(page, _LOOKED_UP_ON_LOOP=-1):
        yield


@contextlib.contextmanager
def http_before() -> Iterator[None]:
    """Both: the http engine's reading as it was before this round."""
    with thread_per_call(), no_read_lookup():
        yield


@contextlib.contextmanager
def nodes_by_html() -> Iterator[None]:
    """Forms telling nodes apart with selectolax's ``==`` (their serialised HTML), as before
    issue 30's third round: the form serialised once per control."""
    from monitor.probes import forms

    with _patched(forms, _same=lambda one, other: one == other):
        yield


@contextlib.contextmanager
def nesting_pass_always() -> Iterator[None]:
    """The nesting pass run on every page, however few tags it has (before the third
    round's shortcut: no more ``<`` than the limit cannot be too deep)."""
    from monitor.platforms import nesting, page

    def too_deep(html: str) -> bool:
        return nesting.nesting_depth(html) > nesting.NESTING_LIMIT

    with _patched(page, too_deep=too_deep):
        yield


@contextlib.contextmanager
def charsets_looked_up() -> Iterator[None]:
    """Every page's charset looked up again (header pattern, codec registry), as before
    the third round remembered them."""
    from monitor.probes import _decoding

    with _patched(
        _decoding,
        _remembered_header_encoding=_decoding._read_header_encoding,
        _encoding_named=_decoding._encoding_named.__wrapped__,
    ):
        yield


@contextlib.contextmanager
def forms_parse_again() -> Iterator[None]:
    """The forms parsing each page a second time, on the event loop (before the third
    round handed them the probe's parsed trees)."""
    from selectolax.lexbor import LexborHTMLParser

    from monitor.probes import forms

    with _patched(forms, _tree=LexborHTMLParser):
        yield


@contextlib.contextmanager
def destinations_checked_again() -> Iterator[None]:
    """Every request's URL judged by the destination rules again, twice a request (before
    the third round remembered the pairs they allowed)."""
    from monitor.probes import http

    with _patched(http, _allowed=http._allowed.__wrapped__):
        yield


@contextlib.contextmanager
def third_round_before() -> Iterator[None]:
    """All of the third round's changes undone at once (issue 30 item 3)."""
    with (
        nodes_by_html(),
        nesting_pass_always(),
        charsets_looked_up(),
        forms_parse_again(),
        destinations_checked_again(),
    ):
        yield


#: The http engine's costs removed this round, put back one variant at a time.
HTTP_SWITCHES: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "before (a thread per call, no read lookup)": http_before,
    "a thread per call": thread_per_call,
    "no read lookup": no_read_lookup,
    # issue 30 item 3, third round (bench/results/http-ablation.md)
    "before: all of the third round": third_round_before,
    "before: nodes compared by their HTML": nodes_by_html,
    "before: the nesting pass on every page": nesting_pass_always,
    "before: charsets looked up each time": charsets_looked_up,
    "before: forms parse each page again": forms_parse_again,
    "before: destinations judged each time": destinations_checked_again,
}


@contextlib.asynccontextmanager
async def daemon_engine(
    base_url: str,
    count: int,
    engine: str,
    concurrency: int,
    workdir: Path,
    *,
    switch: str | None = None,
) -> AsyncIterator[Round]:
    """The daemon's runner on ``count`` targets (real engines, recorder, SQLite).

    ``switch``: one of :data:`SWITCHES`, the per-step cost switched off during this
    approach's rounds (and its warm-up): what that cost is worth.
    """
    from monitor.config import load_config
    from monitor.daemon.compose import build_daemon
    from monitor.store import Repository, create_engine_for, upgrade

    kind = f"{engine}-switched" if switch else engine
    directory = Path(tempfile.mkdtemp(prefix=f"engine-{kind}-", dir=workdir))
    path = write_config(directory, targets(base_url, count, engine), concurrency=concurrency)
    config = load_config(path, env={})
    database = config.settings.database
    upgrade(database)
    repository = Repository(create_engine_for(database))
    daemon = build_daemon(config, repository, node="bench", reload_config=lambda: config)
    every = list(config.targets())

    async def one_round() -> None:
        slot = datetime.now(UTC)
        with {**SWITCHES, **HTTP_SWITCHES}[switch]() if switch else contextlib.nullcontext():
            results = await asyncio.gather(*(daemon.runner.run(t, slot) for t in every))
        for result in results:
            outcome = result.outcome
            if outcome is None or outcome.status != "unavailable":
                # Counted and reported, not fatal: under heavy load a probe may time out.
                what = "none" if outcome is None else f"{outcome.status}/{outcome.reason}"
                UNEXPECTED[what] = UNEXPECTED.get(what, 0) + 1

    try:
        yield one_round
    finally:
        await daemon._engines.aclose()
        repository.engine.dispose()


async def _settle(page: Page, settle: bool) -> None:
    if settle:  # the engine's wait for the network to go quiet (500 ms idle, at most 1.5 s)
        with contextlib.suppress(PlaywrightTimeoutError):
            await page.wait_for_load_state("networkidle", timeout=1500)


async def _kept(page: Page) -> list[tuple[str, bytes]]:
    """What the engine keeps of a final page: its HTML and a full-page screenshot."""
    html = await page.content()
    return [("html", html.encode()), ("png", await page.screenshot(full_page=True))]


async def _legacy_walk(page: Page, url: str, settle: bool, keep: bool) -> list[tuple[str, bytes]]:
    # The engine's walk: for each desk, the conditions, their acceptance, the desk. Like the
    # engine, each desk's final page is kept (two per probe), not only the last one.
    kept: list[tuple[str, bytes]] = []
    for desk in DESKS:
        await page.goto(url)
        await _settle(page, settle)
        await page.check("#condition")
        async with page.expect_navigation():
            await page.click("input[name=nextButton]")
        await _settle(page, settle)
        await page.check(f"#planning{desk}")
        async with page.expect_navigation():
            await page.click("input[name=nextButton]")
        await _settle(page, settle)
        if "plus de plage" not in await page.content():
            raise RuntimeError(f"floor: not the no-slot page at {page.url}")
        if keep:
            kept += await _kept(page)
    return kept


async def _page_loads(
    page: Page, target: dict[str, Any], keep: bool, settle: bool, keeper: Keeper | None
) -> None:
    if target["platform"] == "legacy-booking":
        kept = await _legacy_walk(page, target["url"], settle, keep)
    else:
        await page.goto(target["url"])
        await _settle(page, settle)
        kept = await _kept(page) if keep else []
    if keeper is not None:  # written under their digests, with the probe's row
        await keeper.keep(target["id"], "unavailable", kept)


@contextlib.asynccontextmanager
async def playwright_floor(
    base_url: str,
    count: int,
    concurrency: int,
    fresh_browser: bool,
    keep: bool = False,
    settle: bool = False,
    keeper: Keeper | None = None,
) -> AsyncIterator[Round]:
    """Bare Playwright: one browser and a context per probe, or a browser per probe.

    ``keep``: the final page's HTML and full-page screenshot are taken; ``keeper``: and
    written with their digests and the probe's row (the same-work floor).
    """
    every = targets(base_url, count, "browser")
    slots = asyncio.Semaphore(concurrency)
    async with async_playwright() as playwright:
        shared: Browser | None = None
        if not fresh_browser:
            shared = await playwright.chromium.launch(executable_path=CHROMIUM)

        async def probe(target: dict[str, Any]) -> None:
            async with slots:
                if shared is None:
                    browser = await playwright.chromium.launch(executable_path=CHROMIUM)
                    try:
                        page = await browser.new_page(viewport=VIEWPORT)
                        await _page_loads(page, target, keep, settle, keeper)
                    finally:
                        await browser.close()
                else:
                    # The engine's viewport: the same screen, so the same screenshot.
                    context = await shared.new_context(viewport=VIEWPORT)
                    try:
                        await _page_loads(await context.new_page(), target, keep, settle, keeper)
                    finally:
                        await context.close()

        async def one_round() -> None:
            await asyncio.gather(*(probe(t) for t in every))

        try:
            yield one_round
        finally:
            if shared is not None:
                await shared.close()


@contextlib.asynccontextmanager
async def bare_httpx(
    base_url: str, count: int, concurrency: int, keeper: Keeper | None = None
) -> AsyncIterator[Round]:
    """A bare httpx loop: the same requests, a client (cookie jar) per probe.

    Without ``keeper`` nothing is parsed or kept. With it (the same-work floor) the final
    page is parsed once (selectolax's Lexbor, as the engine), its text checked for the
    no-slot sentence, and the page written under its digest with the probe's row.
    """
    every = targets(base_url, count, "http")
    slots = asyncio.Semaphore(concurrency)
    # One connection pool for the run, as the engine keeps one; a client per probe for its
    # cookie jar (building a client with its own transport would build an SSL context each
    # time, about 20 ms, which the engine does not pay per probe either).
    transport = httpx.AsyncHTTPTransport()

    async def probe(target: dict[str, Any]) -> None:
        client = httpx.AsyncClient(transport=transport, follow_redirects=True)
        async with slots:
            url = target["url"]
            if target["platform"] != "legacy-booking":
                final = await client.get(url)
                final.raise_for_status()
            else:
                for desk in DESKS:
                    (await client.get(url)).raise_for_status()
                    form = {"condition": "on", "nextButton": "Effectuer une demande de rendez-vous"}
                    (await client.post(f"{url}/0", data=form)).raise_for_status()
                    form = {"planning": str(desk), "nextButton": "Etape suivante"}
                    final = await client.post(f"{url}/1", data=form)
                    final.raise_for_status()
            if keeper is not None:
                text = LexborHTMLParser(final.content).text(separator=" ")
                if "plage" not in text and "créneau" not in text.lower():
                    raise RuntimeError(f"same-work floor: not a no-slot page at {final.url}")
                await keeper.keep(target["id"], "unavailable", [("html", final.content)])

    async def one_round() -> None:
        await asyncio.gather(*(probe(t) for t in every))

    try:
        yield one_round
    finally:
        await transport.aclose()


@contextlib.contextmanager
def profiled(path: Path | None) -> Iterator[None]:
    """cProfile in this thread and every thread started meanwhile (the recording's worker
    threads, the parsing threads), merged into ``path`` (pstats format) at the end.

    Each thread's clock is its own CPU time (``time.thread_time``): a thread waiting for
    SQLite's write lock or for the network costs nothing here. Deterministic profiling slows
    Python down several times over: its figures are shares of where the CPU goes, not the
    speed of the run, which is measured without it.
    """
    if path is None:
        yield
        return
    profiles: list[cProfile.Profile] = []

    def start(frame: Any, event: str, arg: Any) -> None:  # the first event of a new thread
        profile = cProfile.Profile(time.thread_time)
        profiles.append(profile)
        profile.enable()  # replaces this hook for the thread

    main = cProfile.Profile(time.thread_time)
    threading.setprofile(start)
    main.enable()
    try:
        yield
    finally:
        main.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
        stats = pstats.Stats(main)
        for profile in profiles:
            profile.disable()
            stats.add(profile)
        stats.dump_stats(path)


def become_subreaper() -> None:
    """Adopt orphaned descendants, so that their CPU time reaches our own accounts.

    Chromium's renderer and zygote processes are not always waited for by their parent;
    once orphaned they would be re-parented to init and their CPU seconds lost to
    ``proctree.cpu_seconds``. As a child subreaper (prctl PR_SET_CHILD_SUBREAPER) this
    process adopts them, and :func:`reap_orphans` waits for them after each round.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_orphans() -> None:
    """Wait for adopted descendants that have exited (zombies whose parent is us)."""
    me = os.getpid()
    for pid in proctree.tree(me):
        if pid == me:
            continue
        fields = proctree.stat_fields(pid)
        if fields is not None and fields[0] == "Z" and int(fields[1]) == me:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)


# --- measuring --------------------------------------------------------------------------


@dataclass
class Series:
    name: str
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    #: each round's CPU seconds per probe by process kind (``proctree.cpu_split``)
    splits: list[dict[str, float]] = field(default_factory=list)

    def rate(self, probes: int) -> float:
        return probes / statistics.median(self.seconds)


async def measure(
    approaches: dict[str, Callable[[], contextlib.AbstractAsyncContextManager[Round]]],
    *,
    probes: int,
    rounds: int,
) -> dict[str, Series]:
    """Open every approach, warm each up once, then time ``rounds`` interleaved rounds."""
    series = {name: Series(name) for name in approaches}
    async with contextlib.AsyncExitStack() as stack:
        ready = {name: await stack.enter_async_context(make()) for name, make in approaches.items()}
        for run in ready.values():
            await run()
        names = list(ready)
        for number in range(rounds):
            order = names[number % len(names) :] + names[: number % len(names)]
            for name in order:
                cpu_before = proctree.cpu_seconds(os.getpid())
                split_before = proctree.cpu_split(os.getpid())
                began = time.perf_counter()
                await ready[name]()
                elapsed = time.perf_counter() - began
                reap_orphans()
                cpu = proctree.cpu_seconds(os.getpid()) - cpu_before
                split_after = proctree.cpu_split(os.getpid())
                series[name].splits.append(
                    {
                        kind: (split_after[kind] - split_before.get(kind, 0.0)) / probes
                        for kind in split_after
                    }
                )
                series[name].seconds.append(elapsed)
                series[name].cpu.append(cpu / probes)
                series[name].loads.append(os.getloadavg()[0])
                print(
                    f"round {number + 1} {name}: {elapsed:.2f} s, {probes / elapsed:.1f} probes/s,"
                    f" {cpu / probes * 1000:.0f} ms CPU/probe, load {os.getloadavg()[0]:.1f}",
                    file=sys.stderr,
                )
    return series


def split_table(title: str, series: dict[str, Series]) -> str:
    """CPU ms per probe by process kind, medians over rounds (``proctree.cpu_split``).

    A process that exits between the two readings of a round (a context's renderer) is
    counted where it was reaped: under its zygote, or "reaped by python" for the orphans
    this process adopts; the kinds may not add up to the total exactly.
    """
    kinds = sorted({kind for s in series.values() for split in s.splits for kind in split})
    lines = [
        f"| {title}: CPU ms/probe by process | " + " | ".join(kinds) + " |",
        "| --- |" + " ---: |" * len(kinds),
    ]
    for s in series.values():
        cells = [
            f"{statistics.median(split.get(kind, 0.0) for split in s.splits) * 1000:.0f}"
            for kind in kinds
        ]
        lines.append(f"| {s.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(title: str, series: dict[str, Series], baseline: str, probes: int) -> str:
    lines = [
        f"| {title} | probes/s (median) | × {baseline} | s per round: median (min-max) "
        "| CPU ms/probe | load avg |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    base = series[baseline].rate(probes)
    for s in series.values():
        lines.append(
            f"| {s.name} | {s.rate(probes):.2f} | {s.rate(probes) / base:.2f}× "
            f"| {statistics.median(s.seconds):.2f} ({min(s.seconds):.2f}-{max(s.seconds):.2f}) "
            f"| {statistics.median(s.cpu) * 1000:.0f} "
            f"| {min(s.loads):.1f}-{max(s.loads):.1f} |"
        )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    become_subreaper()
    workdir = Path(tempfile.mkdtemp(prefix="bench-probes-"))
    n, c = args.targets, args.concurrency

    def keeper(kind: str) -> Keeper:
        return Keeper(Path(tempfile.mkdtemp(prefix=f"same-work-{kind}-", dir=workdir)))

    with imitation() as base:
        results = {}
        if "browser" in args.parts:

            def switched(name: str) -> Callable[[], Any]:
                return lambda: daemon_engine(base, n, "browser", c, workdir, switch=name)

            browser: dict[str, Callable[[], Any]] = {
                "engine (daemon path)": lambda: daemon_engine(base, n, "browser", c, workdir),
            }
            for name in args.switches:
                what = "" if name.startswith("before") else " (what it costs; unsafe)"
                browser[f"engine, {name}{what}"] = switched(name)
            browser["floor: bare Playwright"] = lambda: playwright_floor(base, n, c, False)
            if not args.short:
                browser["floor + content, screenshot, networkidle wait"] = lambda: playwright_floor(
                    base, n, c, False, keep=True, settle=True
                )
            browser[SAME_WORK_BROWSER] = lambda: playwright_floor(
                base, n, c, False, keep=True, settle=True, keeper=keeper("browser")
            )
            if not args.short:
                browser["bots: a browser per probe"] = lambda: playwright_floor(base, n, c, True)
            results["browser"] = await measure(browser, probes=n, rounds=args.rounds)
        if "http" in args.parts:

            def http_switched(name: str) -> Callable[[], Any]:
                return lambda: daemon_engine(base, n, "http", c, workdir, switch=name)

            http: dict[str, Callable[[], Any]] = {
                "engine (daemon path)": lambda: daemon_engine(base, n, "http", c, workdir),
                **{f"engine, {name}": http_switched(name) for name in args.http_switches},
                "bare httpx loop": lambda: bare_httpx(base, n, c),
                SAME_WORK_HTTP: lambda: bare_httpx(base, n, c, keeper("http")),
            }
            with profiled(args.cprofile):
                results["http"] = await measure(http, probes=n, rounds=args.rounds)
    evidence = {
        kind: directory_bytes(
            next(d for d in workdir.glob(f"engine-{kind}-*") if "switched" not in d.name)
            / "evidence"
        )
        for kind in results
    }
    print(f"\n{n} targets, concurrency {c}, {args.rounds} rounds + 1 warm-up\n")
    if "browser" in results:
        print(table("browser", results["browser"], "floor: bare Playwright", n))
        print()
        print(table("browser", results["browser"], SAME_WORK_BROWSER, n))
        print()
        print(split_table("browser", results["browser"]))
        print()
    if "http" in results:
        print(table("http", results["http"], "bare httpx loop", n))
        print()
        print(table("http", results["http"], SAME_WORK_HTTP, n))
        print()
    for kind, size in evidence.items():
        print(f"evidence, {kind} engine: {size / (n * (args.rounds + 1)) / 1024:.1f} KiB per probe")
    print(f"engine outcomes other than unavailable/no_slot: {UNEXPECTED or 'none'}")
    print(json.dumps({"load_end": os.getloadavg()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--parts", nargs="+", default=["browser", "http"])
    parser.add_argument(
        "--switches",
        nargs="*",
        choices=list(SWITCHES),
        default=["quiet windows at 0"],
        metavar="SWITCH",
        help="browser engine variants, each with one per-step cost switched off: "
        + "; ".join(f"'{name}'" for name in SWITCHES)
        + " (default: the quiet windows only)",
    )
    parser.add_argument(
        "--http-switches",
        nargs="*",
        choices=list(HTTP_SWITCHES),
        default=[],
        metavar="SWITCH",
        help="http engine variants with a cost this round removed put back, to compare in "
        "one run: " + "; ".join(f"'{name}'" for name in HTTP_SWITCHES) + " (default: none)",
    )
    parser.add_argument(
        "--cprofile",
        type=Path,
        help="http: profile the rounds (every thread) into this pstats file",
    )
    parser.add_argument(
        "--short",
        action="store_true",
        help="browser: leave out the bots and the floor with evidence but no row",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
