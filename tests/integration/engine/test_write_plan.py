"""The write of a group or a batch (PostgreSQL: one statement, its rows as JSON arrays) finds the
instances it moves through the primary key, whatever the planner knows of the table: joined from the
JSON rows alone, a table never analyzed was planned as a hash join over a sequential scan of every
instance, in every group commit (6 ms at 6,000 instances; it grows with the table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import executed, fill_toys, running_stack, toy_decides

INSTANCES = 3000


@pytest.mark.production
def test_the_group_write_moves_its_instances_by_index_analyzed_or_not(tmp_path: Path) -> None:
    with running_stack("production", tmp_path) as stack:
        rt = stack.runtime
        with rt.db.engine.begin() as conn:  # a table of some size, never analyzed since the truncate
            fill_toys(conn, INSTANCES)
        commands = toy_decides(stack, [stack.start_toy(f"plan-{i}") for i in range(2)], "plan")
        with executed(stack, "WITH m AS") as writes:
            outcomes = rt.execute_group(commands, [None, None])
        assert [o.status for o in outcomes] == ["applied", "applied"]
        ((statement, parameters),) = writes
        with rt.db.engine.begin() as conn:
            for when in ("never analyzed", "analyzed"):
                if when == "analyzed":
                    conn.exec_driver_sql("ANALYZE instances")
                plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
                assert "Seq Scan on instances" not in plan, f"{when}:\n{plan}"
