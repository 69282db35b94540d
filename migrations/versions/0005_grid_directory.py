"""grid directory: streets, grids, grid workers and the audit of each import

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import workflows.store.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grid_streets",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_grid_streets")),
    )
    op.create_table(
        "grid_cells",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("street", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["street"], ["grid_streets.code"], name=op.f("fk_grid_cells_street_grid_streets")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_grid_cells")),
    )
    op.create_index("ix_grid_cells_street", "grid_cells", ["street"], unique=False)
    op.create_table(
        "grid_workers",
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("grid", sa.String(length=32), nullable=False),
        sa.Column("backup_worker", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["grid"], ["grid_cells.code"], name=op.f("fk_grid_workers_grid_grid_cells")),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_grid_workers")),
    )
    op.create_index("ix_grid_workers_grid", "grid_workers", ["grid", "worker_id"], unique=False)
    op.create_table(
        "grid_directory_imports",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("imported_at", workflows.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("streets", sa.Integer(), nullable=False),
        sa.Column("grids", sa.Integer(), nullable=False),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.Column("active_workers", sa.Integer(), nullable=False),
        sa.Column("replaced_grids", sa.Integer(), nullable=False),
        sa.Column("replaced_workers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_directory_imports")),
    )


def downgrade() -> None:
    op.drop_table("grid_directory_imports")
    op.drop_index("ix_grid_workers_grid", table_name="grid_workers")
    op.drop_table("grid_workers")
    op.drop_index("ix_grid_cells_street", table_name="grid_cells")
    op.drop_table("grid_cells")
    op.drop_table("grid_streets")
