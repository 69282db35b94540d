"""the dashboard's instance list and overview: keyset indexes per sortable column, the open
instances, the context's department and departments (PostgreSQL: btree, GIN over jsonb), armed
timers in (due, instance) order, deliveries by sent time

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ARMED = sa.text("status = 'armed'")


def upgrade() -> None:
    op.create_index("ix_instances_flow_id", "instances", ["flow", "id"])
    op.create_index("ix_instances_state_id", "instances", ["state", "id"])
    op.create_index("ix_instances_created_at_id", "instances", ["created_at", "id"])
    if op.get_bind().dialect.name == "postgresql":  # as the model says (ddl_if)
        op.create_index("ix_instances_department", "instances", [sa.text("(context ->> 'department')")])
        op.create_index(
            "ix_instances_departments",
            "instances",
            [sa.text("(((context -> 'departments'::text))::jsonb)")],
            postgresql_using="gin",
        )
    op.create_index(
        "ix_instances_open",
        "instances",
        ["id"],
        postgresql_where=sa.text("closed_at IS NULL"),
        sqlite_where=sa.text("closed_at IS NULL"),
    )
    op.create_index(
        "ix_timers_armed_due_instance",
        "timers",
        ["due_at", "instance_id"],
        postgresql_where=ARMED,
        sqlite_where=ARMED,
    )
    op.create_index("ix_deliveries_sent_at", "deliveries", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_sent_at", table_name="deliveries")
    op.drop_index("ix_timers_armed_due_instance", table_name="timers")
    op.drop_index("ix_instances_open", table_name="instances")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_instances_departments", table_name="instances")
        op.drop_index("ix_instances_department", table_name="instances")
    op.drop_index("ix_instances_created_at_id", table_name="instances")
    op.drop_index("ix_instances_state_id", table_name="instances")
    op.drop_index("ix_instances_flow_id", table_name="instances")
