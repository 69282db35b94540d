"""Where an instance's deadlines stand now: each open timer's budget left in the units of its rule,
how long past due, whether its due is provisional, and the rule version each transition ran under.

A timer's budget is what the engine itself measures when it suspends one (``budget_left`` of
``workflows.engine.suspend``: the rule's budget counted on the calendar of the rules in force, or from
the recorded due when the rules changed since), so the dashboard's countdown and a suspension agree to
the microsecond: ``48h`` counts wall time, ``5 working days`` the working days still ahead after today
on the working calendar (chinese-calendar's tables, ``calendar.yaml``), a sum its parts in turn. A
suspended timer keeps the budget stored at its suspension. Nothing here reads the clock: ``now`` is
the runtime's (simulated in tests).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from workflows.engine.deadlines import DeadlineSource, MissingDeadline
from workflows.engine.suspend import budget_left
from workflows.store.db import Database
from workflows.store.models import RuleVersion, TimerRow, TimerStatus
from workflows.time.calendar import SHANGHAI, Duration, DurationError, WorkCalendar
from workflows.time.suspension import Budget, SuspensionError, Unit, budget_of, from_json

_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class TimerClock:
    """One timer of the current state, as it stands at ``now``."""

    id: int
    name: str
    state: str
    #: ``running`` (armed, not due), ``suspended`` (clock stopped), ``overdue`` (due and the state
    #: not left: fired, or armed and not swept yet)
    status: str
    #: ``deadline`` or ``warning`` (``Timer.kind``: passing a warning makes nothing overdue)
    kind: str
    #: the rule's duration text in force (``48h + 1 working day``), None when the rules lack it
    rule: str | None
    due_at: datetime
    provisional: bool
    #: years without a published calendar (estimated) that the count from now to the due crosses, for
    #: a rule counted on the calendar (a rule in hours is never provisional)
    provisional_years: tuple[int, ...]
    #: the budget left now (running) or kept since the suspension (suspended); () when overdue
    budget: Budget
    #: since when the clock is stopped (suspended)
    suspended_at: datetime | None
    #: how long past the due (overdue), wall time
    late: timedelta | None
    #: whole working days gone by since the due (overdue, a rule counted in days), else None
    late_working_days: int | None
    now: datetime


def _rule(rules: DeadlineSource, flow: str, state: str, name: str) -> str | None:
    try:
        return rules.deadline(flow, state, name)
    except MissingDeadline:
        return None


def _units(rule: str | None) -> tuple[Unit, ...]:
    """The units of a rule's parts (``48h + 1 working day``: wall, working days); () for none."""
    if rule is None:
        return ()
    try:
        return tuple(part.unit for part in budget_of(Duration.parse(rule)))
    except (DurationError, SuspensionError):
        return ()


def _local(instant: datetime) -> date:
    return instant.astimezone(SHANGHAI).date()


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), SHANGHAI)


def unpublished_years(calendar: WorkCalendar, start: datetime, end: datetime) -> tuple[int, ...]:
    """The years from ``start``'s to ``end``'s (inclusive) whose working days are an estimate."""
    first, last = sorted((_local(start).year, _local(end - _TICK).year))
    return tuple(y for y in range(first, last + 1) if calendar.year(y).provisional)


def clock_of(
    timer: Any, flow: str, rules: DeadlineSource, now: datetime, warnings: Collection[tuple[str, str]] = ()
) -> TimerClock:
    """Where ``timer`` (a ``TimerRow``, armed, suspended or fired in the current state) stands at
    ``now``, by the rules in force (``rules``); ``warnings``: the (flow, timer) pairs of warning timers."""
    calendar = rules.calendar
    rule = _rule(rules, flow, timer.state, timer.name)
    units = _units(rule)
    kind = "warning" if (flow, timer.name) in warnings else "deadline"
    due: datetime = timer.due_at
    suspended_at: datetime | None = None
    late: timedelta | None = None
    late_days: int | None = None
    budget: Budget = ()
    if timer.status == TimerStatus.SUSPENDED:
        status = "suspended"
        budget = from_json(timer.remaining or [])
        suspended_at = datetime.fromisoformat(timer.ledger[-1][0]) if timer.ledger else None
    elif timer.status == TimerStatus.ARMED and due > now:
        status = "running"
        budget = budget_left(timer, flow, rules, now)
    else:
        status = "overdue"
        late = now - due if now > due else timedelta(0)
        if units and units[-1] in (Unit.working_days, Unit.natural_days):
            last_day, yesterday = _local(due - _TICK), _local(now) - timedelta(days=1)
            late_days = (
                calendar.working_days_between(_noon(last_day), _noon(yesterday))
                if yesterday > last_day
                else 0
            )
    counted = any(unit is not Unit.wall for unit in units)  # a rule in hours is never provisional
    years = unpublished_years(calendar, now, due) if counted and status != "overdue" and due > now else ()
    return TimerClock(
        id=timer.id,
        name=timer.name,
        state=timer.state,
        status=status,
        kind=kind,
        rule=rule,
        due_at=due,
        provisional=bool(timer.provisional) or bool(years),
        provisional_years=years,
        budget=budget,
        suspended_at=suspended_at,
        late=late,
        late_working_days=late_days,
        now=now,
    )


def clocks(
    db: Database,
    instance_id: int,
    flow: str,
    state: str,
    rules: DeadlineSource,
    now: datetime,
    warnings: Collection[tuple[str, str]] = (),
) -> list[TimerClock]:
    """The clocks of the instance's current state: its open timers (armed, suspended) and its fired
    ones (due, and the state was not left), by due time. A closed instance has none."""
    query = (
        select(TimerRow)
        .where(
            TimerRow.instance_id == instance_id,
            TimerRow.state == state,
            TimerRow.status.in_((TimerStatus.ARMED, TimerStatus.SUSPENDED, TimerStatus.FIRED)),
        )
        .order_by(TimerRow.due_at, TimerRow.id)
    )
    with db.read() as session:
        rows = list(session.execute(query).scalars())
    return [clock_of(t, flow, rules, now, warnings) for t in rows]


def rules_in_force(db: Database, started_on: str | None, moments: Sequence[datetime]) -> list[str | None]:
    """The rule version in force at each of ``moments`` (the instance's transitions): the version last
    activated by then (``rule_versions.activated_at``), else the one the instance started on
    (``started_on``: the engine with static deadlines stores none). A version activated again keeps
    only its last activation, so a moment before that falls to the version activated before it."""
    with db.read() as session:
        rows = session.execute(
            select(RuleVersion.content_hash, RuleVersion.activated_at)
            .where(RuleVersion.activated_at.is_not(None))
            .order_by(RuleVersion.activated_at)
        ).all()
    activations = [(_aware(at), content[:16]) for content, at in rows if at is not None]
    found: list[str | None] = []
    for moment in moments:
        version = started_on
        for at, content in activations:
            if at <= moment:
                version = content
        found.append(version)
    return found


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
