"""Outbox rows that their process hands to the broker right after the commit are written stamped sent:
a row is written when created and when done, never stamped in between. A send the broker refuses
un-stamps its rows, and a process that dies between its commit and its send leaves rows that look sent,
which recovery re-sends as messages the broker lost."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support import SERVER_STACKS, Stack, running_stack, settings_for, statements
from worker import compose
from workflows.engine.commands import Cause, Command
from workflows.engine.deadlines import StaticDeadlines
from workflows.store.models import Outbox
from workflows.store.rows import Pending, will_send

SECONDS = 1 / 3600  # Stack.advance takes hours


def _rows(stack: Stack) -> list[Outbox]:
    with stack.runtime.db.read() as s:
        return list(s.execute(select(Outbox).order_by(Outbox.created_at, Outbox.actor)).scalars())


def _decide(stack: Stack, iid: int, key: str) -> Command:
    return stack.runtime.engine.command(
        "toy", "decide", cause=Cause(kind="event", id=key), dedupe_key=key,
        payload={"decision": "approve"}, instance_id=iid,
    )  # fmt: skip


def _stamps(sql: list[str]) -> list[str]:
    return [s for s in sql if s.lstrip().upper().startswith("UPDATE") and "sent_at" in s]


def test_rows_sent_after_their_commit_are_written_stamped_and_not_stamped_again(stack: Stack) -> None:
    # three writers: the API's command (``Runtime.transaction``), the sweeper's timer message and the
    # ``log.notify`` the escalation it fires emits (written by a worker's transition)
    with statements(stack) as seen:
        iid = stack.start_toy("stamped")
        stack.advance(3)
        assert stack.runtime.sweeper.sweep().fired == 1
        stack.settle()
        stack.send(iid, "decide", "decide-stamped", {"decision": "approve"})
        stack.settle()
        stack.runtime.relay.flush()
    assert stack.instance(iid).state == "decided"
    rows = _rows(stack)
    assert sorted(r.actor for r in rows) == ["log.notify", "toy.advance", "toy.advance"]
    for row in rows:
        assert (row.sends, row.sent_at, row.done_at is not None) == (1, row.created_at, True), row.actor
    assert _stamps(seen) == []  # no row was stamped after its send


def test_a_row_of_an_actor_not_declared_here_is_written_unsent(stack: Stack) -> None:
    """Held, not sent, so it must not look sent: another process's re-send pass sends it."""
    body = {"flow": "nowhere", "trigger": "open", "business_key": "k", "cause": {"kind": "system"}}
    message = Pending(str(uuid.uuid4()), "nowhere", "nowhere.advance", body)
    with stack.runtime.transaction() as session:
        stack.runtime.engine.write_messages(session, [message])
    (row,) = _rows(stack)
    assert (row.id, row.sent_at, row.sends, row.done_at) == (message.id, None, 0, None)


@pytest.mark.parametrize("kind", SERVER_STACKS)
def test_rows_the_broker_refused_are_unstamped_and_resent(kind: str, tmp_path: Path) -> None:
    with running_stack(kind, tmp_path) as stack:
        iid = stack.start_toy("refused")
        # a process whose broker is unreachable (nothing listens on port 1): its sends fail
        cut_off = compose(
            settings_for("production", tmp_path, broker="redis://127.0.0.1:1/0"),
            deadlines=StaticDeadlines({"toy.awaiting_review.review_deadline": "2h"}, version="test"),
        )
        try:
            with cut_off.transaction() as session:
                oid = cut_off.engine.enqueue(session, _decide(stack, iid, "refused"))
        finally:
            cut_off.close()
        (row,) = [r for r in _rows(stack) if r.id == oid]
        assert (row.sent_at, row.sends, row.done_at) == (None, 0, None)  # unsent, as it is
        assert stack.instance(iid).state == "awaiting_review"
        assert stack.runtime.recovery.resend() == (1, 0)  # relay_grace is 0 here
        stack.settle()
        assert stack.instance(iid).state == "decided"
        assert [h.trigger for h in stack.history(iid)].count("decide") == 1


@pytest.mark.parametrize("kind", SERVER_STACKS)
def test_a_crash_between_commit_and_send_is_recovered_as_a_lost_message(kind: str, tmp_path: Path) -> None:
    with running_stack(kind, tmp_path) as stack:
        rt = stack.runtime
        iid = stack.start_toy("crashed")
        with rt.db.transaction() as session:  # what ``Runtime.transaction`` commits; then the process dies
            will_send(session, rt.relay.sends)
            oid = rt.engine.enqueue(session, _decide(stack, iid, "crashed"))
        (row,) = [r for r in _rows(stack) if r.id == oid]
        assert (row.sent_at, row.sends, row.done_at) == (row.created_at, 1, None)  # looks sent
        assert rt.recovery.resend() == (0, 0)  # not before ``redeliver_after``
        stack.advance(2 * rt.settings.redeliver_after * SECONDS)
        assert rt.recovery.resend() == (1, 0)  # the broker does not hold it (or cannot tell)
        stack.settle()
        assert stack.instance(iid).state == "decided"
        assert [h.trigger for h in stack.history(iid)].count("decide") == 1
        (row,) = [r for r in _rows(stack) if r.id == oid]
        assert row.sends == 2


def test_after_a_crash_the_embedded_stack_sends_its_rows_at_start_up(tmp_path: Path) -> None:
    with running_stack("embedded", tmp_path) as stack:
        rt = stack.runtime
        iid = stack.start_toy("crashed")
        with rt.db.transaction() as session:
            will_send(session, rt.relay.sends)
            rt.engine.enqueue(session, _decide(stack, iid, "crashed"))
        stack.advance(1)
        assert rt.recovery.resend() == (0, 0)  # the embedded broker never gets a sent row again…
        assert stack.instance(iid).state == "awaiting_review"
        assert rt.relay.redispatch_undone() == 1  # …but every unfinished row at start-up
        stack.settle()
        assert stack.instance(iid).state == "decided"
