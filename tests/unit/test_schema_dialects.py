"""The partial indexes' PostgreSQL form: added for a PostgreSQL engine, the same condition
as SQLite's, so the schema does not import the PostgreSQL dialect on SQLite (issue 30)."""

from __future__ import annotations

from sqlalchemy import Index
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex

from monitor.store.schema import metadata, with_postgresql_options

PARTIAL = {
    "ix_deliveries_unfinished": "WHERE state IN ('pending', 'sending')",
    "ix_assist_sessions_live_target": "WHERE ended_at IS NULL",
}


def index(name: str) -> Index:
    return next(i for t in metadata.tables.values() for i in t.indexes if i.name == name)


def test_each_partial_index_is_partial_on_both_databases_with_the_same_condition() -> None:
    with_postgresql_options()

    for name, where in PARTIAL.items():
        on_postgresql = str(CreateIndex(index(name)).compile(dialect=postgresql.dialect()))
        on_sqlite = str(CreateIndex(index(name)).compile(dialect=sqlite.dialect()))
        assert on_postgresql.endswith(where), on_postgresql
        assert on_sqlite.endswith(where), on_sqlite


def test_the_partial_indexes_are_the_only_ones_with_a_condition() -> None:
    with_postgresql_options()

    partial = {
        i.name
        for t in metadata.tables.values()
        for i in t.indexes
        if i.dialect_options["postgresql"]["where"] is not None
    }
    assert partial == set(PARTIAL)


def test_adding_the_postgresql_form_twice_changes_nothing() -> None:
    with_postgresql_options()
    before = {name: index(name).dialect_options["postgresql"]["where"] for name in PARTIAL}

    assert with_postgresql_options() is metadata
    assert {name: index(name).dialect_options["postgresql"]["where"] for name in PARTIAL} == before
