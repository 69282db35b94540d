"""Routes of the grid first check (网格首检) events.

What starts a task is routed by grid through the directory; what reports on one is checked here
against the task, where the database can tell — an unknown task or grid, a report for a closed task, a
report from a worker who does not hold it: each is refused (422) naming the field, and nothing is kept.
The rules say the rest: which departments a permit item goes to, where a hand-over goes (无证无照经营
查处办法 §5–7), how many returns make a binding assignment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from state_machines.grid_check import AFTER_ACK, FINAL, FLOW_NAME, WITH_GRID, S, T
from workflows.engine.commands import StartSpec
from workflows.engine.core import Engine
from workflows.errors import BadInput
from workflows.flows.grid_check import handoffs
from workflows.flows.grid_check.directory import assignee_for, worker
from workflows.flows.grid_check.events import (
    CaseReported,
    CheckReported,
    ComplaintReceived,
    EnforcementReported,
    FindingReported,
    RecheckReported,
    TaskAcknowledged,
    TaskAssigned,
    TaskRef,
    TaskReturned,
)
from workflows.flows.grid_check.placing import assignment, place_task, street_office
from workflows.plugins.routes import Envelope, EventRoute, RouteResult
from workflows.store.models import Instance
from workflows.upstream.registration import LicenseIssued


def _start(
    session: Session,
    engine: Engine,
    event: Envelope,
    key: str,
    facts: dict[str, Any],
    uscc: str | None,
    placed: dict[str, Any] | None = None,
) -> RouteResult:
    """Start the task ``key`` and dispatch it to ``placed`` (default: whoever the directory names for
    its grid, or its street office)."""
    if placed is None:
        placed = place_task(session, str(facts["grid"]), str(facts.get("street") or ""))
    command = engine.command(
        FLOW_NAME,
        T.dispatch,
        cause=event.cause,
        dedupe_key=event.dedupe_key,
        payload={"facts": facts, "assignment": placed},
        business_key=key,
        start=StartSpec(subject=uscc, context={}),
    )
    engine.enqueue(session, command)
    return RouteResult("assigned" if placed["level"] != "district" else "to_district")


def _license_issued(session: Session, engine: Engine, event: Envelope, data: LicenseIssued) -> RouteResult:
    """An information check (信息核查) of the new enterprise by its grid's worker. A grid the directory
    does not know goes to the street office (or the district office): the license is never refused
    for it, since dual notification routes the same event."""
    facts = {
        "kind": "info_check",
        "reference": data.uscc,
        "uscc": data.uscc,
        "name": data.name,
        "address": data.address,
        "grid": data.grid,
        "street": data.street,
        "content": data.business_scope,
        "received_at": data.issued_at.isoformat(),
    }
    return _start(session, engine, event, f"{data.uscc}:info_check", facts, data.uscc)


def _known_grid(session: Session, grid: str) -> dict[str, Any]:
    """Whoever the directory names for ``grid``; a grid it does not know is refused."""
    found = assignee_for(session, grid)
    if found is None:
        raise BadInput(f"data.grid: unknown grid {grid!r}; `yunshang directory show` lists the grids")
    return assignment(found)


def _complaint(session: Session, engine: Engine, event: Envelope, data: ComplaintReceived) -> RouteResult:
    placed = _known_grid(session, data.grid)
    facts = {
        "kind": "complaint",
        "reference": data.complaint_id,
        "uscc": data.uscc,
        "name": data.name or "",
        "address": data.address,
        "grid": data.grid,
        "content": data.content,
        "received_at": data.received_at.isoformat(),
    }
    return _start(session, engine, event, f"complaint:{data.complaint_id}", facts, data.uscc, placed)


def _finding(session: Session, engine: Engine, event: Envelope, data: FindingReported) -> RouteResult:
    placed = _known_grid(session, data.grid)
    if worker(session, data.worker_id) is None:
        raise BadInput(f"data.worker_id: no grid worker {data.worker_id!r} in the directory")
    facts = {
        "kind": "finding",
        "reference": data.finding_id,
        "uscc": data.uscc,
        "name": data.name or "",
        "address": data.address,
        "grid": data.grid,
        "content": data.description,
        "received_at": data.found_at.isoformat(),
    }
    return _start(session, engine, event, f"finding:{data.finding_id}", facts, data.uscc, placed)


# ----------------------------------------------------------------------------------- task reports
def _task(session: Session, ref: TaskRef, states: tuple[str, ...], what: str) -> Instance:
    """The task an event names, in one of ``states``; raises BadInput naming ``data.task``."""
    task = session.get(Instance, ref.task)
    if task is None or task.flow != FLOW_NAME:
        raise BadInput(f"data.task: no grid check task #{ref.task}")
    if task.state not in states:
        closed = "closed" if task.state in FINAL else "in state"
        wanted = ", ".join(states)
        raise BadInput(
            f"data.task: task #{task.id} is {closed} {task.state}; {what} is for a task in {wanted}"
        )
    return task


def _held_by(task: Instance, worker_id: str) -> None:
    held = task.context.get("worker_id")
    if held and held != worker_id:
        name = task.context.get("worker_name") or ""
        raise BadInput(f"data.worker_id: task #{task.id} is held by {held} {name}, not {worker_id}".rstrip())


def _to_task(
    session: Session, engine: Engine, event: Envelope, task: Instance, trigger: str, payload: dict[str, Any]
) -> RouteResult:
    command = engine.command(
        FLOW_NAME,
        trigger,
        cause=event.cause,
        dedupe_key=event.dedupe_key,
        payload=payload,
        instance_id=task.id,
    )
    engine.enqueue(session, command)
    return RouteResult("queued", [task.id])


def _acknowledged(session: Session, engine: Engine, event: Envelope, data: TaskAcknowledged) -> RouteResult:
    task = _task(session, data, (S.assigned, *AFTER_ACK, *FINAL), "an acknowledgement")
    _held_by(task, data.worker_id)
    payload = {"worker_id": data.worker_id, "acknowledged_at": data.acknowledged_at.isoformat()}
    return _to_task(session, engine, event, task, T.acknowledge, payload)


def _checked(session: Session, engine: Engine, event: Envelope, data: CheckReported) -> RouteResult:
    task = _task(session, data, WITH_GRID, "a first check")
    _held_by(task, data.worker_id)
    payload: dict[str, Any] = data.model_dump(mode="json", exclude={"task", "permit_item", "uscc", "name"})
    dispatched = task.context.get("dispatched_at")
    if dispatched:
        start = datetime.fromisoformat(str(dispatched))
        payload["working_days"] = engine.calendar.working_days_between(start, data.checked_at)
    if data.outcome == "permit_needed":
        ruleset = engine.rules.ruleset("a permit_needed report")
        payload["permit_requests"] = handoffs.permit_requests(ruleset, task, data)
    elif data.outcome == "address_unreachable":
        payload["handoff"] = handoffs.abnormal_list(engine.rules.ruleset("an address_unreachable report"))
    return _to_task(session, engine, event, task, T.report, payload)


def _rechecked(session: Session, engine: Engine, event: Envelope, data: RecheckReported) -> RouteResult:
    task = _task(session, data, (S.rectifying,), "a re-check")
    _held_by(task, data.worker_id)
    payload: dict[str, Any] = data.model_dump(mode="json", exclude={"task"})
    if not data.rectified:
        payload["handoff"] = handoffs.not_rectified(engine.rules.ruleset("a failed re-check"))
    return _to_task(session, engine, event, task, T.recheck, payload)


def _enforced(session: Session, engine: Engine, event: Envelope, data: EnforcementReported) -> RouteResult:
    task = _task(session, data, (S.street_enforcement,), "an enforcement report")
    if data.street != task.context.get("street"):
        raise BadInput(
            f"data.street: task #{task.id} is with street {task.context.get('street')}, not {data.street}"
        )
    payload: dict[str, Any] = data.model_dump(mode="json", exclude={"task", "street", "permit_item"})
    if data.result == "handed_over":
        ruleset = engine.rules.ruleset("an enforcement hand-over")
        handoff, permit_name = handoffs.unlicensed(ruleset, data.missing or "licence", data.permit_item)
        payload.update(handoff=handoff, permit=data.permit_item, permit_name=permit_name)
    return _to_task(session, engine, event, task, T.enforce, payload)


def _case(session: Session, engine: Engine, event: Envelope, data: CaseReported) -> RouteResult:
    task = _task(session, data, (S.department_case,), "a department's case report")
    if data.department != task.context.get("department"):
        held = task.context.get("department")
        raise BadInput(f"data.department: task #{task.id}'s case is with {held}, not {data.department}")
    return _to_task(
        session, engine, event, task, T.close_case, data.model_dump(mode="json", exclude={"task"})
    )


def _returned(session: Session, engine: Engine, event: Envelope, data: TaskReturned) -> RouteResult:
    """A return names who returns it and why; the next holder comes from the directory, and the rule's
    last allowed return sends the task to the district office for a binding assignment."""
    task = _task(session, data, WITH_GRID, "a return")
    ctx = task.context
    holder = ctx.get("worker_id") or ctx.get("street")
    if ctx.get("binding"):
        raise BadInput(f"data.task: task #{task.id} was assigned for good (审定) by {ctx.get('assigned_by')}")
    if ctx.get("level") == "district":
        raise BadInput(
            f"data.task: task #{task.id} is with the district office for a binding assignment (审定); "
            "it assigns it with grid.task.assigned"
        )
    if data.by != holder:
        raise BadInput(f"data.by: task #{task.id} is held by {holder}, not {data.by}")
    limit = handoffs.return_limit(engine.rules.current.ruleset)
    if len(ctx.get("returns", [])) + 1 >= limit or ctx.get("level") == "street":
        placed = assignment(
            None, level="district", grid=str(ctx.get("grid", "")), street=str(ctx.get("street", ""))
        )
    elif data.reason == "wrong_grid" and data.grid:
        found = assignee_for(session, data.grid)
        if found is None:
            raise BadInput(f"data.grid: unknown grid {data.grid!r}")
        placed = assignment(found)
    else:
        placed = street_office(session, str(ctx.get("street", "")), str(ctx.get("grid", "")))
    payload = {
        "by": data.by,
        "reason": data.reason,
        "comment": data.comment,
        "assignment": placed,
        "returned_at": data.returned_at.isoformat(),
    }
    return _to_task(session, engine, event, task, T.return_task, payload)


def _assigned(session: Session, engine: Engine, event: Envelope, data: TaskAssigned) -> RouteResult:
    task = _task(session, data, WITH_GRID, "a binding assignment")
    if data.worker_id is not None:
        found = worker(session, data.worker_id)
        if found is None:
            raise BadInput(f"data.worker_id: no grid worker {data.worker_id!r} in the directory")
        placed = assignment(assignee_for(session, found.grid), worker_of=found)
    else:
        placed = street_office(session, str(data.street), str(task.context.get("grid", "")))
        if placed["level"] != "street":
            raise BadInput(f"data.street: no street {data.street!r} in the directory")
    payload = {"assignment": placed, "by": data.by, "comment": data.comment}
    return _to_task(session, engine, event, task, T.assign, payload)


EVENTS = (
    EventRoute("license.issued", LicenseIssued, _license_issued),
    EventRoute("complaint.received", ComplaintReceived, _complaint),
    EventRoute("grid.finding.reported", FindingReported, _finding),
    EventRoute("grid.task.acknowledged", TaskAcknowledged, _acknowledged),
    EventRoute("grid.check.reported", CheckReported, _checked),
    EventRoute("grid.recheck.reported", RecheckReported, _rechecked),
    EventRoute("street.enforcement.reported", EnforcementReported, _enforced),
    EventRoute("department.case.reported", CaseReported, _case),
    EventRoute("grid.task.returned", TaskReturned, _returned),
    EventRoute("grid.task.assigned", TaskAssigned, _assigned),
)
