"""The node that made each probe: ``outcomes.node``.

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-20

A nullable column: rows recorded before this revision (and by ``monitor check``) have no
node, and keep hashing as they always did (the chain's canonical form has the key ``node``
only when there is one, monitor.store.evidence.canonical_fields).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outcomes", sa.Column("node", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_column("node")
