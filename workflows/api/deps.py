"""Dependencies shared by the API's routers: the runtime, the caller's token and its scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from workflows.intake.core import Intake
from workflows.intake.tokens import Principal, TokenCache, verify
from workflows.queries.metrics import Metrics
from workflows.runtime import Runtime

bearer = HTTPBearer(auto_error=False, description="a source or operator token")

# The dependencies below do no blocking work, so they are ``async``: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hop per dependency per request.


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_intake(request: Request) -> Intake:
    intake: Intake = request.app.state.intake
    return intake


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def principal(
    request: Request,
    runtime: RuntimeDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise HTTPException(401, "send `Authorization: Bearer <token>`", {"WWW-Authenticate": "Bearer"})
    cache: TokenCache = request.app.state.tokens
    known, found = cache.get(creds.credentials)
    if not known:
        found = await run_in_threadpool(verify, runtime.db, creds.credentials)
        cache.put(creds.credentials, found)
    if found is None:
        raise HTTPException(401, "unknown or revoked token", {"WWW-Authenticate": "Bearer"})
    return found


async def scoped_operator(who: Annotated[Principal, Depends(principal)]) -> Principal:
    """An operator token, scoped to a department or not: the route itself limits what it shows and
    touches to ``who.department`` (``workflows.queries.scope``)."""
    if not who.operator:
        raise HTTPException(403, f"token {who.name!r} is not an operator token")
    return who


async def operator(who: Annotated[Principal, Depends(scoped_operator)]) -> Principal:
    """A district-wide operator token: a route that does not limit itself to a department refuses a
    department-scoped token (deny by default)."""
    if who.department is not None:
        raise HTTPException(
            403, f"token {who.name!r} is scoped to department {who.department}; this needs a district token"
        )
    return who


Caller = Annotated[Principal, Depends(principal)]
Operator = Annotated[Principal, Depends(operator)]
ScopedOperator = Annotated[Principal, Depends(scoped_operator)]
