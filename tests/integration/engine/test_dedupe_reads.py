"""The reads of pairs — the workers' history dedupe (instance id, dedupe key) and the intake's inbox
duplicates (source, event id) — answer exactly the pairs asked, never a pair of the cross product
(PostgreSQL joins them from ``unnest``; SQLite asks ``IN``). Every stack."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support import running_stack
from workflows.store.models import InboxEvent, table


def test_the_dedupe_reads_answer_the_pairs_asked_not_their_cross_product(
    stack_kind: str, tmp_path: Path
) -> None:
    with running_stack(stack_kind, tmp_path) as stack:
        a, b = stack.start_toy("pairs-a"), stack.start_toy("pairs-b")
        stack.send(a, "note", "key-a", {"text": "a"})
        stack.send(b, "note", "key-b", {"text": "b"})
        stack.settle()
        statements = stack.runtime.db.statements
        with stack.runtime.db.engine.connect() as conn:
            asked = [(a, "key-b"), (b, "key-a"), (a, "key-a"), (b, "key-b"), (a, "key-a"), (b, "nothing")]
            assert statements.seen(conn, asked) == {(a, "key-a"), (b, "key-b")}
            assert statements.seen(conn, [(a, "key-b")]) == set()
            assert statements.seen(conn, [(b, "key-b")]) == {(b, "key-b")}
            assert statements.seen(conn, []) == set()

        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = [
            dict(
                source=s,
                event_id=e,
                type="toy.submitted",
                subject=None,
                data={},
                status="accepted",
                warnings=[],
                received_at=now,
            )
            for s, e in [("/one", "1"), ("/one", "2"), ("/two", "3")]
        ]
        with stack.runtime.db.engine.begin() as conn:
            statements.insert_rows(conn, table(InboxEvent), rows)
        with stack.runtime.db.engine.connect() as conn:
            events = [("/one", "1"), ("/one", "3"), ("/two", "1"), ("/two", "3"), ("/one", "1"), ("/x", "2")]
            assert statements.stored_events(conn, events) == {("/one", "1"), ("/two", "3")}
            assert statements.stored_events(conn, [("/two", "2")]) == set()
            assert statements.stored_events(conn, []) == set()
