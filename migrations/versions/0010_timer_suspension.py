"""timers.ledger and timers.remaining: a deadline's clock may be suspended and resumed (status
``suspended``), with the budget it had left

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("timers") as batch:
        batch.add_column(sa.Column("ledger", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("remaining", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("timers") as batch:
        batch.drop_column("remaining")
        batch.drop_column("ledger")
