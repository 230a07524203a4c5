"""The outcome_hours rollup of outcomes, for `monitor stats`, filled from existing rows.

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-12

One row per target, prefecture, UTC hour, status and reason with the count and the first
and last ``started_at`` (monitor.store.rollup). The table is created, then filled from
every existing outcome with one ``INSERT … SELECT … GROUP BY`` (a full scan: a minute or
more at ten million rows), so an upgraded database gives the same stats as before. From
here on every outcome insert keeps it up to date in the same transaction.

The backfill runs monitor.store.rollup.rebuild_statements, as rebuild_rollup (which
bench/generate.py uses) does. If a later revision changes outcome_hours, freeze a copy of
today's statements here so that this revision keeps filling the table it creates.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store.rollup import rebuild_statements

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outcome_hours",
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("prefecture", sa.String(200), nullable=False),
        sa.Column("hour", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "target", "prefecture", "hour", "status", "reason", name="pk_outcome_hours"
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_outcome_hours_hour", "outcome_hours", ["hour"])
    for statement in rebuild_statements(op.get_context().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_outcome_hours_hour", table_name="outcome_hours")
    op.drop_table("outcome_hours")
