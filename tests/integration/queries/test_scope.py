"""Department scope in SQL (``workflows.queries.scope.in_department``) on both stacks: it selects
exactly the instances ``visible`` admits, for every department asked in one process (the statement
cache keys on the department), and on PostgreSQL it is answered from the two indexes, not a scan."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from tests.support import Stack
from workflows.engine.commands import Cause
from workflows.queries.scope import halves, in_department, visible
from workflows.store.models import Instance

CONTEXTS: list[dict[str, Any]] = [
    {"department": "WJJ"},
    {"department": "SCJ"},
    {"departments": ["SCJ", "WJJ"]},  # a joint inspection's departments
    {"departments": {"WJJ_X": {"officers": 2}}},  # keyed by department
    {"departments": ["WJJX"]},  # a longer code is another department
    {"department_note": "WJJ"},  # another key naming it: not its work
    {"department": "wjj"},
    {},
]


def _start(stack: Stack) -> dict[int, dict[str, Any]]:
    started = {}
    with stack.runtime.transaction() as session:
        for n, context in enumerate(CONTEXTS):
            outcome = stack.runtime.engine.start(
                session, "toy", f"scope-{n}", subject=None, context=context, cause=Cause(kind="system")
            )
            started[outcome.instance_id] = context
    return started


def test_the_sql_scope_selects_what_visible_admits(stack: Stack) -> None:
    started = _start(stack)
    for department in ("WJJ", "SCJ", "WJJ_X", "WJJX", "XYZ", "WJJ"):  # WJJ again: from the cache
        with stack.runtime.db.read() as session:
            found = set(session.scalars(select(Instance.id).where(in_department(department))))
        expected = {iid for iid, context in started.items() if visible(context, department)}
        assert found == expected, department
        with stack.runtime.db.read() as session:  # the two halves the counts sum: disjoint, and all of it
            named, listed = (set(session.scalars(select(Instance.id).where(h))) for h in halves(department))
        assert not named & listed and named | listed == expected, department
    assert len({iid for iid, c in started.items() if visible(c, "WJJ")}) == 2
    if stack.runtime.db.is_postgres:  # answered from the two indexes (SQLite: the portable LIKE)
        assert_index_scans(stack)


def assert_index_scans(stack: Stack) -> None:
    query = select(Instance.id).where(in_department("WJJ"))
    sql = str(query.compile(stack.runtime.db.engine, compile_kwargs={"literal_binds": True}))
    with stack.runtime.db.engine.connect() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {sql}")))
    assert "ix_instances_department " in plan and "ix_instances_departments " in plan, plan
    assert "Seq Scan" not in plan, plan
