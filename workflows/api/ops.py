"""Operator routes: queries over instances, tasks and dead letters; audited actions; the clock."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from workflows.api.actions import IdempotencyKey, act, dedupe_key
from workflows.api.deps import Operator, RuntimeDep, ScopedOperator
from workflows.api.models import ActionBody, AdvanceBody, ClockBody
from workflows.engine.suspend import Action
from workflows.engine.timer_actions import act_on_timers
from workflows.errors import BadInput, ClockNotSimulated
from workflows.intake.tokens import Principal
from workflows.messaging.deadletters import list_dead, requeue
from workflows.queries.effects import event_effect
from workflows.queries.instances import InstanceFilter, instance_detail, list_instances
from workflows.queries.scope import check_visible
from workflows.queries.status import status as status_report
from workflows.runtime import Runtime
from workflows.time.clock import parse_span

router = APIRouter()
Cursor = Annotated[int | None, Query(ge=0, le=2**63 - 1, description="next_cursor of the previous page")]
InstanceId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DeadId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("/instances", tags=["queries"])
def get_instances(
    runtime: RuntimeDep,
    who: ScopedOperator,
    flow: str | None = None,
    state: str | None = None,
    subject: str | None = None,
    department: str | None = None,
    overdue: bool | None = None,
    due_before: datetime | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Instances, filtered; pass `next_cursor` back as `cursor` for the next page."""
    if due_before is not None and due_before.tzinfo is None:
        raise BadInput("due_before: give a timezone, e.g. 2026-12-01T00:00:00+08:00")
    f = InstanceFilter(
        flow, state, subject, department, overdue=overdue, due_before=due_before, scope=who.department
    )
    warnings = runtime.registry.warning_timers
    items, nxt = list_instances(
        runtime.db, f, runtime.clock.now(), cursor=cursor, limit=limit, warnings=warnings
    )
    return {"items": items, "next_cursor": nxt}


@router.get("/events/effect", tags=["events"])
def get_event_effect(
    runtime: RuntimeDep,
    _: Operator,
    source: Annotated[str, Query(min_length=1, max_length=200)],
    id: Annotated[str, Query(min_length=1, max_length=200)],
) -> dict[str, Any]:
    """What an accepted event did so far: the instances it started or moved, and those they started
    (`via`: `event` or `started by`); 404 for an event never accepted."""
    return event_effect(runtime.db, source, id)


@router.get("/instances/{instance_id}", tags=["queries"])
def get_instance(instance_id: InstanceId, runtime: RuntimeDep, who: ScopedOperator) -> dict[str, Any]:
    """State, context, timers with due times, and the full history with causes (404 for an instance
    outside a department-scoped token's department)."""
    detail = instance_detail(runtime.db, instance_id)
    check_visible(instance_id, detail["context"], who.department)
    return detail


@router.get("/tasks", tags=["queries"])
def get_tasks(
    runtime: RuntimeDep,
    who: ScopedOperator,
    department: str | None = None,
    person: str | None = None,
    grid: str | None = None,
    street: str | None = None,
    worker: str | None = None,
    flow: str | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Open work by department, person (who claimed it), grid, street or grid worker (who holds it)."""
    f = InstanceFilter(
        flow,
        department=department,
        person=person,
        grid=grid,
        street=street,
        worker=worker,
        open_only=True,
        scope=who.department,
    )
    items, nxt = list_instances(runtime.db, f, runtime.clock.now(), cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": nxt}


@router.get("/status", tags=["queries"])
def get_status(runtime: RuntimeDep, _: Operator) -> dict[str, Any]:
    """Instances per flow × state, open timers, next due, dead letters, and the reconciliation:
    accepted events without their effect, outbox rows unsent or unfinished, by age."""
    return status_report(runtime.db, runtime.recovery.view, runtime.clock.now()).as_json()


@router.get("/deadletters", tags=["operations"])
def get_deadletters(
    runtime: RuntimeDep,
    _: Operator,
    include_requeued: Annotated[
        bool, Query(description="also those already requeued, with who and why")
    ] = False,
) -> list[dict[str, Any]]:
    """Messages that exhausted their retries, with the error that killed them."""
    return [d.as_json() for d in list_dead(runtime.db, include_requeued)]


@router.post("/deadletters/{dead_id}/requeue", tags=["operations"])
def post_requeue(dead_id: DeadId, body: ActionBody, runtime: RuntimeDep, who: Operator) -> dict[str, Any]:
    """Send a dead letter again (consumers dedupe, so a repeat is harmless)."""
    d = requeue(runtime.db, runtime.relay, runtime.clock, dead_id, operator=who.name, reason=body.reason)
    return {"requeued": d.id, "message_id": d.message_id}


@router.post("/instances/{instance_id}/cancel", tags=["operations"])
def post_cancel(
    instance_id: InstanceId,
    body: ActionBody,
    runtime: RuntimeDep,
    who: ScopedOperator,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Cancel an instance (audited with the operator's name and reason)."""
    detail = instance_detail(runtime.db, instance_id)
    check_visible(instance_id, detail["context"], who.department)
    flow = runtime.engine.flows.get(str(detail["flow"]))
    spec = flow.trigger("cancel") if flow else None
    takes_reason = spec is not None and spec.payload is not None and "reason" in spec.payload.model_fields
    payload = {"reason": body.reason} if takes_reason else {}
    return act(runtime, instance_id, "cancel", payload, who, body.reason, idempotency_key)


def _clocks(
    runtime: Runtime, instance_id: int, action: Action, body: ClockBody, who: Principal, key: str | None
) -> dict[str, Any]:
    if who.department is not None:
        check_visible(instance_id, instance_detail(runtime.db, instance_id)["context"], who.department)
    return act_on_timers(
        runtime.db,
        runtime.clock,
        runtime.engine.deadlines,
        instance_id,
        action,
        operator=who.name,
        reason=body.reason,
        timer=body.timer,
        dedupe_key=dedupe_key(instance_id, action, key),
    )


@router.post("/instances/{instance_id}/suspend", tags=["operations"])
def post_suspend(
    instance_id: InstanceId,
    body: ClockBody,
    runtime: RuntimeDep,
    who: ScopedOperator,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Stop the clocks of the instance's open timers (or of `timer`), e.g. under an approved extension
    (延期): each keeps the budget it had left, in its rule's units, and does not fire; audited. 409 for a
    closed instance, a timer suspended already or due already; 422 for a timer the state lacks."""
    return _clocks(runtime, instance_id, "suspend", body, who, idempotency_key)


@router.post("/instances/{instance_id}/resume", tags=["operations"])
def post_resume(
    instance_id: InstanceId,
    body: ClockBody,
    runtime: RuntimeDep,
    who: ScopedOperator,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Start suspended clocks again: each timer is due when its budget, counted from now on the
    calendar in force, runs out; audited. 409 for a closed instance or a timer not suspended."""
    return _clocks(runtime, instance_id, "resume", body, who, idempotency_key)


@router.post("/clock/advance", tags=["operations"])
def post_advance(body: AdvanceBody, runtime: RuntimeDep, _: Operator) -> dict[str, Any]:
    """Move the simulated clock forward; 409 when the clock is the system clock."""
    if not runtime.clock.simulated:
        raise ClockNotSimulated()
    return {"now": runtime.clock.advance(parse_span(body.by)).isoformat()}
