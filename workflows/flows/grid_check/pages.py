"""The grid first check dashboard pages: the grid scorecard per street, grid and worker
(``/ui/grid/scorecard``, the figures of ``GET /grid/scorecard``) and the open tasks by grid, street and
worker (``/ui/grid/tasks``, the query behind ``GET /tasks``)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from state_machines.grid_check import FLOW_NAME
from workflows.flows.grid_check.scorecard_view import scorecard_between
from workflows.queries.instances import InstanceFilter, count_instances, list_instances
from workflows.queries.scope import in_department
from workflows.runtime import Runtime
from workflows.store.models import Instance
from workflows.time.calendar import SHANGHAI
from workflows.ui.render import renderer
from workflows.ui.session import UiOperator, district_only

Text = Annotated[str | None, Query(max_length=64)]
SHOWN = 200


def open_counts(runtime: Runtime, scope: str | None) -> dict[str, list[tuple[str, int]]]:
    """Open grid tasks counted by street, grid and the worker holding them."""
    query = select(Instance.context).where(Instance.flow == FLOW_NAME, Instance.closed_at.is_(None))
    if scope is not None:
        query = query.where(in_department(scope))
    counts: dict[str, Counter[str]] = {"street": Counter(), "grid": Counter(), "worker": Counter()}
    with runtime.db.read() as session:
        for (ctx,) in session.execute(query):
            ctx = ctx or {}
            counts["street"][str(ctx.get("street") or "-")] += 1
            counts["grid"][str(ctx.get("grid") or "-")] += 1
            counts["worker"][str(ctx.get("worker_id") or f"({ctx.get('level', '-')})")] += 1
    return {key: sorted(c.items()) for key, c in counts.items()}


def open_tasks(runtime: Runtime, f: InstanceFilter) -> tuple[list[dict[str, Any]], int]:
    now = runtime.clock.now()
    items, _ = list_instances(runtime.db, f, now, limit=SHOWN)
    return items, count_instances(runtime.db, f, now)


def pages() -> APIRouter:
    """The plug-in's dashboard pages (built when the app is)."""
    router = APIRouter()

    @router.get("/grid/scorecard", response_class=HTMLResponse)
    async def grid_scorecard_page(
        request: Request, who: UiOperator, start: Text = None, end: Text = None
    ) -> HTMLResponse:
        district_only(who)
        runtime: Runtime = request.app.state.runtime
        card = await run_in_threadpool(scorecard_between, runtime, start or None, end or None)
        assert card.start is not None and card.end is not None
        shown = {
            "start": card.start.astimezone(SHANGHAI).date().isoformat(),
            "end": (card.end - timedelta(microseconds=1)).astimezone(SHANGHAI).date().isoformat(),
        }
        data = card.as_json()
        context = {"title": "Grid scorecard 网格首检考核", "card": data, "range": shown}
        return renderer(request).page(request, "grid_scorecard.html", context)

    @router.get("/grid/tasks", response_class=HTMLResponse)
    async def grid_tasks_page(
        request: Request,
        who: UiOperator,
        grid: Text = None,
        street: Text = None,
        worker: Text = None,
    ) -> HTMLResponse:
        runtime: Runtime = request.app.state.runtime
        f = InstanceFilter(
            FLOW_NAME,
            grid=grid or None,
            street=street or None,
            worker=worker or None,
            open_only=True,
            scope=who.department,
        )
        items, total = await run_in_threadpool(open_tasks, runtime, f)
        counts = await run_in_threadpool(open_counts, runtime, who.department)
        context = {
            "title": "Open grid tasks 网格任务",
            "items": items,
            "total": total,
            "counts": counts,
            "chosen": {"grid": grid or "", "street": street or "", "worker": worker or ""},
        }
        return renderer(request).page(request, "grid_tasks.html", context)

    return router
