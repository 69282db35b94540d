"""``install(app, runtime)``: the dashboard's routes on the API's app, at ``/ui``.

The login form and the session cookie (``session``), the core screens (``pages/``), each flow
plug-in's own pages (``FlowPlugin.pages``, with its templates and navigation entries), the vendored
assets at ``/ui/static``, and HTML error pages for the dashboard's paths (the JSON API keeps its JSON
error bodies).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from workflows.errors import YunshangError
from workflows.runtime import Runtime
from workflows.ui.pages import (
    bulk,
    deadletters,
    enterprise,
    instance,
    instances,
    overview,
    rules,
    scorecard,
)
from workflows.ui.render import NavItem, Renderer, renderer
from workflows.ui.session import COOKIE, LoginRequired, login_url, lookup, safe_next

STATIC = Path(__file__).parent / "static"
Handler = Callable[[Request, Exception], Awaitable[Response]]
router = APIRouter(prefix="/ui", include_in_schema=False)


def install(app: FastAPI, runtime: Runtime) -> None:
    """Add the dashboard to ``app`` (after the API's own routes and error handlers)."""
    plugins = runtime.registry.plugins
    app.state.ui = Renderer(
        extra_dirs=[Path(p.templates) for p in plugins if p.templates is not None],
        nav=[NavItem(label, path, scoped) for p in plugins for label, path, scoped in p.nav],
    )
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    app.include_router(router)
    for module in (overview, instances, instance, enterprise, scorecard, deadletters, bulk, rules):
        app.include_router(module.router, prefix="/ui", include_in_schema=False)
    for plugin in plugins:
        if plugin.pages is not None:
            app.include_router(plugin.pages(), prefix="/ui", include_in_schema=False)
    app.add_exception_handler(LoginRequired, _to_login)  # type: ignore[arg-type]
    for kind in (HTTPException, RequestValidationError, YunshangError):
        app.add_exception_handler(kind, _html_on_ui(app.exception_handlers.get(kind)))


async def _to_login(request: Request, exc: LoginRequired) -> Response:
    if request.headers.get("hx-request"):  # an htmx fragment: have the whole page go to the login,
        # and back to that page (not to the fragment) after it
        current = urlsplit(request.headers.get("hx-current-url", ""))
        back = (
            safe_next(current.path + (f"?{current.query}" if current.query else "")) if current.path else None
        )
        return Response(status_code=401, headers={"HX-Redirect": login_url(back or exc.next_path)})
    return RedirectResponse(login_url(exc.next_path), status_code=303)


def _status_of(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, HTTPException):
        return exc.status_code, str(exc.detail)
    if isinstance(exc, RequestValidationError):
        fields = [".".join(str(p) for p in e.get("loc", ())) + ": " + str(e.get("msg")) for e in exc.errors()]
        return 422, "; ".join(fields) or "invalid request"
    if isinstance(exc, YunshangError):
        return exc.http_status, str(exc)
    return 500, "internal error"


def _html_on_ui(fallback: Any) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith("/ui") or request.url.path.startswith("/ui/static"):
            if fallback is None:
                raise exc
            response = fallback(request, exc)
            if inspect.isawaitable(response):
                response = await response
            assert isinstance(response, Response)
            return response
        status, detail = _status_of(exc)
        return renderer(request).page(
            request, "error.html", {"status": status, "detail": detail, "title": f"{status}"}, status
        )

    return handle


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return renderer(request).page(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login")
async def login(
    request: Request,
    token: Annotated[str, Form(max_length=500)],
    next: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    """Check the token; an operator's is kept in the session cookie. A wrong one is refused (401)."""
    found = await lookup(request, token.strip()) if token.strip() else None
    if found is None or not found.operator:
        error = "unknown or revoked token" if found is None else f"{found.name} is not an operator token"
        return renderer(request).page(
            request, "login.html", {"next": safe_next(next), "error": error}, status_code=401
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        token.strip(),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/ui",
    )
    return response


@router.post("/logout")
def logout() -> Response:
    """Clear the session cookie (a logout needs no CSRF check: it only takes rights away)."""
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/ui")
    return response
