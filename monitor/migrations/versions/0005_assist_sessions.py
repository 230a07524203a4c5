"""Assisted sessions: ``outcomes.assisted_by`` and the ``assist_sessions`` table.

Revision ID: 0005
Revises: 0004
Create Date: 2027-02-01

``outcomes.assisted_by`` is nullable: the operator who opened the assisted session a probe
ran in, NULL for every other probe and for rows recorded before this revision, which keep
hashing as they always did (the chain's canonical form has the key ``assisted_by`` only
when there is one, monitor.store.evidence.canonical_fields).

``assist_sessions`` records every session: its target and node, who opened it and when,
when and why it ended (docs/contract.md#assisted-sessions).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outcomes", sa.Column("assisted_by", sa.String(100), nullable=True))
    op.create_table(
        "assist_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("node", sa.String(200), nullable=False),
        sa.Column("operator", sa.String(100), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("reads", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_assist_sessions"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_assist_sessions_target_opened_at", "assist_sessions", ["target", "opened_at"]
    )
    # One live session per target, across every node of a fleet.
    op.create_index(
        "ix_assist_sessions_live_target",
        "assist_sessions",
        ["target"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
        sqlite_where=sa.text("ended_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_assist_sessions_live_target", table_name="assist_sessions")
    op.drop_index("ix_assist_sessions_target_opened_at", table_name="assist_sessions")
    op.drop_table("assist_sessions")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite >= 3.35 drops a plain column in place. A batch (the table copied, dropped
        # and renamed) fails on a database with rows: target_states.last_outcome_id
        # refers to outcomes, and foreign keys are on.
        op.execute("ALTER TABLE outcomes DROP COLUMN assisted_by")
    else:
        op.drop_column("outcomes", "assisted_by")
