"""instances.name (the context's enterprise name) as a generated column, and a trigram index on it
for the list's name search (PostgreSQL: the pg_trgm extension, trusted since PostgreSQL 13)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    stored = True if postgres else None  # STORED on PostgreSQL, VIRTUAL on SQLite (as in 0015)
    op.add_column(
        "instances", sa.Column("name", sa.String(200), sa.Computed("context ->> 'name'", persisted=stored))
    )
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # trigrams on PostgreSQL; on SQLite a plain index (as the model says) that the LIKE does not use
    op.create_index(
        "ix_instances_name_trgm",
        "instances",
        ["name"],
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_instances_name_trgm", table_name="instances")
    op.drop_column("instances", "name")
