"""dead letter requeue audit: who requeued it and why

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dead_letters", sa.Column("requeued_by", sa.String(length=100), nullable=True))
    op.add_column("dead_letters", sa.Column("requeue_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("requeue_reason")
        batch.drop_column("requeued_by")
