"""PROTOTYPE of a faster ``Engine.apply`` hot path — measured by ``engine_bench --experiment core``.

Not used by the engine: it shows what the suggested patch (bench/README.md, "Bottlenecks") buys.
Compared with ``workflows.engine.Engine.apply`` (as of commit 5f1859e) it

1. turns off ``pool_pre_ping`` on PostgreSQL (one round trip less per transaction; a dead pooled
   connection then fails the message with an OperationalError, which is already retried as transient);
2. locks the instance and checks the dedupe key in ONE statement (``SELECT … , EXISTS(history) …
   FOR UPDATE OF instances``) instead of two;
3. uses prebuilt SQLAlchemy Core statements (no ORM entity load, no unit-of-work flush, no ORM-enabled
   UPDATE with session synchronisation) for the outbox ``done_at``, the lock, the history row and the
   instance update;
4. cancels timers only when the state being left declares timers (a state without timers never has
   armed ones), saving the UPDATE on e.g. ``decided → archived``.

Commands addressed by business key, starting an instance, or caused by a timer take the shipped path.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from bench.noop import declare_noop
from state_machines.base import Effect
from workflows.commands import Command
from workflows.engine import Engine, Outcome
from workflows.machines import Fired
from workflows.models import History, Instance, Outbox, TimerRow, table
from workflows.runtime import Runtime

_inst = table(Instance)
_hist = table(History)
_timer = table(TimerRow)
_out = table(Outbox)

DONE = _out.update().where(_out.c.id == bindparam("oid")).values(done_at=bindparam("now"))
_SEEN = (
    select(_hist.c.id)
    .where(_hist.c.instance_id == _inst.c.id, _hist.c.dedupe_key == bindparam("key"))
    .exists()
    .label("seen")
)
_LOCK = select(_inst.c.id, _inst.c.flow, _inst.c.state, _inst.c.context, _inst.c.version, _SEEN).where(
    _inst.c.id == bindparam("iid"), _inst.c.flow == bindparam("flow")
)
LOCK_PG = _LOCK.with_for_update(of=_inst)
LOCK_SQLITE = _LOCK  # BEGIN IMMEDIATE already serialises writers
HISTORY = insert(_hist)
MOVE = (
    _inst.update()
    .where(_inst.c.id == bindparam("iid"))
    .values(
        state=bindparam("state"),
        context=bindparam("ctx"),
        version=bindparam("ver"),
        updated_at=bindparam("now"),
        closed_at=bindparam("closed"),
    )
)
CANCEL = (
    _timer.update()
    .where(_timer.c.instance_id == bindparam("iid"), _timer.c.status == "armed")
    .values(status="cancelled", fired_at=bindparam("now"))
)


class CoreEngine(Engine):
    def apply(self, session: Session, command: Command, outbox_id: str | None = None) -> Outcome:
        if command.instance_id is None or command.start is not None or command.cause.kind == "timer":
            return super().apply(session, command, outbox_id)
        flow = self._flow(command.flow)
        now = self.clock.now()
        conn = session.connection()
        if outbox_id is not None:
            conn.execute(DONE, {"oid": outbox_id, "now": now})
        lock = LOCK_PG if self.db.is_postgres else LOCK_SQLITE
        row = conn.execute(
            lock, {"iid": command.instance_id, "flow": flow.name, "key": command.dedupe_key}
        ).first()
        if row is None:
            return super().apply(session, command, None)  # raises InstanceNotFound
        if row.seen:
            return Outcome("duplicate", row.id, row.state)
        decision = self.machines.get(flow.name).fire(
            row.state, command.trigger, row.context, command.payload, now
        )
        history: dict[str, Any] = dict(
            instance_id=row.id,
            from_state=row.state,
            trigger=command.trigger,
            reason=command.cause.reason,
            cause_kind=command.cause.kind,
            cause_id=command.cause.id,
            operator=command.cause.operator,
            payload=command.payload,
            at=now,
            dedupe_key=command.dedupe_key,
        )
        if not isinstance(decision, Fired):
            conn.execute(
                HISTORY, {**history, "to_state": None, "outcome": "rejected", "reason": decision.reason}
            )
            return Outcome("rejected", row.id, row.state, decision.reason)
        fn = decision.transition.effect
        effect = fn(row.context, command.payload, now) if fn else Effect()
        conn.execute(HISTORY, {**history, "to_state": decision.dest, "outcome": "applied"})
        internal = decision.transition.dest is None
        final = not internal and flow.state(decision.dest).final
        context = {**row.context, **effect.context} if effect.context else row.context
        conn.execute(
            MOVE,
            {
                "iid": row.id,
                "state": decision.dest,
                "ctx": context,
                "ver": row.version + 1,
                "now": now,
                "closed": now if final else None,
            },
        )
        if not internal:
            if flow.state(row.state).timers:
                conn.execute(CANCEL, {"iid": row.id, "now": now})
            if not final:
                self._arm(session, self.deadlines, flow, row.id, decision.dest, now)
        sent: list[str] = []
        if effect.emits:
            instance = session.get(Instance, row.id, populate_existing=True)
            assert instance is not None
            sent = [self._emit(session, instance, emit) for emit in effect.emits]
        return Outcome("applied", row.id, decision.dest, outbox=sent)


def install(runtime: Runtime) -> Runtime:
    """Turn the runtime's engine into the prototype in place (the rules follower keeps its reference)."""
    if runtime.db.is_postgres:
        runtime.db.engine.pool._pre_ping = False
    runtime.engine.__class__ = CoreEngine
    return runtime


_runtime: Runtime | None = None


def _worker_runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        try:
            import worker

            runtime = worker.runtime()
        except Exception:  # no rule deadlines for the toy flow: the bench composition
            from bench import workers

            runtime = workers.runtime()
        declare_noop(runtime.broker)
        dramatiq.set_broker(runtime.broker)
        _runtime = install(runtime)
    return _runtime


def __getattr__(name: str) -> Any:
    """``python -m dramatiq bench.experiments.core_apply:broker``: worker processes with the prototype."""
    if name == "broker":
        return _worker_runtime().broker
    raise AttributeError(name)
