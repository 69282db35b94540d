"""The joint inspection endpoints: plans (frozen with their commitment), the draw, its receipt and its
verification, a void, publication, and the public record of the results."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse
from pydantic import Field
from sqlalchemy import select

from state_machines.joint_inspection import FLOW_NAME
from workflows.api.actions import act
from workflows.api.deps import Operator, RuntimeDep
from workflows.api.models import ActionBody, Body
from workflows.api.ops import InstanceId
from workflows.errors import InstanceNotFound
from workflows.flows.joint_inspection import service
from workflows.flows.joint_inspection.plans import InspectionPlan
from workflows.store.models import Instance

DrawId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PlanId = Annotated[str, Path(min_length=1, max_length=100)]


class DrawBody(Body):
    revealed: str = Field(min_length=1, max_length=500)
    """The value nobody could know when the snapshot was frozen: a public one (a lottery result, a
    beacon round) or the committed secret."""


class VoidBody(ActionBody):
    pass


class PublishBody(ActionBody):
    pass


class ReplaceBody(ActionBody):
    officer: str = Field(min_length=1, max_length=64)
    """The drawn officer to replace (sick, recused late)."""


def _plan_json(plan: InspectionPlan) -> dict[str, Any]:
    frozen = plan.snapshot
    return {
        "id": plan.id,
        "spec": plan.spec,
        "snapshot_hash": plan.snapshot_hash,
        **_counts(frozen),
        "quotas": frozen["quotas"],
        "commitment": plan.commitment,
        "created_by": plan.created_by,
        "created_at": plan.created_at.isoformat(),
    }


def _counts(frozen: dict[str, Any]) -> dict[str, int]:
    if "counts" in frozen:
        return dict(frozen["counts"])
    return {k: len(frozen[k]) for k in ("objects", "officers", "excluded")}  # frozen before 0009


def router() -> APIRouter:
    router = APIRouter()

    @router.post("/inspections/plans", status_code=201, tags=["inspections"])
    def post_plan(body: service.PlanBody, runtime: RuntimeDep, who: Operator) -> dict[str, Any]:
        """Freeze a plan's candidate snapshot with its commitment, before the seed can be known. 422 for
        an unknown department or risk class and for an infeasible plan (naming what is short)."""
        ruleset = runtime.rules.ruleset("an inspection plan")
        with runtime.transaction() as session:
            plan = service.create_plan(session, body, ruleset, runtime.clock.now(), who.name)
            return _plan_json(plan)

    @router.post("/inspections/plans/{plan_id}/draw", status_code=201, tags=["inspections"])
    def post_draw(plan_id: PlanId, body: DrawBody, runtime: RuntimeDep, who: Operator) -> dict[str, Any]:
        """Draw the plan with the revealed value, store the receipt and dispatch an inspection per drawn
        object. 409 when the plan has a draw that was not voided."""
        with runtime.transaction() as session:
            draw = service.draw_plan(
                session, runtime.engine, plan_id, body.revealed, runtime.clock.now(), who.name
            )
            return {"draw": draw.id, **draw.receipt}

    @router.get("/draws/{draw_id}", tags=["inspections"])
    def get_draw(draw_id: DrawId, runtime: RuntimeDep, _: Operator) -> dict[str, Any]:
        """The receipt with the frozen candidates: everything needed to re-run the draw."""
        with runtime.db.read() as session:
            return service.export(session, draw_id)

    @router.get("/draws/{draw_id}/verify", tags=["inspections"])
    def get_verify(draw_id: DrawId, runtime: RuntimeDep, _: Operator) -> dict[str, Any]:
        """Re-run the draw from the stored snapshot: `ok`, or exactly what differs."""
        with runtime.db.read() as session:
            return service.verify_draw(session, draw_id)

    @router.post("/draws/{draw_id}/void", tags=["inspections"])
    def post_void(draw_id: DrawId, body: VoidBody, runtime: RuntimeDep, who: Operator) -> dict[str, Any]:
        """Void a draw with a reason (it stays on record); its open inspections are cancelled and the
        plan may be drawn again."""
        with runtime.transaction() as session:
            draw = service.void(session, runtime.engine, draw_id, body.reason, who.name, runtime.clock.now())
            return {"draw": draw.id, "voided_at": draw.voided_at.isoformat() if draw.voided_at else None}

    @router.post("/draws/{draw_id}/replacements", status_code=201, tags=["inspections"])
    def post_replacement(
        draw_id: DrawId, body: ReplaceBody, runtime: RuntimeDep, who: Operator
    ) -> dict[str, Any]:
        """Replace a drawn officer with a reason: the replacement is drawn from the draw's own stream
        and recorded in the receipt (verify re-runs it); the group's open inspections pass to them.
        422 when nobody of the department is left to draw, 409 for a voided draw."""
        with runtime.transaction() as session:
            return service.replace(
                session, runtime.engine, draw_id, body.officer, body.reason, who.name, runtime.clock.now()
            )

    @router.post("/inspections/{instance_id}/publish", tags=["inspections"])
    def post_publish(
        instance_id: InstanceId, body: PublishBody, runtime: RuntimeDep, who: Operator
    ) -> dict[str, Any]:
        """Publish an inspection's results once every department's is in (audited)."""
        return act(runtime, instance_id, "publish", {"by": who.name}, who, body.reason)

    @router.get("/inspections/plans/{plan_id}/publication", tags=["inspections"], response_model=None)
    def get_publication(
        plan_id: PlanId,
        runtime: RuntimeDep,
        _: Operator,
        format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
    ) -> dict[str, Any] | PlainTextResponse:
        """The public record of a plan's published results (国家企业信用信息公示系统 fields)."""
        rows = _publication(runtime, plan_id)
        if format == "json":
            return {"plan": plan_id, "fields": PUBLIC_FIELDS, "records": rows}
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(PUBLIC_FIELDS))
        writer.writeheader()
        writer.writerows(rows)
        return PlainTextResponse(out.getvalue(), media_type="text/csv; charset=utf-8")

    return router


#: the columns of the public record of a random inspection (抽查检查结果信息) in the national enterprise
#: credit publicity system (国家企业信用信息公示系统), by our field name
PUBLIC_FIELDS = {
    "uscc": "统一社会信用代码",
    "name": "企业名称",
    "plan": "抽查计划编号",
    "plan_name": "抽查计划名称",
    "task": "抽查任务编号",
    "check_type": "抽查类型",
    "department_code": "检查实施机关代码",
    "department": "检查实施机关",
    "items": "检查事项",
    "result_code": "检查结果代码",
    "result": "检查结果",
    "inspected_at": "检查完成日期",
    "published_at": "公示日期",
}


def _publication(runtime: Any, plan_id: str) -> list[dict[str, Any]]:
    """One record per department of each published inspection of the plan, in instance order."""
    departments = {d.code: d.name for d in runtime.rules.ruleset("the publication").organisation.departments}
    with runtime.db.read() as session:
        plan = session.get(InspectionPlan, plan_id)
        if plan is None:
            raise InstanceNotFound(f"no inspection plan {plan_id!r}")
        spec = plan.spec
        directed = any(spec.get("filter", {}).get(k) for k in ("types", "industries", "streets"))
        rows = session.execute(
            select(Instance)
            .where(
                Instance.flow == FLOW_NAME,
                Instance.state == "published",
                Instance.business_key.startswith(f"{plan_id}:"),
            )
            .order_by(Instance.id)
        ).scalars()
        records = []
        for inst in rows:
            ctx = inst.context
            for department, result in sorted(ctx.get("results", {}).items()):
                records.append(
                    {
                        "uscc": ctx["uscc"],
                        "name": ctx.get("name", ""),
                        "plan": plan_id,
                        "plan_name": spec.get("name") or plan_id,
                        "task": f"{plan_id}-{ctx['draw']}",
                        "check_type": "定向抽查" if directed else "不定向抽查",
                        "department_code": department,
                        "department": departments.get(department, department),
                        "items": "；".join(spec["departments"].get(department, [])),
                        "result_code": result.get("code"),
                        "result": result.get("name") or result.get("code"),
                        "inspected_at": str(result.get("inspected_at", ""))[:10],
                        "published_at": str(ctx.get("published_at", ""))[:10],
                    }
                )
        return records
