"""The overview's figures: instances per flow × state, the red and yellow cards (红黄牌) by department,
street and escalation level, today's pushes, and the pipeline (dead letters, queue depth, outbox lag).

- **Red** (红牌): overdue, as ``GET /instances?overdue=true`` says (open, a deadline of the current
  state passed; warning timers do not count: ``queries.instances``).
- **Yellow** (黄牌): open and not overdue, and a warning timer of the current state passed (armed and
  past due, or fired in this state), or a deadline (an armed timer that is not a warning) falls due
  within 24 hours.
- **Escalation level**: the highest step a case's context records in ``escalations`` (each flow
  appends ``{"kind": "warning" | "overdue" | "supervision", …}`` as its ladder climbs), ``none``
  without one. The department and street are the context's ``department`` and ``street``.

A department-scoped operator's figures count only that department's instances
(``queries.scope``), and the pipeline (district-wide) is not theirs to see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, literal, or_, select, tuple_

from workflows.messaging.broker_view import BrokerView
from workflows.queries.instances import WarningTimers, _late, _overdue
from workflows.queries.reconcile import reconcile
from workflows.queries.scope import in_department
from workflows.store.db import Database
from workflows.store.models import Delivery, Instance, TimerRow, TimerStatus
from workflows.time.calendar import SHANGHAI

#: escalation kinds from the highest down (the first one a case records is its level)
LEVELS = ("supervision", "overdue", "warning")
NONE = "none"
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
    query = select(Instance.flow, Instance.state, func.count()).group_by(Instance.flow, Instance.state)
    if scope is not None:
        query = query.where(in_department(scope))
    with db.read() as s:
        rows = s.execute(query.order_by(Instance.flow, Instance.state)).all()
    return [(flow, state, int(n)) for flow, state, n in rows]


def level() -> Any:
    """The highest escalation kind in the context (a kind is a quoted JSON string in the list)."""
    listed = cast(Instance.context["escalations"], String)
    return case(*((listed.like(f'%"{kind}"%'), literal(kind)) for kind in LEVELS), else_=literal(NONE))


def yellow_clause(now: datetime, warnings: WarningTimers) -> Any:
    """Open, not late, and a warning passed or a deadline is near: one anti-join and one semi-join (a
    single EXISTS each, so that PostgreSQL joins instead of running a subplan per instance)."""
    passed = or_(
        and_(TimerRow.status == TimerStatus.ARMED, TimerRow.due_at < now),
        and_(TimerRow.status == TimerStatus.FIRED, TimerRow.state == Instance.state),
    )
    soon = and_(TimerRow.status == TimerStatus.ARMED, TimerRow.due_at >= now, TimerRow.due_at < now + SOON)
    if warnings:
        pairs = sorted(warnings)
        is_warning = tuple_(Instance.flow, TimerRow.name).in_(pairs)
        either = or_(and_(passed, is_warning), and_(soon, ~is_warning))
    else:
        either = soon
    near = exists().where(TimerRow.instance_id == Instance.id, either)
    return and_(Instance.closed_at.is_(None), ~_late(now, warnings), near)


def _cards(db: Database, where: Any, scope: str | None) -> Cards:
    department = func.coalesce(Instance.context["department"].as_string(), literal("—"))
    street = func.coalesce(Instance.context["street"].as_string(), literal("—"))
    lvl = level()
    query = select(department, street, lvl, func.count()).where(where).group_by(department, street, lvl)
    if scope is not None:
        query = query.where(in_department(scope))
    cards = Cards()
    with db.read() as s:
        for dep, st, lv, n in s.execute(query).all():
            cards.total += int(n)
            for dim, key in zip(DIMENSIONS, (dep or "—", st or "—", lv), strict=True):
                cards.by[dim][str(key)] = cards.by[dim].get(str(key), 0) + int(n)
    for dim in DIMENSIONS:
        cards.by[dim] = dict(sorted(cards.by[dim].items(), key=lambda kv: (-kv[1], kv[0])))
    return cards


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
    return Overview(
        states=flow_states(db, scope),
        red=_cards(db, _overdue(now, warnings), scope),
        yellow=_cards(db, yellow_clause(now, warnings), scope),
        pushes_today=pushes_today(db, now, scope),
        pipeline=pipeline(db, view, now) if scope is None else None,
    )
