"""Suspended clocks: what a deadline has left when it is suspended, and where it falls on resume.

A timer's rule is a duration (``5 working days``, ``48h``, ``7 natural days + 3 working days``) counted
from the instant the timer was armed. Suspending the timer stops the count; resuming it counts what was
left — its *budget* — from the resume instant. The budget is kept in the units of the rule, part by
part, and measured at the instant of suspension:

* **hours**: the wall time left, to the microsecond; on resume the due is the resume instant plus it.
* **working hours** (工作时): the office time left, to the microsecond — the office hours of working
  days between the instant of suspension and the due (``calendar.yaml``'s ``office_hours``); on resume
  it is counted again in office hours from the resume instant (from the next opening when that is
  outside them), on the calendar in force: a ``4 working hours`` deadline started 09:00 and suspended
  at 11:00 has 2 hours left (11:00–12:00 and 13:30–14:30); resumed at 16:30 on a Friday, it runs
  16:30–17:30 and 08:30–09:30 on the next working day.
* **working days**: the working days still ahead *after* the day of suspension, up to and including
  the part's last day. The rest of the day of suspension is not budget, just as a period's start day
  is not counted: due at the end of Thu and suspended on Mon 15:00 leaves Tue, Wed and Thu, 3 working
  days; resumed on a later Mon at 10:00, the due is the end of the 3rd working day after that Mon, with
  the holidays and make-up workdays of the calendar in force at the resume (on the calendar at hand,
  the due moves by exactly the working days the suspension covered).
* **natural days**: the days ahead after the day of suspension up to the part's nominal last day
  (before a period ending on a day off was moved to the next working day); on resume, the end of the
  day that many days after the resume day, moved off a day off again.
* a day part with **nothing ahead** (suspended on its last day) leaves 0 days, the rest of that day:
  on resume, the end of the resume day, or of the next working day when the resume day is not one.
* a **sum** keeps the parts not reached yet as they are: suspended within the 48 hours of
  ``48h + 1 working day``, the budget is the rest of the 48 hours, then 1 working day.

Resuming at the instant of suspension gives back the same due. A budget is placed on the calendar the
way ``WorkCalendar.add`` places a duration (a day part after a day part counts from the day the first
ended; an hours part from its instant), using only the calendar's public methods. Nothing here reads
the clock or the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from workflows.time.calendar import SHANGHAI, Deadline, Duration, Period, PeriodKind, WorkCalendar

_TICK = timedelta(microseconds=1)


class SuspensionError(ValueError):
    """A duration or a budget a suspension cannot work with."""


class Unit(StrEnum):
    wall = "wall"  # amount: microseconds
    working_hours = "working_hours"  # amount: microseconds of office time
    natural_days = "natural_days"
    working_days = "working_days"


@dataclass(frozen=True)
class Part:
    unit: Unit
    amount: int

    def __str__(self) -> str:
        if self.unit is Unit.wall:
            return _wall(self.amount)
        if self.unit is Unit.working_hours:
            return f"{_wall(self.amount)} of working hours"
        noun = "day" if self.amount == 1 else "days"
        return f"{self.amount} {self.unit.value.split('_')[0]} {noun}"


Budget = tuple[Part, ...]


def budget_of(duration: Duration) -> Budget:
    """A rule's whole budget: ``48h + 1 working day`` → 48 hours of wall time, then 1 working day."""
    parts = []
    for period in duration.periods:
        if period.kind is PeriodKind.hours:
            parts.append(Part(Unit.wall, period.amount * 3_600_000_000))
        elif period.kind is PeriodKind.natural_days:
            parts.append(Part(Unit.natural_days, period.amount))
        elif period.kind is PeriodKind.working_days:
            parts.append(Part(Unit.working_days, period.amount))
        elif period.kind is PeriodKind.working_hours:
            parts.append(Part(Unit.working_hours, period.amount * 3_600_000_000))
        else:
            raise SuspensionError(f"a deadline counted in {period.kind} cannot be suspended yet")
    return tuple(parts)


def describe(budget: Budget) -> str:
    """``13h 20m + 1 working day``; ``nothing`` for an empty budget."""
    return " + ".join(str(part) for part in budget) or "nothing"


def to_json(budget: Budget) -> list[dict[str, Any]]:
    return [{"unit": part.unit.value, "amount": part.amount} for part in budget]


def from_json(raw: Sequence[dict[str, Any]]) -> Budget:
    return tuple(Part(Unit(item["unit"]), int(item["amount"])) for item in raw)


@dataclass(frozen=True)
class _Leg:
    """A part placed on the calendar: from ``start`` (whose day counts as the start day ``day``) to
    ``end``; ``last`` is a day part's last day as counted (natural days: before moving off a day off)."""

    part: Part
    start: datetime
    day: date
    end: datetime
    last: date


def _local(instant: datetime) -> date:
    return instant.astimezone(SHANGHAI).date()


def _day_ended(instant: datetime) -> date:
    """The start day of a day part that follows a part ended at ``instant`` (as ``WorkCalendar.add``
    counts it): its date, or the day before when it is exactly 00:00, the end of that day."""
    local = instant.astimezone(SHANGHAI)
    return local.date() - timedelta(days=1) if local.time() == time(0) else local.date()


#: parts measured in time (wall or office), not in days
_TIMED = frozenset({Unit.wall, Unit.working_hours})


def _timed_end(instant: datetime, part: Part, calendar: WorkCalendar) -> tuple[datetime, bool]:
    """Where a time part counted from ``instant`` ends (and whether a provisional day decided it)."""
    span = timedelta(microseconds=part.amount)
    if part.unit is Unit.wall or part.amount == 0:
        return instant + span, False
    due = calendar.add_office_time(instant, span)
    return due.due_at, due.provisional


def _noon(day: date) -> datetime:
    """An instant inside ``day``: ``WorkCalendar.add`` from it counts ``day`` as the start day."""
    return datetime.combine(day, time(12), tzinfo=SHANGHAI)


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI).astimezone(UTC)


def _place(origin: datetime, budget: Budget, calendar: WorkCalendar) -> tuple[list[_Leg], bool]:
    instant, day, provisional = origin.astimezone(UTC), _local(origin), False
    legs = []
    for part in budget:
        if part.unit in _TIMED:
            end, uncertain = _timed_end(instant, part, calendar)
            legs.append(_Leg(part, instant, day, end, _local(end)))
            instant, day, provisional = end, _day_ended(end), provisional or uncertain
            continue
        if part.amount == 0:  # the rest of a day: this one if it is a working day, else the next one
            last, uncertain = day, False
            while not (found := calendar.is_workday(last))[0]:
                uncertain = uncertain or found[1]
                last += timedelta(days=1)
            counted, end, uncertain = day, _end_of(last), uncertain or found[1]
        else:
            kind = PeriodKind.natural_days if part.unit is Unit.natural_days else PeriodKind.working_days
            due = calendar.add(_noon(day), Duration((Period(part.amount, kind),)))
            end, uncertain = due.due_at, due.provisional
            last = _local(end - _TICK)
            counted = day + timedelta(days=part.amount) if part.unit is Unit.natural_days else last
        legs.append(_Leg(part, instant, day, end, counted))
        instant, day, provisional = end, last, provisional or uncertain
    return legs, provisional


def due_of(origin: datetime, budget: Budget, calendar: WorkCalendar) -> Deadline:
    """Where ``budget`` counted from ``origin`` (an armed instant or a resume) falls due."""
    _aware("origin", origin)
    if not budget:
        raise SuspensionError("an empty budget has no due time")
    legs, provisional = _place(origin, budget, calendar)
    return Deadline(due_at=legs[-1].end, provisional=provisional)


def remaining(origin: datetime, budget: Budget, at: datetime, calendar: WorkCalendar) -> Budget:
    """The budget left at ``at`` of ``budget`` counted from ``origin`` (the rule above). Raises
    ``SuspensionError`` when ``at`` is not before the due time: nothing is left to suspend."""
    _aware("at", at)
    legs, _ = _place(origin, budget, calendar)
    for i, leg in enumerate(legs):
        if at < leg.end:
            return (_rest(leg, at, calendar), *(later.part for later in legs[i + 1 :]))
    raise SuspensionError(f"the deadline fell due at {legs[-1].end.isoformat()}; nothing is left at {at}")


def _rest(leg: _Leg, at: datetime, calendar: WorkCalendar) -> Part:
    if at <= leg.start:
        return leg.part
    if leg.part.unit is Unit.wall:
        return Part(Unit.wall, (leg.end - at) // _TICK)
    if leg.part.unit is Unit.working_hours:
        return Part(Unit.working_hours, calendar.office_time_between(at, leg.end) // _TICK)
    day = _local(at)
    if day <= leg.day:
        return leg.part
    if leg.part.unit is Unit.natural_days:
        return Part(Unit.natural_days, max(0, (leg.last - day).days))
    ahead = calendar.working_days_between(_noon(day), _noon(leg.last)) if day < leg.last else 0
    return Part(Unit.working_days, ahead)


def left_until(due: datetime, at: datetime, unit: Unit, calendar: WorkCalendar) -> Budget:
    """A one-part budget from ``at`` to a known ``due``, in ``unit``: for a timer whose recorded due no
    longer agrees with its rule (the rules or the calendar changed since it was armed, without a
    recompute). Raises ``SuspensionError`` when ``due`` is not after ``at``."""
    if due <= at:
        raise SuspensionError(f"the deadline fell due at {due.isoformat()}; nothing is left at {at}")
    if unit is Unit.wall:
        return (Part(Unit.wall, (due - at) // _TICK),)
    if unit is Unit.working_hours:
        return (Part(Unit.working_hours, calendar.office_time_between(at, due) // _TICK),)
    day, last = _local(at), _local(due - _TICK)
    if unit is Unit.natural_days:
        return (Part(Unit.natural_days, (last - day).days),)
    return (Part(Unit.working_days, calendar.working_days_between(_noon(day), _noon(last))),)


@dataclass(frozen=True)
class Reckoning:
    """A timer's ledger replayed: its budget after the last suspension or resume, and its due (None
    while it is suspended)."""

    budget: Budget
    due: Deadline | None


Ledger = Sequence[tuple[datetime, datetime | None]]


def replay(budget: Budget, armed_at: datetime, ledger: Ledger, calendar: WorkCalendar) -> Reckoning:
    """Count ``budget`` from ``armed_at`` through the (suspended at, resumed at or None) spans of
    ``ledger`` on ``calendar``: the due the timer would have had, had that calendar been in force."""
    origin = armed_at
    for suspended_at, resumed_at in ledger:
        budget = remaining(origin, budget, suspended_at, calendar)
        if resumed_at is None:
            return Reckoning(budget, None)
        origin = resumed_at
    return Reckoning(budget, due_of(origin, budget, calendar))


def _aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise SuspensionError(f"{name} {value.isoformat()} is naive; pass an aware datetime")


def _wall(microseconds: int) -> str:
    seconds = microseconds // 1_000_000
    parts = [(seconds // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    return " ".join(f"{n}{unit}" for n, unit in parts if n) or "0s"
