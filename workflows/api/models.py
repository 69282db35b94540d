"""Request bodies of the operator actions, and the OpenAPI description of ``POST /events``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500, description="why: kept in the audit trail")


class AdvanceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
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
    "responses": {
        "202": {"description": "accepted or duplicate (per event in a batch)"},
        "401": {"description": "no or bad token"},
        "403": {"description": "the token may not emit this type"},
        "422": {"description": "invalid event: the error names the field"},
    },
}
