"""Structured details: the code and values each outcome's detail line was written from.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

``outcomes.detail`` stays the English line as recorded (the hash chain protects it);
``detail_code`` and ``detail_args`` (JSON text) let history, status, the dossier and the
messages say it in the reader's language (monitor.details). Rows recorded before this
revision keep NULL in both and are shown by their recorded line. Adding two nullable
columns rewrites nothing, on SQLite (batch mode) as on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.add_column(sa.Column("detail_code", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("detail_args", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_column("detail_args")
        batch.drop_column("detail_code")
