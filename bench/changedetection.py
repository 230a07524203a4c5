"""The browser engine beside changedetection.io's Playwright fetcher, on the same pages.

    .venv/bin/python bench/changedetection.py [--targets 40] [--rounds 3]

changedetection.io is never a dependency of the project: it lives in its own environment,
made once with

    python3 -m venv bench/.venv-cd
    bench/.venv-cd/bin/pip install changedetection.io playwright==1.65.2

(its Playwright fetcher needs the ``playwright`` package, which it does not require).

The pages: ``--targets`` rdv-service-public links of the imitation (one page load each, the
"no slot" page); changedetection.io fetches URLs, it does not walk the legacy module's
forms, so only one-page targets are compared. Four fetches at once on both sides.

Each round runs one worker process per approach, in turn (the order rotates):

* ``ours``: this project's daemon path (``bench/probes.py``'s ``daemon_engine``: probe,
  classification, HTML and full-page screenshot kept, the row in SQLite), one warm-up round
  then one timed round;
* ``changedetection.io``: its ``content_fetchers.playwright.fetcher``, as its workers call
  it, against a Chromium started by the worker with ``--remote-debugging-port`` (the
  fetcher connects over CDP, as to its ``playwright-chrome`` container); a warm-up round
  then a timed one, once with its default ``WEBDRIVER_DELAY_BEFORE_CONTENT_READY`` (5 s
  after each load) and once with it set to 0;

and samples every 0.5 s the PSS of the worker and its descendants (Playwright's driver(s)
and Chromium): the figure is the largest sample.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CD_PYTHON = HERE / ".venv-cd" / "bin" / "python"
#: Both sides on the same Chromium: set $MONITOR_BROWSER to the one the daemon picks
#: (``monitor.probes.chromium``; this file also runs in changedetection.io's environment).
CHROMIUM = os.environ.get("MONITOR_BROWSER", "/usr/bin/chromium")
RDVSP_QUERY = (
    "departement=&motif_name_with_location_type="
    "renouvellement_de_recepisses_arrives_a_echeance-public_office&public_link_organisation_id="
)
CONCURRENCY = 4


def urls(base_url: str, count: int) -> list[str]:
    return [f"{base_url}/prendre_rdv?{RDVSP_QUERY}{8100 + n}" for n in range(count)]


# --- workers ------------------------------------------------------------------------------


async def ours(pages: list[str]) -> float:
    sys.path.insert(0, str(HERE))
    import probes

    # As probes.daemon_engine, on these rdv-service-public pages only.
    from monitor.config import load_config
    from monitor.daemon.compose import build_daemon
    from monitor.store import Repository, create_engine_for, upgrade

    directory = Path(tempfile.mkdtemp(prefix="bench-cd-ours-"))
    targets = [
        {"id": f"t{n:04d}", "name": f"t{n}", "platform": "rdv-service-public", "url": url,
         "engine": "browser"}
        for n, url in enumerate(pages)
    ]  # fmt: skip
    config = load_config(probes.write_config(directory, targets, concurrency=CONCURRENCY), env={})
    upgrade(config.settings.database)
    repository = Repository(create_engine_for(config.settings.database))
    daemon = build_daemon(config, repository, node="bench", reload_config=lambda: config)
    every = list(config.targets())
    try:
        elapsed = 0.0
        for _ in range(2):  # warm-up, then the timed round
            began = time.perf_counter()
            results = await asyncio.gather(
                *(daemon.runner.run(t, probes.datetime.now(probes.UTC)) for t in every)
            )
            elapsed = time.perf_counter() - began
            if any(r.outcome is None or r.outcome.status != "unavailable" for r in results):
                raise RuntimeError("ours: unexpected outcomes")
        return elapsed
    finally:
        await daemon._engines.aclose()


async def changedetection(pages: list[str]) -> float:
    from changedetectionio.content_fetchers.playwright import fetcher  # type: ignore

    port_probe = __import__("socket").socket()
    port_probe.bind(("127.0.0.1", 0))
    port = port_probe.getsockname()[1]
    port_probe.close()
    profile = tempfile.mkdtemp(prefix="bench-cd-chromium-")
    chromium = subprocess.Popen(
        [CHROMIUM, "--headless", f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
         "--no-first-run", "--no-sandbox", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: a wrapper script's child goes too
    )  # fmt: skip
    try:
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                __import__("urllib.request").request.urlopen(endpoint + "/json/version")
                break
            except OSError:
                await asyncio.sleep(0.1)
        slots = asyncio.Semaphore(CONCURRENCY)

        async def fetch(url: str) -> None:
            async with slots:
                f = fetcher(custom_browser_connection_url=endpoint)
                await f.run(url=url, timeout=60, request_headers={}, request_method="GET")
                if "Malheureusement" not in (f.content or ""):
                    raise RuntimeError(f"changedetection.io: not the no-slot page at {url}")

        elapsed = 0.0
        for _ in range(2):
            began = time.perf_counter()
            await asyncio.gather(*(fetch(u) for u in pages))
            elapsed = time.perf_counter() - began
        return elapsed
    finally:
        os.killpg(chromium.pid, signal.SIGTERM)
        chromium.wait()


# --- orchestrator -------------------------------------------------------------------------


def run_worker(command: list[str], environment: dict[str, str]) -> tuple[float, float]:
    """(timed round seconds, peak PSS MiB of the worker's tree) of one worker process."""
    sys.path.insert(0, str(HERE))
    import proctree

    with tempfile.TemporaryFile() as errors:  # changedetection.io logs at DEBUG on stderr
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, text=True, env=environment
        )
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.5):
                peak = max(peak, proctree.pss_bytes(process.pid))

        sampler = threading.Thread(target=sample)
        sampler.start()
        out, _ = process.communicate()
        done.set()
        sampler.join()
        if process.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{command[:4]} failed ({process.returncode}): {tail}")
    return float(json.loads(out.strip().splitlines()[-1])["seconds"]), peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", choices=["ours", "changedetection"])
    parser.add_argument("--urls", nargs="*", default=[])
    args = parser.parse_args()
    if args.worker:
        work = ours if args.worker == "ours" else changedetection
        print(json.dumps({"seconds": asyncio.run(work(args.urls))}))
        return
    if not CD_PYTHON.exists():
        raise SystemExit(f"{CD_PYTHON} is missing: see this script's docstring")
    sys.path.insert(0, str(HERE))
    import probes

    base = {k: v for k, v in os.environ.items() if k != "MONITOR_DATABASE_URL"}
    with probes.imitation() as base_url:
        pages = urls(base_url, args.targets)
        me = str(Path(__file__).resolve())
        approaches: dict[str, tuple[list[str], dict[str, str]]] = {
            "ours (daemon path)": (
                [sys.executable, me, "--worker", "ours", "--urls", *pages],
                base,
            ),
            "changedetection.io, default 5 s delay": (
                [str(CD_PYTHON), me, "--worker", "changedetection", "--urls", *pages],
                {**base, "LOGGER_LEVEL": "WARNING", "ALLOW_IANA_RESTRICTED_ADDRESSES": "true"},
            ),
            "changedetection.io, delay 0": (
                [str(CD_PYTHON), me, "--worker", "changedetection", "--urls", *pages],
                {
                    **base,
                    "LOGGER_LEVEL": "WARNING",
                    "ALLOW_IANA_RESTRICTED_ADDRESSES": "true",
                    "WEBDRIVER_DELAY_BEFORE_CONTENT_READY": "0",
                },
            ),
        }
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in approaches}
        names = list(approaches)
        for number in range(args.rounds):
            for name in names[number % len(names) :] + names[: number % len(names)]:
                seconds, pss = run_worker(*approaches[name])
                results[name].append((seconds, pss, os.getloadavg()[0]))
                print(f"round {number + 1} {name}: {seconds:.2f} s, {pss:.0f} MiB", file=sys.stderr)
    ours_rate = args.targets / statistics.median(r[0] for r in results[names[0]])
    ours_pss = statistics.median(r[1] for r in results[names[0]])
    print(
        f"\n{args.targets} rdv-service-public pages, {CONCURRENCY} at once, {args.rounds} rounds\n"
    )
    print("| approach | pages/s (median) | ours × it | peak PSS MiB (median) | ours ÷ it | load |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, rows in results.items():
        rate = args.targets / statistics.median(r[0] for r in rows)
        pss = statistics.median(r[1] for r in rows)
        loads = [r[2] for r in rows]
        print(
            f"| {name} | {rate:.2f} | {ours_rate / rate:.2f}× | {pss:.0f} | {ours_pss / pss:.2f} "
            f"| {min(loads):.1f}-{max(loads):.1f} |"
        )


if __name__ == "__main__":
    main()
