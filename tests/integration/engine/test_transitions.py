"""The engine on both stacks: start, apply, dedupe, rejection, timers, outbox."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.support import Stack
from workflows.engine.commands import Cause
from workflows.messaging.deadletters import list_dead
from workflows.store.models import History, Instance, Outbox


def test_start_is_idempotent_by_business_key(stack: Stack) -> None:
    first = stack.start_toy("case-1", subject="91370212MA3QK7T84W")
    again = stack.start_toy("case-1", subject="91370212MA3QK7T84W")
    assert first == again
    with stack.runtime.db.transaction() as s:
        assert s.execute(select(func.count()).select_from(Instance)).scalar_one() == 1
    history = stack.history(first)
    assert [(h.from_state, h.to_state, h.trigger) for h in history] == [(None, "awaiting_review", "start")]
    assert stack.instance(first).rules_version == "test"


def test_trigger_runs_through_the_worker_and_records_history(stack: Stack) -> None:
    iid = stack.start_toy("case-2")
    stack.send(iid, "decide", "evt-1", {"decision": "approve"})
    stack.settle()
    inst = stack.instance(iid)
    assert inst.state == "decided"
    assert inst.context == {"decision": "approve"}
    assert inst.version == 2
    last = stack.history(iid)[-1]
    assert (last.from_state, last.to_state, last.outcome, last.cause_kind, last.cause_id) == (
        "awaiting_review",
        "decided",
        "applied",
        "event",
        "evt-1",
    )
    assert last.payload == {"decision": "approve"}


def test_redelivery_with_the_same_dedupe_key_is_a_noop(stack: Stack) -> None:
    iid = stack.start_toy("case-3")
    for _ in range(3):
        stack.send(iid, "note", "evt-note", {"text": "called the enterprise"})
    stack.settle()
    inst = stack.instance(iid)
    assert inst.context["notes"] == ["called the enterprise"]
    rows = [h for h in stack.history(iid) if h.dedupe_key == "evt-note"]
    assert len(rows) == 1


def test_trigger_not_allowed_is_recorded_as_rejected_and_not_retried(stack: Stack) -> None:
    iid = stack.start_toy("case-4")
    stack.send(iid, "archive", "evt-archive")
    stack.settle()
    inst = stack.instance(iid)
    assert inst.state == "awaiting_review"
    assert inst.version == 1
    last = stack.history(iid)[-1]
    assert last.outcome == "rejected"
    assert last.to_state is None
    assert "not allowed in state 'awaiting_review'" in (last.reason or "")
    stack.runtime.relay.flush()
    with stack.runtime.db.read() as s:
        rows = s.execute(select(Outbox.sends, Outbox.done_at)).all()
    assert all(done is not None for _, done in rows)  # consumed, not left for a retry
    if stack.name != "embedded":  # the durable broker records each hand-over: exactly one
        assert [n for n, _ in rows] == [1]
    assert list_dead(stack.runtime.db) == []


def test_guard_refusal_names_the_reason(stack: Stack) -> None:
    iid = stack.start_toy("case-5")
    stack.send(iid, "note", "n1", {"text": "x"})  # internal: decided needs a decision for archive
    stack.settle()
    with stack.runtime.transaction() as session:
        stack.runtime.engine.apply(
            session,
            stack.runtime.engine.command(
                "toy",
                "decide",
                cause=Cause(kind="operator", operator="li.wei", reason="phone call"),
                dedupe_key="op-1",
                payload={"decision": "reject"},
                instance_id=iid,
            ),
        )
    inst = stack.instance(iid)
    assert inst.state == "decided"
    last = stack.history(iid)[-1]
    assert (last.operator, last.reason, last.cause_kind) == ("li.wei", "phone call", "operator")


def test_timer_armed_on_entry_fires_after_the_deadline_and_emits(stack: Stack) -> None:
    iid = stack.start_toy("case-6")
    (timer,) = stack.timers(iid)
    assert (timer.status, timer.name, timer.trigger) == ("armed", "review_deadline", "review_deadline_passed")
    assert abs((timer.due_at - timer.created_at).total_seconds() - 7200) < 1
    assert stack.runtime.sweeper.sweep().fired == 0  # not due yet
    stack.advance(2.5)
    result = stack.runtime.sweeper.sweep()
    assert result.fired == 1
    assert result.late_seconds_max >= 1800 - 5
    stack.settle()
    assert stack.instance(iid).state == "escalated"
    last = stack.history(iid)[-1]
    assert (last.cause_kind, last.cause_id, last.dedupe_key) == ("timer", str(timer.id), f"timer:{timer.id}")
    assert stack.timers(iid)[0].status == "fired"
    with stack.runtime.db.transaction() as s:
        notify = s.execute(select(Outbox).where(Outbox.actor == "log.notify")).scalar_one()
    assert notify.done_at is not None  # the side-effect actor consumed it
    assert stack.runtime.sweeper.sweep().fired == 0  # never twice


def test_leaving_the_state_cancels_its_timer_and_a_stale_timer_is_a_noop(stack: Stack) -> None:
    iid = stack.start_toy("case-7")
    stack.send(iid, "decide", "d1", {"decision": "approve"})
    stack.settle()
    (timer,) = stack.timers(iid)
    assert timer.status == "cancelled"
    stack.advance(3)
    assert stack.runtime.sweeper.sweep().fired == 0
    # a timer message that arrives late (fired just before the state changed) changes nothing
    engine = stack.runtime.engine
    with stack.runtime.transaction() as session:
        outcome = engine.apply(
            session,
            engine.command(
                "toy",
                "review_deadline_passed",
                cause=Cause(kind="timer", id=str(timer.id)),
                dedupe_key=f"timer:{timer.id}",
                instance_id=iid,
            ),
        )
    assert outcome.status == "stale_timer"
    assert stack.instance(iid).state == "decided"
    assert all(h.trigger != "review_deadline_passed" for h in stack.history(iid))


def test_internal_transition_keeps_the_state_and_its_timer(stack: Stack) -> None:
    iid = stack.start_toy("case-8")
    stack.send(iid, "note", "n1", {"text": "first"})
    stack.send(iid, "note", "n2", {"text": "second"})
    stack.settle()
    assert stack.instance(iid).state == "awaiting_review"
    assert sorted(stack.instance(iid).context["notes"]) == ["first", "second"]
    assert [t.status for t in stack.timers(iid)] == ["armed"]


def test_final_state_closes_the_instance(stack: Stack) -> None:
    iid = stack.start_toy("case-9")
    stack.send(iid, "decide", "d", {"decision": "approve"})
    stack.settle()
    stack.send(iid, "archive", "a")
    stack.settle()
    inst = stack.instance(iid)
    assert inst.state == "archived"
    assert inst.closed_at is not None
    with stack.runtime.db.transaction() as s:
        kinds = s.execute(select(History.outcome).where(History.instance_id == iid)).scalars().all()
    assert kinds == ["applied", "applied", "applied"]
