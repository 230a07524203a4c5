"""Initial schema: outcomes, target states, the notification outbox, probe claims, heartbeats.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Hand-written (checked against the models by tests/system/test_migrations.py). Every constraint
and index has an explicit name following monitor.store.schema.NAMING_CONVENTION, so later
revisions (and SQLite batch mode) can find them. Timestamps are ``timestamp with time
zone`` on PostgreSQL and UTC text on SQLite; the model's UTCDateTime type makes both
aware UTC datetimes in Python.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNFINISHED = sa.text("state IN ('pending', 'sending')")


def timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp column (UTC)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # One row per probe, insert-only; ``chain`` links it to the target's previous row.
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("prefecture", sa.String(200), nullable=False),
        timestamp("started_at"),
        timestamp("finished_at"),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("slot_count", sa.Integer(), nullable=True),
        timestamp("earliest_slot", nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),  # JSON list of relative paths
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("chain", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outcomes"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outcomes_target_started_at", "outcomes", ["target", "started_at"])
    op.create_index("ix_outcomes_status_started_at", "outcomes", ["status", "started_at"])
    op.create_index("ix_outcomes_prefecture_started_at", "outcomes", ["prefecture", "started_at"])
    op.create_index("ix_outcomes_started_at", "outcomes", ["started_at"])

    # The alert policy's memory of each target (domain.TargetState) and its chain head.
    op.create_table(
        "target_states",
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(32), nullable=True),
        timestamp("since", nullable=True),
        timestamp("last_probe_at", nullable=True),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("consecutive_anomalies", sa.Integer(), nullable=False),
        sa.Column("consecutive_healthy", sa.Integer(), nullable=False),
        sa.Column("anomaly_open", sa.Boolean(), nullable=False),
        timestamp("anomaly_since", nullable=True),
        sa.Column("slots_open", sa.Boolean(), nullable=False),
        timestamp("last_available_at", nullable=True),
        timestamp("last_alert_at", nullable=True),
        sa.Column("backoff_level", sa.Integer(), nullable=False),
        sa.Column("chain_head", sa.String(64), nullable=True),
        sa.Column("last_outcome_id", sa.Integer(), nullable=True),
        timestamp("next_probe_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["last_outcome_id"],
            ["outcomes.id"],
            name="fk_target_states_last_outcome_id_outcomes",
        ),
        sa.PrimaryKeyConstraint("target", name="pk_target_states"),
    )

    # The outbox: events are stored with their outcome, then delivered per channel.
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        timestamp("occurred_at"),
        sa.Column("outcome_id", sa.Integer(), nullable=True),
        sa.Column("reminder", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),  # JSON object
        sa.ForeignKeyConstraint(
            ["outcome_id"], ["outcomes.id"], name="fk_events_outcome_id_outcomes"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_target_occurred_at", "events", ["target", "occurred_at"])
    op.create_index("ix_events_outcome_id", "events", ["outcome_id"])

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(100), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        timestamp("next_attempt_at"),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        timestamp("claimed_at", nullable=True),
        timestamp("sent_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed')", name="ck_deliveries_state"
        ),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name="fk_deliveries_event_id_events"),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("event_id", "channel_id", name="uq_deliveries_event_id_channel_id"),
    )
    # Partial: the dispatcher only ever looks for unfinished rows.
    op.create_index(
        "ix_deliveries_unfinished",
        "deliveries",
        ["state", "next_attempt_at"],
        postgresql_where=UNFINISHED,
        sqlite_where=UNFINISHED,
    )

    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        timestamp("attempted_at"),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "result IN ('sent', 'transient', 'permanent')", name="ck_delivery_attempts_result"
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name="fk_delivery_attempts_delivery_id_deliveries",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_attempts"),
    )
    op.create_index("ix_delivery_attempts_delivery_id", "delivery_attempts", ["delivery_id"])

    # One row per (target, scheduled slot): the primary key stops a second node probing it.
    op.create_table(
        "probe_claims",
        sa.Column("target", sa.String(200), nullable=False),
        timestamp("slot"),
        sa.Column("node", sa.String(200), nullable=False),
        timestamp("claimed_at"),
        sa.PrimaryKeyConstraint("target", "slot", name="pk_probe_claims"),
    )
    op.create_index("ix_probe_claims_slot", "probe_claims", ["slot"])

    op.create_table(
        "heartbeats",
        sa.Column("node", sa.String(200), nullable=False),
        timestamp("beat_at"),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        timestamp("started_at"),
        sa.PrimaryKeyConstraint("node", name="pk_heartbeats"),
    )


def downgrade() -> None:
    # Children before parents; dropping a table drops its indexes.
    op.drop_table("heartbeats")
    op.drop_table("probe_claims")
    op.drop_table("delivery_attempts")
    op.drop_table("deliveries")
    op.drop_table("events")
    op.drop_table("target_states")
    op.drop_table("outcomes")
