"""Where each accepted event type goes: start an instance or queue a trigger (in the intake's transaction).

A route validates what only the database can tell (an unknown case, an unknown enterprise) by raising
``BadInput``: the event is then rejected and nothing of it is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.engine.commands import Cause
from workflows.engine.core import Engine
from workflows.errors import BadInput
from workflows.flows.dual_notification.events import EventData, Uscc
from workflows.store.models import Instance


@dataclass(frozen=True)
class Envelope:
    id: str
    source: str
    type: str
    subject: str | None = None

    @property
    def cause(self) -> Cause:
        return Cause(kind="event", id=f"{self.source}#{self.id}")

    @property
    def dedupe_key(self) -> str:
        return f"event:{self.source}#{self.id}"[:250]


@dataclass
class RouteResult:
    result: str
    instances: list[int] = field(default_factory=list)


Handler = Callable[[Session, Engine, Envelope, Any], RouteResult]


@dataclass(frozen=True)
class Route:
    event_type: str
    model: type[EventData]
    handle: Handler


ROUTES: dict[str, Route] = {}


def route(event_type: str, model: type[EventData]) -> Callable[[Handler], Handler]:
    def register(handle: Handler) -> Handler:
        ROUTES[event_type] = Route(event_type, model, handle)
        return handle

    return register


def schemas() -> dict[str, type[EventData]]:
    """Every accepted event type with the model of its ``data``."""
    return {r.event_type: r.model for r in sorted(ROUTES.values(), key=lambda r: r.event_type)}


# -- the engine's demonstration flow ------------------------------------------------------------


class ToySubmitted(EventData):
    """`toy.submitted`: a case for the toy review flow (used by tests, benchmarks and the tutorial)."""

    case: str = Field(min_length=1, max_length=100)
    uscc: Uscc | None = None


class ToyDecided(EventData):
    """`toy.decided`: the toy case was decided."""

    case: str = Field(min_length=1, max_length=100)
    decision: str = Field(pattern="^(approve|reject)$")


@route("toy.submitted", ToySubmitted)
def _toy_submitted(session: Session, engine: Engine, event: Envelope, data: ToySubmitted) -> RouteResult:
    outcome = engine.start(session, "toy", data.case, subject=data.uscc, context={}, cause=event.cause)
    return RouteResult(outcome.status, [outcome.instance_id])


@route("toy.decided", ToyDecided)
def _toy_decided(session: Session, engine: Engine, event: Envelope, data: ToyDecided) -> RouteResult:
    found = session.execute(
        select(Instance.id).where(Instance.flow == "toy", Instance.business_key == data.case)
    ).scalar_one_or_none()
    if found is None:
        raise BadInput(f"data.case: no toy case {data.case!r}; send toy.submitted first")
    command = engine.command(
        "toy",
        "decide",
        cause=event.cause,
        dedupe_key=event.dedupe_key,
        payload={"decision": data.decision},
        instance_id=found,
    )
    engine.enqueue(session, command)
    return RouteResult("queued", [found])


def _register_flow_routes() -> None:
    """Import the modules whose routes register themselves (kept apart to keep this module small)."""
    import workflows.flows.dual_notification.routes  # noqa: F401


_register_flow_routes()
