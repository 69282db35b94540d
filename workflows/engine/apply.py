"""The one apply path: commands of one flow applied in ONE transaction — lock, dedupe read, stale-timer
check, ``decide``, one write — and what follows the write (messages, inline starts, local effects).

A single command is a batch of one. Each command gets exactly the outcome it would get alone:

- the instances the commands start are inserted first, in one statement; a command on an instance
  this transaction inserted skips the lock and the dedupe read (nobody else sees the row, nothing was
  applied to it yet);
- the other instances are locked together, in id order, so two batches do not deadlock over the rows
  they lock (over a business key both insert, PostgreSQL may still find a deadlock: the loser's
  transaction fails as a transient error and is retried);
- the dedupe read follows the lock as its own statement (it must see what the lock waited for);
- two commands naming one instance run in successive *rounds*, the later one seeing the earlier one's
  write, so a batch applies its commands in order;
- a command that fails its guard is recorded as rejected, a redelivered one is a duplicate, a timer
  that is no longer current is stale;
- anything else (an unknown instance, a bug in a flow's effect) fails the whole batch and writes
  nothing; the actor then re-sends it as single messages, so the bad command fails alone
  (``Runtime.split``).

An emit that starts an instance of a flow of this engine (``Routing.inline``) is started and fired in
the emitting transaction, through the same start, ``decide`` and write; one whose business key exists
already goes out as a message instead, so no transaction waits for a row lock it did not take first.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from state_machines.base import Emit, Flow
from workflows.engine import suspend as clocks
from workflows.engine.commands import Cause, Command
from workflows.engine.deadlines import DeadlineSource
from workflows.engine.decide import Applied, Rejected, Routing, decide
from workflows.engine.machines import MachineCache
from workflows.engine.rows import emit_row, new_instance, timer_rows
from workflows.errors import InstanceNotFound, UnknownFlow
from workflows.store.dialect import Statements
from workflows.store.rows import HistoryRow, LockedRow, NewInstance, Transition, pending, stamped
from workflows.store.sql import OUTBOX_TABLE

log = logging.getLogger("yunshang.engine")

#: side effects done in the emitting transaction: (session, [(body, effect id), …]) → None
LocalEffect = Callable[[Session, list[tuple[dict[str, Any], str]]], None]
#: work done in the emitting transaction beside a message: (session, body, message id) → None
Companion = Callable[[Session, dict[str, Any], str], None]

Status = Literal["applied", "rejected", "duplicate", "stale_timer", "started", "existing"]


@dataclass
class Outcome:
    status: Status
    instance_id: int
    state: str
    reason: str | None = None
    outbox: list[str] = field(default_factory=list)


class Applier:
    """Applies commands and starts instances with the statements of one database."""

    def __init__(
        self,
        statements: Statements,
        flows: Mapping[str, Flow],
        routing: Routing,
        local_effects: Mapping[str, LocalEffect],
        companions: Mapping[str, Companion],
    ) -> None:
        self.statements = statements
        self.flows = flows
        self.machines = MachineCache(dict(flows))
        self.routing = routing
        self.local_effects = local_effects
        self.companions = companions

    def flow(self, name: str) -> Flow:
        flow = self.flows.get(name)
        if flow is None:
            raise UnknownFlow(name, list(self.flows))
        return flow

    def start(
        self, conn: Connection, flow: Flow, rules: DeadlineSource, starts: list[NewInstance], now: datetime
    ) -> dict[str, int]:
        """Insert ``starts`` (of ``flow``, distinct keys) unless their key exists: new ids by key."""
        if not starts:
            return {}
        timers = timer_rows(rules.calendar, rules, flow, flow.initial, now)
        return self.statements.start(conn, starts, timers)

    def apply(
        self,
        session: Session,
        flow: Flow,
        rules: DeadlineSource,
        commands: Sequence[Command],
        outbox_ids: Sequence[str],
        now: datetime,
    ) -> list[Outcome]:
        """Apply ``commands`` (all of ``flow``) in order; mark the consumed messages ``outbox_ids`` done."""
        starts: dict[str, NewInstance] = {}
        for c in commands:  # starts first, in one statement
            key, spec = c.business_key, c.start
            if spec is not None and key is not None and key not in starts:
                starts[key] = new_instance(flow, key, spec.subject, spec.context, c.cause, rules, now)
        started = self.start(session.connection(), flow, rules, list(starts.values()), now)
        fresh = {k: LockedRow(iid, flow.initial, starts[k].context, 1, k) for k, iid in started.items()}
        outcomes: list[Outcome | None] = [None] * len(commands)
        todo = list(range(len(commands)))
        done = outbox_ids
        while todo:
            todo = self._round(session, flow, rules, commands, todo, outcomes, fresh, done, now)
            fresh, done = {}, ()  # changed by the first round's write; the messages marked done by it
        return [outcome for outcome in outcomes if outcome is not None]

    def _round(
        self,
        session: Session,
        flow: Flow,
        rules: DeadlineSource,
        commands: Sequence[Command],
        todo: list[int],
        outcomes: list[Outcome | None],
        fresh: dict[str, LockedRow],
        done: Sequence[str],
        now: datetime,
    ) -> list[int]:
        """Apply the first command of each instance among ``todo``; return the rest for the next round."""
        conn = session.connection()
        chosen, deferred = self._locked(conn, flow, commands, todo, fresh)
        seen = self.statements.seen(
            conn, [(row.id, commands[i].dedupe_key) for i, row in chosen if row.business_key not in fresh]
        )
        timer_ids = [int(c.cause.id or 0) for i, _ in chosen if (c := commands[i]).cause.kind == "timer"]
        timers = self.statements.timers(conn, timer_ids)
        go: list[tuple[int, LockedRow]] = []
        for i, row in chosen:
            command = commands[i]
            if (row.id, command.dedupe_key) in seen:
                outcomes[i] = Outcome("duplicate", row.id, row.state)
            elif command.cause.kind == "timer" and not (
                (timer := timers.get(int(command.cause.id or 0))) and timer.current(row.state)
            ):
                outcomes[i] = Outcome("stale_timer", row.id, row.state)
            else:
                go.append((i, row))
        settled = self._settle(session, flow, rules, [(row, commands[i]) for i, row in go], done, now)
        for (i, _), outcome in zip(go, settled, strict=True):
            outcomes[i] = outcome
        return deferred

    def _locked(
        self,
        conn: Connection,
        flow: Flow,
        commands: Sequence[Command],
        todo: list[int],
        fresh: dict[str, LockedRow],
    ) -> tuple[list[tuple[int, LockedRow]], list[int]]:
        """Lock the instances ``todo`` names (but the ``fresh`` ones); pair each instance with its
        first command, defer the rest."""
        ids = sorted({c.instance_id for i in todo if (c := commands[i]).instance_id is not None})
        keys = sorted(
            {
                c.business_key
                for i in todo
                if (c := commands[i]).instance_id is None and c.business_key and c.business_key not in fresh
            }
        )
        rows = self.statements.lock(conn, flow.name, ids, keys) if ids or keys else []
        by_id = {row.id: row for row in rows}
        by_key = {row.business_key: row for row in rows} | fresh
        chosen: list[tuple[int, LockedRow]] = []
        deferred: list[int] = []
        taken: set[int] = set()
        for i in todo:
            command = commands[i]
            if command.instance_id is not None:
                row, key = by_id.get(command.instance_id), f"id {command.instance_id}"
            else:
                row, key = by_key.get(command.business_key), f"business key {command.business_key!r}"
            if row is None:
                raise InstanceNotFound(f"no {flow.name} instance with {key}")
            if row.id in taken:
                deferred.append(i)
            else:
                taken.add(row.id)
                chosen.append((i, row))
        return chosen, deferred

    def _settle(
        self,
        session: Session,
        flow: Flow,
        rules: DeadlineSource,
        pairs: list[tuple[LockedRow, Command]],
        done: Sequence[str],
        now: datetime,
        refusal: int = logging.INFO,
    ) -> list[Outcome]:
        """Decide each (locked row, command) — distinct instances — write them all in one go and do
        what follows; a refusal is logged at ``refusal``."""
        machine = self.machines.get(flow.name)
        applied: list[Applied] = []
        rejected: list[HistoryRow] = []
        outcomes: list[Outcome] = []
        for row, command in pairs:
            match decide(machine, row, command, rules, rules.calendar, now, self.routing):
                case Rejected(history, reason):
                    log.log(refusal, "rejected %s #%s %s: %s", flow.name, row.id, command.trigger, reason)
                    rejected.append(history)
                    outcomes.append(Outcome("rejected", row.id, row.state, reason))
                case Applied() as planned:
                    applied.append(planned)
                    outbox = [m.id for m in planned.messages]
                    outcomes.append(Outcome("applied", row.id, planned.dest, outbox=outbox))
        writes = [_stamped(session, a.writes) for a in applied]
        self.statements.write(session.connection(), writes, rejected, done, now)
        clocks.declared(session.connection(), flow.name, applied, rules, now)
        self._finish(session, rules, flow, applied, now)
        return outcomes

    def _finish(
        self, session: Session, rules: DeadlineSource, flow: Flow, applied: list[Applied], now: datetime
    ) -> None:
        """What follows the write: messages queued for after commit, inline starts, local effects,
        message companions."""
        messages = [message for planned in applied for message in planned.messages]
        pending(session).extend(messages)
        children = [(planned.writes.move.iid, emit) for planned in applied for emit in planned.children]
        if children:
            self._start_children(session, rules, flow.name, children, now)
        local: dict[str, list[tuple[dict[str, Any], str]]] = {}
        for planned in applied:
            for emit in planned.local:
                body = {
                    "instance_id": planned.writes.move.iid,
                    "flow": flow.name,
                    "payload": dict(emit.payload),
                }
                local.setdefault(emit.target, []).append((body, str(uuid.uuid4())))
        for target, pushes in local.items():
            self.local_effects[target](session, pushes)
        for message in messages:
            companion = self.companions.get(message.actor)
            if companion is not None:
                companion(session, message.message, message.id)

    def _start_children(
        self,
        session: Session,
        rules: DeadlineSource,
        parent: str,
        emits: list[tuple[int, Emit]],
        now: datetime,
    ) -> None:
        """Start the instances ``emits`` (parent id, emit) name and fire their triggers; an emit whose
        instance exists (or was started by an earlier emit here) goes out as a message."""
        by_flow: dict[str, list[tuple[int, Emit]]] = {}
        for parent_id, emit in emits:
            by_flow.setdefault(emit.target, []).append((parent_id, emit))
        conn = session.connection()
        for target, group in by_flow.items():
            flow = self.flow(target)
            fresh: dict[str, NewInstance] = {}
            for parent_id, emit in group:
                key = emit.business_key or ""
                if key not in fresh:
                    cause = Cause(kind="message", id=f"{parent}#{parent_id}")
                    fresh[key] = new_instance(flow, key, emit.subject, {}, cause, rules, now)
            started = self.start(conn, flow, rules, list(fresh.values()), now)
            pairs: list[tuple[LockedRow, Command]] = []
            messages = []
            for parent_id, emit in group:
                child = started.pop(emit.business_key or "", None)  # popped: a second emit is a message
                if child is None:
                    messages.append(emit_row(parent_id, parent, emit, now))
                    continue
                command = Command(
                    flow=flow.name,
                    trigger=emit.trigger,
                    instance_id=child,
                    payload=dict(emit.payload),
                    cause=Cause(kind="message", id=f"{parent}#{parent_id}"),
                    dedupe_key=f"inline:{uuid.uuid4()}",
                )
                pairs.append((LockedRow(child, flow.initial, {}, 1, emit.business_key), command))
            if messages:
                rows = stamped(session, [row for row, _ in messages])
                self.statements.insert_rows(conn, OUTBOX_TABLE, [row.values() for row in rows])
                pending(session).extend(message for _, message in messages)
            self._settle(session, flow, rules, pairs, (), now, logging.WARNING)


def _stamped(session: Session, writes: Transition) -> Transition:
    """``writes`` with its outbox rows as this transaction writes them (``store.rows.stamped``)."""
    return replace(writes, outbox=stamped(session, writes.outbox)) if writes.outbox else writes
