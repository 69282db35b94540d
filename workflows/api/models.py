"""Request bodies of the operator actions, and the OpenAPI description of ``POST /events``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return False


class Body(BaseModel):
    """A request body: unknown fields refused, and no NUL character in any text, which no database
    text column keeps (the 422 names the field, and nothing is written)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _holds_nul(value):
            raise ValueError("NUL characters (\\u0000) are not allowed")
        return value


class ActionBody(Body):
    reason: str = Field(min_length=1, max_length=500, description="why: kept in the audit trail")


class ClockBody(Body):
    reason: str = Field(
        min_length=1, max_length=500, description="why (延期 approved by …): kept in the audit"
    )
    timer: str | None = Field(
        None, min_length=1, max_length=64, description="one timer of the state (default: all its open ones)"
    )


class AdvanceBody(Body):
    by: str = Field(min_length=1, max_length=40, description="a time span such as 49h, 2d, 90m")


_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["specversion", "id", "source", "type"],
    "properties": {
        "specversion": {"type": "string", "enum": ["1.0"]},
        "id": {"type": "string", "minLength": 1},
        "source": {"type": "string", "minLength": 1},
        "type": {"type": "string", "minLength": 1, "description": "see GET /events/schemas"},
        "subject": {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
        "data": {"type": "object"},
    },
}

EVENTS_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/cloudevents+json": {"schema": _EVENT},
            "application/json": {"schema": _EVENT},
            "application/cloudevents-batch+json": {
                "schema": {"type": "array", "items": _EVENT, "maxItems": 1000}
            },
        },
    },
}


class EventError(BaseModel):
    field: str
    message: str


class EventStatusBody(BaseModel):
    """What the intake says of one event: `accepted` (with what routing did), `duplicate` (the same
    source and id were accepted before: no second effect), `rejected` (the errors name the fields) or
    `forbidden` (the token may not emit the type, or post as the source)."""

    status: Literal["accepted", "duplicate", "rejected", "forbidden"]
    id: str | None
    source: str | None
    type: str | None
    result: str | None = None
    instances: list[int] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    errors: list[EventError] = Field(default_factory=list)
