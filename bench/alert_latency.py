"""Slot to alert: from the probe that sees slots until the SMTP server on loopback has the email.

    .venv/bin/python bench/alert_latency.py [--events 30] [--engine http|browser]

The real daemon (``monitor run --migrate``, a subprocess) watches one rdv-service-public
target on the imitation (its own process), every 2 s without jitter, with one mail channel
(Apprise ``mailto://``) pointing at an aiosmtpd server on 127.0.0.1 in this process that
only wants ``slots_opened``. Each event: the bench sets the target's scenario to ``slots``
and waits for the mail; then sets ``no_slot`` back and waits until two probes have seen it
(``alerts.close_after``, default 2, so that the next ``slots`` opens a new period).

Latency = the time the SMTP server accepted the message's DATA minus the time the
imitation finished answering the request that showed the slots (its request log: arrival
wall time + duration). Both clocks are this machine's ``time.time()``. What it covers:
the rest of the probe (parsing, classification), the evidence files, the outcome row and
its event in one transaction, the dispatcher's wake-up, Apprise and the SMTP exchange.
The wait for the next scheduled probe is not in it (that is the schedule's interval).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PY_SPY = ROOT / "bench" / ".venv-tools" / "bin" / "py-spy"  # pip install py-spy there
KEY = "9901"
#: ``alerts.close_after`` (default 2): probes without slots before the opening is closed and
#: a new ``slots`` is a new ``slots_opened``; a shorter flap continues the same opening.
CLOSE_AFTER = 2
RDVSP_QUERY = (
    "departement=&motif_name_with_location_type="
    "renouvellement_de_recepisses_arrives_a_echeance-public_office&public_link_organisation_id="
)


class Inbox:
    """An aiosmtpd handler that stamps each accepted message with ``time.time()``."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.changed:
            self.arrivals.append(time.time())
            self.changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.arrivals) >= count, timeout)


def free_port() -> int:
    # aiosmtpd's Controller connects to its port to check it started, so port 0 will not do.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(directory: Path, base_url: str, smtp_port: int, engine: str) -> Path:
    config = {
        "version": 1,
        "settings": {
            "database": f"sqlite:///{directory / 'monitor.db'}",
            "evidence_dir": str(directory / "evidence"),
            "user_agent": "prefecture-monitor/bench (+https://example.invalid)",
            "schedule": {"interval": "2s", "jitter": "0s"},
            "politeness": {"per_host_concurrency": 1, "per_host_min_gap": "0s"},
            "probe_timeout": "20s",
            "connectivity_check": [],
        },
        "channels": [
            {
                "id": "mail",
                "url": f"mailto://127.0.0.1:{smtp_port}?mode=insecure"
                "&from=monitor@example.org&to=alerts@example.org",
                "events": ["slots_opened"],
            }
        ],
        "prefectures": [
            {
                "id": "b",
                "name": "Préfecture de banc",
                "targets": [
                    {
                        "id": "rdv",
                        "name": "rdv",
                        "platform": "rdv-service-public",
                        "engine": engine,
                        "url": f"{base_url}/prendre_rdv?{RDVSP_QUERY}{KEY}",
                    }
                ],
            }
        ],
    }
    path = directory / "prefectures.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def requests_since(base_url: str, scenario: str, since: float) -> list[dict[str, Any]]:
    """Finished requests for our key, answered with ``scenario``, that arrived after ``since``."""
    log = httpx.get(f"{base_url}/_imitation/requests").json()
    return [
        r
        for r in log
        if r["key"] == KEY
        and r["scenario"] == scenario
        and r["wall"] >= since
        and r["duration"] is not None
    ]


def set_scenario(base_url: str, name: str, params: dict[str, Any]) -> float:
    payload = {"key": KEY, "scenario": name, "params": params}
    httpx.post(f"{base_url}/_imitation/scenario", json=payload).raise_for_status()
    return time.time()


def run(events: int, engine: str, profile: Path | None) -> list[float]:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    site = subprocess.Popen(
        [PYTHON, "-m", "monitor.imitation", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    directory = Path(tempfile.mkdtemp(prefix="bench-alert-"))
    daemon: subprocess.Popen[bytes] | None = None
    spy: subprocess.Popen[bytes] | None = None
    latencies: list[float] = []
    try:
        assert site.stdout is not None
        base_url = site.stdout.readline().strip()
        config = write_config(directory, base_url, smtp.port, engine)
        environment = {**os.environ, "MONITOR_LOG_FORMAT": "text"}
        environment.pop("MONITOR_DATABASE_URL", None)
        with (directory / "daemon.log").open("wb") as log:
            daemon = subprocess.Popen(
                [PYTHON, "-m", "monitor", "--config", str(config), "-q", "run", "--migrate"],
                stdout=log,
                stderr=log,
                env=environment,
            )
        if profile is not None:  # py-spy samples the daemon: collapsed stacks, idle excluded
            spy = subprocess.Popen(
                [str(PY_SPY), "record", "--pid", str(daemon.pid), "--rate", "100",
                 "--format", "raw", "--output", str(profile)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        time.sleep(5)  # start-up, the first probes (no_slot by default)
        for number in range(events):
            flipped = set_scenario(base_url, "slots", {"count": 3})
            if not inbox.wait_for(number + 1, timeout=60):
                raise RuntimeError(f"no mail for event {number + 1}; see {directory}/daemon.log")
            mailed = inbox.arrivals[number]
            seen = requests_since(base_url, "slots", flipped)
            if not seen:
                raise RuntimeError("a mail without a request that showed slots")
            answered = seen[0]["wall"] + seen[0]["duration"]
            latencies.append(mailed - answered)
            print(
                f"event {number + 1}: {latencies[-1] * 1000:.0f} ms"
                f" (flip to mail {(mailed - flipped) * 1000:.0f} ms),"
                f" load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
            )
            closed = set_scenario(base_url, "no_slot", {})
            deadline = time.time() + 60
            while len(requests_since(base_url, "no_slot", closed)) < CLOSE_AFTER:
                if time.time() > deadline:
                    raise RuntimeError("no probe saw no_slot")
                time.sleep(0.2)
            time.sleep(0.5)  # those outcomes recorded: the next slots open a new period
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=60)
        site.terminate()
        site.wait()
        smtp.stop()
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--engine", choices=["http", "browser"], default="http")
    parser.add_argument(
        "--py-spy", type=Path, metavar="FILE", help="profile the daemon into FILE (collapsed)"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    latencies = run(args.events, args.engine, args.py_spy)
    summary = {
        "engine": args.engine,
        "events": len(latencies),
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(percentile(latencies, 0.95), 3),
        "max_s": round(max(latencies), 3),
        "min_s": round(min(latencies), 3),
        "load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
