"""inspection_plans.candidates: the frozen candidates as their hashed text, compressed

The candidate snapshot of a plan was a JSON document of lists in ``snapshot``; for the district's
75,000 objects it cost more to encode and decode than the draw itself. It is now the text the snapshot
hash is computed over (a line per object and per officer, then the excluded USCCs), zlib-compressed;
``snapshot`` keeps the quotas and counts. Plans frozen before keep their JSON and are read as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inspection_plans") as batch:
        batch.add_column(sa.Column("candidates", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inspection_plans") as batch:
        batch.drop_column("candidates")
