"""The overview screen: instances per flow × state (each a link to the filtered list), the red and
yellow cards (红黄牌) by department, street and escalation level, today's pushes and the pipeline
(``workflows.queries.overview``). ``GET /ui/overview/counts`` is the same figures as an HTML fragment,
which the page polls with htmx every 5 s; a department-scoped operator sees their department's."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from workflows.intake.tokens import Principal
from workflows.queries.overview import Overview, overview
from workflows.runtime import Runtime
from workflows.ui.render import renderer
from workflows.ui.session import UiOperator

router = APIRouter()


async def _figures(request: Request, who: Principal) -> Overview:
    runtime: Runtime = request.app.state.runtime
    return await run_in_threadpool(
        overview,
        runtime.db,
        runtime.recovery.view,
        runtime.clock.now(),
        runtime.registry.warning_timers,
        who.department,
    )


@router.get("/", response_class=HTMLResponse)
async def overview_page(request: Request, who: UiOperator) -> HTMLResponse:
    figures = await _figures(request, who)
    context = {"title": "Overview 总览", "o": figures}
    return renderer(request).page(request, "overview.html", context)


@router.get("/overview/counts", response_class=HTMLResponse)
async def overview_counts(request: Request, who: UiOperator) -> HTMLResponse:
    """The overview's figures alone (the fragment the page swaps in every 5 s)."""
    figures = await _figures(request, who)
    return renderer(request).page(request, "overview_counts.html", {"o": figures})
