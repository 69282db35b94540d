"""The write of a group or a batch (PostgreSQL: one statement, its rows as JSON arrays) finds the
instances it moves through the primary key, whatever the planner knows of the table: joined from the
JSON rows alone, a table never analyzed was planned as a hash join over a sequential scan of every
instance, in every group commit (6 ms at 6,000 instances; it grows with the table)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from tests.support import running_stack
from workflows.engine.commands import Cause

INSTANCES = 3000


@pytest.mark.production
def test_the_group_write_moves_its_instances_by_index_analyzed_or_not(tmp_path: Path) -> None:
    with running_stack("production", tmp_path) as stack:
        rt = stack.runtime
        with rt.db.engine.begin() as conn:  # a table of some size, never analyzed since the truncate
            conn.execute(
                text(
                    "INSERT INTO instances (flow, flow_version, business_key, state, context, version, "
                    "created_at, updated_at) SELECT 'toy', 1, 'filler-' || n, 'archived', '{}', 1, now(), "
                    "now() FROM generate_series(1, :n) AS n"
                ),
                {"n": INSTANCES},
            )
        ids = [stack.start_toy(f"plan-{i}") for i in range(2)]
        commands = [
            rt.engine.command(
                "toy", "decide", cause=Cause(kind="event", id=f"plan-{iid}"), dedupe_key=f"plan-{iid}",
                payload={"decision": "approve"}, instance_id=iid,
            )
            for iid in ids
        ]  # fmt: skip
        writes: list[tuple[str, Any]] = []

        def capture(
            conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            if statement.lstrip().startswith("WITH m AS"):
                writes.append((statement, parameters))

        event.listen(rt.db.engine, "before_cursor_execute", capture)
        try:
            outcomes = rt.execute_group(commands, [None, None])
        finally:
            event.remove(rt.db.engine, "before_cursor_execute", capture)
        assert [o.status for o in outcomes] == ["applied", "applied"]
        ((statement, parameters),) = writes
        with rt.db.engine.begin() as conn:
            for when in ("never analyzed", "analyzed"):
                if when == "analyzed":
                    conn.exec_driver_sql("ANALYZE instances")
                plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
                assert "Seq Scan on instances" not in plan, f"{when}:\n{plan}"
