"""Soak: the real daemon on many targets at short intervals while the sites fail at random.

    .venv/bin/python bench/soak.py [--targets 200] [--minutes 60] [--interval 20] [--seed 7]

Not a test (it runs for an hour) and not in CI. Everything stays on 127.0.0.1:

1. Four imitation sites, each in its own process (four hosts, so per-host politeness
   spreads the load), and an SMTP server on loopback that the alerts go to.
2. ``monitor run`` as a subprocess on a fresh SQLite database, ``--targets`` targets on
   ``rdv-service-public`` pages (one request per probe, http engine) and every tenth on
   ``legacy-booking`` with the browser engine (interval × 3).
3. Every 20 s the chaos loop gives about a tenth of the targets a fault for one to five
   minutes, drawn from: 502/503 bursts, 429 with Retry-After, a hang past the probe
   timeout, a connection reset or close, an empty page, a slow trickle, malformed HTML,
   a wrong charset, a redirect loop, an overload page, random 502s, a 100 MB page, a gzip
   bomb; or slots opening. A fault ends by putting the target back on "no slot".
4. Every 30 s: the proportional set size (PSS, from ``/proc/<pid>/smaps_rollup``) of the
   daemon and every process under it (Playwright's driver, Chromium), and the outcome
   count.
5. At the end: SIGTERM (exit code and time), ``monitor verify``, counts of outcomes by
   status and reason, events by kind, emails received, and the log's ERROR lines and
   tracebacks. Prints a Markdown report (for BENCHMARKS.md) and writes it, with the raw
   samples as JSON, to ``bench/.cache/soak-<time>.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parent))

import proctree

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
SITES = 4
RDVSP_QUERY = (
    "departement=&motif_name_with_location_type="
    "renouvellement_de_recepisses_arrives_a_echeance-public_office&public_link_organisation_id="
)
#: The faults the chaos loop draws from, with their parameters (see monitor/imitation).
FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("http_502", {}),
    ("http_503", {}),
    ("rate_limited", {"retry_after": 30}),
    ("slow", {"delay": 40}),  # past the probe timeout (20 s)
    ("reset", {}),
    ("disconnect", {}),
    ("empty", {}),
    ("overloaded", {}),
    ("flaky", {"p": 0.5, "seed": 3}),
    ("huge", {}),
    ("trickle", {}),
    ("malformed", {}),
    ("wrong_charset", {}),
    ("redirect_loop", {}),
    ("gzip_bomb", {}),
    ("slots", {"count": 2}),
]


@dataclass
class Target:
    key: str
    site: int
    platform: str
    engine: str
    fault_until: float = 0.0


@dataclass
class Report:
    started: str
    samples: list[dict[str, Any]] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)


class MailCounter:
    """aiosmtpd handler: counts the messages it accepts."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_sites(count: int) -> list[tuple[subprocess.Popen[str], str]]:
    sites = []
    for _ in range(count):
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor.imitation", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        sites.append((process, url))
    return sites


def set_scenario(base_url: str, key: str, scenario: str, params: dict[str, Any]) -> None:
    httpx.post(
        base_url + "/_imitation/scenario",
        json={"key": key, "scenario": scenario, "params": params},
        timeout=10,
    ).raise_for_status()


def write_config(
    path: Path, targets: list[Target], sites: list[str], smtp_port: int, interval: int
) -> None:
    lines = [
        "version: 1",
        "settings:",
        f"  database: sqlite:///{path.parent / 'soak.db'}",
        f"  evidence_dir: {path.parent / 'evidence'}",
        '  user_agent: "prefecture-monitor/soak (+https://example.invalid)"',
        f"  schedule: {{interval: {interval}s, jitter: 20%}}",
        "  politeness: {per_host_concurrency: 4, per_host_min_gap: 0s, backoff_max: 2m}",
        "  probe_timeout: 20s",
        "  connectivity_check: []",
        "  alerts: {anomaly_after: 3, resolved_after: 2}",
        "channels:",
        "  - id: soak-mail",
        f'    url: "mailto://127.0.0.1:{smtp_port}?mode=insecure&from=m@example.org&to=a@example.org"',
        "prefectures:",
        '  - id: "99"',
        "    name: Préfecture du soak",
        "    targets:",
    ]
    for target in targets:
        base = sites[target.site]
        if target.platform == "legacy-booking":
            url = f"{base}/booking/create/{target.key}"
            extra = f"        engine: browser\n        interval: {interval * 3}s\n"
        else:
            url = f"{base}/prendre_rdv?{RDVSP_QUERY}{target.key}"
            extra = "        engine: http\n"
        lines.append(
            f'      - id: "t{target.key}"\n        name: Démarche {target.key}\n'
            f"        platform: {target.platform}\n        url: {url}\n{extra.rstrip()}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def outcome_count(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
            return int(connection.execute("SELECT count(*) FROM outcomes").fetchone()[0])
    except sqlite3.Error:
        return -1


def chaos(
    targets: list[Target],
    sites: list[str],
    rng: random.Random,
    report: Report,
    stop: threading.Event,
) -> None:
    while not stop.wait(20):
        now = time.monotonic()
        for target in targets:
            if target.fault_until and now >= target.fault_until:
                set_scenario(sites[target.site], target.key, "no_slot", {})
                target.fault_until = 0.0
        for target in rng.sample(targets, max(1, len(targets) // 10)):
            if target.fault_until:
                continue
            name, params = rng.choice(FAULTS)
            set_scenario(sites[target.site], target.key, name, params)
            target.fault_until = now + rng.uniform(60, 300)
            report.faults[name] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--interval", type=int, default=20, help="seconds (browser targets ×3)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="monitor-soak-"))
    report = Report(started=datetime.now(UTC).isoformat(timespec="seconds"))

    mail = MailCounter()
    smtp = Controller(mail, hostname="127.0.0.1", port=free_port())
    smtp.start()
    site_processes = start_sites(SITES)
    sites = [url for _, url in site_processes]
    targets = [
        Target(
            key=str(5000 + index),
            site=index % SITES,
            platform="legacy-booking" if index % 10 == 0 else "rdv-service-public",
            engine="browser" if index % 10 == 0 else "http",
        )
        for index in range(args.targets)
    ]
    for target in targets:
        set_scenario(sites[target.site], target.key, "no_slot", {})
    config = work / "prefectures.yaml"
    write_config(config, targets, sites, smtp.port, args.interval)
    log = work / "daemon.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    command = [sys.executable, "-m", "monitor", "--config", str(config)]
    with log.open("w") as stream:
        daemon = subprocess.Popen(
            [*command, "run", "--migrate"], stdout=stream, stderr=subprocess.STDOUT, env=env
        )
    stop = threading.Event()
    chaos_thread = threading.Thread(
        target=chaos, args=(targets, sites, rng, report, stop), daemon=True
    )
    chaos_thread.start()
    began = time.monotonic()
    deadline = began + args.minutes * 60
    try:
        while time.monotonic() < deadline and daemon.poll() is None:
            tree = proctree.tree(daemon.pid)
            report.samples.append(
                {
                    "minute": round((time.monotonic() - began) / 60, 2),
                    "pss_mib": round(sum(proctree.pss_of(pid) for pid in tree) / 2**20, 1),
                    "daemon_pss_mib": round(proctree.pss_of(daemon.pid) / 2**20, 1),
                    "processes": len(tree),
                    "outcomes": outcome_count(work / "soak.db"),
                    "load": round(os.getloadavg()[0], 2),
                }
            )
            time.sleep(30)
    finally:
        stop.set()
        alive_at_end = daemon.poll() is None
        stopping = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        try:
            code = daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            code = -9
        stop_seconds = time.monotonic() - stopping
        for process, _ in site_processes:
            process.terminate()
        time.sleep(2)  # the last sends
        smtp.stop()

    verified = subprocess.run(
        [*command, "verify"], capture_output=True, text=True, env=env, check=False
    )
    with sqlite3.connect(work / "soak.db") as connection:
        by_outcome = connection.execute(
            "SELECT status, reason, count(*) FROM outcomes GROUP BY status, reason ORDER BY 3 DESC"
        ).fetchall()
        by_event = connection.execute(
            "SELECT kind, count(*) FROM events GROUP BY kind ORDER BY 2 DESC"
        ).fetchall()
        deliveries = connection.execute(
            "SELECT state, count(*) FROM deliveries GROUP BY state"
        ).fetchall()
    text = log.read_text(errors="replace")
    errors = [line for line in text.splitlines() if " ERROR " in line]
    tracebacks = text.count("Traceback (most recent call last)")

    memory = [s["pss_mib"] for s in report.samples] or [0.0]
    first, peak, last = memory[0], max(memory), memory[-1]
    lines = [
        f"Soak started {report.started}: {args.targets} targets, interval {args.interval} s "
        f"(browser targets {args.interval * 3} s), {args.minutes:g} min, seed {args.seed}.",
        "",
        f"- daemon alive at the end: {alive_at_end}; SIGTERM → exit {code} in {stop_seconds:.1f} s",
        f"- unhandled exceptions (tracebacks in the log): {tracebacks}; ERROR lines: {len(errors)}",
        f"- `monitor verify`: exit {verified.returncode}",
        f"- outcomes: {sum(n for *_, n in by_outcome)}; emails received: {mail.received}",
        f"- faults injected: {sum(report.faults.values())} "
        f"({', '.join(f'{k} {v}' for k, v in report.faults.most_common())})",
        f"- memory (PSS of the daemon and its children): first {first} MiB, peak {peak} MiB, "
        f"last {last} MiB",
        "",
        "| status | reason | outcomes |",
        "| --- | --- | ---: |",
        *(f"| {status} | {reason} | {n} |" for status, reason, n in by_outcome),
        "",
        "| event | count |",
        "| --- | ---: |",
        *(f"| {kind} | {n} |" for kind, n in by_event),
        "",
        "| delivery state | count |",
        "| --- | ---: |",
        *(f"| {state} | {n} |" for state, n in deliveries),
        "",
        "| minute | PSS MiB (daemon + children) | daemon PSS MiB | processes | outcomes | load |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {s['minute']} | {s['pss_mib']} | {s['daemon_pss_mib']} | {s['processes']} "
            f"| {s['outcomes']} | {s['load']} |"
            for s in report.samples[:: max(1, len(report.samples) // 20)]
        ),
    ]
    if errors:
        lines += ["", "First ERROR lines:", "", "```", *errors[:10], "```"]
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    CACHE.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (CACHE / f"soak-{stamp}.md").write_text(markdown, encoding="utf-8")
    (CACHE / f"soak-{stamp}.json").write_text(
        json.dumps({"samples": report.samples, "faults": report.faults}, indent=1),
        encoding="utf-8",
    )
    print(f"work directory (database, evidence, log): {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
