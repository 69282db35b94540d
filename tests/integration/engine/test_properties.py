"""Property: whatever the interleaving of duplicate deliveries, crashes between commit and send, late
timers and concurrent triggers, the engine never applies a dedupe key twice, never loses a committed
message, and never leaves an instance in a state its flow lacks or off a valid path."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from state_machines.toy import FLOW
from tests.support import Stack
from workflows.engine.commands import Cause
from workflows.store.models import History, Outbox, TimerRow

PAYLOADS: dict[str, dict[str, Any]] = {
    "decide": {"decision": "approve"},
    "note": {"text": "n"},
    "archive": {},
    "review_deadline_passed": {},
}
trigger = st.sampled_from(sorted(PAYLOADS))
key = st.integers(min_value=0, max_value=5)
op = st.one_of(
    st.tuples(st.just("deliver"), trigger, key),
    st.tuples(st.just("crash"), trigger, key),
    st.tuples(st.just("resend")),
    st.tuples(st.just("advance"), st.integers(min_value=1, max_value=3)),
    st.tuples(st.just("late_timer")),
    st.tuples(st.just("concurrent"), st.lists(st.tuples(trigger, key), min_size=2, max_size=4)),
    # one message of several commands (applied in one transaction, in rounds: one instance here)
    st.tuples(st.just("batch"), st.lists(st.tuples(trigger, key), min_size=1, max_size=4)),
    st.tuples(
        st.just("concurrent_batches"),
        st.lists(st.lists(st.tuples(trigger, key), min_size=1, max_size=3), min_size=2, max_size=3),
    ),
)
counter = itertools.count()


def run(stack: Stack, ops: list[tuple[Any, ...]]) -> int:
    rt = stack.runtime
    engine = rt.engine
    iid = stack.start_toy(f"prop-{next(counter)}")

    def command(trig: str, k: int) -> Any:
        return engine.command(
            "toy",
            trig,
            cause=Cause(kind="event", id=f"k{k}"),
            dedupe_key=f"{iid}:k{k}",
            payload=PAYLOADS[trig],
            instance_id=iid,
        )

    for step in ops:
        kind = step[0]
        if kind == "deliver":
            with rt.transaction() as session:
                engine.enqueue(session, command(step[1], step[2]))
        elif kind == "crash":  # committed, never sent by this process
            with rt.db.transaction() as session:
                engine.enqueue(session, command(step[1], step[2]))
        elif kind == "resend":
            rt.recovery.resend()
        elif kind == "advance":
            stack.advance(step[1])
            rt.sweeper.sweep()
        elif kind == "late_timer":
            for timer in stack.timers(iid):
                rt.execute(
                    engine.command(
                        "toy",
                        timer.trigger,
                        cause=Cause(kind="timer", id=str(timer.id)),
                        dedupe_key=f"timer:{timer.id}",
                        instance_id=iid,
                    )
                )
        elif kind == "batch":
            with rt.transaction() as session:
                engine.enqueue_many(session, [command(t, k) for t, k in step[1]], batch=3)
        elif kind == "concurrent_batches":
            _together(rt.execute_many, [[command(t, k) for t, k in group] for group in step[1]])
        elif kind == "concurrent":
            _together(rt.execute, [command(t, k) for t, k in step[1]])
    rt.recovery.resend()
    stack.settle()
    return iid


def _together(target: Any, arguments: list[Any]) -> None:
    """Call ``target`` once per argument, all at the same time, each in a thread of its own."""
    threads = [threading.Thread(target=target, args=(argument,)) for argument in arguments]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def check_invariants(stack: Stack, iid: int) -> None:
    with stack.runtime.db.transaction() as s:
        repeated = s.execute(
            select(History.dedupe_key)
            .where(History.instance_id == iid)
            .group_by(History.dedupe_key)
            .having(func.count() > 1)
        ).all()
        undone = s.execute(
            select(func.count()).select_from(Outbox).where(Outbox.done_at.is_(None))
        ).scalar_one()
        armed = (
            s.execute(select(TimerRow).where(TimerRow.instance_id == iid, TimerRow.status == "armed"))
            .scalars()
            .all()
        )
    assert repeated == []
    assert undone == 0
    instance = stack.instance(iid)
    assert instance.state in FLOW.state_names
    path = [h for h in stack.history(iid) if h.outcome == "applied"]
    assert path[0].trigger == "start"
    for before, after in itertools.pairwise(path):
        assert after.from_state == before.to_state
    assert path[-1].to_state == instance.state
    assert instance.version == len(path)
    if instance.state == "awaiting_review":
        assert [t.state for t in armed] == ["awaiting_review"]
    else:
        assert armed == []


# Dramatiq's worker threads use the global ``random`` while Hypothesis generates examples.
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module:hypothesis.errors.HypothesisDeprecationWarning"
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=1, max_size=12))
def test_interleavings_keep_the_invariants(stack: Stack, ops: list[tuple[Any, ...]]) -> None:
    iid = run(stack, ops)
    check_invariants(stack, iid)
