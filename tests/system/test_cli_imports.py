"""What the CLI's quick paths import: `monitor --help` no command and no heavy library;
`monitor status [--heartbeat]` only the config and the database's core (issue 30).

Import lists, not timings: each case runs the command in a fresh interpreter, then lists
``sys.modules``. systemd runs ``status --heartbeat`` every minute, so what it imports is
paid every minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from daemonrig import daemon_config
from helpers import Database

ROOT = Path(__file__).resolve().parents[2]

#: Runs `monitor ARGS` in process, then writes its exit code and every imported module.
RUN_AND_LIST = """
import gc, json, os, sys
import importlib.metadata as metadata
searches = []  # pydantic's search for plugins: entry points of every installed distribution
def entry_points(*args, _original=metadata.entry_points, **kwargs):
    searches.append(kwargs.get("group"))
    return _original(*args, **kwargs)
metadata.entry_points = entry_points
from monitor.cli import main
def collections():
    return sum(generation["collections"] for generation in gc.get_stats())
gc.collect()  # the next automatic pass is then 700 allocations away
before = collections()
try:
    main(sys.argv[2:])
    code = 0
except SystemExit as exit_:
    code = exit_.code
found = {
    "code": code,
    "modules": sorted(sys.modules),
    "plugins": os.environ.get("PYDANTIC_DISABLE_PLUGINS"),
    "searches": searches,
    "collections": collections() - before,
    "collecting": gc.isenabled(),
}
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump(found, out)
"""

#: Never imported by `monitor --help`.
HEAVY = ("playwright", "alembic", "apprise", "sqlalchemy", "procrastinate", "jinja2", "httpx")
#: Never imported by `monitor status` nor `status --heartbeat`: they read the config and
#: the database, nothing else; on SQLite, not SQLAlchemy's PostgreSQL dialect either.
NOT_FOR_STATUS = (
    "playwright",
    "alembic",
    "apprise",
    "procrastinate",
    "jinja2",
    "httpx",
    "sqlalchemy.dialects.postgresql",
)


def run_and_list(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, set[str], str]:
    """The exit code, the modules imported (top-level and sub-modules) and the output."""
    found = run_and_read(tmp_path, *args, environment={**os.environ, **(env or {})})
    return found["code"], set(found["modules"]), found["output"]


def run_and_read(tmp_path: Path, *args: str, environment: dict[str, str]) -> dict[str, Any]:
    """What RUN_AND_LIST wrote, run in ``environment``, and the output (``output``)."""
    listing = tmp_path / "modules.json"
    completed = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, str(listing), *args],
        cwd=tmp_path,
        env={**environment, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listing.exists(), completed.stderr
    found: dict[str, Any] = json.loads(listing.read_text(encoding="utf-8"))
    return {**found, "output": completed.stdout}


def imported(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(p for p in packages if any(m == p or m.startswith(p + ".") for m in modules))


@pytest.fixture(params=["no channel", "a channel"])
def config(request: pytest.FixtureRequest, tmp_path: Path, database: Database) -> Path:
    """A config without channels, and one with (Apprise checks channel URLs elsewhere)."""
    channels = [{"id": "hook", "url": "json://127.0.0.1:9/hook"}]
    return daemon_config(
        tmp_path / "prefectures.yaml",
        targets=[{"id": "a", "platform": "rdv-service-public", "url": "http://127.0.0.1:1/a"}],
        database=database.url,
        interval="10m",
        channels=channels if request.param == "a channel" else (),
    )


def test_help_imports_no_command_and_no_heavy_library(tmp_path: Path) -> None:
    code, modules, output = run_and_list(tmp_path, "--help")

    assert code == 0
    assert "Commands:" in output and "status" in output
    assert imported(modules, HEAVY) == []
    assert sorted(m for m in modules if m.startswith("monitor.commands.")) == [
        "monitor.commands.common"
    ]


def test_a_command_is_imported_when_it_runs(tmp_path: Path) -> None:
    code, modules, output = run_and_list(tmp_path, "status", "--help")

    assert code == 0
    assert "--heartbeat" in output
    assert "monitor.commands.status" in modules
    assert "monitor.commands.history" not in modules
    assert imported(modules, HEAVY) == []


def test_status_heartbeat_imports_only_the_config_and_the_database(
    tmp_path: Path, config: Path
) -> None:
    code, modules, output = run_and_list(tmp_path, "--config", str(config), "status", "--heartbeat")

    assert code == 1  # no daemon ever beat on this database
    assert output.startswith("heartbeat missing")
    assert {"sqlalchemy", "monitor.config"} <= modules  # it did read both
    assert imported(modules, NOT_FOR_STATUS) == []
    assert "monitor.daemon.health" not in modules


def test_status_imports_only_the_config_and_the_database(tmp_path: Path, config: Path) -> None:
    code, modules, output = run_and_list(tmp_path, "--config", str(config), "status")

    assert code == 0
    assert "never probed" in output
    assert {"sqlalchemy", "monitor.config"} <= modules
    assert imported(modules, NOT_FOR_STATUS) == []


def test_config_validate_still_checks_channel_urls_with_apprise(
    tmp_path: Path, config: Path
) -> None:
    code, modules, _ = run_and_list(tmp_path, "--config", str(config), "config", "validate")

    assert code == 0
    channels = "hook" in config.read_text(encoding="utf-8")
    assert ("apprise" in modules) is channels


@pytest.mark.parametrize("given", [None, ""], ids=["unset", "empty"])
def test_pydantic_plugins_are_not_looked_for_unless_the_environment_says(
    tmp_path: Path, config: Path, given: str | None
) -> None:
    env = {**os.environ}
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    if given is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = given

    found = run_and_read(
        tmp_path, "--config", str(config), "status", "--heartbeat", environment=env
    )

    assert found["searches"] == ([] if given is None else ["pydantic"])
    assert found["plugins"] == given  # main() leaves the environment as it was


@pytest.mark.parametrize(
    ("args", "collected"),
    [(("status",), False), (("status", "--heartbeat"), False), (("config", "validate"), True)],
    ids=["status", "heartbeat", "config validate"],
)
def test_the_garbage_collector_is_off_for_status_only(
    tmp_path: Path, config: Path, args: tuple[str, ...], collected: bool
) -> None:
    found = run_and_read(tmp_path, "--config", str(config), *args, environment={**os.environ})

    # At most one pass: the one main() may set off when it turns the collector back on.
    assert (found["collections"] > 1) is collected
    assert found["collecting"]  # as it was before main(), whatever the command
