"""The daemon's status page: `monitor run --publish OUTDIR` against the imitation.

The real daemon as a subprocess regenerates the site after probes, at most once per
``settings.publish.min_gap``; in process, a deliberately slow publication shows probes
going on while the site is written (it runs in a worker thread, off the event loop).
"""

from __future__ import annotations

import asyncio
import math
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml
from daemonrig import daemon_config, load, outcomes_of, rdvsp_path
from helpers import migrated
from selectolax.parser import HTMLParser
from test_daemon import environment, monitor_command

from monitor.daemon.compose import build_daemon
from monitor.imitation import ImitationSite
from monitor.publish.refresh import SiteRefresher
from monitor.publish.site import SiteOptions, publish
from monitor.store import Repository, create_engine_for


def with_publish(config: Path, **publish_settings: object) -> Path:
    document = yaml.safe_load(config.read_text())
    document["settings"]["publish"] = publish_settings
    config.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    return config


def test_run_publish_regenerates_the_site_after_probes_at_most_once_per_gap(
    tmp_path: Path,
) -> None:
    out = tmp_path / "public"
    with ImitationSite() as site:
        site.set_scenario("7811", "slots", count=2, first_date="2030-05-06T09:00")
        database = f"sqlite:///{tmp_path / 'monitor.db'}"
        config = daemon_config(
            tmp_path / "prefectures.yaml",
            targets=[
                {"id": "a", "platform": "rdv-service-public", "url": site.url(rdvsp_path("7811"))},
                {"id": "b", "platform": "rdv-service-public", "url": site.url(rdvsp_path("7812"))},
            ],
            database=database,
            interval="1s",
        )
        with_publish(config, min_gap="2s", language="en")
        log = tmp_path / "daemon.log"
        with log.open("w") as stream:
            process = subprocess.Popen(
                monitor_command(config, database, "-v", "run", "--migrate", "--publish", str(out)),
                stdout=stream,
                stderr=subprocess.STDOUT,
                text=True,
                env=environment(),
            )
        began = time.monotonic()
        time.sleep(9)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=35) == 0, log.read_text()
        ran = time.monotonic() - began
    text = log.read_text()
    publications = text.count("status page published in")
    assert 2 <= publications <= math.ceil(ran / 2) + 1, text
    repository = Repository(create_engine_for(database))
    outcomes = outcomes_of(repository)
    assert len(outcomes) >= 8  # probes kept their 1 s pace while the site was written
    page = HTMLParser((out / "index.html").read_text(encoding="utf-8"))
    assert page.css_first("html").attributes["lang"] == "en"
    statuses = {
        row.attributes["data-target"]: row.attributes["data-status"]
        for row in page.css("#targets tbody tr")
    }
    assert statuses == {"t/a": "available", "t/b": "unavailable"}


async def test_probes_go_on_while_a_slow_publication_is_written(tmp_path: Path) -> None:
    with ImitationSite() as site:
        database = migrated(tmp_path / "monitor.db")
        config_path = daemon_config(
            tmp_path / "prefectures.yaml",
            targets=[
                {"id": "c", "platform": "rdv-service-public", "url": site.url(rdvsp_path("7821"))},
            ],
            database=database,
            interval="1s",
            jitter="0s",
        )
        config = load(config_path)
        repository = Repository(create_engine_for(database))
        writing: list[tuple[datetime, datetime]] = []
        options = SiteOptions("fr", None, config.settings.tz, config.settings.evidence_dir)

        def slow_publish() -> None:
            began = datetime.now(UTC)
            publish(config.targets(), repository, tmp_path / "public", options)
            time.sleep(2.0)  # a large site on a slow disk
            writing.append((began, datetime.now(UTC)))

        refresher = SiteRefresher(slow_publish, min_gap=0.5)
        daemon = build_daemon(
            config, repository, node="test", reload_config=lambda: config, publisher=refresher
        )
        running = asyncio.create_task(daemon.run())
        await asyncio.sleep(6)
        daemon.request_stop()
        assert await asyncio.wait_for(running, timeout=30) == 0
    assert len(writing) >= 2
    starts = [o.started_at for o in outcomes_of(repository)]
    during = [s for s in starts for began, ended in writing if began < s < ended]
    assert len(during) >= 2, (writing, starts)
    assert (tmp_path / "public" / "targets" / "t" / "c.html").is_file()


def test_the_demo_publishes_its_status_page_and_prints_its_address(tmp_path: Path) -> None:
    out = tmp_path / "demo-site"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor",
            "demo",
            "--interval",
            "1",
            "--duration",
            "10",
            "--publish",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=environment(),
    )
    assert process.stdout is not None
    address = None
    for line in process.stdout:
        if "[demo] status page on " in line:
            address = line.split("status page on ", 1)[1].split()[0]
            break
    assert address is not None and address.startswith("http://127.0.0.1:")
    served = httpx.get(address, timeout=10)
    assert served.status_code == 200 and '<html lang="fr">' in served.text
    rest = process.stdout.read()
    process.stdout.close()
    assert process.wait(timeout=60) == 0, rest
    rows = HTMLParser((out / "index.html").read_text(encoding="utf-8")).css("#targets tbody tr")
    assert sorted(row.attributes["data-target"] for row in rows) == [
        "38/sejour",
        "75/titre-sejour",
        "92/pre-demande",
        "93/naturalisation",
        "94/recepisse",
    ]
    # Every one probed, but the assisted target: held by the session the demo's person
    # opens at once, its first read waits for the captcha (later than these 10 s).
    probed = [row for row in rows if row.attributes["data-target"] != "38/sejour"]
    assert all(row.attributes["data-status"] != "none" for row in probed)


def test_run_once_publishes_the_round_it_probed(tmp_path: Path) -> None:
    out = tmp_path / "public"
    with ImitationSite() as site:
        site.set_scenario("7831", "slots", count=1, first_date="2030-05-06T09:00")
        database = f"sqlite:///{tmp_path / 'monitor.db'}"
        config = daemon_config(
            tmp_path / "prefectures.yaml",
            targets=[
                {"id": "d", "platform": "rdv-service-public", "url": site.url(rdvsp_path("7831"))},
                {"id": "e", "platform": "rdv-service-public", "url": site.url(rdvsp_path("7832"))},
            ],
            database=database,
            interval="10m",
        )
        with_publish(config, dir=str(out))  # from the settings this time
        done = subprocess.run(
            monitor_command(config, database, "run", "--migrate", "--once"),
            capture_output=True,
            text=True,
            timeout=60,
            env=environment(),
            check=False,
        )
    assert done.returncode == 0, done.stderr
    page = HTMLParser((out / "index.html").read_text(encoding="utf-8"))
    statuses = {
        row.attributes["data-target"]: row.attributes["data-status"]
        for row in page.css("#targets tbody tr")
    }
    assert statuses == {"t/d": "available", "t/e": "unavailable"}
