"""Shared fixtures: one imitation site per session, the Chromium to drive, a migrated database.

Real things only (STYLE.md): the imitation is a real HTTP server on 127.0.0.1, the browser
is the machine's Chromium, the database is SQLite brought to head by the Alembic migrations.
The tests are in three tiers, one folder each, each test marked with its folder's name:
unit (pure, guarded by tests/unit/conftest.py), integration (SQLite, PostgreSQL, local
servers, one process) and system (subprocesses, Chromium, the daemon for real seconds).
What they share besides fixtures is in tests/helpers.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Database, database_at
from notifyrig import SMTP_PASSWORD, SMTP_USER
from signal_stub import SignalStub
from smtp_server import SMTPServer

import monitor.logs
from monitor.errors import BrowserNotFound
from monitor.imitation import ImitationSite, install
from monitor.probes.chromium import find_chromium

TIERS = ("unit", "integration", "system")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier, the folder it is in (``-m unit``, ``-m "not system"``)."""
    for item in items:
        tier = item.path.parent.name
        if tier in TIERS:
            item.add_marker(tier)


@pytest.fixture(autouse=True)
def _restore_monitor_logging() -> Iterator[None]:
    """Undo what `monitor.logs.configure` does when a test runs the CLI in-process.

    The CLI makes the "monitor" logger non-propagating with its own stderr handler; left
    that way, later tests' caplog (which listens on the root logger) would see nothing.
    """
    logger = logging.getLogger("monitor")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved
    monitor.logs.hide(str)  # and the secrets a loaded config asked it to mask


@pytest.fixture(scope="session")
def imitation() -> Iterator[ImitationSite]:
    """One imitation site for the whole session, every catalogue case installed on its key.

    Shared: tests must not change the scenario of a catalogue key; a test needing another
    scenario sets it on a key of its own.
    """
    with ImitationSite() as site:
        install(site)
        yield site


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    """A real SMTP server (aiosmtpd) that takes the notification tests' mail login."""
    with SMTPServer(credentials=(SMTP_USER, SMTP_PASSWORD)) as server:
        yield server


@pytest.fixture
def signal() -> Iterator[SignalStub]:
    """A stand-in for signal-cli-rest-api."""
    with SignalStub() as stub:
        yield stub


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium executable; browser tests are skipped, saying why, when there is none."""
    try:
        return find_chromium()
    except BrowserNotFound as exc:
        pytest.skip(f"browser tests need Chromium: {exc}")


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A fresh SQLite file at the migrations' head (tests/helpers.py's Database), named by
    $MONITOR_DATABASE_URL, commands run from ``tmp_path`` without a config."""
    path = tmp_path / "monitor.db"
    yield from database_at(f"sqlite:///{path}", path, tmp_path, monkeypatch)
