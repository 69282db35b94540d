"""Where an accepted event type goes: a route starts an instance or queues a trigger, in the intake's
transaction. Flow plug-ins declare their routes (``EventRoute``); the intake looks them up by type.

A route validates what only the database can tell (an unknown case, an unknown enterprise) by raising
``BadInput``: the event is then rejected and nothing of it is kept.

Routes are called event by event. A plug-in whose routes read the database may also declare a
``Prefetch`` (``FlowPlugin.prefetch``): the intake calls it once per batch, before routing, with every
event of the batch the plug-in routes, so that it reads in one query what its routes would ask one by
one (into the session's identity map or ``session.info``, which lives as long as the transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from workflows.engine.commands import Cause
from workflows.engine.core import Engine
from workflows.plugins.events import EventData


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
#: (session, [(event type, validated data)] of a batch's events the plug-in routes) → None; it only
#: reads (a route still checks everything itself), and a batch with none of its events does not call it
Prefetch = Callable[[Session, Sequence[tuple[str, Any]]], None]


@dataclass(frozen=True)
class EventRoute:
    """One accepted CloudEvent type: the model of its ``data`` and what to do with it."""

    event_type: str
    model: type[EventData]
    handle: Handler
