"""Secrets masked by what they are, not only by their variable's name (issue 25, item 5).

Apprise's privacy form hides what each service knows to be a credential, and the loader
masked values of variables named like secrets; neither hid a webhook's header or payload
token, a literal API key, a Signal number in ``${ALICE}``, a PostgreSQL ``?password=``.
A table over URL shapes checks the masked forms (tests/unit/test_masked_urls.py); here the
real commands (``config validate``, ``notify test`` against channels that fail, one of them
a server that echoes the request back, and a command on an unreachable PostgreSQL) run with
``-v`` and none of the secret strings may appear in their stdout or stderr. Last, the
public page shows a booking URL as the config writes it, each ``${…}`` masked.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from monitor.config import dump_masked, load_config
from monitor.store import upgrade

PROJECT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3tValue7Q"  # what each shape below hides, written literally in the URL


# -- the real commands ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Echo(BaseHTTPRequestHandler):
    """A webhook that fails and quotes the whole request back, as some services do."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = f"{self.requestline}\n{self.headers}\n".encode() + self.rfile.read(length)
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def echoing_webhook() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


#: Environment values whose variables have ordinary names, and literal secrets.
ENV = {
    "ALICE": "+33611122233",  # a Signal number in a variable not named TO/FROM/NUMBER
    "BOB": "+33644455566",
    "HOOK_HEADER": "hdr-envValue-91x",
    "BOOKING_KEY": "bk-9f2c41d7e8",
    "DB_SECRET": "dbEnvPw-77aa",
}
LITERALS = {"literal_header": "litHdr-5e5e5e", "api_key": "apiKeyLit0123456789ab"}
ALL = (*ENV.values(), "33611122233", "33644455566", *LITERALS.values(), SECRET)


def _config(tmp_path: Path, echo_port: int) -> Path:
    closed = _free_port()
    config = {
        "version": 1,
        "settings": {
            "database": f"sqlite:///{tmp_path / 'monitor.db'}",
            "evidence_dir": str(tmp_path / "evidence"),
            "connectivity_check": [],
        },
        "channels": [
            {
                "id": "echo",
                "url": f"json://127.0.0.1:{echo_port}/hook?+X-Token=${{HOOK_HEADER}}"
                f"&:secret={LITERALS['literal_header']}",
            },
            {"id": "keyed", "url": f"json://127.0.0.1:{echo_port}/api/{LITERALS['api_key']}"},
            {"id": "people", "url": f"signal://127.0.0.1:{closed}/${{ALICE}}/${{BOB}}"},
        ],
        "prefectures": [
            {
                "id": "92",
                "name": "Préfecture des Hauts-de-Seine",
                "targets": [
                    {
                        "id": "remise-titre",
                        "name": "Remise de titre",
                        "platform": "legacy-booking",
                        "url": "https://rdv.example.gouv.fr/booking/create/1?key=${BOOKING_KEY}",
                    }
                ],
            }
        ],
    }
    path = tmp_path / "prefectures.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _monitor(
    config: Path, *args: str, database: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    options = ["--database", database] if database else []
    return subprocess.run(
        [sys.executable, "-m", "monitor", "-v", "--config", str(config), *options, *args],
        cwd=PROJECT,
        env={**env, **ENV},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_no_command_prints_a_secret_whatever_holds_it(tmp_path: Path, echoing_webhook: int) -> None:
    config = _config(tmp_path, echoing_webhook)
    closed = _free_port()
    unreachable = (
        f"postgresql://monitor:${{DB_SECRET}}@127.0.0.1:{closed}/monitor?password={SECRET}"
    ).replace("${DB_SECRET}", ENV["DB_SECRET"])
    runs = {
        "config validate": _monitor(config, "config", "validate"),
        "notify test": _monitor(config, "notify", "test"),
        "status on PostgreSQL": _monitor(config, "status", database=unreachable),
        "db current on PostgreSQL": _monitor(config, "db", "current", database=unreachable),
    }

    validate = runs["config validate"]
    assert validate.returncode == 0, validate.stderr
    assert "key=${…}" in validate.stdout  # the booking URL as written, its key masked
    notify = runs["notify test"]
    assert notify.returncode == 1
    verdicts = {line.split()[0]: line.split()[1] for line in notify.stdout.splitlines()}
    assert verdicts == {"echo": "FAILED", "keyed": "FAILED", "people": "FAILED"}
    assert "500" in notify.stdout  # the echoing service's answer was read, and masked
    assert "X-Token" in notify.stderr  # -v relayed Apprise's payload lines, masked
    for name in ("status on PostgreSQL", "db current on PostgreSQL"):
        assert runs[name].returncode == 1, runs[name].stderr
        assert f"127.0.0.1:{closed}" in runs[name].stderr
    for name, done in runs.items():
        shown = done.stdout + done.stderr
        assert [secret for secret in ALL if secret in shown] == [], f"in `monitor {name}`"
        assert "Traceback" not in shown, name


def test_the_public_page_shows_the_booking_url_as_written(tmp_path: Path) -> None:
    config_path = _config(tmp_path, _free_port())
    config = load_config(config_path, env=ENV)
    (target,) = config.targets()
    assert target.url.endswith("key=" + ENV["BOOKING_KEY"])  # what the probes fetch
    assert target.public_url == "https://rdv.example.gouv.fr/booking/create/1?key=${…}"
    assert ENV["BOOKING_KEY"] not in str(dump_masked(config))

    upgrade(f"sqlite:///{tmp_path / 'monitor.db'}")
    done = _monitor(config_path, "publish", str(tmp_path / "site"))
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "site" / "targets" / "92" / "remise-titre.html").read_text("utf-8")
    assert "https://rdv.example.gouv.fr/booking/create/1?key=${…}" in page
    for path in (tmp_path / "site").resolve().rglob("*"):
        if path.is_file():
            assert ENV["BOOKING_KEY"].encode() not in path.read_bytes(), path


def test_a_booking_url_without_reference_stays_a_link(tmp_path: Path) -> None:
    config_path = _config(tmp_path, _free_port())
    text = config_path.read_text("utf-8").replace("?key=${BOOKING_KEY}", "")
    config_path.write_text(text, encoding="utf-8")
    (target,) = load_config(config_path, env=ENV).targets()
    assert target.public_url == target.url == "https://rdv.example.gouv.fr/booking/create/1"
    upgrade(f"sqlite:///{tmp_path / 'monitor.db'}")
    assert _monitor(config_path, "publish", str(tmp_path / "site")).returncode == 0
    page = (tmp_path / "site" / "targets" / "92" / "remise-titre.html").read_text("utf-8")
    assert '<a href="https://rdv.example.gouv.fr/booking/create/1" rel="nofollow' in page
