"""history by event cause: the reconciliation finds an accepted event's effect by its cause

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WHERE = sa.text("cause_kind = 'event'")


def upgrade() -> None:
    op.create_index(
        "ix_history_event_cause", "history", ["cause_id"], postgresql_where=WHERE, sqlite_where=WHERE
    )


def downgrade() -> None:
    op.drop_index("ix_history_event_cause", table_name="history")
