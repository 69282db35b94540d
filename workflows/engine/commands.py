"""The messages the engine sends itself, and their validation at the edge."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from state_machines.base import Flow
from workflows.errors import InvalidCommand, InvalidPayload, NaiveDatetime, UnknownFlow, UnknownTrigger

CauseKind = Literal["event", "timer", "operator", "message", "system"]


class Cause(BaseModel):
    """Who or what caused a transition: an event id, a timer id, an operator, an outbox message."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: CauseKind
    id: str | None = None
    operator: str | None = None
    reason: str | None = None


class StartSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)


class Command(BaseModel):
    """Fire ``trigger`` on one instance (by id, or by business key, optionally starting it first).

    ``dedupe_key`` makes redelivery a no-op: one (instance, dedupe_key) is applied at most once.
    """

    model_config = ConfigDict(extra="forbid")
    flow: str
    trigger: str
    instance_id: int | None = None
    business_key: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    cause: Cause
    dedupe_key: str = Field(min_length=1, max_length=250)
    start: StartSpec | None = None


def check_aware(value: Any, path: str) -> None:
    """Reject naive datetimes anywhere inside a payload, naming the field."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetime(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_aware(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_aware(item, f"{path}[{i}]")


def validate_payload(
    flows: dict[str, Flow], flow_name: str, trigger: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """Check flow, trigger and payload; return the payload as JSON-ready data. Raises BadInput."""
    flow = flows.get(flow_name)
    if flow is None:
        raise UnknownFlow(flow_name, list(flows))
    spec = flow.trigger(trigger)
    if spec is None:
        raise UnknownTrigger(flow_name, trigger, [t.name for t in flow.triggers])
    check_aware(payload, "payload")
    if spec.payload is None:
        if payload:
            raise InvalidPayload(
                f"{flow_name}.{trigger}", [f"payload: this trigger takes no payload, got {sorted(payload)}"]
            )
        return {}
    try:
        model = spec.payload.model_validate(payload)
    except ValidationError as exc:
        problems = [f"payload.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise InvalidPayload(f"{flow_name}.{trigger}", problems) from None
    for name, value in model:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise NaiveDatetime(f"payload.{name}")
    return model.model_dump(mode="json", exclude_unset=True)


def parse_command(raw: Any) -> Command:
    """The command a message carries; raises InvalidCommand naming every bad field (not transient:
    such a message is dead-lettered at once)."""
    try:
        command = Command.model_validate(raw)
    except ValidationError as exc:
        where = "command"
        if isinstance(raw, dict) and isinstance(raw.get("flow"), str) and isinstance(raw.get("trigger"), str):
            where = f"{raw['flow']}.{raw['trigger']}"
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or 'command'}: {err['msg']}" for err in exc.errors()
        ]
        raise InvalidCommand(where, problems) from None
    if command.instance_id is None and command.business_key is None:
        raise InvalidCommand.no_target(f"{command.flow}.{command.trigger}")
    return command
