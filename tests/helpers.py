"""What tests of every tier share: a migrated database, a config to load, outcomes to store.

``migrated`` is the one way a test brings a database to the migrations' head; the
``database`` fixture (tests/conftest.py) wraps it in a :class:`Database`. ``write_config`` is
the one config builder; ``daemonrig.daemon_config`` and ``checkrun.write_config`` are its
presets for the daemon and for ``monitor check``. ``an_outcome`` builds an outcome and
``random_outcomes`` many (seeded); ``run`` calls the CLI in this process; ``sql`` and
``verify`` tamper with and check a record.
"""

from __future__ import annotations

import random
import sqlite3
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.cli import main
from monitor.domain import Engine, Outcome, Reason, TargetState, status_of
from monitor.store import Repository, create_engine_for, upgrade
from monitor.store.evidence import write_evidence

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday; Paris is UTC+1 then
TARGET = "92/remise-titre"
NO_SLOT = "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous"
USER_AGENT = "prefecture-monitor/test (+https://example.invalid)"


# -- the database ----------------------------------------------------------------------------


def migrated(where: Path | str) -> str:
    """Bring a database to the migrations' head: a SQLite file at a path, or any URL.

    Returns its URL.
    """
    url = where if isinstance(where, str) else f"sqlite:///{where}"
    upgrade(url)
    return url


@dataclass
class Database:
    """A migrated database, its repository and its evidence directory."""

    url: str
    path: Path
    repository: Repository
    evidence_dir: Path

    def record(
        self, outcome: Outcome, *, html: str | None = None, png: bytes | None = None
    ) -> Outcome:
        """Store ``outcome`` (with evidence files when given) as the daemon would."""
        if html is not None or png is not None:
            files = write_evidence(self.evidence_dir, html=html, screenshot=png)
            outcome = replace(outcome, evidence=files.paths, sha256=files.sha256)
        state = TargetState(outcome.target, outcome.status, outcome.reason, outcome.started_at)
        stored, _ = self.repository.record_outcome(outcome, state, [], lambda _event: ())
        return stored


def database_at(
    url: str, path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Database]:
    """The body of a database fixture: ``url`` migrated and named by $MONITOR_DATABASE_URL,
    commands run from ``tmp_path`` without a config; the engine disposed of afterwards."""
    migrated(url)
    engine = create_engine_for(url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MONITOR_DATABASE_URL", url)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    try:
        yield Database(url, path, Repository(engine), tmp_path / "var" / "evidence")
    finally:
        engine.dispose()


def sql(database: Database, statement: str, *params: object) -> None:
    """Tamper with the file as anyone with the sqlite3 shell could (foreign keys off)."""
    connection = sqlite3.connect(database.path)
    try:
        connection.execute(statement, params)
        connection.commit()
    finally:
        connection.close()


# -- outcomes --------------------------------------------------------------------------------


def an_outcome(
    target: str = TARGET, at: datetime = T0, reason: Reason = Reason.NO_SLOT, **changes: object
) -> Outcome:
    """An outcome of ``target`` started at ``at``; the status follows from the reason."""
    outcome = Outcome(
        target=target,
        prefecture=target.split("/")[0],
        started_at=at,
        finished_at=at + timedelta(seconds=2),
        engine=Engine.HTTP,
        status=status_of(reason),
        reason=reason,
        detail=NO_SLOT if reason is Reason.NO_SLOT else f"page says {reason.value}",
        url=f"https://www.example-prefecture.gouv.fr/booking/create/{target}",
        final_url=f"https://www.example-prefecture.gouv.fr/booking/create/{target}/1",
        http_status=200,
    )
    return replace(outcome, **changes)  # type: ignore[arg-type]


#: Where ``random_outcomes`` start: across the change to summer time in Paris
#: (2026-03-29 01:00 UTC); their targets and reasons (no slot most often).
RANDOM_START = datetime(2026, 3, 26, 20, 0, tzinfo=UTC)
RANDOM_TARGETS = ("92/remise-titre", "92/naturalisation", "75/titre", "93/accueil")
RANDOM_REASONS = (
    Reason.NO_SLOT,
    Reason.NO_SLOT,
    Reason.NO_SLOT,
    Reason.NO_CALENDAR,
    Reason.SLOTS,
    Reason.CAPTCHA,
    Reason.TIMEOUT,
    Reason.NETWORK_DOWN,
)


def random_outcomes(seed: int, count: int, nodes: Sequence[str | None] = (None,)) -> list[Outcome]:
    """``count`` outcomes over five days, some on exact hours and at an hour's last µs;
    their ``node`` taken in turn from ``nodes`` (not drawn: the other draws stay as they
    are whatever the nodes)."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        at = RANDOM_START + timedelta(seconds=rng.uniform(0, 5 * 86400))
        at = at.replace(microsecond=rng.randint(0, 999_999))
        roll = rng.random()
        if roll < 0.1:
            at = at.replace(minute=0, second=0, microsecond=0)
        elif roll < 0.15:
            at = at.replace(minute=59, second=59, microsecond=999_999)
        reason = rng.choice(RANDOM_REASONS)
        extra: dict[str, Any] = {}
        if reason is Reason.SLOTS:
            extra = {
                "slot_count": rng.choice((None, 1, 2, 7)),
                "earliest_slot": at + timedelta(days=rng.choice((3, 40, 80))),
            }
        node = nodes[len(made) % len(nodes)]
        made.append(
            an_outcome(rng.choice(RANDOM_TARGETS), at=at, reason=reason, node=node, **extra)
        )
    return made


def png_bytes(width: int = 320, height: int = 200, seed: int = 0) -> bytes:
    """A real PNG that looks like a page (header band, text lines, a message box); the
    seed moves the box, so each seed gives different bytes."""

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        if y < 28:
            return (0, 0, 145)  # the prefecture's blue header
        box_top = 90 + (seed * 7) % 40
        if box_top <= y < box_top + 30 and 20 <= x < width - 20:
            return (250, 225, 225) if 2 < y - box_top < 28 else (200, 40, 40)
        if y % 14 in (0, 1, 2, 3) and 20 <= x < width - 20 - (y * 13) % 90:
            return (120, 120, 120)  # lines of text
        return (255, 255, 255)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    raw = bytearray()
    for y in range(height):
        raw.append(0)  # no filter
        for x in range(width):
            raw.extend(pixel(x, y))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw)))
        + chunk(b"IEND", b"")
    )


# -- the CLI in this process -----------------------------------------------------------------


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    """``monitor ARGS`` through the real entry point: its exit code, stdout and stderr."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def verify(
    capsys: pytest.CaptureFixture[str], database: Database, *targets: str
) -> tuple[int, str]:
    """``monitor verify`` on ``database``: its exit code and everything it printed."""
    result = run(capsys, "verify", "--evidence-dir", str(database.evidence_dir), *targets)
    return result.code, result.out + result.err


# -- the config ------------------------------------------------------------------------------


def write_config(
    path: Path,
    *,
    targets: Sequence[Mapping[str, Any]],
    database: str,
    prefecture: str = "t",
    prefecture_name: str = "Préfecture de test",
    channels: Sequence[Mapping[str, Any]] = (),
    **settings: Any,
) -> Path:
    """Write a prefectures.yaml at ``path``: one prefecture holding ``targets`` (mappings:
    id, platform, url, …), the ``channels`` given, and ``settings`` over what every test
    wants (no connectivity check, a test user agent, evidence beside the config)."""
    config: dict[str, Any] = {
        "version": 1,
        "settings": {
            "database": database,
            "evidence_dir": str(path.parent / "evidence"),
            "user_agent": USER_AGENT,
            "connectivity_check": [],
            **settings,
        },
        "channels": [dict(channel) for channel in channels],
        "prefectures": [
            {"id": prefecture, "name": prefecture_name, "targets": [dict(t) for t in targets]}
        ],
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path
