"""The database schema: SQLAlchemy declarative models and the column types they share.

The schema is created and changed only by the Alembic revisions in ``monitor/migrations``
(never ``create_all``); ``tests/system/test_migrations.py`` checks that those revisions and these
models describe the same tables.

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
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
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


class Base(DeclarativeBase):
    """Base of every model; its ``metadata`` is Alembic's ``target_metadata``."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class OutcomeRow(Base):
    """One probe's result (docs/contract.md#outcomes). Rows are only ever inserted."""

    __tablename__ = "outcomes"
    __table_args__ = (
        Index("ix_outcomes_target_started_at", "target", "started_at"),
        Index("ix_outcomes_status_started_at", "status", "started_at"),
        Index("ix_outcomes_prefecture_started_at", "prefecture", "started_at"),
        Index("ix_outcomes_started_at", "started_at"),
        # AUTOINCREMENT: SQLite never reuses the id of a deleted last row, so ids stay a
        # faithful insertion order for the evidence log.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(TARGET_LENGTH))
    prefecture: Mapped[str] = mapped_column(String(TARGET_LENGTH))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    duration_ms: Mapped[int] = mapped_column(Integer)
    engine: Mapped[str] = mapped_column(String(NAME_LENGTH))
    status: Mapped[str] = mapped_column(String(NAME_LENGTH))
    reason: Mapped[str] = mapped_column(String(NAME_LENGTH))
    #: the English line, as recorded; the chain protects it
    detail: Mapped[str] = mapped_column(Text)
    #: the code and values ``detail`` was written from (monitor.details); NULL before 0002
    detail_code: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    detail_args: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    http_status: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    slot_count: Mapped[int | None] = mapped_column(Integer)
    earliest_slot: Mapped[datetime | None]
    #: relative paths under settings.evidence_dir, a JSON list
    evidence: Mapped[list[str]] = mapped_column(JSONText)
    sha256: Mapped[str | None] = mapped_column(String(DIGEST_LENGTH))
    chain: Mapped[str] = mapped_column(String(DIGEST_LENGTH))


class OutcomeHourRow(Base):
    """The ``outcomes`` rows of one target, prefecture, UTC hour, status and reason, counted.

    A rollup for ``monitor stats``, kept up to date in the transaction of every outcome
    insert (monitor.store.rollup) and rebuilt from ``outcomes`` by migration 0003. Never
    part of the evidence: the hash chain and ``verify`` read ``outcomes`` only.
    """

    __tablename__ = "outcome_hours"
    __table_args__ = (
        Index("ix_outcome_hours_hour", "hour"),
        # On SQLite the table is its primary key's B-tree: scans by target need no index.
        {"sqlite_with_rowid": False},
    )

    target: Mapped[str] = mapped_column(String(TARGET_LENGTH), primary_key=True)
    prefecture: Mapped[str] = mapped_column(String(TARGET_LENGTH), primary_key=True)
    #: whole hours from 1970-01-01T00:00Z to the start of the UTC hour of ``started_at``
    hour: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    reason: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)
    first_started_at: Mapped[datetime]
    last_started_at: Mapped[datetime]


class TargetStateRow(Base):
    """The alert policy's memory of one target (domain.TargetState) plus the chain head."""

    __tablename__ = "target_states"

    target: Mapped[str] = mapped_column(String(TARGET_LENGTH), primary_key=True)
    status: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    reason: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    since: Mapped[datetime | None]
    last_probe_at: Mapped[datetime | None]
    streak: Mapped[int] = mapped_column(Integer)
    consecutive_anomalies: Mapped[int] = mapped_column(Integer)
    consecutive_healthy: Mapped[int] = mapped_column(Integer)
    anomaly_open: Mapped[bool] = mapped_column(Boolean)
    anomaly_since: Mapped[datetime | None]
    slots_open: Mapped[bool] = mapped_column(Boolean)
    last_available_at: Mapped[datetime | None]
    last_alert_at: Mapped[datetime | None]
    backoff_level: Mapped[int] = mapped_column(Integer)
    #: the ``chain`` of this target's latest outcome: the link the next outcome builds on
    chain_head: Mapped[str | None] = mapped_column(String(DIGEST_LENGTH))
    last_outcome_id: Mapped[int | None] = mapped_column(ForeignKey("outcomes.id"))
    #: when back-off allows the next probe; NULL: the normal schedule
    next_probe_at: Mapped[datetime | None]


class EventRow(Base):
    """An event in the outbox, written in the same transaction as its outcome."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_target_occurred_at", "target", "occurred_at"),
        Index("ix_events_outcome_id", "outcome_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(NAME_LENGTH))
    target: Mapped[str] = mapped_column(String(TARGET_LENGTH))
    occurred_at: Mapped[datetime]
    outcome_id: Mapped[int | None] = mapped_column(ForeignKey("outcomes.id"))
    reminder: Mapped[bool] = mapped_column(Boolean)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONText)


class DeliveryRow(Base):
    """One event to one channel: claimed, sent and retried independently of the others."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "channel_id"),
        CheckConstraint(
            "state IN ({})".format(", ".join(f"'{state}'" for state in DELIVERY_STATES)),
            name="state",
        ),
        # Only unfinished rows are ever searched for work; sent/failed rows pile up forever
        # and stay out of this index (partial on both PostgreSQL and SQLite).
        Index(
            "ix_deliveries_unfinished",
            "state",
            "next_attempt_at",
            postgresql_where=text("state IN ('pending', 'sending')"),
            sqlite_where=text("state IN ('pending', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    channel_id: Mapped[str] = mapped_column(String(CHANNEL_LENGTH))
    state: Mapped[str] = mapped_column(String(16))
    #: claims so far, counting the one in progress (incremented when claimed)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(NODE_LENGTH))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class DeliveryAttemptRow(Base):
    """The log of every send attempt: when, how it ended, the (masked) error."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (
        CheckConstraint(
            "result IN ({})".format(", ".join(f"'{result}'" for result in ATTEMPT_RESULTS)),
            name="result",
        ),
        Index("ix_delivery_attempts_delivery_id", "delivery_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"))
    attempted_at: Mapped[datetime]
    result: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)


class ProbeClaimRow(Base):
    """Who probes a target at a scheduled slot: the primary key makes a second claim fail."""

    __tablename__ = "probe_claims"
    __table_args__ = (Index("ix_probe_claims_slot", "slot"),)

    target: Mapped[str] = mapped_column(String(TARGET_LENGTH), primary_key=True)
    slot: Mapped[datetime] = mapped_column(primary_key=True)
    node: Mapped[str] = mapped_column(String(NODE_LENGTH))
    claimed_at: Mapped[datetime]


class HeartbeatRow(Base):
    """The latest sign of life of each daemon node."""

    __tablename__ = "heartbeats"

    node: Mapped[str] = mapped_column(String(NODE_LENGTH), primary_key=True)
    beat_at: Mapped[datetime]
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
