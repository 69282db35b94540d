"""Suspended clocks in the store: a state's open timers suspended and resumed, with a ledger.

Two ways in, one code path: a flow's internal transition that declares ``suspends`` / ``resumes``
(applied in the transition's own transaction, caused by what caused it), and the operator actions
(``workflows/api/timers.py``, ``yunshang timers suspend|resume``: an approved extension 延期, with a
reason). Suspending measures the budget left (``workflows.time.suspension``: the rule, in its units)
and sets the timer ``suspended``; the sweep claims only ``armed`` timers, so it never fires one.
Resuming counts the budget from the resume instant on the calendar of the rules in force and arms the
timer again with that due. Leaving the state cancels suspended timers like armed ones.

The ledger is kept twice: on the timer row (``ledger``: every [suspended at, resumed at] span;
``remaining``: the budget, counted from the last resume), which ``rules recompute`` replays, and as one
history row per action (trigger ``timer_suspended`` / ``timer_resumed``, the cause and reason of the
transition or operator, and per timer its budget and its due before / after).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, select, update

from workflows.engine.commands import Cause
from workflows.engine.deadlines import DeadlineSource, MissingDeadline
from workflows.engine.decide import Applied
from workflows.store.models import OPEN_TIMERS, TimerRow, TimerStatus
from workflows.store.rows import HistoryRow
from workflows.store.sql import HISTORY
from workflows.time.calendar import Duration, DurationError
from workflows.time.suspension import (
    Budget,
    SuspensionError,
    Unit,
    budget_of,
    describe,
    due_of,
    from_json,
    left_until,
    remaining,
    to_json,
)

log = logging.getLogger("yunshang.engine")

Action = Literal["suspend", "resume"]
TRIGGERS: dict[Action, str] = {"suspend": "timer_suspended", "resume": "timer_resumed"}
_MAX_KEY = 250


@dataclass(frozen=True)
class Target:
    """The (locked) instance whose timers an action is for."""

    id: int
    flow: str
    state: str


def open_timers(conn: Connection, target: Target) -> list[Any]:
    """The open (armed or suspended) timers of the instance's current state, oldest first."""
    query = (
        select(TimerRow)
        .where(
            TimerRow.instance_id == target.id,
            TimerRow.state == target.state,
            TimerRow.status.in_(OPEN_TIMERS),
        )
        .order_by(TimerRow.id)
    )
    return list(conn.execute(query).all())


def ledger_key(base: str, action: Action) -> str:
    """The history dedupe key of an action caused by ``base`` (a command's key, an operator's)."""
    key = f"{base}:{action}"
    return key if len(key) <= _MAX_KEY else f"{action}:sha256:{hashlib.sha256(base.encode()).hexdigest()}"


def budget_left(timer: Any, flow: str, rules: DeadlineSource, at: datetime) -> Budget:
    """What ``timer`` (armed, not yet due) has left at ``at``: its budget (the rule's from when it was
    armed, or the one stored at its last resume) counted on the calendar in force. When that count no
    longer lands on the recorded due (the rules or the calendar changed since, without ``rules
    recompute``), the budget is measured from the recorded due instead, in the rule's last unit."""
    calendar = rules.calendar
    unit, rule = Unit.wall, None
    try:
        rule = budget_of(Duration.parse(rules.deadline(flow, timer.state, timer.name)))
        unit = rule[-1].unit
    except (DurationError, SuspensionError, MissingDeadline) as exc:  # a rule gone or not countable
        log.warning("timer #%s %s: its budget is counted as wall time (%s)", timer.id, timer.name, exc)
    if timer.remaining is not None and timer.ledger:
        origin, budget = datetime.fromisoformat(timer.ledger[-1][1]), from_json(timer.remaining)
    elif rule is not None:
        origin, budget = timer.created_at, rule
    else:
        return left_until(timer.due_at, at, unit, calendar)
    if due_of(origin, budget, calendar).due_at == timer.due_at:
        return remaining(origin, budget, at, calendar)
    return left_until(timer.due_at, at, unit, calendar)


def suspend(
    conn: Connection,
    target: Target,
    timers: list[Any],
    rules: DeadlineSource,
    cause: Cause,
    dedupe: str,
    now: datetime,
) -> HistoryRow | None:
    """Suspend ``timers`` (armed ones of ``target``'s state; others, and those already due, are left
    as they are) and write the ledger's history row. None when nothing was suspended."""
    done = []
    for timer in timers:
        if timer.status != TimerStatus.ARMED or timer.due_at <= now:
            continue
        budget = budget_left(timer, target.flow, rules, now)
        conn.execute(
            update(TimerRow)
            .where(TimerRow.id == timer.id)
            .values(
                status=TimerStatus.SUSPENDED,
                ledger=[*(timer.ledger or []), [_iso(now), None]],
                remaining=to_json(budget),
            )
        )
        done.append(
            {
                "timer_id": timer.id,
                "name": timer.name,
                "was_due_at": _iso(timer.due_at),
                "remaining": to_json(budget),
                "remaining_text": describe(budget),
            }
        )
    return _ledger_row(conn, target, "suspend", done, cause, dedupe, now, rules.version)


def resume(
    conn: Connection,
    target: Target,
    timers: list[Any],
    rules: DeadlineSource,
    cause: Cause,
    dedupe: str,
    now: datetime,
) -> HistoryRow | None:
    """Arm the suspended ``timers`` again, due when their budget counted from ``now`` on the calendar
    in force runs out; write the ledger's history row. None when nothing was resumed."""
    done = []
    for timer in timers:
        if timer.status != TimerStatus.SUSPENDED:
            continue
        budget = from_json(timer.remaining or [])
        due = due_of(now, budget, rules.calendar)
        ledger = [list(span) for span in timer.ledger or [[_iso(now), None]]]
        suspended_at = ledger[-1][0]
        ledger[-1][1] = _iso(now)
        conn.execute(
            update(TimerRow)
            .where(TimerRow.id == timer.id)
            .values(status=TimerStatus.ARMED, due_at=due.due_at, provisional=due.provisional, ledger=ledger)
        )
        done.append(
            {
                "timer_id": timer.id,
                "name": timer.name,
                "suspended_at": suspended_at,
                "was_due_at": _iso(timer.due_at),
                "remaining": to_json(budget),
                "remaining_text": describe(budget),
                "due_at": _iso(due.due_at),
                "provisional": due.provisional,
            }
        )
    return _ledger_row(conn, target, "resume", done, cause, dedupe, now, rules.version)


def declared(
    conn: Connection, flow: str, applied: Sequence[Applied], rules: DeadlineSource, now: datetime
) -> None:
    """The suspensions and resumptions the applied transitions declare (``Transition.suspends`` /
    ``resumes``), written in their transaction after them, caused by what caused them."""
    for planned in applied:
        if planned.suspends or planned.resumes:
            h = planned.writes.history
            cause = Cause.model_validate(
                {"kind": h.cause_kind, "id": h.cause_id, "operator": h.operator, "reason": h.reason}
            )
            target = Target(h.instance_id, flow, planned.dest)
            apply_clocks(conn, target, planned.suspends, planned.resumes, rules, cause, h.dedupe_key, now)


def apply_clocks(
    conn: Connection,
    target: Target,
    suspends: Collection[str],
    resumes: Collection[str],
    rules: DeadlineSource,
    cause: Cause,
    dedupe: str,
    now: datetime,
) -> None:
    """Suspend the timers ``suspends`` names, then resume those ``resumes`` names, of ``target``."""
    timers = open_timers(conn, target)
    if suspends:
        chosen = [t for t in timers if t.name in suspends]
        suspend(conn, target, chosen, rules, cause, ledger_key(dedupe, "suspend"), now)
    if resumes:
        chosen = [t for t in timers if t.name in resumes]
        resume(conn, target, chosen, rules, cause, ledger_key(dedupe, "resume"), now)


def _ledger_row(
    conn: Connection,
    target: Target,
    action: Action,
    timers: list[dict[str, Any]],
    cause: Cause,
    dedupe: str,
    now: datetime,
    rules_version: str | None,
) -> HistoryRow | None:
    if not timers:
        return None
    row = HistoryRow(
        instance_id=target.id,
        from_state=target.state,
        to_state=target.state,
        trigger=TRIGGERS[action],
        outcome="applied",
        reason=cause.reason,
        cause_kind=cause.kind,
        cause_id=cause.id,
        operator=cause.operator,
        payload={"timers": timers},
        at=now,
        dedupe_key=dedupe,
        rules_version=rules_version,
    )
    conn.execute(HISTORY, [row.values()])
    return row


def _iso(moment: datetime) -> str:
    """A ledger's instant: ISO 8601 in UTC, as the store returns every time."""
    return moment.astimezone(UTC).isoformat()
