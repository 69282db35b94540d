"""instances.name in a plain btree as well (PostgreSQL: ``text_pattern_ops``, with the id): the list's
search for a text pg_trgm draws no trigram from (one or two characters: 崂山) finds and counts its
matches by an index-only scan of this narrow index instead of a scan of the wide rows (or, worse, a
full scan of the trigram index: workflows/queries/listing.py)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # on SQLite a second plain index on name (the model declares each index for both dialects)
    op.create_index(
        "ix_instances_name",
        "instances",
        ["name"],
        postgresql_ops={"name": "text_pattern_ops"},
        postgresql_include=["id"],
    )


def downgrade() -> None:
    op.drop_index("ix_instances_name", table_name="instances")
