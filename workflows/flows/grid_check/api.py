"""The grid first check endpoint: the grid scorecard (``GET /grid/scorecard``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from workflows.api.deps import Operator, RuntimeDep
from workflows.flows.grid_check.scorecard_view import scorecard_between


def router() -> APIRouter:
    """The plug-in's router (built when the app is)."""
    router = APIRouter()

    @router.get("/grid/scorecard", tags=["queries"])
    def get_grid_scorecard(
        runtime: RuntimeDep, _: Operator, start: str | None = None, end: str | None = None
    ) -> dict[str, Any]:
        """Grid first checks per street, grid and worker and overall, for the tasks first dispatched in
        the range (local days `YYYY-MM-DD`, end inclusive, or times with a zone; default the last 30
        days): pushes, checked and its rate, unlicensed found, p50/p90 working days to the first check,
        overdue now by level, returns."""
        return scorecard_between(runtime, start, end).as_json()

    return router
