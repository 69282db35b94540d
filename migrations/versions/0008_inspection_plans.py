"""inspection_plans and inspection_draws: a plan frozen with its snapshot and commitment, its draws

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import workflows.store.models as models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_plans",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("snapshot_hash", sa.String(64), nullable=False),
        sa.Column("commitment", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", models.UtcDateTime(), nullable=False),
    )
    op.create_table(
        "inspection_draws",
        sa.Column("id", models.Id, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(100), sa.ForeignKey("inspection_plans.id"), nullable=False),
        sa.Column("receipt", sa.JSON(), nullable=False),
        sa.Column("result_sha256", sa.String(64), nullable=False),
        sa.Column("drawn_by", sa.String(200), nullable=False),
        sa.Column("drawn_at", models.UtcDateTime(), nullable=False),
        sa.Column("voided_at", models.UtcDateTime(), nullable=True),
        sa.Column("voided_by", sa.String(200), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_inspection_draws_plan", "inspection_draws", ["plan_id"])


def downgrade() -> None:
    op.drop_index("ix_inspection_draws_plan", table_name="inspection_draws")
    op.drop_table("inspection_draws")
    op.drop_table("inspection_plans")
