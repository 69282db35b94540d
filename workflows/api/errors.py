"""One error body for every refusal the API gives (``{"code", "detail", "errors"}``), its handlers,
and the responses every route declares in the OpenAPI document, so that what the API answers is what
its description says (checked by schemathesis's conformance run)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

#: the code of each HTTP status the framework itself refuses with
_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


class FieldError(BaseModel):
    field: str = Field(description="where: `data.uscc`, `query.limit`, `header Idempotency-Key`…")
    message: str


class ErrorBody(BaseModel):
    """A refusal: a stable `code`, a `detail` saying what to do, and the fields at fault."""

    code: str
    detail: str
    errors: list[FieldError] = Field(default_factory=list)


def _described(text: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": text}


#: the refusals a route may give, declared on every route (FastAPI's own 422 schema is replaced)
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _described("bad request"),
    401: _described("no token, or an unknown or revoked one"),
    403: _described("the token may not do this"),
    404: _described("no such resource"),
    409: _described("refused in the current state"),
    413: _described("the body is too large"),
    415: _described("unsupported media type"),
    422: _described("invalid input: the errors name the fields"),
    431: _described("too many request headers, or too large"),
    503: _described("the database or the broker is unavailable; send again later (Retry-After)"),
}


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "request"


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))} for e in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return JSONResponse({"code": "bad_input", "detail": detail, "errors": errors}, status_code=422)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _CODES.get(exc.status_code, f"http_{exc.status_code}")
    body = {"code": code, "detail": str(exc.detail), "errors": []}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
