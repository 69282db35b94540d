"""Where an accepted event type goes: a route starts an instance or queues a trigger, in the intake's
transaction. Flow plug-ins declare their routes (``EventRoute``); the intake looks them up by type.

A route validates what only the database can tell (an unknown case, an unknown enterprise) by raising
``BadInput``: the event is then rejected and nothing of it is kept.

Routes are called event by event. A plug-in whose routes read the database may also declare a
``Prefetch`` (``FlowPlugin.prefetch``): the intake calls it once per batch, before routing, with every
event of the batch the plug-in routes, so that it reads in one query what its routes would ask one by
one (into the session's identity map or ``session.info``, which lives as long as the transaction).

A plug-in whose routes write a row per event may declare a ``BatchWrite`` (``FlowPlugin.batch_write``):
when a batch is routed whole, the intake calls it once, after the prefetches and before routing, with
every event of the batch the plug-in will route (duplicates left out), so that it writes in one
statement what its routes would write one by one, leaving in ``session.info`` what they need to answer.
It runs in the batch's transaction: if any event of the batch is refused, it is rolled back with the
rest and the batch is redone event by event, in savepoints, without it — so a route still writes
itself whatever the batch write did not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.engine.commands import Cause
from workflows.engine.core import Engine
from workflows.plugins.events import EventData
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
#: (session, [(event type, validated data)] of a batch's events the plug-in routes) → None; it only
#: reads (a route still checks everything itself), and a batch with none of its events does not call it
Prefetch = Callable[[Session, Sequence[tuple[str, Any]]], None]
#: (session, engine, [(event type, data)]) → None: the rows a batch's routes would write, written at once
BatchWrite = Callable[[Session, Engine, Sequence[tuple[str, Any]]], None]


def hold_instances(session: Session, ids: Iterable[int], key: str) -> None:
    """A prefetch's helper: the instances ``ids`` in one query, into the session's identity map (where
    ``session.get`` finds them with no query) and held in ``session.info[key]`` for the transaction (the
    identity map holds them only weakly). Ids of no instance load nothing: the route still finds out."""
    wanted = sorted(set(ids))
    if wanted:
        loaded = session.scalars(select(Instance).where(Instance.id.in_(wanted))).all()
        session.info.setdefault(key, []).extend(loaded)


@dataclass(frozen=True)
class EventRoute:
    """One accepted CloudEvent type: the model of its ``data`` and what to do with it."""

    event_type: str
    model: type[EventData]
    handle: Handler
