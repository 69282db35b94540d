"""What follows a transition's write in its transaction, for every transition of a batch at once.

- the outbox messages it emitted are queued to be sent after commit;
- the instances it starts (``Engine.inline_starts``) are inserted, all of a flow in one statement, and
  their triggers fired and written in one more (their own fan-out follows, recursively); an emit whose
  business key exists already goes out as a message instead, so no transaction waits for a row lock it
  did not take first;
- its local side effects (``Engine.local_effects``: a push through the in-process channel) run, one call
  per effect actor with every push of the batch;
- a message's companion (``Engine.message_companions``: a webhook push's delivery row) is written.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from state_machines.base import Emit, Flow
from workflows.engine.commands import Cause, Command
from workflows.engine.deadlines import DeadlineSource
from workflows.engine.rows import emit_row, start_history, start_values, timer_rows
from workflows.messaging.outbox import pending
from workflows.store.bulk import insert_rows
from workflows.store.sql import OUTBOX_TABLE, Locked
from workflows.store.write import Writes, write_batch, write_starts

if TYPE_CHECKING:
    from workflows.engine.core import Engine, Outcome, Planned


def finish(
    engine: Engine,
    session: Session,
    rules: DeadlineSource,
    flow: Flow,
    done: list[tuple[int, Planned]],
    now: datetime,
) -> list[Outcome]:
    """Everything that follows the write of ``done`` (instance id, planned transition) pairs."""
    from workflows.engine.core import Outcome

    messages = [message for _, planned in done for message in planned.messages]
    pending(session).extend(messages)
    children = [(iid, emit) for iid, planned in done for emit in planned.children]
    if children:
        start_children(engine, session, rules, flow.name, children, now)
    local: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for iid, planned in done:
        for emit in planned.local:
            body = {"instance_id": iid, "flow": flow.name, "payload": dict(emit.payload)}
            local.setdefault(emit.target, []).append((body, str(uuid.uuid4())))
    for target, pushes in local.items():
        engine.local_effects[target](session, pushes)
    for message in messages:
        companion = engine.message_companions.get(message.actor)
        if companion is not None:
            companion(session, message.message, message.id)
    return [
        Outcome("applied", iid, planned.dest, outbox=[m.id for m in planned.messages])
        for iid, planned in done
    ]


def start_children(
    engine: Engine,
    session: Session,
    rules: DeadlineSource,
    parent: str,
    emits: list[tuple[int, Emit]],
    now: datetime,
) -> None:
    """Start the instances ``emits`` (parent id, emit) name and fire their triggers."""
    by_flow: dict[str, list[tuple[int, Emit]]] = {}
    for parent_id, emit in emits:
        by_flow.setdefault(emit.target, []).append((parent_id, emit))
    for target, group in by_flow.items():
        _start_flow(engine, session, rules, parent, engine._flow(target), group, now)


def _start_flow(
    engine: Engine,
    session: Session,
    rules: DeadlineSource,
    parent: str,
    flow: Flow,
    group: list[tuple[int, Emit]],
    now: datetime,
) -> None:
    conn = session.connection()
    fresh: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for parent_id, emit in group:
        assert emit.business_key is not None
        if emit.business_key not in fresh:
            cause = Cause(kind="message", id=f"{parent}#{parent_id}")
            fresh[emit.business_key] = (
                start_values(flow, emit.business_key, emit.subject, {}, rules, now),
                start_history(flow, cause, now),
            )
    timers = timer_rows(engine.calendar, rules, flow, flow.initial, now)
    started = write_starts(conn, engine.db.dialect, list(fresh.values()), timers)
    writes: list[Writes] = []
    rejected: list[dict[str, Any]] = []
    done: list[tuple[int, Planned]] = []
    messages = []
    for parent_id, emit in group:
        # popped: a second emit of a key started here goes out as a message, like an existing one
        child = started.pop(emit.business_key or "", None)
        if child is None:  # not ours to lock here: its own transaction, through the outbox
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
        locked = Locked(child, flow.initial, {}, 1, False)
        decided = engine._decide(rules, flow, locked, command, now, refusal=logging.WARNING)
        if isinstance(decided, dict):  # rejected: only its history row
            rejected.append(decided)
            continue
        writes.append(decided.writes)
        done.append((child, decided))
    insert_rows(conn, OUTBOX_TABLE, [values for values, _ in messages])
    pending(session).extend(message for _, message in messages)
    write_batch(conn, engine.db.dialect, writes, rejected, None, now)
    finish(engine, session, rules, flow, done, now)
