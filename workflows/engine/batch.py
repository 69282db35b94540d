"""Applying a batch of commands of one flow in ONE transaction: one lock, one dedupe read, one write.

A message that carries many commands (``Engine.enqueue_many``; the ``<flow>.advance_many`` actor) costs
one broker message, one transaction and — on PostgreSQL — four round trips for the whole batch,
instead of all of that per command. Each command gets exactly the outcome it would get alone:

- the instances are locked together, in id order, so two batches do not deadlock over the rows they
  lock (over a business key both insert, PostgreSQL may still find a deadlock: the loser's transaction
  fails as a transient error and is retried);
- the dedupe read follows the lock as its own statement (it must see what the lock waited for);
- two commands naming one instance run in successive *rounds*, the later one seeing the earlier one's
  write, so a batch applies its commands in order;
- a command that fails its guard is recorded as rejected, a redelivered one is a duplicate, a timer
  that is no longer current is stale — as in ``Engine.apply``;
- anything else that goes wrong (an unknown instance, a bug in a flow's effect) fails the whole batch,
  and nothing of it is written; the actor then splits the batch into single messages, so the one bad
  command fails alone and the others are applied (``Runtime.split``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from state_machines.base import Flow
from workflows.engine.commands import Command
from workflows.engine.deadlines import DeadlineSource
from workflows.engine.fanout import finish
from workflows.engine.rows import start_history, start_values, timer_current, timer_rows
from workflows.errors import InstanceNotFound
from workflows.store.sql import HISTORY_TABLE, INSTANCES, LOCK_COLUMNS, TIMERS_TABLE, Locked
from workflows.store.write import Writes, write_batch, write_starts

if TYPE_CHECKING:
    from workflows.engine.core import Engine, Outcome, Planned


_LOCK = (
    select(*LOCK_COLUMNS, INSTANCES.c.business_key)
    .where(
        INSTANCES.c.flow == bindparam("flow"),
        or_(
            INSTANCES.c.id.in_(bindparam("ids", expanding=True)),
            INSTANCES.c.business_key.in_(bindparam("keys", expanding=True)),
        ),
    )
    .order_by(INSTANCES.c.id)
)
_LOCK_PG = _LOCK.with_for_update(of=INSTANCES)
_SEEN = select(HISTORY_TABLE.c.instance_id, HISTORY_TABLE.c.dedupe_key).where(
    HISTORY_TABLE.c.instance_id.in_(bindparam("ids", expanding=True)),
    HISTORY_TABLE.c.dedupe_key.in_(bindparam("dkeys", expanding=True)),
)
_TIMERS = select(TIMERS_TABLE.c.id, TIMERS_TABLE.c.status, TIMERS_TABLE.c.state).where(
    TIMERS_TABLE.c.id.in_(bindparam("tids", expanding=True))
)


def apply_batch(
    engine: Engine, session: Session, commands: Sequence[Command], outbox_id: str | None
) -> list[Outcome]:
    """Apply ``commands`` (all of one flow) in order inside the caller's transaction."""
    if not commands:
        return []
    names = {c.flow for c in commands}
    if len(names) != 1:
        raise ValueError(f"a batch is of one flow, got {sorted(names)}")
    flow = engine._flow(names.pop())
    rules = engine.deadlines
    now = engine.clock.now()
    starts: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for command in commands:  # starts first, in one statement: the lock below then finds them all
        key, spec = command.business_key, command.start
        if spec is not None and key is not None and key not in starts:
            starts[key] = (
                start_values(flow, key, spec.subject, spec.context, rules, now),
                start_history(flow, command.cause, now),
            )
    if starts:
        timers = timer_rows(engine.calendar, rules, flow, flow.initial, now)
        write_starts(session.connection(), engine.db.dialect, list(starts.values()), timers)
    outcomes: list[Outcome | None] = [None] * len(commands)
    todo = list(range(len(commands)))
    done = outbox_id
    while todo:
        todo = _round(engine, session, flow, rules, commands, todo, outcomes, done, now)
        done = None  # marked by the first round's write
    return [outcome for outcome in outcomes if outcome is not None]


def _round(
    engine: Engine,
    session: Session,
    flow: Flow,
    rules: DeadlineSource,
    commands: Sequence[Command],
    todo: list[int],
    outcomes: list[Outcome | None],
    outbox_id: str | None,
    now: datetime,
) -> list[int]:
    """Apply the first command of each instance among ``todo``; return the rest for the next round."""
    from workflows.engine.core import Outcome

    conn = session.connection()
    chosen, deferred = _locked(engine, session, flow, commands, todo)
    seen = {
        (found.instance_id, found.dedupe_key)
        for found in conn.execute(
            _SEEN,
            {"ids": [row.id for _, row in chosen], "dkeys": [commands[i].dedupe_key for i, _ in chosen]},
        )
    }
    timer_ids = [int(commands[i].cause.id or 0) for i, _ in chosen if commands[i].cause.kind == "timer"]
    timers = {t.id: t for t in conn.execute(_TIMERS, {"tids": timer_ids})} if timer_ids else {}
    writes: list[Writes] = []
    rejected: list[dict[str, Any]] = []
    applied: list[tuple[int, int, Planned]] = []
    for i, row in chosen:
        command = commands[i]
        if (row.id, command.dedupe_key) in seen:
            outcomes[i] = Outcome("duplicate", row.id, row.state)
            continue
        if command.cause.kind == "timer":
            if not timer_current(timers.get(int(command.cause.id or 0)), row.state):
                outcomes[i] = Outcome("stale_timer", row.id, row.state)
                continue
        locked = Locked(row.id, row.state, row.context, row.version, False)
        decided = engine._decide(rules, flow, locked, command, now)
        if isinstance(decided, dict):  # rejected: only its history row
            rejected.append(decided)
            outcomes[i] = Outcome("rejected", row.id, row.state, decided["reason"])
            continue
        writes.append(decided.writes)
        applied.append((i, row.id, decided))
    write_batch(conn, engine.db.dialect, writes, rejected, outbox_id, now)
    finished = finish(engine, session, rules, flow, [(iid, planned) for _, iid, planned in applied], now)
    for (i, _, _), outcome in zip(applied, finished, strict=True):
        outcomes[i] = outcome
    return deferred


def _locked(
    engine: Engine, session: Session, flow: Flow, commands: Sequence[Command], todo: list[int]
) -> tuple[list[tuple[int, Any]], list[int]]:
    """Lock the instances ``todo`` names; pair each instance with its first command, defer the rest."""
    ids = sorted({c.instance_id for i in todo if (c := commands[i]).instance_id is not None})
    keys = sorted({c.business_key for i in todo if (c := commands[i]).instance_id is None and c.business_key})
    query = _LOCK_PG if engine.db.is_postgres else _LOCK
    rows = session.connection().execute(query, {"flow": flow.name, "ids": ids, "keys": keys}).all()
    by_id = {row.id: row for row in rows}
    by_key = {row.business_key: row for row in rows}
    chosen: list[tuple[int, Any]] = []
    deferred: list[int] = []
    taken: set[int] = set()
    for i in todo:
        command = commands[i]
        if command.instance_id is not None:
            row = by_id.get(command.instance_id)
            key = f"id {command.instance_id}"
        else:
            row = by_key.get(command.business_key)
            key = f"business key {command.business_key!r}"
        if row is None:
            raise InstanceNotFound(f"no {flow.name} instance with {key}")
        if row.id in taken:
            deferred.append(i)
        else:
            taken.add(row.id)
            chosen.append((i, row))
    return chosen, deferred
