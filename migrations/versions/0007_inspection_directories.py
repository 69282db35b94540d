"""joint inspection directories: inspection objects, officers and the audit of each import

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import workflows.store.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_objects",
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("industry", sa.String(length=8), nullable=True),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("grid", sa.String(length=200), nullable=False),
        sa.Column("risk_class", sa.String(length=32), nullable=False),
        sa.Column("risk_as_of", sa.Date(), nullable=False),
        sa.Column("last_inspected_at", sa.Date(), nullable=True),
        sa.Column("last_result", sa.String(length=32), nullable=True),
        sa.Column("last_inspectors", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("uscc", name=op.f("pk_inspection_objects")),
    )
    op.create_index(
        "ix_inspection_objects_risk_class_uscc", "inspection_objects", ["risk_class", "uscc"], unique=False
    )
    op.create_table(
        "inspection_officers",
        sa.Column("officer_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("certificate_no", sa.String(length=32), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("conflicts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("officer_id", name=op.f("pk_inspection_officers")),
        sa.UniqueConstraint("certificate_no", name="uq_inspection_officers_certificate_no"),
    )
    op.create_index(
        "ix_inspection_officers_department_officer_id",
        "inspection_officers",
        ["department", "officer_id"],
        unique=False,
    )
    op.create_table(
        "inspection_directory_imports",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("imported_at", workflows.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("replaced_rows", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_directory_imports")),
    )


def downgrade() -> None:
    op.drop_table("inspection_directory_imports")
    op.drop_index("ix_inspection_officers_department_officer_id", table_name="inspection_officers")
    op.drop_table("inspection_officers")
    op.drop_index("ix_inspection_objects_risk_class_uscc", table_name="inspection_objects")
    op.drop_table("inspection_objects")
