"""The scorecard screen: a directory of the flow plug-ins' scorecard pages (the core knows no flow: a
plug-in's navigation entry whose path is under ``/ui/scorecard/`` or names a scorecard is listed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from workflows.ui.render import NavItem, renderer
from workflows.ui.session import UiOperator

router = APIRouter()
HERE = "/ui/scorecard"


def scorecards(nav: tuple[NavItem, ...]) -> list[NavItem]:
    """The scorecard pages among the navigation entries (this directory itself excepted)."""
    return [item for item in nav if item.path != HERE and "scorecard" in item.path]


@router.get("/scorecard", response_class=HTMLResponse)
async def scorecard_directory(request: Request, who: UiOperator) -> HTMLResponse:
    ui = renderer(request)
    pages = [item for item in scorecards(ui.nav) if item.scoped or who.department is None]
    context = {"title": "Scorecards 考核", "pages": pages}
    return ui.page(request, "scorecard.html", context)
