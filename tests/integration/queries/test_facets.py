"""The facets the database keeps of an instance's context (``workflows.store.facets``: generated
columns) say what the context says, on both stacks, when the instance starts and after its context
changes, whoever writes it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.support import Stack, statements
from workflows.engine.commands import Cause
from workflows.store.models import Instance

#: (context, department, departments, street, escalation level)
CASES: list[tuple[dict[str, Any], str | None, Any, str | None, str]] = [
    ({"department": "WJJ", "street": "中韩"}, "WJJ", None, "中韩", "none"),
    ({"departments": ["SCJ", "WJJ"]}, None, ["SCJ", "WJJ"], None, "none"),
    ({"departments": {"GAFJ": {"officers": 2}}}, None, {"GAFJ": {"officers": 2}}, None, "none"),
    ({"escalations": [{"kind": "warning", "at": "2026-12-01"}]}, None, None, None, "warning"),
    (
        {"escalations": [{"kind": "warning"}, {"kind": "overdue"}], "street": "沙子口"},
        None,
        None,
        "沙子口",
        "overdue",
    ),
    ({"escalations": [{"kind": "supervision"}, {"kind": "warning"}]}, None, None, None, "supervision"),
    ({"escalations": []}, None, None, None, "none"),
    ({"department_note": "WJJ", "streets": ["中韩"]}, None, None, None, "none"),  # other keys: nothing
    ({"note": "escalations", "memo": ["departments", "overdue"]}, None, None, None, "none"),  # as values
    ({}, None, None, None, "none"),
]


def _facets(stack: Stack, ids: list[int]) -> list[tuple[Any, ...]]:
    query = select(
        Instance.department, Instance.departments, Instance.street, Instance.escalation_level
    ).where(Instance.id.in_(ids))
    with stack.runtime.db.read() as session:
        return [tuple(row) for row in session.execute(query.order_by(Instance.id)).all()]


def test_the_facets_follow_the_context(stack: Stack) -> None:
    ids = []
    with stack.runtime.transaction() as session:
        for n, (context, *_) in enumerate(CASES):
            outcome = stack.runtime.engine.start(
                session, "toy", f"facets-{n}", subject=None, context=context, cause=Cause(kind="system")
            )
            ids.append(outcome.instance_id)
    assert _facets(stack, ids) == [tuple(case[1:]) for case in CASES]

    # the context changes (a flow escalates, re-routes): the facets follow, with no writer's help
    changed = {"department": "SCJG", "street": "王哥庄", "escalations": [{"kind": "overdue"}]}
    with stack.runtime.db.transaction() as session:
        session.execute(update(Instance).where(Instance.id == ids[0]).values(context=changed))
    assert _facets(stack, ids[:1]) == [("SCJG", None, "王哥庄", "overdue")]
    assert _facets(stack, ids[1:]) == [tuple(case[1:]) for case in CASES[1:]]  # the others unchanged


def _start_named(stack: Stack, names: list[str | None], key: str) -> list[int]:
    """A toy instance per name (none: a context without one), their ids in order."""
    ids = []
    with stack.runtime.transaction() as session:
        for n, name in enumerate(names):
            context = {"name": name} if name else {"street": "中韩"}
            outcome = stack.runtime.engine.start(
                session, "toy", f"{key}-{n}", subject=None, context=context, cause=Cause(kind="system")
            )
            ids.append(outcome.instance_id)
    return ids


def _fill(stack: Stack, n: int) -> None:
    """``n`` more instances of other names, written by one statement, then vacuumed (as autovacuum
    keeps the table): enough rows for the planner to choose by the indexes (PostgreSQL)."""
    from sqlalchemy import text

    db = stack.runtime.db
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO instances (flow, flow_version, business_key, state, context, version,"
                " created_at, updated_at) SELECT 'toy', 1, 'fill-' || g, 'closed',"
                " json_build_object('name', '填充企业' || g || '号'), 1, now(), now()"
                " FROM generate_series(1, :n) AS g"
            ),
            {"n": n},
        )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE instances"))


def test_the_name_facet_serves_the_name_search(stack: Stack) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import text

    from workflows.queries.listing import Listing, count, enterprise_clause

    names = ["青岛崂山云商药房有限公司", "崂山区王哥庄海鲜餐馆", None]
    ids = _start_named(stack, names, "name")
    with stack.runtime.db.read() as session:
        assert (
            list(session.scalars(select(Instance.name).where(Instance.id.in_(ids)).order_by(Instance.id)))
            == names
        )
    now = datetime.now(UTC)
    assert count(stack.runtime.db, Listing(enterprise="云商药房"), now) == 1
    assert count(stack.runtime.db, Listing(enterprise="崂山"), now) == 2
    assert count(stack.runtime.db, Listing(enterprise="100%_"), now) == 0  # LIKE's wildcards are escaped
    if stack.runtime.db.is_postgres:  # a search of three characters or more is a trigram index scan
        query = select(Instance.id).where(enterprise_clause("云商药房"))
        sql = str(query.compile(stack.runtime.db.engine, compile_kwargs={"literal_binds": True}))
        _fill(stack, 5000)  # a table of a few rows is best read through its smallest index
        with stack.runtime.db.engine.connect() as conn:  # one transaction, rolled back
            # at this size the narrow btree of 0017 (an index-only scan with the LIKE as a filter) may
            # cost the planner less than the trigram index, whichever the server's settings: the claim
            # here is that the search *can* be a trigram index scan, as it is at 1M rows (ui_bench)
            conn.execute(text("DROP INDEX ix_instances_name"))
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {sql}")))
            conn.rollback()
        assert "ix_instances_name_trgm" in plan, plan


#: names and searches pg_trgm draws no trigram from (no three letters or digits in a row), each with
#: the names (by index) that contain it; LIKE's wildcards and the escape character are plain text
SHORT_NAMES = ["青岛崂山云商药房有限公司", "崂山区王哥庄海鲜餐馆", "100%纯_净水/店", "ab科技", None]
SHORT_SEARCHES = {"崂山": [0, 1], "崂": [0, 1], "海鲜": [1], "%纯": [2], "_": [2], "/": [2], "%": [2]}
SHORT_SEARCHES |= {"ab": [3], "不在": [], "山 区": [], " 崂山 ": [0, 1]}


def test_a_short_name_search_finds_and_counts_exactly_its_matches(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import text

    from workflows.queries import listing as listings
    from workflows.queries.listing import Listing, count, enterprise_clause, page

    ids = _start_named(stack, SHORT_NAMES, "short")
    db, now = stack.runtime.db, datetime.now(UTC)
    # PostgreSQL looks a short text's matches up first when few (``FEW``), else asks each row's name
    for few in (listings.FEW, 1):
        monkeypatch.setattr(listings, "FEW", few)
        for search, matches in SHORT_SEARCHES.items():
            expected = [ids[i] for i in matches]
            listing = Listing(enterprise=search)
            assert count(db, listing, now) == len(expected), (few, search)
            found = page(db, listing, now, limit=1)
            assert found.total == len(expected), (few, search)
            assert [item["id"] for item in found.items] == expected[:1], (few, search)
            if found.next is not None:  # the next page of the same search
                rest = page(db, listing, now, after=found.next, limit=1)
                assert [item["id"] for item in rest.items] == expected[1:2], (few, search)
    if not db.is_postgres:
        return
    # PostgreSQL: the matches and their count are read from the narrow name index alone (once
    # vacuumed, as autovacuum keeps it), not the trigram index (a scan of its every entry for such a
    # text) ...
    _fill(stack, 5000)
    clause = enterprise_clause("崂山")
    for query in (
        select(func.count()).select_from(Instance).where(clause),
        select(Instance.id).where(clause),
    ):
        sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
        with db.engine.connect() as conn:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {sql}")))
        assert "Index Only Scan using ix_instances_name " in plan and "trgm" not in plan, plan
    # ... and each of the list's statements is planned for its text, however often it runs (psycopg
    # prepares a statement from its fifth run; PostgreSQL would then plan it for any text)
    with statements(stack) as sent:
        for _ in range(12):
            assert page(db, Listing(enterprise="崂山"), now).total == 2
    counted = [i for i, s in enumerate(sent) if s.lstrip().upper().startswith("SELECT COUNT")]
    assert len(counted) == 12
    assert all("SET LOCAL plan_cache_mode = force_custom_plan" in sent[i - 1] for i in counted)
