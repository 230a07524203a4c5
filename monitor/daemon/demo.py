"""``monitor demo``: the daemon against a local imitation of the booking sites, no internet.

It starts :class:`~monitor.imitation.ImitationSite` in this process, writes a temporary
config (four targets of three platforms on 127.0.0.1, a few seconds apart, a console
channel) and a temporary SQLite database, runs the real daemon on them, and changes the
imitation's scenarios on a script so that within a minute or two one sees:

    slots open (slots_opened) and close again (slots_closed),
    a site answering 502 three times in a row (anomaly_started), back-off in the log,
    the site recovering (anomaly_resolved), and an assisted session on RDV Préfecture:
    assist_needed, then the demo playing the person (a wrong code, then the right one,
    read from the imitation's control side: the demo only, nothing else in the product
    reads it), the slot page recorded with assisted_by and re-read every 5 minutes.

Alerts go through the real outbox and dispatcher to an Apprise route registered here,
``demo://console``, which prints each message on standard output; logs (one line per
state change, per event) go to standard error.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import yaml
from apprise.decorators import notify

from monitor.imitation import ImitationSite

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from monitor.config import Config
    from monitor.daemon.scheduler import Daemon
    from monitor.store import Repository

__all__ = ["DemoStep", "demo_config", "run_demo", "script"]

#: The Apprise scheme of the console channel (registered when this module is imported).
CONSOLE_URL = "demo://console"
_console: TextIO = sys.stdout

#: The assisted RDV Préfecture target of the demo, its démarche (the imitation's key) and
#: when the demo plays the person (in intervals after the start).
ASSISTED = "38/sejour"
ASSISTED_KEY = "3762"
PERSON_AT = 3.0
PERSON = "Demo volunteer"

RDVSP_QUERY = (
    "departement=&motif_name_with_location_type="
    "renouvellement_de_recepisses_arrives_a_echeance-public_office&public_link_organisation_id="
)


@notify(on="demo", name="prefecture-monitor demo console")  # type: ignore[untyped-decorator,no-untyped-call]
def _print_alert(body: str, title: str, notify_type: str, *args: Any, **kwargs: Any) -> bool:
    """The console channel: an alert as a person would receive it."""
    rule = "─" * 72
    print(f"\n{rule}\n🔔 {title}\n{body}\n{rule}", file=_console, flush=True)
    return True


@dataclass(frozen=True)
class DemoStep:
    """At ``at`` intervals after the start, give ``key`` a scenario and say why."""

    at: float  #: in intervals, so the story keeps its shape at any speed
    key: str
    scenario: str
    params: tuple[tuple[str, Any], ...]
    says: str


def script() -> tuple[DemoStep, ...]:
    """The story. Times are in intervals; with back-off, three 502s take about 6 intervals
    (14 are given: a slow machine runs late, and the assisted session's reads share the
    imitation's host with them)."""
    slots = (("count", 3), ("first_date", "2030-05-06T09:00"))
    # The legacy calendar shows the weeks from today on: its slots start the next weekday.
    soon = (("count", 3),)
    return (
        DemoStep(
            2.5, "4401", "slots", soon, "75/titre-sejour now offers 3 slots on each of its 2 desks"
        ),
        DemoStep(5, "4402", "http_502", (), "93/naturalisation now answers 502 Bad Gateway"),
        DemoStep(7, "4401", "no_slot", (), "75/titre-sejour has no slot any more"),
        DemoStep(9, "imitation-pre-demande", "closed", (), "92/pre-demande closes its form"),
        DemoStep(19, "4402", "no_slot", (), "93/naturalisation works again"),
        DemoStep(20, "2401", "slots", slots, "94/recepisse now offers 3 slots"),
    )


def demo_config(
    base_url: str, *, database: str, evidence_dir: Path, interval: int
) -> dict[str, Any]:
    """The config the demo writes: every target on the imitation, ``interval`` seconds."""

    def target(local_id: str, name: str, platform: str, path: str) -> dict[str, Any]:
        return {"id": local_id, "name": name, "platform": platform, "url": base_url + path}

    def prefecture(code: str, name: str, *targets: dict[str, Any]) -> dict[str, Any]:
        return {"id": code, "name": name, "targets": list(targets)}

    return {
        "version": 1,
        "settings": {
            "database": database,
            "language": "en",
            "evidence_dir": str(evidence_dir),
            "user_agent": "prefecture-monitor/demo (+https://example.invalid)",
            "schedule": {"interval": f"{interval}s", "jitter": "10%"},
            # A short gap keeps the story quick; the one-probe-per-host limit still applies.
            "politeness": {"per_host_concurrency": 1, "per_host_min_gap": "0.2s"},
            # Every target shares the imitation's host: two weeks per desk keep the legacy
            # probe short enough for the others to get their turn within the story.
            "legacy": {"calendar_weeks": 2},
            "probe_timeout": f"{max(5, 2 * interval)}s",
            "connectivity_check": [],
            "alerts": {"anomaly_after": 3, "resolved_after": 2, "remind_every": "0"},
            "publish": {"min_gap": f"{interval}s"},  # the status page keeps up with the story
            # Assisted sessions are opened from the console; its token is random, never shown.
            # Any free port: a demo never collides with a console already running here.
            "console": {"listen": "127.0.0.1:0", "token": secrets.token_urlsafe(24)},
            "assist": {"reread": "5m", "max_rereads": 6, "ask_every": "2h"},
        },
        "channels": [{"id": "console", "url": CONSOLE_URL}],
        "prefectures": [
            prefecture(
                "75",
                "Préfecture de police (imitation)",
                target("titre-sejour", "Titre de séjour", "legacy-booking", "/booking/create/4401"),
            ),
            prefecture(
                "93",
                "Préfecture de la Seine-Saint-Denis (imitation)",
                target(
                    "naturalisation", "Naturalisation", "legacy-booking", "/booking/create/4402"
                ),
            ),
            prefecture(
                "94",
                "Préfecture du Val-de-Marne (imitation)",
                target(
                    "recepisse",
                    "Renouvellement de récépissé",
                    "rdv-service-public",
                    f"/prendre_rdv?{RDVSP_QUERY}2401",
                ),
            ),
            prefecture(
                "92",
                "Préfecture des Hauts-de-Seine (imitation)",
                target(
                    "pre-demande",
                    "Pré-demande en ligne",
                    "demarches-simplifiees",
                    "/commencer/imitation-pre-demande",
                ),
            ),
            prefecture(
                "38",
                "Préfecture de l'Isère (imitation)",
                {
                    **target(
                        "sejour",
                        "Titre de séjour (RDV Préfecture)",
                        "rdv-prefecture",
                        f"/rdvpref/reservation/demarche/{ASSISTED_KEY}/",
                    ),
                    "assist": True,
                    # Its ordinary probes (the captcha barrier) are few: the host is shared.
                    "interval": "10m",
                },
            ),
        ],
    }


@contextlib.contextmanager
def _workspace(keep: bool) -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="monitor-demo-"))
    try:
        yield directory
    finally:
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)


def run_demo(
    *,
    port: int = 0,
    duration: float | None = None,
    database: str | None = None,
    interval: int = 4,
    out: TextIO = sys.stdout,
    publish_dir: Path | None = None,
) -> int:
    """Run the demo until ``duration`` seconds have passed (None: until Ctrl-C).

    The status page is published in ``publish_dir`` (default: the temporary workspace)
    and served on 127.0.0.1; its address is printed.
    """
    global _console
    _console = out
    from monitor.daemon.compose import build_daemon
    from monitor.publish.serve import serve_directory

    with contextlib.ExitStack() as stack:
        workdir = stack.enter_context(_workspace(keep=database is not None))
        site = stack.enter_context(ImitationSite(port=port))
        status_dir = publish_dir or workdir / "site"
        page_url = stack.enter_context(serve_directory(status_dir))
        url = database or f"sqlite:///{workdir / 'demo.db'}"
        config_file = workdir / "demo.yaml"
        settings = demo_config(
            site.base_url, database=url, evidence_dir=workdir / "evidence", interval=interval
        )
        config_file.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False))
        config, repository, engine = _open(config_file, url)
        _say(out, f"imitation site on {site.base_url} (open it in a browser)")
        _say(out, f"config {config_file}, database {url}")
        _say(out, f"{len(config.targets())} targets probed every {interval}s; Ctrl-C stops")
        daemon = build_daemon(
            config,
            repository,
            node="demo",
            reload_config=lambda: _load(config_file),
            publish_dir=status_dir,
            status_page_url=page_url,
        )
        assert daemon.publisher is not None
        # The page exists (every target "never probed") from the start.
        daemon.publisher.publish_now()
        _say(out, f"status page on {page_url} (rewritten as probes come in)")
        try:
            return asyncio.run(_story(daemon, site, out, interval, duration))
        finally:
            engine.dispose()


def _load(path: Path) -> Config:
    from monitor.config import load_config

    return load_config(path, env={})


def _open(config_file: Path, url: str) -> tuple[Config, Repository, Engine]:
    from monitor.store import Repository, create_engine_for, upgrade

    config = _load(config_file)
    upgrade(url)
    engine = create_engine_for(url)
    return config, Repository(engine), engine


async def _story(
    daemon: Daemon, site: ImitationSite, out: TextIO, interval: int, duration: float | None
) -> int:
    loop = asyncio.get_running_loop()
    start = loop.time()
    running = asyncio.create_task(daemon.run())

    async def tell() -> None:
        for step in script():
            delay = start + step.at * interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            site.set_scenario(step.key, step.scenario, **dict(step.params))
            _say(out, f"+{loop.time() - start:.0f}s {step.says}")
        _say(out, "the story is over; the daemon goes on (Ctrl-C stops it)")

    async def stop_later() -> None:
        if duration is not None:
            await asyncio.sleep(max(0.0, start + duration - loop.time()))
            daemon.request_stop()

    async def person() -> None:
        await asyncio.sleep(max(0.0, start + PERSON_AT * interval - loop.time()))
        await _play_the_person(daemon, site, out)

    helpers = [
        asyncio.create_task(tell()),
        asyncio.create_task(stop_later()),
        asyncio.create_task(person()),
    ]
    try:
        code: int = await running
    finally:
        for helper in helpers:
            helper.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
    _say(out, "demo stopped")
    return code


async def _play_the_person(daemon: Daemon, site: ImitationSite, out: TextIO) -> None:
    """What a volunteer does in the console: open a session, answer the captcha (a wrong
    code first, to show a rejection), and leave the monitor to read the slot page."""
    from monitor.assist.views import DeskRefusal

    desk = daemon.desk
    if desk is None:
        return
    try:
        _say(out, f"{PERSON} opens an assisted session of {ASSISTED}")
        await desk.open(ASSISTED, PERSON)
        result = await desk.answer(ASSISTED, "WRONG1", PERSON)
        _say(out, f"{PERSON} types a wrong code: {result}, a new image is shown")
        site.set_scenario(ASSISTED_KEY, "captcha_wall", slot_count=2)
        code = site.captcha_code(ASSISTED_KEY)  # the person reads it in the image
        if code is None:
            _say(out, "no captcha was shown")
            return
        result = await desk.answer(ASSISTED, code, PERSON)
        _say(out, f"{PERSON} types the code the image shows: {result}")
        for view in desk.sessions():
            _say(
                out,
                f"{view.target_id}: session {view.state}, last read {view.last_outcome}, "
                f"next read at {view.next_read:%H:%M:%S} UTC"
                if view.next_read is not None
                else f"{view.target_id}: session {view.state} ({view.end_reason})",
            )
    except DeskRefusal as refusal:
        _say(out, f"the desk refused: {refusal}")


def _say(out: TextIO, text: str) -> None:
    print(f"[demo] {text}", file=out, flush=True)
