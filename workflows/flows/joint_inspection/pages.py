"""The joint inspection dashboard pages: the plans and their draws (``/ui/draws``) and a draw's
receipt (``/ui/draws/{id}``: the candidates, the exclusions, the objects and groups drawn, the
replacements, and a "verify again" that re-runs the draw from the frozen snapshot: ``service``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from workflows.flows.joint_inspection import service
from workflows.flows.joint_inspection.directory_models import InspectionObject
from workflows.flows.joint_inspection.plans import InspectionDraw, InspectionPlan
from workflows.runtime import Runtime
from workflows.ui.render import renderer
from workflows.ui.session import UiOperator, district_only

DrawId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def plans_and_draws(runtime: Runtime) -> list[dict[str, Any]]:
    """Every plan, newest first, with its draws (voided ones too)."""
    with runtime.db.read() as session:
        plans = session.execute(select(InspectionPlan).order_by(InspectionPlan.created_at.desc())).scalars()
        draws = session.execute(select(InspectionDraw).order_by(InspectionDraw.id)).scalars().all()
        return [
            {
                "id": p.id,
                "name": p.spec.get("name") or "",
                "departments": sorted(p.spec.get("departments", {})),
                "created_at": p.created_at,
                "created_by": p.created_by,
                "snapshot_hash": p.snapshot_hash,
                "draws": [
                    {
                        "id": d.id,
                        "drawn_at": d.drawn_at,
                        "drawn_by": d.drawn_by,
                        "objects": len(d.receipt["result"]["objects"]),
                        "voided_at": d.voided_at,
                        "result_sha256": d.result_sha256,
                    }
                    for d in draws
                    if d.plan_id == p.id
                ],
            }
            for p in plans
        ]


def receipt_view(runtime: Runtime, draw_id: int, verify: bool) -> dict[str, Any]:
    """The exported receipt, the names of the objects drawn, each officer's department, and (when
    asked) the verification."""
    with runtime.db.read() as session:
        exported = service.export(session, draw_id)
        codes = [o["uscc"] for o in exported["result"]["objects"]]
        names = dict(
            session.execute(
                select(InspectionObject.uscc, InspectionObject.name).where(InspectionObject.uscc.in_(codes))
            ).all()
        )
        verified = service.verify_draw(session, draw_id) if verify else None
    candidates = exported["candidates"]
    department = {officer: dept for officer, dept, _ in candidates["officers"]}
    by_class: dict[str, int] = {}
    for _, risk, _ in candidates["objects"]:
        by_class[risk] = by_class.get(risk, 0) + 1
    replaced = {r["officer"]: r for r in exported.get("replacements", [])}
    return {
        "r": exported,
        "names": names,
        "department": department,
        "by_class": sorted(by_class.items()),
        "replaced": replaced,
        "verified": verified,
    }


def pages() -> APIRouter:
    """The plug-in's dashboard pages (built when the app is)."""
    router = APIRouter()

    @router.get("/draws", response_class=HTMLResponse)
    async def draws_page(request: Request, who: UiOperator) -> HTMLResponse:
        district_only(who)
        runtime: Runtime = request.app.state.runtime
        plans = await run_in_threadpool(plans_and_draws, runtime)
        context = {"title": "Draws 双随机抽查", "plans": plans}
        return renderer(request).page(request, "joint_inspection_draws.html", context)

    @router.get("/draws/{draw_id}", response_class=HTMLResponse)
    async def receipt_page(
        request: Request, who: UiOperator, draw_id: DrawId, verify: bool = False
    ) -> HTMLResponse:
        district_only(who)
        runtime: Runtime = request.app.state.runtime
        view = await run_in_threadpool(receipt_view, runtime, draw_id, verify)
        context = {"title": f"Draw #{draw_id} receipt 摇号回执", "draw_id": draw_id, **view}
        return renderer(request).page(request, "joint_inspection_receipt.html", context)

    return router
