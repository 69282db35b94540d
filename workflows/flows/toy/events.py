"""The toy flow's events: ``toy.submitted`` starts a review case, ``toy.decided`` decides it."""

from __future__ import annotations

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from state_machines import toy
from workflows.engine.core import Engine
from workflows.errors import BadInput
from workflows.plugins.events import EventData, Uscc
from workflows.plugins.routes import Envelope, EventRoute, RouteResult
from workflows.store.models import Instance


class ToySubmitted(EventData):
    """`toy.submitted`: a case for the toy review flow (used by tests, benchmarks and the tutorial)."""

    case: str = Field(min_length=1, max_length=100)
    uscc: Uscc | None = None


class ToyDecided(EventData):
    """`toy.decided`: the toy case was decided."""

    case: str = Field(min_length=1, max_length=100)
    decision: str = Field(pattern="^(approve|reject)$")


def submitted(session: Session, engine: Engine, event: Envelope, data: ToySubmitted) -> RouteResult:
    outcome = engine.start(
        session, toy.FLOW.name, data.case, subject=data.uscc, context={}, cause=event.cause
    )
    return RouteResult(outcome.status, [outcome.instance_id])


def decided(session: Session, engine: Engine, event: Envelope, data: ToyDecided) -> RouteResult:
    found = session.execute(
        select(Instance.id).where(Instance.flow == toy.FLOW.name, Instance.business_key == data.case)
    ).scalar_one_or_none()
    if found is None:
        raise BadInput(f"data.case: no toy case {data.case!r}; send toy.submitted first")
    command = engine.command(
        toy.FLOW.name,
        toy.T.decide,
        cause=event.cause,
        dedupe_key=event.dedupe_key,
        payload={"decision": data.decision},
        instance_id=found,
    )
    engine.enqueue(session, command)
    return RouteResult("queued", [found])


EVENTS = (
    EventRoute("toy.submitted", ToySubmitted, submitted),
    EventRoute("toy.decided", ToyDecided, decided),
)
