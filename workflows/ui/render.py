"""Rendering: one Jinja2 environment over the core templates and each flow plug-in's own, with the
dashboard's filters (local times in Asia/Shanghai), the navigation and the session's CSRF token."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from workflows.time.calendar import SHANGHAI

TEMPLATES = Path(__file__).parent / "templates"
WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    #: shown to department-scoped operators too (the page limits itself to their department)
    scoped: bool = True


#: the core screens, in the order of the navigation bar
CORE_NAV = (
    NavItem("Overview", "/ui/"),
    NavItem("Instances", "/ui/instances"),
    NavItem("Enterprises", "/ui/enterprises"),
    NavItem("Scorecard", "/ui/scorecard"),
    NavItem("Dead letters", "/ui/deadletters", scoped=False),
    NavItem("Bulk actions", "/ui/bulk", scoped=False),
    NavItem("Rules", "/ui/rules", scoped=False),
)


def _moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local(value: Any, with_weekday: bool = True) -> str:
    """An instant as Beijing time: ``2026-12-03 周四 16:00``."""
    moment = _moment(value)
    if moment is None:
        return "—"
    at = moment.astimezone(SHANGHAI)
    day = f" 周{WEEKDAYS[at.weekday()]}" if with_weekday else ""
    return f"{at:%Y-%m-%d}{day} {at:%H:%M}"


def iso(value: Any) -> str:
    moment = _moment(value)
    return moment.isoformat() if moment else ""


class Renderer:
    """The templates of the core and of the plug-ins (``FlowPlugin.templates``)."""

    def __init__(self, extra_dirs: Iterable[Path] = (), nav: Iterable[NavItem] = ()) -> None:
        loaders = [FileSystemLoader(str(TEMPLATES)), *(FileSystemLoader(str(d)) for d in extra_dirs)]
        env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(["html", "j2"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["local"] = local
        env.filters["iso"] = iso
        self.env = env
        self.templates = Jinja2Templates(env=env)
        self.nav: tuple[NavItem, ...] = (*CORE_NAV, *nav)

    def page(
        self, request: Request, name: str, context: Mapping[str, Any] | None = None, status_code: int = 200
    ) -> HTMLResponse:
        """Render template ``name`` for the logged-in operator (``request.state.who``)."""
        who = getattr(request.state, "who", None)
        scoped = who is not None and who.department is not None
        values: dict[str, Any] = {
            "who": who,
            "csrf": getattr(request.state, "csrf", ""),
            "nav": [item for item in self.nav if item.scoped or not scoped],
            "path": request.url.path,
            "now": request.app.state.runtime.clock.now(),
            **(context or {}),
        }
        return self.templates.TemplateResponse(request, name, values, status_code=status_code)


def renderer(request: Request) -> Renderer:
    found: Renderer = request.app.state.ui
    return found
