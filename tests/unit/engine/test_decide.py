"""``decide``, pure: no database, no clock — a locked row and a command in, the planned writes or the
rejection out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from state_machines.base import Effect, Emit, Flow, State, Timer, Trigger, transition
from state_machines.toy import FLOW as TOY
from workflows.engine.commands import Cause, Command
from workflows.engine.deadlines import StaticDeadlines
from workflows.engine.decide import Applied, Rejected, Routing, decide
from workflows.engine.machines import FlowMachine
from workflows.store.models import TimerStatus
from workflows.store.rows import LockedRow
from workflows.time.calendar import WorkCalendar

NOW = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)
RULES = StaticDeadlines({"toy.awaiting_review.review_deadline": "2h"}, version="v7")
CALENDAR = WorkCalendar()


def _command(trigger: str, payload: dict[str, object] | None = None, flow: str = "toy") -> Command:
    return Command(
        flow=flow,
        trigger=trigger,
        instance_id=7,
        payload=payload or {},
        cause=Cause(kind="event", id="e-1"),
        dedupe_key="event:e-1",
    )


def _row(state: str, context: dict[str, object] | None = None) -> LockedRow:
    return LockedRow(7, state, context or {}, 3, "k-7")


def test_applied_plans_its_writes() -> None:
    decided = decide(
        FlowMachine(TOY), _row("awaiting_review"), _command("decide", {"decision": "approve"}),
        RULES, CALENDAR, NOW, Routing(),
    )  # fmt: skip
    assert isinstance(decided, Applied)
    writes = decided.writes
    assert decided.dest == "decided"
    assert (writes.move.iid, writes.move.dest, writes.move.ver) == (7, "decided", 4)
    assert writes.move.ctx == {"decision": "approve"} and writes.move.closed is None
    assert writes.move.cancel  # awaiting_review's timer is cancelled on leaving it
    assert writes.timers == [] and writes.outbox == []
    history = writes.history
    assert (history.instance_id, history.from_state, history.to_state) == (7, "awaiting_review", "decided")
    assert (history.outcome, history.dedupe_key, history.at) == ("applied", "event:e-1", NOW)
    assert history.values()["payload"] == {"decision": "approve"}


def test_entering_a_state_arms_its_timers_and_a_final_state_closes() -> None:
    flow = Flow(
        name="loop",
        version=1,
        initial="a",
        states=(State("a"), State("b", timers=(Timer("t", "expire"),)), State("z", final=True)),
        triggers=(Trigger("go"), Trigger("expire"), Trigger("end")),
        transitions=(transition("go", "a", "b"), transition("expire", "b", "a"), transition("end", "a", "z")),
    )
    rules = StaticDeadlines({"loop.b.t": "3h"})
    decided = decide(
        FlowMachine(flow), _row("a"), _command("go", flow="loop"), rules, CALENDAR, NOW, Routing()
    )
    assert isinstance(decided, Applied)
    [timer] = decided.writes.timers
    assert (timer.name, timer.trigger, timer.state) == ("t", "expire", "b")
    assert timer.due_at == NOW + timedelta(hours=3) and timer.status == TimerStatus.ARMED
    assert timer.values(7)["instance_id"] == 7 and not decided.writes.move.cancel
    ended = decide(
        FlowMachine(flow), _row("a"), _command("end", flow="loop"), rules, CALENDAR, NOW, Routing()
    )
    assert isinstance(ended, Applied)
    assert ended.writes.move.closed == NOW and ended.writes.timers == []


def test_rejected_carries_its_history_row_and_the_reason() -> None:
    decided = decide(
        FlowMachine(TOY), _row("awaiting_review"), _command("archive"), RULES, CALENDAR, NOW, Routing()
    )
    assert isinstance(decided, Rejected)
    assert "not allowed in state 'awaiting_review'" in decided.reason
    assert decided.history.outcome == "rejected" and decided.history.reason == decided.reason
    assert (decided.history.from_state, decided.history.to_state) == ("awaiting_review", None)
    guarded = decide(FlowMachine(TOY), _row("decided"), _command("archive"), RULES, CALENDAR, NOW, Routing())
    assert isinstance(guarded, Rejected) and "nothing was decided yet" in guarded.reason


def test_an_internal_transition_arms_and_cancels_nothing() -> None:
    decided = decide(
        FlowMachine(TOY), _row("awaiting_review", {"notes": ["a"]}), _command("note", {"text": "b"}),
        RULES, CALENDAR, NOW, Routing(),
    )  # fmt: skip
    assert isinstance(decided, Applied)
    assert decided.dest == "awaiting_review"
    assert decided.writes.timers == [] and not decided.writes.move.cancel
    assert decided.writes.move.ctx == {"notes": ["a", "b"]}


def test_emits_are_routed_inline_local_or_to_the_outbox() -> None:
    def effect(ctx: object, payload: object, now: datetime) -> Effect:
        return Effect(
            emits=(
                Emit(target="child", trigger="go", business_key="c-1", start=True),
                Emit(target="log.notify"),
                Emit(target="other", trigger="go", business_key="o-1"),
            )
        )

    flow = Flow(
        name="parent",
        version=1,
        initial="a",
        states=(State("a"), State("b")),
        triggers=(Trigger("go"),),
        transitions=(transition("go", "a", "b", effect=effect),),
    )
    routing = Routing(inline=frozenset({"child"}), local=frozenset({"log.notify"}))
    decided = decide(
        FlowMachine(flow), _row("a"), _command("go", flow="parent"), RULES, CALENDAR, NOW, routing
    )
    assert isinstance(decided, Applied)
    assert [e.target for e in decided.children] == ["child"]
    assert [e.target for e in decided.local] == ["log.notify"]
    [message] = decided.messages
    [row] = decided.writes.outbox
    assert (message.actor, row.id, row.created_at) == ("other.advance", message.id, NOW)
    assert message.message["business_key"] == "o-1"
