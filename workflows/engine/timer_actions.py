"""The operator's suspend and resume: an instance's clocks stopped (an approved extension 延期) and
started again, audited with the operator's name and reason (``engine/suspend.py`` does the work).

Both act on the open timers of the instance's current state — all of them (a deadline and its warning
and supervision stop together), or the one named. Each is one transaction that locks the instance, so
it never interleaves with a transition of it. Refused, with nothing changed: an unknown instance
(404), a closed one, a suspend when no named timer is armed or a resume when none is suspended, a
timer already due (409), a timer name the state does not have (422). An ``Idempotency-Key`` makes a
retry answer ``duplicate`` with no second effect.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from workflows.engine.commands import Cause
from workflows.engine.deadlines import DeadlineSource
from workflows.engine.suspend import Action, Target, open_timers, resume, suspend
from workflows.errors import FieldInvalid, InstanceNotFound, TimerConflict
from workflows.store.db import Database
from workflows.store.models import History, Instance, TimerStatus
from workflows.time.clock import Clock


def act_on_timers(
    db: Database,
    clock: Clock,
    rules: DeadlineSource,
    instance_id: int,
    action: Action,
    *,
    operator: str,
    reason: str,
    timer: str | None = None,
    dedupe_key: str | None = None,
) -> dict[str, Any]:
    """Suspend or resume ``instance_id``'s open timers (or the one named ``timer``); the history row
    written, as the API answers it. ``dedupe_key``: the action's key (a retry with it is a no-op)."""
    if not reason.strip():
        raise FieldInvalid("reason", "say why (kept in the audit trail), e.g. 延期 approved by the director")
    key = dedupe_key or f"operator:{uuid.uuid4()}"
    with db.transaction() as session:
        query = select(Instance).where(Instance.id == instance_id)
        instance = session.execute(query.with_for_update() if db.is_postgres else query).scalar_one_or_none()
        if instance is None:
            raise InstanceNotFound(f"no instance #{instance_id}")
        earlier = session.execute(
            select(History.payload).where(History.instance_id == instance_id, History.dedupe_key == key)
        ).scalar_one_or_none()
        if earlier is not None:
            return {"status": "duplicate", "state": instance.state, "timers": earlier.get("timers", [])}
        if instance.closed_at is not None:
            raise TimerConflict(
                "instance_id",
                f"#{instance_id} is closed ({instance.state} since {instance.closed_at.isoformat()}); "
                "only an open instance's timers can be suspended or resumed",
            )
        target = Target(instance.id, instance.flow, instance.state)
        conn = session.connection()
        timers = _chosen(open_timers(conn, target), target, timer)
        now = clock.now()
        _check(timers, target, action, now)
        cause = Cause(kind="operator", operator=operator, reason=reason)
        write = suspend if action == "suspend" else resume
        row = write(conn, target, timers, rules, cause, key, now)
        assert row is not None  # _check made sure a timer qualifies
    return {"status": "applied", "state": target.state, "timers": row.payload["timers"]}


def _chosen(timers: list[Any], target: Target, name: str | None) -> list[Any]:
    if name is None:
        if not timers:
            raise TimerConflict(
                "instance_id", f"#{target.id} has no open timer in its state {target.state!r}"
            )
        return timers
    chosen = [t for t in timers if t.name == name]
    if not chosen:
        known = ", ".join(t.name for t in timers) or "none"
        raise FieldInvalid(
            "timer",
            f"#{target.id} has no open timer {name!r} in its state {target.state!r} "
            f"(its open timers: {known})",
        )
    return chosen


def _check(timers: list[Any], target: Target, action: Action, now: Any) -> None:
    what = "timer" if len(timers) == 1 else "timers"
    names = ", ".join(t.name for t in timers)
    if action == "resume":
        if not any(t.status == TimerStatus.SUSPENDED for t in timers):
            raise TimerConflict(
                "timer",
                f"{what} {names} of #{target.id} {'is' if len(timers) == 1 else 'are'} armed, "
                "not suspended: only a suspended timer can be resumed",
            )
        return
    armed = [t for t in timers if t.status == TimerStatus.ARMED]
    if not armed:
        raise TimerConflict(
            "timer",
            f"{what} {names} of #{target.id} {'is' if len(timers) == 1 else 'are'} suspended "
            "already: resume it first",
        )
    if all(t.due_at <= now for t in armed):
        due = min(t.due_at for t in armed).isoformat()
        raise TimerConflict(
            "timer", f"{names} of #{target.id} fell due at {due}: a timer due cannot be suspended"
        )
