"""The overview's figures: instances per flow × state, the red and yellow cards (红黄牌) by department,
street and escalation level, today's pushes, and the pipeline (dead letters, queue depth, outbox lag).

- **Red** (红牌): overdue, as ``GET /instances?overdue=true`` says (open, a deadline of the current
  state passed; warning timers do not count: ``queries.instances``).
- **Yellow** (黄牌): open and not overdue, and a warning timer of the current state passed (armed and
  past due, or fired in this state), or a deadline (an armed timer that is not a warning) falls due
  within 24 hours.
- **Escalation level**: the highest step a case's context records in ``escalations`` (each flow
  appends ``{"kind": "warning" | "overdue" | "supervision", …}`` as its ladder climbs), ``none``
  without one. The department and street are the context's ``department`` and ``street``. All three
  are facets the database keeps of the context (``workflows.store.facets``).

A department-scoped operator's figures count only that department's instances
(``queries.scope``), and the pipeline (district-wide) is not theirs to see.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, text
from sqlalchemy.orm import Session

from workflows.messaging.broker_view import BrokerView
from workflows.queries.instances import WarningTimers
from workflows.queries.reconcile import reconcile
from workflows.queries.scope import halves, in_department
from workflows.store.db import Database
from workflows.store.facets import NO_LEVEL
from workflows.store.models import Delivery, Instance, TimerRow, TimerStatus
from workflows.time.calendar import SHANGHAI

NONE = NO_LEVEL
SOON = timedelta(hours=24)
DIMENSIONS = ("department", "street", "level")


@dataclass
class Cards:
    """One colour's count, and the same by department, street and escalation level."""

    total: int = 0
    by: dict[str, dict[str, int]] = field(default_factory=lambda: {d: {} for d in DIMENSIONS})


@dataclass
class Pipeline:
    dead_letters: int
    #: messages handed to the broker and not finished by a consumer (the queues' depth)
    queue_depth: int
    #: outbox rows committed and not yet handed to the broker, and the age of the oldest (seconds)
    outbox_unsent: int
    outbox_lag_seconds: float


@dataclass
class Overview:
    states: list[tuple[str, str, int]]
    red: Cards
    yellow: Cards
    pushes_today: int
    pipeline: Pipeline | None


def flow_states(db: Database, scope: str | None) -> list[tuple[str, str, int]]:
    """Instances per flow × state (a scoped operator's: the two halves of its scope, summed)."""
    query = select(Instance.flow, Instance.state, func.count()).group_by(Instance.flow, Instance.state)
    counts: Counter[tuple[str, str]] = Counter()
    with db.read() as s:
        _one_core(db, s)
        for where in halves(scope) if scope is not None else (None,):
            for flow, state, n in s.execute(query if where is None else query.where(where)).all():
                counts[(flow, state)] += int(n)
    return [(flow, state, n) for (flow, state), n in sorted(counts.items())]


#: an instance's colour from its timers: the highest score of its timers that matter
RED, YELLOW = 2, 1


def _scored(now: datetime, warnings: WarningTimers, scope: str | None) -> Any:
    """One row per open instance with a timer that can make it red or yellow: its facets and its
    colour, the highest score of its timers — 2 (red) for a deadline passed (armed past due, or fired
    in this state), 1 (yellow) for a warning passed or a deadline due within 24 h, else 0. One pass over
    the timers that matter (armed and due within 24 h, or fired) joined to the open instances: on
    PostgreSQL a hash join of two scans, the instances' side read from the index ``ix_instances_open``
    alone (it carries the facets), not an EXISTS probe per instance."""
    passed = or_(
        and_(TimerRow.status == TimerStatus.ARMED, TimerRow.due_at < now),
        and_(TimerRow.status == TimerStatus.FIRED, TimerRow.state == Instance.state),
    )
    soon = and_(TimerRow.status == TimerStatus.ARMED, TimerRow.due_at >= now)  # and before now + 24 h
    deadline = case((passed, RED), (soon, YELLOW), else_=0)
    if warnings:
        # one text comparison per timer: "flow:timer" among the warnings (a hashed array on PostgreSQL)
        is_warning = (Instance.flow + literal(":") + TimerRow.name).in_(
            sorted(f"{f}:{t}" for f, t in warnings)
        )
        score = case((is_warning, case((passed, YELLOW), else_=0)), else_=deadline)
    else:
        score = deadline
    query = (
        select(
            Instance.department,
            Instance.street,
            Instance.escalation_level,
            func.max(score).label("score"),
        )
        .join(TimerRow, TimerRow.instance_id == Instance.id)
        .where(
            Instance.closed_at.is_(None),
            or_(
                and_(TimerRow.status == TimerStatus.ARMED, TimerRow.due_at < now + SOON),
                TimerRow.status == TimerStatus.FIRED,
            ),
        )
        .group_by(Instance.id, Instance.department, Instance.street, Instance.escalation_level)
    )
    if scope is not None:
        query = query.where(in_department(scope))
    return query.subquery("scored")


def cards(db: Database, now: datetime, warnings: WarningTimers, scope: str | None) -> tuple[Cards, Cards]:
    """The red and yellow cards, in one statement: red = late (``GET /instances?overdue=true``),
    yellow = not late and near (see the module's doc)."""
    scored = _scored(now, warnings, scope)
    columns = (scored.c.score, scored.c.department, scored.c.street, scored.c.escalation_level)
    query = select(*columns, func.count()).where(scored.c.score > 0).group_by(*columns)
    red, yellow = Cards(), Cards()
    with db.read() as s:
        _one_core(db, s)
        for score, dep, st, lv, n in s.execute(query).all():
            target = red if score == RED else yellow
            target.total += int(n)
            for dim, key in zip(DIMENSIONS, (dep or "—", st or "—", lv or NONE), strict=True):
                target.by[dim][key] = target.by[dim].get(key, 0) + int(n)
    for target in (red, yellow):
        for dim in DIMENSIONS:
            target.by[dim] = dict(sorted(target.by[dim].items(), key=lambda kv: (-kv[1], kv[0])))
    return red, yellow


def _one_core(db: Database, session: Session) -> None:
    """The overview's two aggregates run side by side on two connections (``overview``): on PostgreSQL
    each on one core, without parallel workers of its own (with them, the two took as long as one after
    the other on 2 cores: bench/README.md)."""
    if db.is_postgres:
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def today_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Today's Beijing day, as [00:00, 24:00) instants."""
    start = datetime.combine(now.astimezone(SHANGHAI).date(), time(0), SHANGHAI)
    return start, start + timedelta(days=1)


def pushes_today(db: Database, now: datetime, scope: str | None) -> int:
    """Deliveries sent today (Beijing day)."""
    start, end = today_bounds(now)
    query = (
        select(func.count()).select_from(Delivery).where(Delivery.sent_at >= start, Delivery.sent_at < end)
    )
    if scope is not None:
        query = query.join(Instance, Instance.id == Delivery.instance_id).where(in_department(scope))
    with db.read() as s:
        return int(s.execute(query).scalar_one())


def pipeline(db: Database, view: BrokerView, now: datetime) -> Pipeline:
    """The reconciliation ``GET /status`` and ``/metrics`` report, in the overview's words."""
    report = reconcile(db, view, now)
    return Pipeline(
        dead_letters=report.dead_letters,
        queue_depth=report.outbox_unfinished.count,
        outbox_unsent=report.outbox_unsent.count,
        outbox_lag_seconds=report.outbox_unsent.oldest_seconds,
    )


def overview(
    db: Database, view: BrokerView, now: datetime, warnings: WarningTimers, scope: str | None
) -> Overview:
    """Every figure of the overview. On PostgreSQL its two aggregates (flow × state, the cards) run at
    once, on two of the pool's connections; SQLite reads them one after the other."""
    if db.is_postgres:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="overview") as pool:
            counted = pool.submit(flow_states, db, scope)
            red, yellow = cards(db, now, warnings, scope)
            states = counted.result()
    else:
        states = flow_states(db, scope)
        red, yellow = cards(db, now, warnings, scope)
    return Overview(
        states=states,
        red=red,
        yellow=yellow,
        pushes_today=pushes_today(db, now, scope),
        pipeline=pipeline(db, view, now) if scope is None else None,
    )
