"""Applying a trigger: lock, restore, fire, persist — in one database transaction.

Redelivery is a no-op thanks to the unique (instance, dedupe_key) on the history; a trigger that is
not allowed or fails its guard is recorded as a rejected attempt and not retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from state_machines.base import Effect, Emit, Flow
from workflows.engine.batch import apply_batch
from workflows.engine.commands import Cause, Command, StartSpec, validate_payload
from workflows.engine.deadlines import DeadlineSource, RulesInForce
from workflows.engine.fanout import finish
from workflows.engine.machines import Fired, MachineCache
from workflows.engine.rows import (
    emit_row,
    history_values,
    start_history,
    start_values,
    timer_current,
    timer_rows,
)
from workflows.engine.send import Sender
from workflows.errors import InstanceNotFound, UnknownFlow
from workflows.messaging.outbox import Pending
from workflows.store.db import Database
from workflows.store.models import TimerRow
from workflows.store.sql import (
    DONE,
    HISTORY,
    LOCK_BY_ID,
    LOCK_BY_ID_PG,
    LOCK_BY_KEY,
    LOCK_BY_KEY_PG,
    SEEN_AFTER_LOCK,
    Locked,
)
from workflows.store.write import Writes, write_start, write_transition
from workflows.time.calendar import WorkCalendar
from workflows.time.clock import Clock

log = logging.getLogger("yunshang.engine")


#: side effects done in the emitting transaction: (session, [(body, effect id), …]) → None
LocalEffect = Callable[[Session, list[tuple[dict[str, Any], str]]], None]
#: work done in the emitting transaction beside a message: (session, body, message id) → None
Companion = Callable[[Session, dict[str, Any], str], None]

Status = Literal["applied", "rejected", "duplicate", "stale_timer", "started", "existing"]


@dataclass
class Planned:
    """An applied trigger before it is written: its writes, and the work that follows them."""

    dest: str
    writes: Writes
    children: list[Emit]  # started and fired in this transaction
    local: list[Emit]  # side effects done in this transaction
    messages: list[Pending]  # outbox rows (in ``writes``) to send after commit


@dataclass
class Outcome:
    status: Status
    instance_id: int
    state: str
    reason: str | None = None
    outbox: list[str] = field(default_factory=list)


class Engine(Sender):
    """The engine's decisions and their persistence. Stateless apart from its collaborators."""

    def __init__(
        self,
        db: Database,
        flows: Mapping[str, Flow],
        clock: Clock,
        calendar: WorkCalendar,
        rules: RulesInForce,
        *,
        local_effects: Mapping[str, LocalEffect] | None = None,
        companions: Mapping[str, Companion] | None = None,
        inline_starts: bool = True,
    ) -> None:
        self.db = db
        self.flows = dict(flows)
        self.clock = clock
        self.calendar = calendar
        #: the rules in force, swapped whole on a reload; each start/apply reads them once, so no
        #: transition ever sees a mix of two rule sets
        self.rules = rules
        self.machines = MachineCache(self.flows)
        #: side-effect actors whose work is done inside the emitting transaction instead of through a
        #: message (a push through the in-process ``log`` channel): target → handler
        self.local_effects: Mapping[str, LocalEffect] = dict(local_effects or {})
        #: work done in the emitting transaction *beside* a message to a side-effect actor, given the
        #: message's id (a webhook push's delivery row, recorded at once): target → handler
        self.message_companions: Mapping[str, Companion] = dict(companions or {})
        #: an emit that starts a new instance of a flow of this engine is started and fired inside
        #: the emitting transaction (all or nothing, no message); one whose business key exists
        #: already goes out as a message, so that no transaction ever waits for a second row lock
        self.inline_starts = inline_starts

    @property
    def deadlines(self) -> DeadlineSource:
        """The deadlines in force (read once per transaction)."""
        return self.rules.current

    # ----------------------------------------------------------------- edge
    def command(
        self,
        flow: str,
        trigger: str,
        *,
        cause: Cause,
        dedupe_key: str,
        payload: dict[str, Any] | None = None,
        instance_id: int | None = None,
        business_key: str | None = None,
        start: StartSpec | None = None,
    ) -> Command:
        """Build a validated command; raises BadInput (unknown flow/trigger, bad payload, naive time,
        no instance named)."""
        clean = validate_payload(self.flows, flow, trigger, payload or {})
        if instance_id is None and business_key is None:
            from workflows.errors import InvalidCommand

            raise InvalidCommand.no_target(f"{flow}.{trigger}")
        return Command(
            flow=flow,
            trigger=trigger,
            instance_id=instance_id,
            business_key=business_key,
            payload=clean,
            cause=cause,
            dedupe_key=dedupe_key,
            start=start,
        )

    # ----------------------------------------------------------------- start
    def start(
        self,
        session: Session,
        flow_name: str,
        business_key: str,
        *,
        subject: str | None,
        context: dict[str, Any],
        cause: Cause,
        rules: DeadlineSource | None = None,
    ) -> Outcome:
        """Start an instance, or return the existing one with that business key (idempotent)."""
        flow = self._flow(flow_name)
        rules = rules or self.deadlines
        now = self.clock.now()
        values = start_values(flow, business_key, subject, context, rules, now)
        inserted = self._insert_start(session, rules, flow, values, cause, now)
        if inserted is None:
            existing = self._lock(session, flow.name, None, business_key)
            return Outcome("existing", existing.id, existing.state)
        return Outcome("started", inserted, flow.initial)

    def _insert_start(
        self,
        session: Session,
        rules: DeadlineSource,
        flow: Flow,
        values: dict[str, Any],
        cause: Cause,
        now: datetime,
    ) -> int | None:
        """Insert the instance, its start history row and its initial state's timers, unless the
        business key exists (then None, and nothing written)."""
        history = start_history(flow, cause, now)
        timers = timer_rows(self.calendar, rules, flow, flow.initial, now)
        return write_start(session.connection(), self.db.dialect, values, history, timers)

    # ----------------------------------------------------------------- apply
    def apply(self, session: Session, command: Command, outbox_id: str | None = None) -> Outcome:
        """Apply one command inside the caller's transaction (reading the rules once for all of it).

        The hot path runs prebuilt Core statements on the session's connection: lock the instance and
        learn whether the dedupe key was seen, then write everything (``engine_write``) — on PostgreSQL
        in one statement, with the consumed message marked done in it.
        """
        flow = self._flow(command.flow)
        rules = self.deadlines
        now = self.clock.now()
        if outbox_id is not None and not self.db.is_postgres:
            session.connection().execute(DONE, {"oid": outbox_id, "now": now})
            outbox_id = None
        outcome = self._apply(session, flow, rules, command, outbox_id, now)
        if outbox_id is not None and outcome.status != "applied":  # an applied one marked it done
            session.connection().execute(DONE, {"oid": outbox_id, "now": now})
        return outcome

    def apply_many(
        self, session: Session, commands: Sequence[Command], outbox_id: str | None = None
    ) -> list[Outcome]:
        """Apply commands of one flow, in order, inside the caller's transaction, each with the
        outcome it would get from ``apply`` — with one lock, one dedupe read and one write for all of
        them (``engine_batch``). Any other failure fails them all, and nothing is written."""
        return apply_batch(self, session, commands, outbox_id)

    def _apply(
        self,
        session: Session,
        flow: Flow,
        rules: DeadlineSource,
        command: Command,
        outbox_id: str | None,
        now: datetime,
    ) -> Outcome:
        started = None
        if command.start is not None and command.business_key is not None:
            started = self.start(
                session,
                flow.name,
                command.business_key,
                subject=command.start.subject,
                context=command.start.context,
                cause=command.cause,
                rules=rules,
            )
        if started is not None and started.status == "started":
            # inserted by this transaction: nobody else sees the row, and nothing was applied to it
            row = Locked(
                started.instance_id, flow.initial, command.start.context if command.start else {}, 1, False
            )
        else:
            row = self._lock(
                session, flow.name, command.instance_id, command.business_key, command.dedupe_key
            )
        if row.seen:
            return Outcome("duplicate", row.id, row.state)
        if command.cause.kind == "timer" and not self._timer_current(session, command, row.state):
            return Outcome("stale_timer", row.id, row.state)
        decided = self._decide(rules, flow, row, command, now, outbox_id)
        if isinstance(decided, dict):  # rejected: only its history row
            session.connection().execute(HISTORY, decided)
            return Outcome("rejected", row.id, row.state, decided["reason"])
        write_transition(session.connection(), self.db.dialect, decided.writes)
        return finish(self, session, rules, flow, [(row.id, decided)], now)[0]

    def _decide(
        self,
        rules: DeadlineSource,
        flow: Flow,
        row: Locked,
        command: Command,
        now: datetime,
        outbox_id: str | None = None,
        refusal: int = logging.INFO,
    ) -> Planned | dict[str, Any]:
        """Fire the command's trigger on its locked instance: what the transition writes and what
        follows it, or — refused — the rejected attempt's history row (logged at ``refusal``)."""
        decision = self.machines.get(flow.name).fire(
            row.state, command.trigger, row.context, command.payload, now
        )
        if not isinstance(decision, Fired):
            log.log(refusal, "rejected %s #%s %s: %s", flow.name, row.id, command.trigger, decision.reason)
            return history_values(row.id, command, row.state, None, "rejected", now, decision.reason)
        fn = decision.transition.effect
        effect = fn(row.context, command.payload, now) if fn else Effect()
        return self._plan(rules, flow, row, command, decision, effect, now, outbox_id)

    def _plan(
        self,
        rules: DeadlineSource,
        flow: Flow,
        row: Locked,
        command: Command,
        decision: Fired,
        effect: Effect,
        now: datetime,
        outbox_id: str | None,
    ) -> Planned:
        """What an applied trigger writes, and what follows the write in the same transaction."""
        internal = decision.transition.dest is None
        final = not internal and flow.state(decision.dest).final
        children = [e for e in effect.emits if self._inline(e)]
        local = [e for e in effect.emits if e.target in self.local_effects]
        messages = [
            emit_row(row.id, flow.name, e, now) for e in effect.emits if e not in children and e not in local
        ]
        writes = Writes(
            history=history_values(row.id, command, row.state, decision.dest, "applied", now, None),
            move={
                "iid": row.id,
                "dest": decision.dest,
                "ver": row.version + 1,
                "now": now,
                "ctx": {**row.context, **effect.context} if effect.context else row.context,
                "closed": now if final else None,
            },
            # leaving a state cancels its timers; entering one arms its own
            cancel=not internal and bool(flow.state(row.state).timers),
            timers=[] if internal or final else timer_rows(self.calendar, rules, flow, decision.dest, now),
            outbox=[values for values, _ in messages],
            done=outbox_id,
        )
        return Planned(decision.dest, writes, children, local, [message for _, message in messages])

    def _inline(self, emit: Emit) -> bool:
        return (
            self.inline_starts and emit.start and emit.business_key is not None and emit.target in self.flows
        )

    # ----------------------------------------------------------------- pieces
    def _flow(self, name: str) -> Flow:
        flow = self.flows.get(name)
        if flow is None:
            raise UnknownFlow(name, list(self.flows))
        return flow

    def _lock(
        self,
        session: Session,
        flow: str,
        instance_id: int | None,
        business_key: str | None,
        dedupe_key: str = "",
    ) -> Locked:
        """Lock the instance row and read whether ``dedupe_key`` was applied to it.

        SQLite: one statement (``BEGIN IMMEDIATE`` already holds the database). PostgreSQL: ``FOR
        UPDATE``, then the dedupe check as a statement of its own: after waiting for the lock, a single
        statement would still see the history through its snapshot from before the wait.
        """
        if self.db.is_postgres:
            query = LOCK_BY_ID_PG if instance_id is not None else LOCK_BY_KEY_PG
        else:
            query = LOCK_BY_ID if instance_id is not None else LOCK_BY_KEY
        conn = session.connection()
        params = {"flow": flow, "iid": instance_id, "bkey": business_key, "dkey": dedupe_key}
        found = conn.execute(query, params).first()
        if found is None:
            key = f"id {instance_id}" if instance_id is not None else f"business key {business_key!r}"
            raise InstanceNotFound(f"no {flow} instance with {key}")
        if self.db.is_postgres:
            seen = conn.execute(SEEN_AFTER_LOCK, {"iid": found.id, "dkey": dedupe_key}).first() is not None
        else:
            seen = bool(found.seen)
        return Locked(found.id, found.state, found.context, found.version, seen)

    def _timer_current(self, session: Session, command: Command, state: str) -> bool:
        return timer_current(session.get(TimerRow, int(command.cause.id or 0)), state)
