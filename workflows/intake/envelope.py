"""The CloudEvent envelope as the intake reads it (structured JSON mode), and each event's status."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from workflows import uscc

Status = Literal["accepted", "duplicate", "rejected", "forbidden"]


class CloudEvent(BaseModel):
    """A CloudEvent 1.0 in structured JSON mode. Extension attributes are allowed."""

    model_config = ConfigDict(extra="allow")
    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=100)
    subject: str | None = Field(default=None, max_length=200)
    time: AwareDatetime | None = None
    datacontenttype: str | None = None
    dataschema: str | None = None
    data: Any = None

    @model_validator(mode="after")
    def _extensions_are_scalars(self) -> CloudEvent:
        """An extension attribute is a string, a number or a boolean (CloudEvents 1.0 type system)."""
        for name, value in (self.model_extra or {}).items():
            if not re.fullmatch(r"[a-z0-9]{1,20}", name):
                raise ValueError(f"extension attribute {name!r}: a name is 1-20 lower-case letters or digits")
            if value is not None and not isinstance(value, str | int | float | bool):
                raise ValueError(f"extension attribute {name!r}: its value is a string, number or boolean")
        return self


@dataclass
class EventStatus:
    status: Status
    id: str | None = None
    source: str | None = None
    type: str | None = None
    result: str | None = None
    instances: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "id": self.id, "source": self.source, "type": self.type}
        if self.result is not None:
            out["result"] = self.result
            out["instances"] = self.instances
        if self.warnings:
            out["warnings"] = self.warnings
        if self.errors:
            out["errors"] = self.errors
        return out


def field_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    return [
        {
            "field": prefix + ".".join(str(p) for p in err["loc"])
            if err["loc"]
            else prefix.rstrip(".") or "event",
            "message": err["msg"],
        }
        for err in exc.errors()
    ]


def identity(raw: Any) -> tuple[str | None, str | None, str | None]:
    if not isinstance(raw, dict):
        return None, None, None
    return tuple(str(raw[k]) if isinstance(raw.get(k), str) else None for k in ("id", "source", "type"))  # type: ignore[return-value]


def nul_path(value: Any, path: str) -> str | None:
    """The path of the first string (or key) holding a NUL character, which no database text keeps."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items: Any = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    )
    for key, item in items:
        here = f"{path}.{key}".lstrip(".") if isinstance(key, str) else f"{path}[{key}]"
        if isinstance(key, str) and "\x00" in key:
            return here
        found = nul_path(item, here)
        if found is not None:
            return found
    return None


def uscc_warnings(data: BaseModel) -> list[str]:
    warnings = []
    for name, value in data:
        if name == "uscc" and isinstance(value, str):
            warning = uscc.check_warning(value)
            if warning:
                warnings.append(f"data.uscc: {warning}")
    return warnings
