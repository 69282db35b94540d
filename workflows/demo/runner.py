"""The demo's loop: the parts' events replayed on the engine hour by hour with the simulated clock.

Each simulated hour the events due are accepted in batches (as an upstream system posts them), the
engine settles (its outbox drained), the timer sweep fires what fell due, the engine settles again, every
part follows what is new, and the clock moves one hour on.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from rules import RuleSet
from workflows.demo.parts import DemoContext, DemoPart, Place
from workflows.errors import BadInput
from workflows.intake.core import Intake
from workflows.intake.envelope import EventStatus
from workflows.intake.tokens import Principal
from workflows.runtime import Runtime
from workflows.store.models import Outbox
from workflows.time.calendar import SHANGHAI
from workflows.time.clock import SimulatedClock, monotonic

#: events accepted per intake call (one transaction each)
BATCH = 200
#: the event type whose count the demo reports as its licenses (``workflows.upstream``)
LICENSE = "license.issued"
#: refusals kept for the report (the demo's own events should never be refused)
KEPT_REFUSALS = 5


@dataclass
class DemoResult:
    licenses: int
    events: int
    seconds: float
    #: each part's report, by plug-in name
    reports: dict[str, str]
    refused: int = 0
    refusals: list[str] = field(default_factory=list)


@dataclass(order=True)
class _Due:
    at: datetime
    seq: int
    event: dict[str, Any] = field(compare=False)


def build_parts(factories: Mapping[str, Callable[[], object]]) -> dict[str, DemoPart]:
    """Each plug-in's demo part, made by its factory (``Registry.demos``); raises ``TypeError`` naming
    the plug-in whose factory made something else."""
    parts: dict[str, DemoPart] = {}
    for name, factory in factories.items():
        part = factory()
        if not isinstance(part, DemoPart):
            raise TypeError(
                f"plug-in {name!r}: its demo factory made a {type(part).__name__}, not a demo part "
                "(load, prepare, follow and report: workflows.demo.parts.DemoPart)"
            )
        parts[name] = part
    return parts


def first_morning(now: datetime) -> datetime:
    """08:00 Asia/Shanghai of the day after ``now``: where a demo starts by default."""
    local = now.astimezone(SHANGHAI)
    return local.replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=1)


class DemoRunner:
    """Runs ``parts`` (by plug-in name, in plug-in order) together on ``runtime``."""

    def __init__(
        self,
        runtime: Runtime,
        ruleset: RuleSet,
        parts: Mapping[str, DemoPart],
        *,
        enterprises: int,
        days: int,
        seed: int,
        start: datetime | None = None,
    ) -> None:
        if not isinstance(runtime.clock, SimulatedClock):
            raise BadInput("the demo needs the simulated clock (YUNSHANG_CLOCK=simulated)")
        self.rt = runtime
        self.ruleset = ruleset
        self.clock = runtime.clock
        self.intake = Intake(runtime)
        self.who = Principal("demo", "admin", ("*",))
        self.start = start or first_morning(self.clock.now())
        if self.start <= self.clock.now():
            raise BadInput(
                f"start: {self.start.astimezone(SHANGHAI):%Y-%m-%d %H:%M} has passed on the demo's clock, "
                "which only moves forward; give a later day"
            )
        self.days = days
        self.parts = dict(parts)
        self.contexts = {
            name: DemoContext(
                runtime, ruleset, random.Random(seed), self.start, days, enterprises, seed, self._schedule
            )
            for name in self.parts
        }
        self.queue: list[_Due] = []
        self.seq = itertools.count()
        self.licenses = 0
        self.events = 0
        self.refused = 0
        self.refusals: list[str] = []
        self._pause = threading.Event()

    def prepare(self) -> dict[str, str]:
        """Load every part's data, spread the district over the places it holds, schedule the initial
        events; answers each part's line about what it set up."""
        places: dict[str, Place] = {}
        for name, part in self.parts.items():
            for place in part.load(self.contexts[name]):
                places.setdefault(place.grid, place)
        if not places:
            places = {g.code: Place(g.code, g.street) for g in self.ruleset.organisation.grids}
        for ctx in self.contexts.values():
            ctx.places = list(places.values())
        return {name: part.prepare(self.contexts[name]) for name, part in self.parts.items()}

    def _schedule(self, at: datetime, etype: str, source: str, data: dict[str, Any]) -> None:
        n = next(self.seq)
        event = {"specversion": "1.0", "id": f"demo-{n}", "source": source, "type": etype, "data": data}
        heapq.heappush(self.queue, _Due(at, n, event))

    def run(self, tail_days: int, tick: Callable[[int, int], None]) -> DemoResult:
        """The hours of the licenses and ``tail_days`` more; ``tick(done, total)`` after each hour."""
        started = monotonic()
        self.clock.advance(self.start - self.clock.now())
        hours = (self.days + tail_days) * 24
        for hour in range(hours):
            # the hour itself, not the clock's reading: the simulated clock runs on with real time
            # between the hours (seconds over a demo), and what falls due in an hour must not hang
            # on how fast this machine is
            now = self.start + timedelta(hours=hour)
            self._emit_due(now)
            self._settle()
            self.rt.sweeper.sweep()
            self._settle()
            for name, part in self.parts.items():
                part.follow(self.contexts[name], now)
            self.clock.advance(timedelta(hours=1))
            tick(hour + 1, hours)
        end = self.start + timedelta(days=self.days)
        reports = {
            name: part.report(self.contexts[name], self.start, end) for name, part in self.parts.items()
        }
        seconds = monotonic() - started
        return DemoResult(self.licenses, self.events, seconds, reports, self.refused, self.refusals)

    def _emit_due(self, now: datetime) -> None:
        batch = []
        while self.queue and self.queue[0].at <= now:
            batch.append(heapq.heappop(self.queue).event)
        for i in range(0, len(batch), BATCH):
            for status in self.intake.accept(batch[i : i + BATCH], self.who):
                self._count(status)
        self.events += len(batch)
        self.licenses += sum(1 for event in batch if event["type"] == LICENSE)

    def _count(self, status: EventStatus) -> None:
        if status.status in ("accepted", "duplicate"):
            return
        self.refused += 1
        if len(self.refusals) < KEPT_REFUSALS:
            why = "; ".join(f"{e.get('field', '')}: {e.get('message', '')}" for e in status.errors)
            self.refusals.append(f"{status.type} {status.id}: {status.status} {why}".strip())

    def _settle(self, timeout: float = 120.0) -> None:
        """Until every outbox message to this process's actors is done."""
        deadline = monotonic() + timeout
        while monotonic() < deadline:
            with self.rt.db.read() as s:
                left = s.execute(
                    select(func.count())
                    .select_from(Outbox)
                    .where(Outbox.done_at.is_(None), Outbox.actor.in_(self.rt.broker.get_declared_actors()))
                ).scalar_one()
            if not left:
                return
            self._pause.wait(0.005)  # a condition poll, not a clock read
        raise TimeoutError("the engine did not drain its outbox within two minutes")
