"""instances' facets as generated columns (department, departments, street, escalation_level), the
department indexes on them, and the open instances' index carrying them (PostgreSQL: INCLUDE)

On PostgreSQL the columns are STORED: adding them rewrites ``instances`` under an exclusive lock
(28 s for 1,000,000 rows on this 2-core machine). On SQLite they are VIRTUAL (nothing is rewritten).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# the expressions of workflows/store/facets.py as of this revision
LEVEL = (
    "CASE WHEN CAST(context AS TEXT) NOT LIKE '%\"escalations\"%' THEN 'none'"
    " WHEN CAST(context -> 'escalations' AS TEXT) LIKE '%\"supervision\"%' THEN 'supervision'"
    " WHEN CAST(context -> 'escalations' AS TEXT) LIKE '%\"overdue\"%' THEN 'overdue'"
    " WHEN CAST(context -> 'escalations' AS TEXT) LIKE '%\"warning\"%' THEN 'warning' ELSE 'none' END"
)
LISTED = "CAST(context AS TEXT) LIKE '%\"departments\"%'"
OPEN = sa.text("closed_at IS NULL")
INCLUDE = ["flow", "state", "department", "departments", "street", "escalation_level"]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.drop_index("ix_instances_departments", table_name="instances")
        op.drop_index("ix_instances_department", table_name="instances")
    # STORED on PostgreSQL (its only kind before 18), VIRTUAL on SQLite (the only kind ADD COLUMN takes)
    stored = True if postgres else None

    def computed(sql: str) -> sa.Computed:
        return sa.Computed(sql, persisted=stored)

    listed = {
        "postgresql": f"CASE WHEN {LISTED} THEN CAST((context -> 'departments') AS JSONB) END",
        "sqlite": f"CASE WHEN {LISTED} THEN context -> 'departments' END",
    }
    departments: sa.Column[object] = (
        sa.Column("departments", JSONB(), computed(listed["postgresql"]))
        if postgres
        else sa.Column("departments", sa.JSON(), computed(listed["sqlite"]))
    )
    columns: list[sa.Column[object]] = [
        sa.Column("department", sa.String(64), computed("context ->> 'department'")),
        departments,
        sa.Column("street", sa.String(64), computed("context ->> 'street'")),
        sa.Column("escalation_level", sa.String(16), computed(LEVEL)),
    ]
    for column in columns:
        op.add_column("instances", column)
    op.create_index("ix_instances_department", "instances", ["department", "flow", "state"])
    # GIN on PostgreSQL; on SQLite a plain index the scope's LIKE does not use (as the model says)
    op.create_index("ix_instances_departments", "instances", ["departments"], postgresql_using="gin")
    op.drop_index("ix_instances_open", table_name="instances")
    op.create_index(
        "ix_instances_open",
        "instances",
        ["id"],
        postgresql_where=OPEN,
        postgresql_include=INCLUDE,
        sqlite_where=OPEN,
    )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.drop_index("ix_instances_open", table_name="instances")
    op.create_index("ix_instances_open", "instances", ["id"], postgresql_where=OPEN, sqlite_where=OPEN)
    op.drop_index("ix_instances_departments", table_name="instances")
    op.drop_index("ix_instances_department", table_name="instances")
    for name in ("escalation_level", "street", "departments", "department"):
        op.drop_column("instances", name)
    if postgres:
        op.create_index("ix_instances_department", "instances", [sa.text("(context ->> 'department')")])
        op.create_index(
            "ix_instances_departments",
            "instances",
            [sa.text("(((context -> 'departments'::text))::jsonb)")],
            postgresql_using="gin",
        )
