"""Operator queries: instances (filtered, cursor-paginated), one instance in full, open tasks."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, tuple_

from workflows.errors import InstanceNotFound
from workflows.queries.scope import halves, in_department
from workflows.store.db import Database
from workflows.store.models import History, InboxEvent, Instance, TimerRow, TimerStatus
from workflows.time.suspension import describe, from_json

#: the context key naming the person who holds an instance's work (a claim writes it; ``person``)
HOLDER = "claimed_by"
#: the context key naming the worker a task is dispatched to (a grid task's holder; ``worker``)
WORKER = "worker_id"


@dataclass(frozen=True)
class InstanceFilter:
    flow: str | None = None
    state: str | None = None
    subject: str | None = None
    department: str | None = None
    grid: str | None = None
    street: str | None = None
    person: str | None = None
    worker: str | None = None
    overdue: bool | None = None
    due_before: datetime | None = None
    open_only: bool = False
    #: the department of a scoped operator: only its work (``workflows.queries.scope``)
    scope: str | None = None


#: (flow, timer name) pairs of early (yellow) warnings: passing one does not make a case overdue
WarningTimers = Collection[tuple[str, str]]


def _late(now: datetime, warnings: WarningTimers) -> Any:
    """A deadline of its current state has passed: an armed timer past due, or a fired one
    (the state was not left in time). Warning timers (``Timer(..., kind="warning")`` in the flow, as
    ``warnings`` lists them; ``Registry.warning_timers``) do not count."""
    late = [
        TimerRow.instance_id == Instance.id,
        or_(
            and_(TimerRow.status == TimerStatus.ARMED, TimerRow.due_at < now),
            and_(TimerRow.status == TimerStatus.FIRED, TimerRow.state == Instance.state),
        ),
    ]
    if warnings:
        late.append(tuple_(Instance.flow, TimerRow.name).not_in(sorted(warnings)))
    return exists().where(*late)


def _overdue(now: datetime, warnings: WarningTimers) -> Any:
    """Open, and late (``_late``)."""
    return and_(Instance.closed_at.is_(None), _late(now, warnings))


def _filtered(query: Any, f: InstanceFilter, now: datetime, warnings: WarningTimers = ()) -> Any:
    if f.flow:
        query = query.where(Instance.flow == f.flow)
    if f.state:
        query = query.where(Instance.state == f.state)
    if f.subject:
        query = query.where(Instance.subject == f.subject)
    # the facets the database keeps of the context (workflows/store/facets.py), indexed
    if f.department:
        query = query.where(Instance.department == f.department)
    if f.street:
        query = query.where(Instance.street == f.street)
    by_context = (
        ("grid", f.grid),
        (HOLDER, f.person),
        (WORKER, f.worker),
    )
    for key, value in by_context:
        if value:
            query = query.where(Instance.context[key].as_string() == value)
    if f.scope:
        query = query.where(in_department(f.scope))
    if f.open_only:
        query = query.where(Instance.closed_at.is_(None))
    if f.overdue is not None:
        query = query.where(_overdue(now, warnings) if f.overdue else ~_overdue(now, warnings))
    if f.due_before is not None:
        query = query.where(
            exists().where(
                TimerRow.instance_id == Instance.id,
                TimerRow.status == TimerStatus.ARMED,
                TimerRow.due_at < f.due_before,
            )
        )
    return query


def summary(inst: Instance, next_due: datetime | None = None) -> dict[str, Any]:
    return {
        "id": inst.id,
        "flow": inst.flow,
        "flow_version": inst.flow_version,
        "business_key": inst.business_key,
        "subject": inst.subject,
        "state": inst.state,
        "rules_version": inst.rules_version,
        "created_at": inst.created_at.isoformat(),
        "updated_at": inst.updated_at.isoformat(),
        "closed_at": inst.closed_at.isoformat() if inst.closed_at else None,
        "next_due": next_due.isoformat() if next_due else None,
        "department": inst.context.get("department"),
        "grid": inst.context.get("grid"),
        "street": inst.context.get("street"),
        "person": inst.context.get(HOLDER),
        "worker": inst.context.get(WORKER),
    }


def list_instances(
    db: Database,
    f: InstanceFilter,
    now: datetime,
    *,
    cursor: int | None = None,
    limit: int = 50,
    warnings: WarningTimers = (),
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of instances ordered by id, and the cursor of the next page (None at the end).
    ``warnings``: the warning timers of the flows the engine runs (``Registry.warning_timers``)."""
    next_due = (
        select(func.min(TimerRow.due_at))
        .where(TimerRow.instance_id == Instance.id, TimerRow.status == TimerStatus.ARMED)
        .correlate(Instance)
        .scalar_subquery()
    )
    query = _filtered(select(Instance, next_due), f, now, warnings).order_by(Instance.id).limit(limit + 1)
    if cursor is not None:
        query = query.where(Instance.id > cursor)
    with db.read() as session:
        rows = session.execute(query).all()
    page = [summary(inst, _aware(due)) for inst, due in rows[:limit]]
    return page, (rows[limit - 1][0].id if len(rows) > limit else None)


def count_instances(db: Database, f: InstanceFilter, now: datetime, warnings: WarningTimers = ()) -> int:
    """How many instances the filter matches in all (every page); a scoped operator's as the sum of
    its scope's two halves (``scope.halves``: each an index's count)."""
    query = _filtered(select(func.count()).select_from(Instance), replace(f, scope=None), now, warnings)
    with db.read() as session:
        if f.scope is None:
            return int(session.execute(query).scalar_one())
        return sum(int(session.execute(query.where(half)).scalar_one()) for half in halves(f.scope))


def _aware(value: Any) -> datetime | None:
    """SQLite returns scalar-subquery datetimes as text; normalise to aware UTC."""
    from datetime import UTC

    if value is None:
        return None
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def instance_detail(db: Database, instance_id: int) -> dict[str, Any]:
    with db.read() as session:
        inst = session.get(Instance, instance_id)
        if inst is None:
            raise InstanceNotFound(f"no instance #{instance_id}")
        timers = (
            session.execute(
                select(TimerRow).where(TimerRow.instance_id == instance_id).order_by(TimerRow.due_at)
            )
            .scalars()
            .all()
        )
        history = (
            session.execute(select(History).where(History.instance_id == instance_id).order_by(History.id))
            .scalars()
            .all()
        )
        events = _events_of(session, [h.cause_id for h in history if h.cause_kind == "event" and h.cause_id])
    armed = [t for t in timers if t.status == TimerStatus.ARMED]
    return {
        **summary(inst, min((t.due_at for t in armed), default=None)),
        "context": inst.context,
        "version": inst.version,
        "timers": [
            {
                "id": t.id,
                "name": t.name,
                "trigger": t.trigger,
                "state": t.state,
                "status": t.status,
                "due_at": t.due_at.isoformat(),
                "provisional": t.provisional,
                "fired_at": t.fired_at.isoformat() if t.fired_at else None,
                **_suspension(t),
            }
            for t in timers
        ],
        #: the accepted events behind the history, with what the intake warned about them (a USCC
        #: whose check character fails is accepted with a warning)
        "events": events,
        "warnings": [w for e in events for w in e["warnings"]],
        "history": [
            {
                "id": h.id,
                "at": h.at.isoformat(),
                "from": h.from_state,
                "to": h.to_state,
                "trigger": h.trigger,
                "outcome": h.outcome,
                "reason": h.reason,
                "cause": {"kind": h.cause_kind, "id": h.cause_id, "operator": h.operator},
                "payload": h.payload,
                "rules_version": h.rules_version,
            }
            for h in history
        ],
    }


def _suspension(timer: TimerRow) -> dict[str, Any]:
    """A suspended timer's clock: since when, and the budget it has left (``due_at`` is then the due
    it had when it was suspended); ``suspensions``: how often its clock was stopped."""
    suspended = timer.status == TimerStatus.SUSPENDED and timer.ledger
    budget = from_json(timer.remaining) if suspended and timer.remaining is not None else None
    return {
        "suspended_at": timer.ledger[-1][0] if suspended and timer.ledger else None,
        "remaining": describe(budget) if budget is not None else None,
        "suspensions": len(timer.ledger or []),
    }


def _events_of(session: Any, causes: list[str]) -> list[dict[str, Any]]:
    """The inbox records of event causes ``<source>#<id>`` (split at every ``#``: either may hold one)."""
    keys = {(c[:i], c[i + 1 :]) for c in dict.fromkeys(causes) for i, ch in enumerate(c) if ch == "#"}
    if not keys:
        return []
    rows = session.execute(
        select(InboxEvent)
        .where(tuple_(InboxEvent.source, InboxEvent.event_id).in_(sorted(keys)))
        .order_by(InboxEvent.id)
    ).scalars()
    return [
        {
            "source": e.source,
            "id": e.event_id,
            "type": e.type,
            "status": e.status,
            "received_at": e.received_at.isoformat(),
            "warnings": list(e.warnings or []),
        }
        for e in rows
    ]
