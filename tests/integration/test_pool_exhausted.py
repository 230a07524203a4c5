"""A pool with no connection free within its timeout is a DatabaseError, one line naming
the setting to raise, not a crash of the caller (issue 29's db_pool has no overflow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from monitor.errors import DatabaseError
from monitor.store.engine import database_errors


def test_a_pool_with_every_connection_busy_is_a_database_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    engine = create_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.05)
    try:
        with engine.connect() as busy:
            busy.execute(text("SELECT 1"))
            with pytest.raises(DatabaseError) as caught, database_errors(url), engine.connect():
                pass  # pragma: no cover - never reached: the pool has none to give
        message = str(caught.value)
        assert "\n" not in message
        assert message.startswith(f"database {url}: QueuePool limit of size 1 overflow 0")
        assert "settings.fleet.db_pool" in message
        # Once the busy connection is back, the same pool serves again.
        with database_errors(url), engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
