"""A command on a current database checks its revision without Alembic: the constant it
compares with is Alembic's head, and the check answers as Alembic's does."""

from __future__ import annotations

import pytest
from alembic import command
from helpers import Database
from sqlalchemy import text

from monitor.errors import DatabaseError
from monitor.store.engine import (
    HEAD_REVISION,
    alembic_config,
    create_engine_for,
    ensure_current,
    head_revision,
)


def test_it_keeps_the_head_revision_equal_to_alembics_head() -> None:
    assert head_revision() == HEAD_REVISION


def test_it_accepts_a_database_at_head(database: Database) -> None:
    engine = create_engine_for(database.url)
    try:
        ensure_current(engine)  # raises if not
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert stored.scalars().all() == [HEAD_REVISION]
    finally:
        engine.dispose()


def test_it_refuses_a_database_one_revision_behind(database: Database) -> None:
    command.downgrade(alembic_config(database.url), "-1")
    engine = create_engine_for(database.url)
    try:
        with pytest.raises(DatabaseError, match=f"code expects {HEAD_REVISION}: run `monitor db"):
            ensure_current(engine)
    finally:
        engine.dispose()


def test_it_refuses_a_version_table_holding_head_and_another(database: Database) -> None:
    engine = create_engine_for(database.url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0001')"))
        with pytest.raises(DatabaseError, match="more than one head"):
            ensure_current(engine)
    finally:
        engine.dispose()
