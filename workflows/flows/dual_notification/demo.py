"""The demo: a week of a synthetic district's licenses through dual notification, on the embedded
stack with the simulated clock. Departments claim on their own habits (some late, some never), permits
follow for most claimed notices; the clock moves hour by hour and the scorecard closes the week."""

from __future__ import annotations

import heapq
import itertools
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from rules import RuleSet
from state_machines.dual_notification import FLOW_NAME
from workflows.flows.dual_notification.demo_data import claim_delay, district
from workflows.flows.dual_notification.scorecard import Scorecard, scorecard
from workflows.intake.core import Intake
from workflows.intake.tokens import Principal
from workflows.runtime import Runtime
from workflows.store.models import Instance, Outbox
from workflows.time.calendar import SHANGHAI, Duration
from workflows.time.clock import SimulatedClock, monotonic

SOURCE = "/demo/registration"
DEPARTMENT_APP = "/demo/officer-app"
PERMIT_SHARE = 0.92


@dataclass
class DemoResult:
    card: Scorecard
    licenses: int
    events: int
    seconds: float


@dataclass(order=True)
class _Due:
    at: datetime
    seq: int
    event: dict[str, Any] = field(compare=False)


class Demo:
    def __init__(self, runtime: Runtime, ruleset: RuleSet, *, enterprises: int, days: int, seed: int) -> None:
        if not isinstance(runtime.clock, SimulatedClock):
            raise ValueError("the demo needs the simulated clock (YUNSHANG_CLOCK=simulated)")
        self.rt = runtime
        self.clock = runtime.clock
        self.ruleset = ruleset
        self.intake = Intake(runtime)
        self.who = Principal("demo", "admin", ("*",))
        self.rng = random.Random(seed)
        self.queue: list[_Due] = []
        self.seq = itertools.count()
        self.seen_notice = 0
        self.events = 0
        self._pause = threading.Event()
        now = self.clock.now().astimezone(SHANGHAI)
        self.start = now.replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=1)
        self.days = days
        for lic in district(ruleset, enterprises, self.start, days, seed):
            self._schedule(lic.at, "license.issued", SOURCE, lic.data)
        self.licenses = enterprises

    def _schedule(self, at: datetime, etype: str, source: str, data: dict[str, Any]) -> None:
        n = next(self.seq)
        heapq.heappush(
            self.queue,
            _Due(
                at,
                n,
                {"specversion": "1.0", "id": f"demo-{n}", "source": source, "type": etype, "data": data},
            ),
        )

    def run(self, tail_days: int, tick: Callable[[int, int], None]) -> DemoResult:
        started = monotonic()
        self.clock.advance(self.start - self.clock.now())
        hours = (self.days + tail_days) * 24
        for hour in range(hours):
            now = self.clock.now()
            self._emit_due(now)
            self._settle()
            self.rt.sweeper.sweep()
            self._settle()
            self._follow_new_notices(now)
            self.clock.advance(timedelta(hours=1))
            tick(hour + 1, hours)
        end = self.start + timedelta(days=self.days)
        card = scorecard(
            self.rt.db,
            self.rt.engine.calendar,
            start=self.start,
            end=end,
            now=self.clock.now(),
            ruleset=self.ruleset,
        )
        return DemoResult(card, self.licenses, self.events, monotonic() - started)

    def _emit_due(self, now: datetime) -> None:
        batch = []
        while self.queue and self.queue[0].at <= now:
            batch.append(heapq.heappop(self.queue).event)
        for i in range(0, len(batch), 200):
            self.intake.accept(batch[i : i + 200], self.who)
        self.events += len(batch)

    def _settle(self, timeout: float = 120.0) -> None:
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

    def _follow_new_notices(self, now: datetime) -> None:
        """Departments claim new notices on their habits; most claimed ones get a permit later."""
        with self.rt.db.read() as s:
            rows = s.execute(
                select(Instance.id, Instance.context)
                .where(Instance.flow == FLOW_NAME, Instance.id > self.seen_notice)
                .order_by(Instance.id)
            ).all()
        for notice_id, ctx in rows:
            self.seen_notice = max(self.seen_notice, notice_id)
            delay = claim_delay(str(ctx.get("department")), self.rng)
            if delay is None:
                continue
            claimed = now + timedelta(hours=delay)
            self._schedule(
                claimed,
                "notice.claimed",
                DEPARTMENT_APP,
                {
                    "notice": notice_id,
                    "officer": f"officer-{self.rng.randint(1, 800):03d}",
                    "claimed_at": claimed.isoformat(),
                },
            )
            if self.rng.random() < PERMIT_SHARE:
                issued = self.rt.engine.calendar.add(
                    claimed, Duration.parse(f"{self.rng.randint(1, 4)} working days")
                )
                at = issued.due_at - timedelta(hours=self.rng.randint(3, 12))
                self._schedule(
                    at,
                    "permit.issued",
                    DEPARTMENT_APP,
                    {
                        "uscc": ctx["uscc"],
                        "permit_item": ctx["permit"],
                        "department": ctx["department"],
                        "permit_no": f"{ctx['permit'][:3]}{self.rng.randint(10**6, 10**7 - 1)}",
                        "issued_at": at.isoformat(),
                    },
                )
