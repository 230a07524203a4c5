"""Hostile or broken sites through the real ``monitor check``, with both engines (issue 12).

The imitation serves each fault on a legacy-booking key of its own: a page trickled a few
bytes a second, a 100 MB page (with and without Content-Length), a gzip bomb (1 GiB of
HTML in about a megabyte), a redirect loop, broken markup, a page in the wrong charset; and
a local HTTPS server with a self-signed certificate stands for a TLS failure. Each must give
its anomaly, no crash and no traceback, with the monitor's memory bounded: the python
process's peak RSS (measured by the process itself) stays far below the page sizes.
"""

from __future__ import annotations

import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browsers import chromium_or_none
from checkrun import write_config
from helpers import migrated

from monitor.imitation import ImitationSite, faults
from monitor.probes.limits import MAX_RESPONSE_BYTES

pytestmark = pytest.mark.timeout(600)

#: fault name -> (scenario, params, expected status, reason, detail code or None)
FAULTS: dict[str, tuple[str, dict[str, Any], str, str, str | None]] = {
    "huge": ("huge", {"size": 100}, "anomaly", "unrecognized", "response_too_large"),
    "huge-undeclared": (
        "huge",
        {"size": 100, "declared": False},
        "anomaly",
        "unrecognized",
        "response_too_large",
    ),
    "gzip-bomb": ("gzip_bomb", {"size": 1024}, "anomaly", "unrecognized", "response_too_large"),
    "redirect-loop": ("redirect_loop", {}, "anomaly", "http_error", None),
    "malformed": ("malformed", {}, "anomaly", "unrecognized", "unknown_page"),
    # The no-slot page in Latin-1 declared UTF-8: its accent-free sentence still reads.
    "wrong-charset": ("wrong_charset", {"base": "no_slot"}, "unavailable", "no_slot", None),
    "trickle": ("trickle", {"every": 1.0, "chunk": 16}, "anomaly", "timeout", None),
}
SLOW = {"trickle"}
#: The monitor process's peak RSS must stay under this (a 100 MB page read whole, or the
#: gzip bomb inflated, would be far above it; a cold `monitor check` is about 100 MiB).
RSS_LIMIT_MIB = 350


CHROMIUM = chromium_or_none()
ENGINES = ("http", "browser") if CHROMIUM else ("http",)


@dataclass(frozen=True)
class Checked:
    rows: dict[str, dict[str, Any]]  #: by target id (without the prefecture)
    peak_rss_mib: float
    stderr: str


# `python -m monitor` in a process that reports its own peak RSS when it ends: the
# high-water mark of its own memory (VmHWM), not getrusage's ru_maxrss, which Linux carries
# over from the parent across fork and exec (the test process, hundreds of MiB late in
# the suite, was measured instead of the monitor).
_MEASURED = (
    "import runpy, sys\n"
    "sys.argv = ['monitor', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('monitor', run_name='__main__')\n"
    "finally:\n"
    "    with open('/proc/self/status', encoding='ascii') as status:\n"
    "        peak = next(int(l.split()[1]) for l in status if l.startswith('VmHWM:'))\n"
    "    print(f'PEAK_RSS_KIB={peak}', file=sys.stderr)\n"
)


def check(config: Path) -> Checked:
    environment = {**os.environ}
    environment.pop("MONITOR_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, "--config", str(config), "check", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=500,
        env=environment,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    peak = next(
        int(line.split("=", 1)[1])
        for line in done.stderr.splitlines()
        if line.startswith("PEAK_RSS_KIB=")
    )
    rows = {row["target"].split("/", 1)[1]: row for row in json.loads(done.stdout)}
    return Checked(rows, peak / 1024, done.stderr)


def target_id(fault: str, engine: str) -> str:
    return f"{fault}-{engine}"


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Checked, Checked]]:
    tmp = tmp_path_factory.mktemp("faults")
    database = migrated(tmp / "monitor.db")
    faults.gzip_bomb(1024)  # made once, before any probe's clock runs
    with ImitationSite() as site:
        targets: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
        for index, (fault, (scenario, params, *_)) in enumerate(FAULTS.items()):
            key = str(8101 + index)
            site.set_scenario(key, scenario, **params)
            for engine in ENGINES:
                targets[fault in SLOW].append(
                    {
                        "id": target_id(fault, engine),
                        "name": fault,
                        "platform": "legacy-booking",
                        "url": site.url(f"/booking/create/{key}"),
                        "engine": engine,
                    }
                )
        common: dict[str, Any] = {
            "database": database,
            "evidence_dir": tmp / "evidence",
            "chromium": CHROMIUM,
        }
        main = write_config(tmp / "main.yaml", targets=targets[False], **common)
        slow = write_config(tmp / "slow.yaml", targets=targets[True], probe_timeout="3s", **common)
        with ThreadPoolExecutor(2) as pool:
            runs = pool.submit(check, main), pool.submit(check, slow)
            yield runs[0].result(), runs[1].result()


PAIRS = [(fault, engine) for fault in FAULTS for engine in ENGINES]


@pytest.mark.parametrize(("fault", "engine"), PAIRS, ids=[f"{f}-{e}" for f, e in PAIRS])
def test_each_fault_gives_its_anomaly(
    checked: tuple[Checked, Checked], fault: str, engine: str
) -> None:
    run = checked[1] if fault in SLOW else checked[0]
    row = run.rows[target_id(fault, engine)]
    _scenario, _params, status, reason, code = FAULTS[fault]
    assert (row["status"], row["reason"]) == (status, reason), row["detail"]
    assert row["engine"] == engine
    if code is not None:
        assert row["detail_code"] == code, row["detail"]
    if code == "response_too_large":
        assert row["detail_args"]["limit"] == MAX_RESPONSE_BYTES


def test_the_monitor_reads_no_more_than_the_cap_of_a_huge_page_or_a_gzip_bomb(
    checked: tuple[Checked, Checked],
) -> None:
    main, _slow = checked
    assert main.peak_rss_mib < RSS_LIMIT_MIB, f"peak RSS {main.peak_rss_mib:.0f} MiB"


def test_a_redirect_loop_is_named_as_such(checked: tuple[Checked, Checked]) -> None:
    main, _slow = checked
    http = main.rows[target_id("redirect-loop", "http")]
    assert http["detail_code"] == "too_many_redirects"
    if "browser" in ENGINES:
        browser = main.rows[target_id("redirect-loop", "browser")]
        assert "ERR_TOO_MANY_REDIRECTS" in browser["detail"]


# --- TLS -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no authority signed, made by the openssl CLI."""
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    command = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1"
    command += " -addext subjectAltName=IP:127.0.0.1"
    subprocess.run(
        [*command.split(), "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def https_site(self_signed: tuple[Path, Path]) -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 whose certificate the monitor cannot trust."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<h1>Vous ne devriez pas lire ceci</h1>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/booking/create/1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_certificate_nobody_signed_is_a_connection_anomaly(
    tmp_path: Path, https_site: str
) -> None:
    targets = [
        {"id": f"tls-{engine}", "name": "TLS", "platform": "legacy-booking", "url": https_site}
        | {"engine": engine}
        for engine in ENGINES
    ]
    config = write_config(
        tmp_path / "tls.yaml",
        targets=targets,
        database=migrated(tmp_path / "m.db"),
        evidence_dir=tmp_path / "evidence",
        chromium=CHROMIUM,
        probe_timeout="20s",
    )
    run = check(config)
    http = run.rows["tls-http"]
    assert (http["status"], http["reason"], http["detail_code"]) == (
        "anomaly",
        "connection",
        "tls_failure",
    ), http["detail"]
    assert "CERTIFICATE_VERIFY_FAILED" in http["detail"]
    if "browser" in ENGINES:
        browser = run.rows["tls-browser"]
        assert (browser["status"], browser["reason"]) == ("anomaly", "connection")
        assert "net::ERR_CERT_AUTHORITY_INVALID" in browser["detail"]
