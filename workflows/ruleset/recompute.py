"""``yunshang rules recompute``: move armed deadlines to what the active rules say.

Deadlines already armed keep their due times when the rules change; an operator may recompute them.
Each armed timer is recomputed from its state-entry time (when it was armed) under the target rule
set — its deadlines *and its calendar* (``calendar.yaml``): a holiday added, removed or a make-up day
entered moves exactly the deadlines whose days it touches. A timer whose clock was suspended and
resumed is recomputed with its ledger (``workflows.time.suspension.replay``: the budget left at each
suspension, counted again from each resume, on the target calendar). A timer suspended now is left
alone and reported: it has no due until it is resumed, and then counts on the calendar in force.
``plan_recompute`` only reads and says how many timers would move and by how much, per flow / state /
timer, and which; ``apply_recompute`` moves them, with one audit history row per instance (trigger
``rules_recompute``, cause operator, reason ``rules recompute to version X``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from workflows.ruleset.adapter import RuleDeadlines
from workflows.store.db import Database
from workflows.store.models import OPEN_TIMERS, History, Instance, TimerRow, TimerStatus
from workflows.time.calendar import Duration, WorkCalendar
from workflows.time.clock import Clock
from workflows.time.days import shown
from workflows.time.suspension import budget_of, replay, to_json

log = logging.getLogger("yunshang.rules")


@dataclass
class TimerShift:
    """The armed timers of one flow / state / timer, and how far a recompute moves them."""

    flow: str
    state: str
    timer: str
    armed: int = 0
    moved: int = 0
    no_rule: int = 0
    """Timers whose rule is gone from the target rule set: left as they are."""
    suspended: int = 0
    """Timers suspended now (not counted in ``armed``): left as they are, due again on resume."""
    min_shift: timedelta | None = None
    max_shift: timedelta | None = None

    def as_json(self) -> dict[str, object]:
        def seconds(delta: timedelta | None) -> float | None:
            return delta.total_seconds() if delta is not None else None

        return {
            "flow": self.flow,
            "state": self.state,
            "timer": self.timer,
            "armed": self.armed,
            "moved": self.moved,
            "no_rule": self.no_rule,
            "suspended": self.suspended,
            "min_shift_seconds": seconds(self.min_shift),
            "max_shift_seconds": seconds(self.max_shift),
        }


@dataclass(frozen=True)
class _Move:
    timer_id: int
    instance_id: int
    name: str
    old: datetime
    new: datetime
    provisional: bool
    #: a resumed timer's budget from its last resume, recounted (None: never suspended)
    remaining: list[dict[str, Any]] | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "instance_id": self.instance_id,
            "timer_id": self.timer_id,
            "name": self.name,
            "from": self.old.isoformat(),
            "to": self.new.isoformat(),
            "shift_seconds": (self.new - self.old).total_seconds(),
        }


@dataclass
class Recompute:
    """A recompute of every armed timer from its state-entry time under one rule version."""

    version: str
    groups: dict[tuple[str, str, str], TimerShift] = field(default_factory=dict)
    moves: list[_Move] = field(default_factory=list)
    applied: int | None = None
    """Timers actually moved (None for a dry run)."""

    @property
    def instances(self) -> int:
        return len({move.instance_id for move in self.moves})

    def as_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "dry_run": self.applied is None,
            "armed": sum(g.armed for g in self.groups.values()),
            "moved": len(self.moves),
            "applied": self.applied,
            "instances": self.instances,
            "suspended": sum(g.suspended for g in self.groups.values()),
            "timers": [g.as_json() for _, g in sorted(self.groups.items())],
            "moves": [move.as_json() for move in self.moves],
        }


def plan_recompute(db: Database, calendar: WorkCalendar, deadlines: RuleDeadlines) -> Recompute:
    """Where every armed timer would be due if it were armed now (from its state-entry time, which is
    when it was armed, through its suspensions) under ``deadlines`` on ``calendar`` (the target rule
    set's own, ``deadlines.calendar``, for a real recompute). Reads only."""
    plan = Recompute(deadlines.version or "")
    durations: dict[str, Duration] = {}
    query = (
        select(TimerRow, Instance.flow)
        .join(Instance, Instance.id == TimerRow.instance_id)
        .where(TimerRow.status.in_(OPEN_TIMERS))
        .order_by(TimerRow.instance_id, TimerRow.id)
    )
    with db.read() as session:
        for timer, flow in session.execute(query):
            group = plan.groups.setdefault(
                (flow, timer.state, timer.name), TimerShift(flow, timer.state, timer.name)
            )
            if timer.status == TimerStatus.SUSPENDED:
                group.suspended += 1
                continue
            group.armed += 1
            text = deadlines.ruleset.deadline(flow, timer.state, timer.name)
            if text is None:
                group.no_rule += 1
                continue
            duration = durations.get(text) or durations.setdefault(text, Duration.parse(text))
            move = _recounted(timer, duration, calendar)
            if move is not None:
                group.moved += 1
                shift = move.new - move.old
                group.min_shift = shift if group.min_shift is None else min(group.min_shift, shift)
                group.max_shift = shift if group.max_shift is None else max(group.max_shift, shift)
                plan.moves.append(move)
    return plan


def _recounted(timer: TimerRow, duration: Duration, calendar: WorkCalendar) -> _Move | None:
    """The timer's move under ``duration`` on ``calendar``; None when its due stays."""
    if not timer.ledger:
        due, budget = calendar.add(timer.created_at, duration), None
    else:
        spans = [(_at(str(s)), _at(r) if r else None) for s, r in timer.ledger]
        reckoning = replay(budget_of(duration), timer.created_at, spans, calendar)
        if reckoning.due is None:  # pragma: no cover - an armed timer's ledger ends with a resume
            return None
        due, budget = reckoning.due, to_json(reckoning.budget)
    if due.due_at == timer.due_at and budget in (None, timer.remaining):
        return None
    return _Move(timer.id, timer.instance_id, timer.name, timer.due_at, due.due_at, due.provisional, budget)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def apply_recompute(
    db: Database, clock: Clock, plan: Recompute, operator: str, batch: int = 200, reason: str | None = None
) -> int:
    """Move the planned timers, with one audit row per instance (its reason ``reason``, by default
    ``rules recompute to version X``); a timer that fired, was cancelled or moved meanwhile is left
    alone. Returns how many timers moved."""
    by_instance: dict[int, list[_Move]] = {}
    for move in plan.moves:
        by_instance.setdefault(move.instance_id, []).append(move)
    ids = sorted(by_instance)
    moved = 0
    for start in range(0, len(ids), batch):
        with db.transaction() as session:
            for instance_id in ids[start : start + batch]:
                moves = by_instance[instance_id]
                moved += _apply_instance(session, db, clock, plan.version, moves, operator, reason)
    plan.applied = moved
    log.info("rules recompute to version %s moved %d timers", plan.version, moved)
    return moved


def _apply_instance(
    session: Session,
    db: Database,
    clock: Clock,
    version: str,
    moves: list[_Move],
    operator: str,
    reason: str | None = None,
) -> int:
    query = select(Instance).where(Instance.id == moves[0].instance_id)
    instance = session.execute(query.with_for_update() if db.is_postgres else query).scalar_one()
    done = []
    for move in moves:
        result = session.execute(
            update(TimerRow)
            .where(
                TimerRow.id == move.timer_id,
                TimerRow.status == TimerStatus.ARMED,
                TimerRow.due_at == move.old,
            )
            .values(
                due_at=move.new,
                provisional=move.provisional,
                **({"remaining": move.remaining} if move.remaining is not None else {}),
            )
        )
        if result.rowcount:  # type: ignore[attr-defined]
            done.append(move)
    if not done:
        return 0
    key = f"recompute:{version}:{done[0].timer_id}"
    taken = session.execute(
        select(func.count())
        .select_from(History)
        .where(History.instance_id == instance.id, History.dedupe_key.startswith(key))
    ).scalar_one()
    timers = [
        {"timer_id": m.timer_id, "name": m.name, "from": m.old.isoformat(), "to": m.new.isoformat()}
        for m in done
    ]
    session.add(
        History(
            instance_id=instance.id,
            from_state=instance.state,
            to_state=instance.state,
            trigger="rules_recompute",
            outcome="applied",
            reason=reason or f"rules recompute to version {version}",
            cause_kind="operator",
            cause_id=None,
            operator=operator,
            payload={"version": version, "timers": timers},
            at=clock.now(),
            dedupe_key=f"{key}#{taken + 1}" if taken else key,
            rules_version=version or None,
        )
    )
    return len(done)


def format_recompute(plan: Recompute) -> str:
    dry = plan.applied is None
    lines = [
        f"recompute armed timers to rules version {plan.version}" + (" (dry run: nothing changed)" * dry)
    ]
    header = f"{'flow / state / timer':<56} {'armed':>6} {'move':>6} {'min shift':>12} {'max shift':>12}"
    lines.append(header)
    for _, group in sorted(plan.groups.items()):
        name = f"{group.flow} / {group.state} / {group.timer}"
        lines.append(
            f"{name:<56} {group.armed:>6} {group.moved:>6} {_span(group.min_shift):>12} "
            f"{_span(group.max_shift):>12}"
            + (f"  ({group.no_rule} without a rule: kept)" * bool(group.no_rule))
            + (f"  ({group.suspended} suspended: kept, due again on resume)" * bool(group.suspended))
        )
    armed = sum(g.armed for g in plan.groups.values())
    lines += _listed(plan.moves)
    if dry:
        lines.append(f"{len(plan.moves)} of {armed} armed timers would move, on {plan.instances} instances")
    else:
        lines.append(f"{plan.applied} of {armed} armed timers moved, on {plan.instances} instances")
    return "\n".join(lines)


def _listed(moves: list[_Move], most: int = 20) -> list[str]:
    """The moved timers, one a line (the first ``most``; ``--json`` has them all)."""
    lines = [
        f"  #{m.instance_id} {m.name} (timer {m.timer_id}): {shown(m.old)} → {shown(m.new)} "
        f"({_span(m.new - m.old)})"
        for m in moves[:most]
    ]
    if len(moves) > most:
        lines.append(f"  … and {len(moves) - most} more (--json lists them all)")
    return lines


def _span(delta: timedelta | None) -> str:
    """``+1d 2h``, ``-30m``, ``-`` for none."""
    if delta is None:
        return "-"
    sign, seconds = ("-" if delta < timedelta(0) else "+"), int(abs(delta.total_seconds()))
    parts = [
        (seconds // 86400, "d"),
        (seconds % 86400 // 3600, "h"),
        (seconds % 3600 // 60, "m"),
        (seconds % 60, "s"),
    ]
    return sign + " ".join(f"{n}{unit}" for n, unit in parts if n) if seconds else "0"
