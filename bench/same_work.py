"""What a probe keeps, done as plainly as it can be: the "same-work" floors' bookkeeping.

The engines do more than load pages: they keep each probe's evidence and write its row.
A bare loop that skips that is a floor no engine can reach, so the probe benchmarks also
measure loops that do the same work by hand (issue 30, item 4):

* each evidence file written under its own SHA-256 (``<2 hex>/<sha256>.<ext>``), through a
  temporary file that is fsynced, renamed, and its directory fsynced: what the daemon's
  evidence store does so that a crash never leaves a half-written file under a final name;
* one SQLite row per probe in one transaction, carrying the evidence digests and a hash
  chain over the previous row of the target, in WAL mode with ``synchronous=NORMAL`` (the
  daemon's SQLite settings);
* all of it in one worker thread hand-off per probe, as the engines' recording does.

Nothing here classifies or renders anything: the loops that use it do their own page work.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["Keeper"]


class Keeper:
    """Evidence files and rows for a same-work loop, under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.evidence = directory / "evidence"
        self.evidence.mkdir(parents=True, exist_ok=True)
        self._database = sqlite3.connect(directory / "floor.db", check_same_thread=False)
        self._database.execute("PRAGMA journal_mode=WAL")
        self._database.execute("PRAGMA synchronous=NORMAL")
        self._database.execute(
            "CREATE TABLE IF NOT EXISTS outcomes (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " target TEXT NOT NULL, finished_at TEXT NOT NULL, status TEXT NOT NULL,"
            " evidence TEXT NOT NULL, chain TEXT NOT NULL)"
        )
        self._heads: dict[str, str] = {}
        self._lock = threading.Lock()

    async def keep(self, target: str, status: str, files: Sequence[tuple[str, bytes]]) -> None:
        """Write ``files`` ((extension, content) pairs) and the probe's row, in one thread
        hand-off."""
        await asyncio.to_thread(self._keep, target, status, files)

    def close(self) -> None:
        self._database.close()

    def _keep(self, target: str, status: str, files: Sequence[tuple[str, bytes]]) -> None:
        paths = sorted({self._write(content, extension) for extension, content in files})
        finished = datetime.now(UTC).isoformat()
        with self._lock:
            previous = self._heads.get(target, "")
            chain = hashlib.sha256(
                f"{previous}|{target}|{finished}|{status}|{','.join(paths)}".encode()
            ).hexdigest()
            with self._database:  # one transaction
                self._database.execute(
                    "INSERT INTO outcomes (target, finished_at, status, evidence, chain)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (target, finished, status, ",".join(paths), chain),
                )
            self._heads[target] = chain

    def _write(self, content: bytes, extension: str) -> str:
        digest = hashlib.sha256(content).hexdigest()
        relative = f"{digest[:2]}/{digest}.{extension}"
        final = self.evidence / relative
        if final.exists():  # content-addressed: the same bytes are kept once
            return relative
        final.parent.mkdir(exist_ok=True)
        temporary = final.with_name(f".{digest}.{threading.get_ident()}.tmp")
        with open(temporary, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, final)
        directory = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return relative
