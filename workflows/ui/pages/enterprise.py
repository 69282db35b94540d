"""The enterprise screen (全景画像): a search by USCC or name, and one enterprise across every flow —
its cases grouped by flow, deadlines met and missed, and its directory facts
(``workflows.queries.enterprise``). A department-scoped operator sees only their department's cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from workflows.queries.enterprise import profile, search
from workflows.runtime import Runtime
from workflows.ui.render import renderer
from workflows.ui.session import UiOperator

router = APIRouter()
Uscc = Annotated[str, Path(min_length=18, max_length=18, pattern="^[0-9A-Za-z]{18}$")]


@router.get("/enterprises", response_class=HTMLResponse)
async def enterprises(
    request: Request, who: UiOperator, q: Annotated[str, Query(max_length=100)] = ""
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    matches = await run_in_threadpool(search, runtime.db, q, who.department)
    context = {"title": "Enterprises 企业", "q": q, "matches": matches}
    return renderer(request).page(request, "enterprise_search.html", context)


@router.get("/enterprises/{uscc}", response_class=HTMLResponse)
async def enterprise(request: Request, who: UiOperator, uscc: Uscc) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    warnings = runtime.registry.warning_timers
    found = await run_in_threadpool(profile, runtime.db, uscc.upper(), warnings, who.department)
    name = found.directory.get("name", "")
    context = {"title": f"{name or uscc} 全景画像", "p": found}
    return renderer(request).page(request, "enterprise.html", context)
