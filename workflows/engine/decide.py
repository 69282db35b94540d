"""The engine's decision, pure: fire a command's trigger on an instance's stored state, and say what
the transition writes and what follows it — or why it was rejected. No database, no clock.

``decide`` is what every path applies (one command, a batch, the instances a transition starts):
``Applied`` carries the planned writes (history row, the instance's move, timers cancelled and armed,
outbox rows), the instances to start in the same transaction, the local side effects and the messages
to send after commit; ``Rejected`` carries the rejected attempt's history row and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from state_machines.base import Effect, Emit
from workflows.engine.commands import Command
from workflows.engine.deadlines import DeadlineSource
from workflows.engine.machines import Fired, FlowMachine
from workflows.engine.rows import emit_row, history_row, timer_rows
from workflows.store.rows import HistoryRow, LockedRow, Move, Pending, Transition
from workflows.time.calendar import WorkCalendar


@dataclass(frozen=True, slots=True)
class Routing:
    """Where a transition's emits go besides the outbox: ``inline`` — flows whose new instances are
    started and fired inside the emitting transaction (an emit with ``start`` and a business key);
    ``local`` — side-effect actors whose work is done inside it (a push through the log channel)."""

    inline: frozenset[str] = frozenset()
    local: frozenset[str] = frozenset()

    def starts_inline(self, emit: Emit) -> bool:
        return emit.start and emit.business_key is not None and emit.target in self.inline


@dataclass(frozen=True, slots=True)
class Applied:
    """An applied trigger before it is written: its writes, and the work that follows them."""

    writes: Transition
    children: list[Emit] = field(default_factory=list)  # started and fired in this transaction
    local: list[Emit] = field(default_factory=list)  # side effects done in this transaction
    messages: list[Pending] = field(default_factory=list)  # the outbox rows, to send after commit
    #: timers of the state this (internal) transition suspends and resumes (``engine/suspend.py``)
    suspends: tuple[str, ...] = ()
    resumes: tuple[str, ...] = ()

    @property
    def dest(self) -> str:
        return self.writes.move.dest


@dataclass(frozen=True, slots=True)
class Rejected:
    """A refused trigger: only its history row is written."""

    history: HistoryRow
    reason: str


def decide(
    machine: FlowMachine,
    row: LockedRow,
    command: Command,
    rules: DeadlineSource,
    calendar: WorkCalendar,
    now: datetime,
    routing: Routing,
) -> Applied | Rejected:
    """Fire ``command``'s trigger on ``row`` (locked, in its stored state) with the rules in force."""
    flow = machine.flow
    decision = machine.fire(row.state, command.trigger, row.context, command.payload, now)
    if not isinstance(decision, Fired):
        history = history_row(
            row.id, command, row.state, None, "rejected", now, decision.reason, rules.version
        )
        return Rejected(history, decision.reason)
    fn = decision.transition.effect
    effect = fn(row.context, command.payload, now) if fn else Effect()
    internal = decision.transition.dest is None
    final = not internal and flow.state(decision.dest).final
    children = [e for e in effect.emits if routing.starts_inline(e)]
    local = [e for e in effect.emits if e.target in routing.local]
    outbox = [
        emit_row(row.id, flow.name, e, now) for e in effect.emits if e not in children and e not in local
    ]
    move = Move(
        iid=row.id,
        dest=decision.dest,
        ver=row.version + 1,
        ctx={**row.context, **effect.context} if effect.context else row.context,
        closed=now if final else None,
        reopen=not internal and not final and flow.state(row.state).final,
        # leaving a state cancels its timers; entering one arms its own
        cancel=not internal and bool(flow.state(row.state).timers),
    )
    writes = Transition(
        history=history_row(row.id, command, row.state, decision.dest, "applied", now, None, rules.version),
        move=move,
        timers=[] if internal or final else timer_rows(calendar, rules, flow, decision.dest, now),
        outbox=[values for values, _ in outbox],
    )
    messages = [message for _, message in outbox]
    t = decision.transition
    return Applied(writes, children, local, messages, t.suspends, t.resumes)
