"""Many rows in one statement (``Database.statements.insert_rows``): values, JSON and times arrive
intact, conflicting rows are skipped and only the inserted ones are returned. Both stacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from tests.support import Stack
from workflows.store.models import InboxEvent, table

INBOX = table(InboxEvent)
SHANGHAI = timezone(timedelta(hours=8))


def _row(event_id: str, received_at: datetime) -> dict[str, object]:
    return dict(
        source="/bulk",
        event_id=event_id,
        type="license.issued",
        subject=None,
        data={"name": "崂山区云商药房", "scope": ["药品零售", "食品销售"], "n": 3, "ok": True, "none": None},
        status="accepted",
        warnings=['a "quoted" warning\nwith a newline'],
        received_at=received_at,
    )


def test_rows_arrive_intact_and_conflicts_are_skipped(stack: Stack) -> None:
    at = datetime(2026, 10, 1, 9, 30, 15, 123456, tzinfo=SHANGHAI)
    with stack.runtime.db.transaction() as s:
        first = stack.runtime.db.statements.insert_rows(
            s.connection(), INBOX, [_row("a", at), _row("b", at)], returning="id"
        )
    assert len(first) == 2
    with stack.runtime.db.transaction() as s:
        again = stack.runtime.db.statements.insert_rows(
            s.connection(),
            INBOX,
            [_row("b", at), _row("c", at + timedelta(hours=1))],
            skip_conflicts_on=("source", "event_id"),
            returning="id",
        )
    assert len(again) == 1 and again[0] not in first  # "b" existed: skipped, not returned
    with stack.runtime.db.read() as s:
        rows = s.execute(select(InboxEvent).order_by(InboxEvent.event_id)).scalars().all()
    assert [r.event_id for r in rows] == ["a", "b", "c"]
    assert rows[0].data == _row("a", at)["data"]
    assert rows[0].warnings == _row("a", at)["warnings"]
    assert rows[0].received_at == at.astimezone(UTC)
    assert rows[2].received_at == (at + timedelta(hours=1)).astimezone(UTC)
    assert rows[0].subject is None


def test_no_rows_writes_nothing(stack: Stack) -> None:
    with stack.runtime.db.transaction() as s:
        assert stack.runtime.db.statements.insert_rows(s.connection(), INBOX, [], returning="id") == []
    with stack.runtime.db.read() as s:
        assert s.execute(select(InboxEvent)).first() is None
