"""Secrets masked by what they are, not only by their variable's name (issue 25, item 5).

Apprise's privacy form hides what each service knows to be a credential, and the loader
masked values of variables named like secrets; neither hid a webhook's header or payload
token, a literal API key, a Signal number in ``${ALICE}``, a PostgreSQL ``?password=``.
A table over URL shapes checks the masked forms; then the real commands (``config
validate``, ``notify test`` against channels that fail, one of them a server that echoes
the request back, and a command on an unreachable PostgreSQL) run with ``-v`` and none of
the secret strings may appear in their stdout or stderr. Last, the public page shows a
booking URL as the config writes it, each ``${…}`` masked.
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

from monitor.config import Channel, dump_masked, load_config
from monitor.config.env import as_written
from monitor.config.settings import mask_database_url as mask_in_config
from monitor.store import upgrade
from monitor.store.engine import mask_database_url as mask_in_store

PROJECT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3tValue7Q"  # what each shape below hides, written literally in the URL


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        (f"json://hooks.example.org/?+X-Token={SECRET}", "json://hooks.example.org"),
        (f"json://hooks.example.org/?:token={SECRET}", "json://hooks.example.org"),
        (f"json://hooks.example.org/?%3AX-Api-Key={SECRET}", "json://hooks.example.org"),
        (f"json://hooks.example.org/?-apikey={SECRET}", "json://hooks.example.org"),
        (f"xml://hooks.example.org/?+Authorization=Bearer%20{SECRET}", "xml://hooks.example.org"),
        (f"form://hooks.example.org/hook?-access_token={SECRET}", "form://hooks.example.org"),
        (f"json://hooks.example.org/api/v1/{SECRET}Abcdef12", "json://hooks.example.org/api/v1/"),
        (f"json://user:{SECRET}@hooks.example.org/", "json://user:****@hooks.example.org"),
        (f"ntfy://alerts:{SECRET}@ntfy.example.org/topic", "ntfy://alerts:****@"),
        ("signal://127.0.0.1:8080/+33611122233/+33644455566", "signal://127.0.0.1:8080/"),
        (f"mailtos://smtp.example.org?user=ops&pass={SECRET}", "mailtos://"),
        (f"discord://1234567/{SECRET}", "discord://"),
    ],
)
def test_a_channel_url_is_shown_without_its_secrets(url: str, kept: str) -> None:
    shown = Channel(id="c", url=url).masked_url
    secrets = [SECRET, "+33611122233", "33611122233", "+33644455566"]
    assert [secret for secret in secrets if secret in shown] == [], shown
    assert shown.startswith(kept), shown


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://monitor:{SECRET}@db.example.org/monitor",
        f"postgresql+psycopg://monitor@db.example.org/monitor?password={SECRET}",
        f"postgresql://db.example.org/monitor?sslmode=require&PASSWORD={SECRET}",
        f"postgres://monitor:{SECRET}@db.example.org:5432/monitor?password={SECRET}",
        f"postgresql://monitor@db.example.org/monitor?sslpassword={SECRET}&application_name=m",
    ],
)
def test_a_database_url_is_shown_without_its_password(url: str) -> None:
    for mask in (mask_in_config, mask_in_store):
        shown = mask(url)
        assert SECRET not in shown
        assert "db.example.org" in shown and "***" in shown


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///var/monitor.db",
        "sqlite:////srv/monitor/monitor.db",
        "postgresql+psycopg://monitor@db.example.org/monitor?sslmode=require",
    ],
)
def test_a_database_url_without_password_is_shown_as_written(url: str) -> None:
    assert mask_in_config(url) == url
    assert mask_in_store(url) == url


def test_a_reference_is_shown_as_written_and_masked() -> None:
    assert as_written("https://x.gouv.fr/rdv?key=${BOOKING_KEY}") == (
        "https://x.gouv.fr/rdv?key=${…}"
    )
    assert as_written("https://${HOST:-x.gouv.fr}/a/$${literal}") == "https://${…}/a/${literal}"


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
