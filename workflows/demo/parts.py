"""What a flow plug-in brings to the demo: a part (``DemoPart``) that plays the people and systems of
its flow against the engine, and the context (``DemoContext``) the runner hands it.

A part is driven in four steps, every part at each step before the next:

1. ``load(ctx)`` — the data the flow needs before anything happens (a directory); it answers the
   places (grids) that data holds, where the district's enterprises are then spread;
2. ``prepare(ctx)`` — the initial events (the week's licenses), scheduled with ``ctx.schedule``; it
   answers one line saying what it set up;
3. ``follow(ctx, now)`` — every simulated hour (``now``: the hour, ``start`` + n hours), after the
   engine has settled: the reactions of the people to what is new (a department claims its notices, a
   grid worker checks the shop), scheduled for later hours; a part meets what is new in an order of
   its facts, not of instance ids (the worker threads commit in any order), so that a seed replays the
   same week;
4. ``report(ctx, start, end)`` — the flow's scorecard as text, over ``[start, end)``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from rules import RuleSet
from workflows.runtime import Runtime

#: (at, CloudEvent type, source, data) → the event is emitted at the first simulated hour ≥ ``at``
Schedule = Callable[[datetime, str, str, dict[str, Any]], None]


@dataclass(frozen=True)
class Place:
    """A grid of the district and the street it belongs to, where an enterprise can be."""

    grid: str
    street: str


@dataclass
class DemoContext:
    """What a part sees: the running engine, the rules, its own random generator and the demo's span.

    Each part gets a generator of its own seeded with the demo's seed, so that adding or removing a
    part changes none of the draws of the others."""

    runtime: Runtime
    ruleset: RuleSet
    rng: random.Random
    #: the first simulated moment (08:00 Asia/Shanghai of the first day)
    start: datetime
    #: days of licenses (``--days``) and enterprises licensed in them (``--enterprises``)
    days: int
    enterprises: int
    seed: int
    schedule: Schedule
    #: where enterprises are: the places the parts' data hold, else the rule set's grids
    places: list[Place] = field(default_factory=list)


@runtime_checkable
class DemoPart(Protocol):
    """A plug-in's part of the demo (``FlowPlugin.demo`` makes one)."""

    def load(self, ctx: DemoContext) -> Sequence[Place]: ...

    def prepare(self, ctx: DemoContext) -> str: ...

    def follow(self, ctx: DemoContext, now: datetime) -> None: ...

    def report(self, ctx: DemoContext, start: datetime, end: datetime) -> str: ...
