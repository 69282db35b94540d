"""Prometheus metrics: in-process counters for the intake, and figures read from the database at
scrape time so that every process's work is counted (workers, schedulers, API)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from workflows.messaging.broker_view import BrokerView
from workflows.queries.reconcile import Reconciliation, reconcile
from workflows.store.db import Database
from workflows.store.models import DeadLetter, History, Instance, Outbox, TimerRow, TimerStatus
from workflows.time.clock import Clock


class EngineCollector(Collector):
    def __init__(self, db: Database, clock: Clock, view: BrokerView | None = None) -> None:
        self.db = db
        self.clock = clock
        self.view = view

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        now = self.clock.now()
        transitions = CounterMetricFamily(
            "yunshang_transitions",
            "Transitions recorded, by flow, trigger and outcome",
            labels=["flow", "trigger", "outcome"],
        )
        timers = GaugeMetricFamily(
            "yunshang_timers",
            "Timers by status (fired ones count the timers fired so far)",
            labels=["status"],
        )
        with self.db.read() as s:
            rows = s.execute(
                select(Instance.flow, History.trigger, History.outcome, func.count())
                .join(Instance, Instance.id == History.instance_id)
                .group_by(Instance.flow, History.trigger, History.outcome)
            ).all()
            for flow, trigger, outcome, count in rows:
                transitions.add_metric([flow, trigger, outcome], float(count))
            for status, count in s.execute(select(TimerRow.status, func.count()).group_by(TimerRow.status)):
                timers.add_metric([status], float(count))
            oldest_unsent = s.execute(
                select(func.min(Outbox.created_at)).where(Outbox.sent_at.is_(None))
            ).scalar()
            lateness = s.execute(
                select(TimerRow.fired_at, TimerRow.due_at)
                .where(TimerRow.status == TimerStatus.FIRED)
                .order_by(TimerRow.fired_at.desc())
                .limit(500)
            ).all()
            dead = s.execute(
                select(func.count()).select_from(DeadLetter).where(DeadLetter.requeued_at.is_(None))
            ).scalar_one()
        yield transitions
        yield timers
        late = GaugeMetricFamily(
            "yunshang_timer_lateness_seconds", "Worst lateness of the last 500 fired timers"
        )
        late.add_metric([], max(((f - d).total_seconds() for f, d in lateness if f and d), default=0.0))
        yield late
        lag = GaugeMetricFamily(
            "yunshang_outbox_lag_seconds", "Age of the oldest outbox message not yet sent"
        )
        lag.add_metric([], _age(now, oldest_unsent))
        yield lag
        dl = GaugeMetricFamily("yunshang_dead_letters", "Dead letters waiting for an operator")
        dl.add_metric([], float(dead))
        yield dl
        if self.view is not None:
            yield from _reconciliation(reconcile(self.db, self.view, now))


def _reconciliation(report: Reconciliation) -> Iterator[GaugeMetricFamily]:
    for name, what, backlog in [
        (
            "events_without_effect",
            "Accepted events whose command has not been applied yet",
            report.events_without_effect,
        ),
        ("outbox_unsent", "Outbox rows committed and never handed to the broker", report.outbox_unsent),
        ("outbox_unfinished", "Outbox rows sent that no consumer has finished", report.outbox_unfinished),
    ]:
        gauge = GaugeMetricFamily(f"yunshang_{name}", f"{what}, by age", labels=["age"])
        for age, count in backlog.by_age.items():
            gauge.add_metric([age], float(count))
        yield gauge
        oldest = GaugeMetricFamily(f"yunshang_{name}_oldest_seconds", f"{what}: age of the oldest")
        oldest.add_metric([], backlog.oldest_seconds)
        yield oldest
    if report.dead_in_broker is not None:
        broker = GaugeMetricFamily(
            "yunshang_dead_letters_in_broker", "Dead letters only in the broker, not yet recorded"
        )
        broker.add_metric([], float(report.dead_in_broker))
        yield broker


def _age(now: datetime, then: datetime | str | None) -> float:
    if then is None:
        return 0.0
    if isinstance(then, str):
        from datetime import UTC

        then = datetime.fromisoformat(then).replace(tzinfo=UTC)
    elif then.tzinfo is None:
        from datetime import UTC

        then = then.replace(tzinfo=UTC)
    return max(0.0, (now - then).total_seconds())


class Metrics:
    def __init__(self, db: Database, clock: Clock, view: BrokerView | None = None) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "yunshang_events",
            "Events received, by type, source and status",
            ["type", "source", "status"],
            registry=self.registry,
        )
        self.registry.register(EngineCollector(db, clock, view))
