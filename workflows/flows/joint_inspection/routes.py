"""Routes of the joint inspection's events: each checked against its inspection where the database
can tell (422 naming the field, nothing kept): an unknown inspection or case, a result category
outside sampling.yaml's list, a department not in the inspection, an officer not in the object's
group, a result recorded already, a case of another department."""

from __future__ import annotations

from sqlalchemy.orm import Session

from state_machines.joint_inspection import FLOW_NAME, FOLLOW_UP, F, S
from workflows.engine.core import Engine
from workflows.errors import BadInput
from workflows.flows.joint_inspection.directory import default_risk_class, upsert_from_license
from workflows.flows.joint_inspection.events import FollowUpResolved, ResultRecorded
from workflows.flows.joint_inspection.listing import listed_by_batch
from workflows.plugins.routes import Envelope, EventRoute, RouteResult
from workflows.store.models import Instance
from workflows.upstream.registration import LicenseIssued


def _result(session: Session, engine: Engine, event: Envelope, data: ResultRecorded) -> RouteResult:
    task = session.get(Instance, data.inspection)
    if task is None or task.flow != FLOW_NAME:
        raise BadInput(f"data.inspection: no joint inspection #{data.inspection}")
    if task.state != S.inspecting:
        raise BadInput(
            f"data.inspection: inspection #{task.id} is {task.state}; results are recorded while inspecting"
        )
    ctx = task.context
    categories = {r.code: r for r in engine.rules.ruleset("an inspection result").sampling.results}
    category = categories.get(data.result)
    if category is None:
        raise BadInput(
            f"data.result: {data.result!r} is not a result category; "
            f"sampling.yaml has {', '.join(categories)}"
        )
    if data.department not in ctx.get("departments", []):
        raise BadInput(
            f"data.department: {data.department} is not in inspection #{task.id} "
            f"({', '.join(ctx['departments'])})"
        )
    if data.officer not in ctx.get("officers", {}).get(data.department, []):
        group = ", ".join(ctx["officers"][data.department])
        raise BadInput(
            f"data.officer: {data.officer} is not of this object's group for {data.department} ({group})"
        )
    if data.department in ctx.get("results", {}):
        raise BadInput(f"data.department: {data.department} recorded its result for #{task.id} already")
    payload = {
        "department": data.department,
        "officer": data.officer,
        "code": category.code,
        "name": category.name,
        "problem": category.problem,
        "comment": data.comment,
        "inspected_at": data.inspected_at.isoformat(),
    }
    command = engine.command(
        FLOW_NAME,
        "record_result",
        cause=event.cause,
        dedupe_key=event.dedupe_key,
        payload=payload,
        instance_id=task.id,
    )
    engine.enqueue(session, command)
    return RouteResult("queued", [task.id])


def _resolved(session: Session, engine: Engine, event: Envelope, data: FollowUpResolved) -> RouteResult:
    case = session.get(Instance, data.case)
    if case is None or case.flow != FOLLOW_UP:
        raise BadInput(f"data.case: no follow-up case #{data.case}")
    if case.state != F.open:
        raise BadInput(f"data.case: case #{case.id} is {case.state}")
    if case.context.get("department") != data.department:
        raise BadInput(
            f"data.department: case #{case.id} is {case.context.get('department')}'s, not {data.department}'s"
        )
    payload = data.model_dump(mode="json", exclude={"case"})
    command = engine.command(
        FOLLOW_UP,
        "resolve",
        cause=event.cause,
        dedupe_key=event.dedupe_key,
        payload=payload,
        instance_id=case.id,
    )
    engine.enqueue(session, command)
    return RouteResult("queued", [case.id])


def _license(session: Session, engine: Engine, event: Envelope, data: LicenseIssued) -> RouteResult:
    """A new enterprise enters the inspection objects (in the lowest-risk class); a known one is kept
    current. Nothing is refused here: dual notification and the grid check route the same license."""
    ruleset = engine.rules.current.ruleset
    if ruleset is None:  # static deadlines (tests, benchmarks): no risk classes to place it in
        return RouteResult("unlisted")
    new = listed_by_batch(session, data.uscc)  # the batch's licenses upserted at once (``listing``)
    if new is None:
        new = upsert_from_license(session, data, default_risk_class(ruleset.sampling), data.issued_at.date())
    return RouteResult("listed" if new else "relisted")


EVENTS = (
    EventRoute("license.issued", LicenseIssued, _license),
    EventRoute("inspection.result.recorded", ResultRecorded, _result),
    EventRoute("inspection.follow_up.resolved", FollowUpResolved, _resolved),
)
