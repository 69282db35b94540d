"""The hot path's statements find their rows through the primary key, in the plan made for the
statement's values and in the generic plan a prepared statement keeps for the connection's life:

- a group commit's lock of several instances by id: with ``flow = :flow`` beside ``id = ANY(:ids)``
  a table never analyzed was planned as a scan of every instance of the flow (``ix_instances_flow_id``
  on the flow, the ids a filter);
- a message's done mark: with ``AND done_at IS NULL`` a plan made from statistics that saw no undone
  row (the outbox's normal state) read the partial index of undone rows, every one of them for each
  mark, which under a backlog grew with the backlog;
- a lock by business keys, once the table has statistics (never analyzed, it is planned as a scan of
  the flow's instances whatever its form: production's autovacuum analyzes a table soon after it
  grows, the benchmarks run ``ANALYZE``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Connection, text

from tests.support import Stack, executed, fill_toys, running_stack, toy_decides
from workflows.engine.commands import Cause
from workflows.store.sql import DONE

FILLER = 3000


def _plans(conn: Connection, statement: str, parameters: Mapping[str, Any]) -> dict[str, str]:
    """EXPLAIN of a psycopg-style statement (``%(name)s``): planned for these values, and generic."""
    custom = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, dict(parameters)))
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] not in order:
            order.append(match[1])
        return f"${order.index(match[1]) + 1}"

    numbered = re.sub(r"%\((\w+)\)s", number, statement)
    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    values = sql.SQL(", ").join(sql.Literal(parameters[name]) for name in order).as_string(raw)
    conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    conn.exec_driver_sql(f"PREPARE hot_plan AS {numbered}")
    try:
        generic = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN EXECUTE hot_plan({values})"))
    finally:
        conn.exec_driver_sql("DEALLOCATE hot_plan")
    return {"custom": custom, "generic": generic}


def _forget_statistics(conn: Connection, table: str) -> None:
    """As if ``table`` was never analyzed: an earlier test's ANALYZE outlives the truncate between
    tests (the database's superuser may delete them; the tests' servers run as one)."""
    conn.execute(text("DELETE FROM pg_statistic WHERE starelid = CAST(:t AS regclass)"), {"t": table})


def _fill_never_analyzed(stack: Stack) -> None:
    """Many archived instances of the toy flow, in a table without statistics."""
    with stack.runtime.db.engine.begin() as conn:
        _forget_statistics(conn, "instances")
        fill_toys(conn, FILLER)


@pytest.mark.production
def test_a_group_locks_its_instances_by_primary_key_analyzed_or_not(tmp_path: Path) -> None:
    with running_stack("production", tmp_path) as stack:
        rt = stack.runtime
        _fill_never_analyzed(stack)
        commands = toy_decides(stack, [stack.start_toy(f"lock-{i}") for i in range(3)], "lock")
        with executed(stack, "SELECT instances.id") as locks:
            outcomes = rt.execute_group(commands, [None, None, None])
        assert [o.status for o in outcomes] == ["applied"] * 3
        ((statement, parameters),) = locks
        assert "FOR UPDATE" in statement
        with rt.db.engine.begin() as conn:
            # never analyzed, the generic plan of a table this small may read it all (it does
            # whatever the condition): the plan for the values must not read the flow's rows
            plans = {"never analyzed, custom": _plans(conn, statement, parameters)["custom"]}
            conn.exec_driver_sql("ANALYZE instances")
            plans |= {f"analyzed, {kind}": plan for kind, plan in _plans(conn, statement, parameters).items()}
        for when, plan in plans.items():
            assert "pk_instances" in plan, f"{when} plan:\n{plan}"
            assert "ix_instances_flow_id" not in plan, f"{when} plan:\n{plan}"


@pytest.mark.production
def test_the_done_mark_finds_its_row_by_primary_key_under_a_backlog(tmp_path: Path) -> None:
    with running_stack("production", tmp_path) as stack:
        rt = stack.runtime
        with rt.db.engine.begin() as conn:  # statistics taken when every row was done, as is usual
            conn.execute(
                text(
                    "INSERT INTO outbox (id, queue, actor, message, created_at, sent_at, done_at, sends) "
                    "SELECT 'row-' || lpad(n::text, 6, '0'), 'toy', 'toy.advance', '{}', now(), now(), "
                    "now(), 1 FROM generate_series(1, :n) AS n"
                ),
                {"n": FILLER},
            )
            conn.exec_driver_sql("ANALYZE outbox")
            conn.exec_driver_sql("UPDATE outbox SET done_at = NULL")  # then a backlog
        statement = str(DONE.compile(dialect=rt.db.engine.dialect))
        parameters = {"oid": "row-001500", "now": rt.clock.now()}
        assert "%(oid)s" in statement
        with rt.db.engine.begin() as conn:
            for kind, plan in _plans(conn, statement, parameters).items():
                assert "pk_outbox" in plan, f"{kind} plan:\n{plan}"
                assert "ix_outbox_undone" not in plan, f"{kind} plan:\n{plan}"
        # and it still keeps the first mark: a redelivery changes nothing
        first = rt.clock.now()
        with rt.db.engine.begin() as conn:
            conn.execute(DONE, {"oid": "row-001500", "now": first})
        with rt.db.engine.begin() as conn:
            conn.execute(DONE, {"oid": "row-001500", "now": first.replace(year=first.year + 1)})
            done = conn.exec_driver_sql("SELECT done_at FROM outbox WHERE id = 'row-001500'").scalar_one()
            undone = conn.exec_driver_sql("SELECT count(*) FROM outbox WHERE done_at IS NULL").scalar_one()
        assert done == first
        assert undone == FILLER - 1


@pytest.mark.production
def test_commands_by_business_key_lock_through_the_key_index_once_analyzed(tmp_path: Path) -> None:
    with running_stack("production", tmp_path) as stack:
        rt = stack.runtime
        _fill_never_analyzed(stack)
        keys = [f"key-{i}" for i in range(3)]
        for key in keys:
            stack.start_toy(key)
        commands = [
            rt.engine.command(
                "toy", "decide", cause=Cause(kind="event", id=key), dedupe_key=f"by-key-{key}",
                payload={"decision": "approve"}, business_key=key,
            )
            for key in keys
        ]  # fmt: skip
        with executed(stack, "SELECT") as reads:
            outcomes = rt.execute_group(commands, [None, None, None])
        assert [o.status for o in outcomes] == ["applied"] * 3
        ((statement, parameters),) = [(sql, p) for sql, p in reads if "FOR UPDATE" in sql]
        assert "business_key" in statement
        with rt.db.engine.begin() as conn:
            # never analyzed, PostgreSQL sees a table too small to choose: both indexes that lead with
            # the flow cost the same to it, and it takes ix_instances_flow_id (every instance of the
            # flow, the keys a filter) whatever the statement's form; with statistics, the key's index
            conn.exec_driver_sql("ANALYZE instances")
            plans = {f"analyzed, {kind}": plan for kind, plan in _plans(conn, statement, parameters).items()}
        for when, plan in plans.items():
            assert "uq_instances_flow_business_key" in plan, f"{when} plan:\n{plan}"
            assert "ix_instances_flow_id" not in plan, f"{when} plan:\n{plan}"
