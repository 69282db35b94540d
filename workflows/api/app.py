"""The HTTP API (FastAPI): CloudEvents intake, health and metrics; operator routes in ``ops``; each
flow plug-in's own router.

``create_app(runtime)`` builds an app around a composed runtime; nothing is created at import.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Receive, Scope, Send

from workflows.api.bodies import Refused, binary_event, is_binary, parse_json, read_body
from workflows.api.bulk import router as bulk_router
from workflows.api.deps import Caller, RuntimeDep, get_intake, get_metrics
from workflows.api.errors import RESPONSES, ErrorBody
from workflows.api.errors import install as install_errors
from workflows.api.models import EVENTS_OPENAPI, EventStatusBody
from workflows.api.ops import router as ops_router
from workflows.errors import YunshangError
from workflows.intake.core import Intake
from workflows.intake.tokens import TokenCache
from workflows.messaging.brokers import ping
from workflows.queries.metrics import Metrics
from workflows.queries.reconcile import reconcile
from workflows.runtime import Runtime
from workflows.ui.app import install as install_ui

BATCH_TYPE = "application/cloudevents-batch+json"
STRUCTURED_TYPE = "application/cloudevents+json"
#: the media types ``POST /events`` takes (structured mode, plain JSON, a batch)
EVENT_TYPES = (STRUCTURED_TYPE, "application/json", BATCH_TYPE)
log = logging.getLogger("yunshang.api")
router = APIRouter()


def create_app(runtime: Runtime) -> FastAPI:
    """The app: intake, health and metrics, the operator routes, and each flow plug-in's router."""
    follower = runtime.follower  # the API has no worker: follow rule reloads on its own

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if follower is not None:
            follower.start()
        try:
            yield
        finally:
            if follower is not None:
                follower.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="yunshang",
        version="0.1.0",
        description="Event intake, operator queries and actions of the supervision workflow engine.",
        docs_url=None,  # served below from the vendored assets, not a CDN
        redoc_url=None,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _serve_docs(app)
    app.add_middleware(RefuseNul)
    app.add_middleware(
        HeaderLimits, count=runtime.settings.max_header_count, size=runtime.settings.max_header_bytes
    )
    app.state.runtime = runtime
    app.state.intake = Intake(runtime)
    app.state.tokens = TokenCache(ttl=runtime.settings.token_cache_seconds)
    app.state.metrics = Metrics(runtime.db, runtime.clock, runtime.recovery.view)
    app.include_router(router, responses=RESPONSES)
    app.include_router(ops_router, responses=RESPONSES)
    app.include_router(bulk_router, responses=RESPONSES)
    for plugin in runtime.registry.plugins:
        if plugin.router is not None:
            app.include_router(plugin.router(), responses=RESPONSES)
    install_errors(app)
    app.add_exception_handler(YunshangError, _error)  # type: ignore[arg-type]
    for unavailable in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(unavailable, _unavailable)
    install_ui(app, runtime)
    return app


#: the vendored Swagger UI and ReDoc (``static/VENDORED.md``)
STATIC = Path(__file__).parent / "static"


def _serve_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` from the package's own assets: they work offline."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="yunshang API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="yunshang API",
            redoc_js_url="/static/redoc/redoc.standalone.js",
            redoc_favicon_url="/static/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )


class HeaderLimits:
    """Refuse a request with more than ``count`` headers, or more than ``size`` bytes of them, with
    431 before any route runs (plain ASGI, like ``RefuseNul``)."""

    def __init__(self, app: ASGIApp, count: int, size: int) -> None:
        self.app, self.count, self.size = app, count, size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope.get("headers", [])
            total = sum(len(name) + len(value) for name, value in headers)
            if len(headers) > self.count or total > self.size:
                detail = (
                    f"the request has {len(headers)} headers of {total:,} bytes; "
                    f"at most {self.count} headers of {self.size:,} bytes are taken"
                )
                response = JSONResponse({"code": "headers_too_large", "detail": detail, "errors": []}, 431)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RefuseNul:
    """A NUL character fits no database text column: refuse it in the URL up front (plain ASGI, so
    that a request costs no extra task or stream, as an ``@app.middleware("http")`` one would)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"] or "%00" in scope["path"]
        ):
            response = JSONResponse(
                {"code": "bad_input", "detail": "NUL characters are not allowed in the URL"}, 422
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _error(request: Request, exc: YunshangError) -> JSONResponse:
    field = getattr(exc, "field", None)  # an error that names its field lists it (``TimerConflict``)
    errors = [{"field": field, "message": str(exc)}] if isinstance(field, str) else []
    return JSONResponse({"code": exc.code, "detail": str(exc), "errors": errors}, status_code=exc.http_status)


#: seconds a client is asked to wait when the database does not answer
RETRY_AFTER = 5


def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database does not answer (down, restarting, a lock or statement timeout): nothing was
    accepted; the client should send again later (dedupe makes a repeat harmless)."""
    log.warning("%s %s: database unavailable: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {
            "code": "unavailable",
            "detail": "the database is unavailable; send again later",
        },
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER)},
    )


@router.post(
    "/events",
    status_code=202,
    openapi_extra=EVENTS_OPENAPI,
    tags=["events"],
    responses={
        202: {"model": EventStatusBody | list[EventStatusBody], "description": "accepted or duplicate"},
        403: {"model": EventStatusBody | ErrorBody, "description": "the token may not emit this"},
        422: {"model": EventStatusBody | ErrorBody, "description": "invalid: the errors name the fields"},
    },
)
async def post_events(
    request: Request,
    who: Caller,
    intake: Annotated[Intake, Depends(get_intake)],
    metrics: Annotated[Metrics, Depends(get_metrics)],
) -> JSONResponse:
    """One CloudEvent — structured (the JSON body) or binary (`ce-*` headers, the body its JSON data) —
    or a batch (`application/cloudevents-batch+json`, ≤ 1,000)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    settings = request.app.state.runtime.settings
    binary = is_binary(request.headers.keys())
    if not binary and media not in EVENT_TYPES:
        named = f"Content-Type {media!r}" if media else "no Content-Type"
        detail = f"{named}: send {', '.join(EVENT_TYPES)}, or an event in binary mode (ce-* headers)"
        return JSONResponse({"code": "unsupported_media_type", "detail": detail}, status_code=415)
    try:
        body = await read_body(request, settings.max_body_bytes)
        if binary:
            payload: Any = binary_event(request.headers.items(), media, body, settings.max_json_depth)
        else:
            payload = parse_json(body, settings.max_json_depth)
    except Refused as refused:
        return JSONResponse({"code": refused.code, "detail": refused.detail}, status_code=refused.status)
    batch = media == BATCH_TYPE and not binary
    if batch and not isinstance(payload, list):
        return JSONResponse({"code": "bad_batch", "detail": "a batch is a JSON array of events"}, 422)
    if media == STRUCTURED_TYPE and isinstance(payload, list):
        detail = f"{STRUCTURED_TYPE} holds one event (a JSON object); send a batch as {BATCH_TYPE}"
        return JSONResponse({"code": "bad_event", "detail": detail}, 422)
    if isinstance(payload, list) and not payload:
        detail = "the batch is empty: send 1 to 1,000 events"
        return JSONResponse({"code": "bad_batch", "detail": detail}, 422)
    events = payload if isinstance(payload, list) else [payload]
    statuses = await run_in_threadpool(intake.accept, events, who)  # blocking DB work off the loop
    known = request.app.state.runtime.registry.events
    for s in statuses:  # label values only from known sets: a caller cannot grow them without bound
        etype = s.type if s.type in known else "other"
        source = s.source if s.source and who.sources and s.source in who.sources else "other"
        metrics.events.labels(etype, source, s.status).inc()
    if isinstance(payload, list):
        return JSONResponse([s.as_json() for s in statuses], status_code=202)
    (only,) = statuses
    code = {"accepted": 202, "duplicate": 202, "rejected": 422, "forbidden": 403}[only.status]
    return JSONResponse(only.as_json(), status_code=code)


@router.get("/events/schemas", tags=["events"])
def event_schemas(runtime: RuntimeDep) -> dict[str, Any]:
    """The JSON Schema of `data` for every accepted event type."""
    events = runtime.registry.events
    return {name: events[name].model.model_json_schema() for name in sorted(events)}


@router.get("/healthz", tags=["health"])
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "alive"}


@router.get("/readyz", tags=["health"])
def readyz(runtime: RuntimeDep) -> JSONResponse:
    """503 when the database or the broker does not answer, or when the reconciliation is degraded:
    an accepted event without its effect, an unfinished outbox row or a dead letter only in the
    broker older than ``stale_after`` (route traffic on ``/healthz``; this is the alarm)."""
    checks: dict[str, Any] = {}
    try:
        with runtime.db.read() as s:
            s.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        ping(runtime.broker)
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"unreachable: {type(exc).__name__}"
    if any(v != "ok" for v in checks.values()):
        return JSONResponse({"ready": False, "status": "unreachable", **checks}, status_code=503)
    report = reconcile(runtime.db, runtime.recovery.view, runtime.clock.now())
    stale = report.stale(runtime.settings.stale_after)
    body = {
        "ready": not stale,
        "status": "degraded" if stale else "ok",
        **checks,
        "stale": stale,
        "reconciliation": report.as_json(),
    }
    return JSONResponse(body, status_code=503 if stale else 200)


@router.get("/metrics", tags=["health"], response_class=PlainTextResponse)
def get_metrics_text(metrics: Annotated[Metrics, Depends(get_metrics)]) -> PlainTextResponse:
    """Prometheus metrics."""
    return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
