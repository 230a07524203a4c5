"""The process's SQLite writers queue on one lock, not on SQLite's sleeping busy handler.

With the busy handler off (``busy_timeout=0``), two transactions that want the write lock at
once make the second fail at once ("database is locked"). Writers of one process never do:
they wait for each other on a lock and start the moment the last one commits (see
monitor/store/transactions.py).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from monitor.store import Repository, create_engine_for, upgrade


def test_writers_of_one_process_never_meet_the_busy_handler(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    upgrade(url)
    engine = create_engine_for(url)

    @event.listens_for(engine, "connect")
    def _no_busy_handler(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")  # after the store's own 5000

    repository = Repository(engine)
    slot = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def claim(worker: int) -> None:
        start.wait()
        try:
            for number in range(25):
                repository.claim_probe(f"t{worker}-{number}", slot, "node")
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=claim, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert failures == []
    verified = Repository(create_engine_for(url))
    assert len(verified.claimed_since(slot)) == 8 * 25
    verified.engine.dispose()
