"""The overview screen: instances per flow × state (each a link to the filtered list)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from workflows.queries.scope import in_department
from workflows.runtime import Runtime
from workflows.store.models import Instance
from workflows.ui.render import renderer
from workflows.ui.session import UiOperator

router = APIRouter()


def flow_states(runtime: Runtime, department: str | None) -> list[tuple[str, str, int]]:
    query = select(Instance.flow, Instance.state, func.count()).group_by(Instance.flow, Instance.state)
    if department is not None:
        query = query.where(in_department(department))
    with runtime.db.read() as s:
        rows = s.execute(query.order_by(Instance.flow, Instance.state)).all()
    return [(flow, state, int(n)) for flow, state, n in rows]


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, who: UiOperator) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    counts = await run_in_threadpool(flow_states, runtime, who.department)
    return renderer(request).page(request, "overview.html", {"title": "Overview", "counts": counts})
