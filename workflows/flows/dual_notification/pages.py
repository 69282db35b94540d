"""The dual-notification dashboard page: the scorecard with its charts (``/ui/scorecard/notices``),
listed by the core's ``/ui/scorecard``. The chart series are rendered into the page as JSON
(``<script type="application/json">``) and drawn by the vendored ECharts."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from workflows.flows.dual_notification.charts import chart_data
from workflows.runtime import Runtime
from workflows.time.calendar import SHANGHAI
from workflows.time.days import day_range
from workflows.ui.render import renderer
from workflows.ui.session import UiOperator

PATH = "/scorecard/notices"
Day = Annotated[str | None, Query(max_length=40)]


def pages() -> APIRouter:
    """The plug-in's dashboard pages (built when the app is)."""
    router = APIRouter()

    @router.get(PATH, response_class=HTMLResponse)
    async def notice_scorecard(
        request: Request, who: UiOperator, start: Day = None, end: Day = None
    ) -> HTMLResponse:
        runtime: Runtime = request.app.state.runtime
        begin, stop = day_range(start or None, end or None, runtime.clock.now())
        data = await run_in_threadpool(chart_data, runtime, begin, stop, who.department)
        shown = {
            "start": begin.astimezone(SHANGHAI).date().isoformat(),
            "end": (stop - timedelta(microseconds=1)).astimezone(SHANGHAI).date().isoformat(),
        }
        context = {"title": "Dual notification scorecard 双告知考核", "data": data, "range": shown}
        return renderer(request).page(request, "dual_notification_scorecard.html", context)

    return router
