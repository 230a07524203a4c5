"""The database schema: SQLAlchemy Core tables and the column types they share.

The schema is created and changed only by the Alembic revisions in ``monitor/migrations``
(never ``create_all``); ``tests/system/test_migrations.py`` checks that those revisions and these
tables agree. Core tables, not ORM models: nothing maps rows to objects, and a command
reading the database need not import the ORM.

Timestamps are always timezone-aware UTC in Python. PostgreSQL stores them as
``timestamp with time zone``; SQLite has no such type, so :class:`UTCDateTime` stores the
UTC wall time in SQLite's fixed-width text format (which sorts chronologically) and
re-attaches UTC when reading, in the manner of APScheduler's ``EmulatedTimestampTZ``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

#: Constraint names are part of the schema: Alembic needs them to alter or drop a
#: constraint later (SQLite batch mode recreates tables and must find them by name).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Delivery states: ``pending`` waits for ``next_attempt_at``; ``sending`` is claimed by a
#: node (reclaimable once its lease expires); ``sent`` and ``failed`` are final.
DELIVERY_STATES = ("pending", "sending", "sent", "failed")
#: What one delivery attempt ended with.
ATTEMPT_RESULTS = ("sent", "transient", "permanent")

# Sizes are generous limits, not expectations: target ids are "<prefecture>/<slug>".
TARGET_LENGTH = 200
NODE_LENGTH = 200
CHANNEL_LENGTH = 100
NAME_LENGTH = 32
CODE_LENGTH = 64  #: a detail's code, e.g. "calendar_free_cells"
DIGEST_LENGTH = 64
OPERATOR_LENGTH = 100  #: an operator's name, as typed once in the console


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is timezone-aware UTC in Python on every database.

    Writing a naive datetime raises ``ValueError``: a naive time is ambiguous (local? UTC?)
    and an evidence log must not guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} refused: timestamps must be timezone-aware"
            )
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite's DATETIME format has no offset; the stored value is UTC by contract.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _as_utc(value)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        if dialect.name == "sqlite":
            return _utc_from_sqlite_text
        return super().result_processor(dialect, coltype)


def _utc_from_sqlite_text(value: str | None) -> datetime | None:
    """SQLite's text (UTC wall time, no offset) as aware UTC, what SQLAlchemy's parser and
    ``process_result_value`` give, parsed with its offset: ``datetime.replace(tzinfo=…)``
    costs eight times the parse, and history reads thousands of timestamps a call."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value + "+00:00")
        if parsed.tzinfo is UTC:
            return parsed
    except ValueError:  # text with an offset of its own: not written by this program
        pass
    return _as_utc(datetime.fromisoformat(value))


def _as_utc(value: datetime) -> datetime:
    """A naive time as UTC (SQLite's, by contract); an aware one converted to UTC."""
    if value.tzinfo is UTC:  # PostgreSQL's, in a session in UTC (engine.py)
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused in a JSON column")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


#: ``json.loads`` without its argument checks, for the thousands of values history reads.
_decode = json.JSONDecoder().decode


class JSONText(TypeDecorator[Any]):
    """JSON kept in a TEXT column, identical on SQLite and PostgreSQL.

    Datetimes are written as ISO 8601 strings (UTC, with offset) and read back as strings.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(
            value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default
        )

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return _decode(value)


#: Every table; Alembic's ``target_metadata``.
metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _required(name: str, type_: Any, *args: Any) -> Column[Any]:
    """A column that may not be NULL."""
    return Column(name, type_, *args, nullable=False)


def _optional(name: str, type_: Any, *args: Any) -> Column[Any]:
    """A column that may be NULL."""
    return Column(name, type_, *args, nullable=True)


#: One probe's result (docs/contract.md#outcomes). Rows are only ever inserted.
outcomes = Table(
    "outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _required("target", String(TARGET_LENGTH)),
    _required("prefecture", String(TARGET_LENGTH)),
    _required("started_at", UTCDateTime()),
    _required("finished_at", UTCDateTime()),
    _required("duration_ms", Integer),
    _required("engine", String(NAME_LENGTH)),
    _required("status", String(NAME_LENGTH)),
    _required("reason", String(NAME_LENGTH)),
    # the English line, as recorded; the chain protects it
    _required("detail", Text),
    # the code and values ``detail`` was written from (monitor.details); NULL before 0002
    _optional("detail_code", String(CODE_LENGTH)),
    _optional("detail_args", JSONText),
    _optional("http_status", Integer),
    _required("url", Text),
    _optional("final_url", Text),
    _optional("slot_count", Integer),
    _optional("earliest_slot", UTCDateTime()),
    # relative paths under settings.evidence_dir, a JSON list
    _required("evidence", JSONText),
    _optional("sha256", String(DIGEST_LENGTH)),
    _required("chain", String(DIGEST_LENGTH)),
    # the daemon node that made the probe; NULL for `monitor check` and before 0004
    _optional("node", String(NODE_LENGTH)),
    # the operator who opened the assisted session the probe ran in; NULL outside one
    _optional("assisted_by", String(OPERATOR_LENGTH)),
    Index("ix_outcomes_target_started_at", "target", "started_at"),
    Index("ix_outcomes_status_started_at", "status", "started_at"),
    Index("ix_outcomes_prefecture_started_at", "prefecture", "started_at"),
    Index("ix_outcomes_started_at", "started_at"),
    # AUTOINCREMENT: SQLite never reuses the id of a deleted last row, so ids stay a
    # faithful insertion order for the evidence log.
    sqlite_autoincrement=True,
)

#: The ``outcomes`` rows of one target, prefecture, UTC hour, status and reason, counted.
#: A rollup for ``monitor stats``, kept up to date in the transaction of every outcome
#: insert (monitor.store.rollup) and rebuilt from ``outcomes`` by migration 0003. Never
#: part of the evidence: the hash chain and ``verify`` read ``outcomes`` only.
outcome_hours = Table(
    "outcome_hours",
    metadata,
    Column("target", String(TARGET_LENGTH), primary_key=True),
    Column("prefecture", String(TARGET_LENGTH), primary_key=True),
    # whole hours from 1970-01-01T00:00Z to the start of the UTC hour of ``started_at``
    Column("hour", Integer, primary_key=True, autoincrement=False),
    Column("status", String(NAME_LENGTH), primary_key=True),
    Column("reason", String(NAME_LENGTH), primary_key=True),
    _required("attempts", Integer),
    _required("first_started_at", UTCDateTime()),
    _required("last_started_at", UTCDateTime()),
    Index("ix_outcome_hours_hour", "hour"),
    # On SQLite the table is its primary key's B-tree: scans by target need no index.
    sqlite_with_rowid=False,
)

#: The alert policy's memory of one target (domain.TargetState) plus the chain head.
target_states = Table(
    "target_states",
    metadata,
    Column("target", String(TARGET_LENGTH), primary_key=True),
    _optional("status", String(NAME_LENGTH)),
    _optional("reason", String(NAME_LENGTH)),
    _optional("since", UTCDateTime()),
    _optional("last_probe_at", UTCDateTime()),
    _required("streak", Integer),
    _required("consecutive_anomalies", Integer),
    _required("consecutive_healthy", Integer),
    _required("anomaly_open", Boolean),
    _optional("anomaly_since", UTCDateTime()),
    _required("slots_open", Boolean),
    _optional("last_available_at", UTCDateTime()),
    _optional("last_alert_at", UTCDateTime()),
    _required("backoff_level", Integer),
    # the ``chain`` of this target's latest outcome: the link the next outcome builds on
    _optional("chain_head", String(DIGEST_LENGTH)),
    _optional("last_outcome_id", Integer, ForeignKey("outcomes.id")),
    # when back-off allows the next probe; NULL: the normal schedule
    _optional("next_probe_at", UTCDateTime()),
)

#: An event in the outbox, written in the same transaction as its outcome.
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _required("kind", String(NAME_LENGTH)),
    _required("target", String(TARGET_LENGTH)),
    _required("occurred_at", UTCDateTime()),
    _optional("outcome_id", Integer, ForeignKey("outcomes.id")),
    _required("reminder", Boolean),
    _required("payload", JSONText),
    Index("ix_events_target_occurred_at", "target", "occurred_at"),
    Index("ix_events_outcome_id", "outcome_id"),
)

#: One event to one channel: claimed, sent and retried independently of the others.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _required("event_id", Integer, ForeignKey("events.id")),
    _required("channel_id", String(CHANNEL_LENGTH)),
    _required("state", String(16)),
    # claims so far, counting the one in progress (incremented when claimed)
    _required("attempts", Integer),
    _required("next_attempt_at", UTCDateTime()),
    _optional("claimed_by", String(NODE_LENGTH)),
    _optional("claimed_at", UTCDateTime()),
    _optional("sent_at", UTCDateTime()),
    _optional("last_error", Text),
    UniqueConstraint("event_id", "channel_id"),
    CheckConstraint(
        "state IN ({})".format(", ".join(f"'{state}'" for state in DELIVERY_STATES)),
        name="state",
    ),
    # Only unfinished rows are ever searched for work; sent/failed rows pile up forever
    # and stay out of this index (partial on both PostgreSQL and SQLite: see
    # with_postgresql_options).
    Index(
        "ix_deliveries_unfinished",
        "state",
        "next_attempt_at",
        sqlite_where=text("state IN ('pending', 'sending')"),
    ),
)

#: The log of every send attempt: when, how it ended, the (masked) error.
delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _required("delivery_id", Integer, ForeignKey("deliveries.id")),
    _required("attempted_at", UTCDateTime()),
    _required("result", String(16)),
    _optional("error", Text),
    CheckConstraint(
        "result IN ({})".format(", ".join(f"'{result}'" for result in ATTEMPT_RESULTS)),
        name="result",
    ),
    Index("ix_delivery_attempts_delivery_id", "delivery_id"),
)

#: Who probes a target at a scheduled slot: the primary key makes a second claim fail.
probe_claims = Table(
    "probe_claims",
    metadata,
    Column("target", String(TARGET_LENGTH), primary_key=True),
    Column("slot", UTCDateTime(), primary_key=True),
    _required("node", String(NODE_LENGTH)),
    _required("claimed_at", UTCDateTime()),
    Index("ix_probe_claims_slot", "slot"),
)

#: The latest sign of life of each daemon node.
heartbeats = Table(
    "heartbeats",
    metadata,
    Column("node", String(NODE_LENGTH), primary_key=True),
    _required("beat_at", UTCDateTime()),
    _required("pid", Integer),
    _required("version", String(64)),
    _required("started_at", UTCDateTime()),
)

#: One assisted session (docs/contract.md#assisted-sessions): who opened it on which target
#: and node, when, and when and why it ended (``monitor.assist.views.EndReason``). A row with
#: no ``ended_at`` is live. Rows are kept: they say who watched when.
assist_sessions = Table(
    "assist_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _required("target", String(TARGET_LENGTH)),
    _required("node", String(NODE_LENGTH)),
    _required("operator", String(OPERATOR_LENGTH)),
    _required("opened_at", UTCDateTime()),
    _optional("ended_at", UTCDateTime()),
    _optional("end_reason", String(NAME_LENGTH)),
    # slot-page reads made in the session, counted when it ends
    _required("reads", Integer),
    Index("ix_assist_sessions_target_opened_at", "target", "opened_at"),
    # One live session per target, across every node of a fleet: a second opening fails.
    Index(
        "ix_assist_sessions_live_target",
        "target",
        unique=True,
        sqlite_where=text("ended_at IS NULL"),
    ),
    sqlite_autoincrement=True,
)


def with_postgresql_options(tables: MetaData = metadata) -> MetaData:
    """``tables`` with each partial index's ``postgresql_where``, the same condition as its
    ``sqlite_where``; returns ``tables``. Idempotent.

    Not written in the indexes above: SQLAlchemy checks a ``postgresql_*`` argument by
    importing its PostgreSQL dialect, which a command on SQLite (``status --heartbeat``,
    every minute) would pay for nothing. Only DDL and Alembic's comparisons read the
    option; :func:`monitor.store.engine.create_engine_for` calls this for a PostgreSQL URL,
    so the migrations and ``alembic check`` see the full schema there.
    """
    for table in tables.tables.values():
        for index in table.indexes:
            where = index.dialect_options["sqlite"]["where"]
            if where is not None and index.dialect_options["postgresql"]["where"] is None:
                index.dialect_kwargs["postgresql_where"] = where
    return tables
