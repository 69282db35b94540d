"""Dependencies shared by the API's routers: the runtime, the caller's token and its scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from workflows.intake import Intake
from workflows.metrics import Metrics
from workflows.runtime import Runtime
from workflows.tokens import Principal, verify

bearer = HTTPBearer(auto_error=False, description="a source or operator token")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_intake(request: Request) -> Intake:
    intake: Intake = request.app.state.intake
    return intake


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def principal(
    runtime: RuntimeDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise HTTPException(401, "send `Authorization: Bearer <token>`", {"WWW-Authenticate": "Bearer"})
    found = verify(runtime.db, creds.credentials)
    if found is None:
        raise HTTPException(401, "unknown or revoked token", {"WWW-Authenticate": "Bearer"})
    return found


def operator(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if not who.operator:
        raise HTTPException(403, f"token {who.name!r} is not an operator token")
    return who


Caller = Annotated[Principal, Depends(principal)]
Operator = Annotated[Principal, Depends(operator)]
