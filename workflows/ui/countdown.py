"""A timer's countdown as the instance page words it, in the units of its rule.

``countdown`` words a ``workflows.queries.clocks.TimerClock`` (the budget the engine would keep if the
timer were suspended now): ``31 hours left`` (a ``48h`` claim 17 hours in; time left is rounded *up*
to the minute, as a countdown is, so it never says nothing is left while something is),
``2 working days left, due 周四 24:00``, ``13 hours + 1 working day left, due 周一 24:00`` (a sum,
within its hours), ``due today 24:00`` (the last working day), ``suspended, 4 working days left``,
``overdue by 3 hours`` (rounded down), and for a rule counted in days the whole working days gone by
since: ``overdue by 26 hours (1 working day)``. A day part ends at 00:00 of the next day, shown as
24:00 of its last day."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from workflows.queries.clocks import TimerClock
from workflows.time.calendar import SHANGHAI
from workflows.time.suspension import Budget, Part, Unit

WEEKDAYS = "一二三四五六日"
_DAYS = (Unit.working_days, Unit.natural_days)
_MINUTE = timedelta(minutes=1)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _hours_minutes(minutes: int, adjective: str = "") -> str:
    hours, rest = divmod(minutes, 60)
    hour, minute = f"{adjective}hour", f"{adjective}minute"
    if hours and rest:
        return f"{_plural(hours, hour)} {_plural(rest, 'minute')}"
    if hours:
        return _plural(hours, hour)
    return _plural(rest, minute)


def span_left(span: timedelta, adjective: str = "") -> str:
    """Time left, rounded up to the minute: ``31 hours``, ``2 hours 5 minutes``, ``1 minute``."""
    if span <= timedelta(0):
        return "nothing"
    minutes = -(-span // _MINUTE)
    return _hours_minutes(minutes, adjective)


def span_late(span: timedelta) -> str:
    """Time past due, rounded down: ``3 hours``, ``45 minutes``, ``3 days 2 hours`` from 48 hours."""
    minutes = span // _MINUTE
    if minutes < 1:
        return "less than a minute"
    if minutes >= 48 * 60:
        days, hours = divmod(minutes // 60, 24)
        return _plural(days, "day") + (f" {_plural(hours, 'hour')}" if hours else "")
    return _hours_minutes(minutes)


def part_text(part: Part) -> str:
    """One part of a budget in its unit: ``31 hours``, ``2 working hours 30 minutes``, ``3 working
    days``, ``the rest of today`` (a day part with no whole day ahead)."""
    if part.unit is Unit.wall:
        return span_left(timedelta(microseconds=part.amount))
    if part.unit is Unit.working_hours:
        return span_left(timedelta(microseconds=part.amount), "working ")
    if part.amount == 0:
        return "the rest of today"
    return _plural(part.amount, "working day" if part.unit is Unit.working_days else "natural day")


def budget_text(budget: Budget) -> str:
    return " + ".join(part_text(p) for p in budget) or "nothing"


def due_label(due: datetime, now: datetime) -> str:
    """When a due falls, seen from ``now`` (Beijing time): ``today 24:00``, ``周四 17:30`` within the
    week ahead, ``12-24 周四 24:00`` further, ``2027-01-04 周一 24:00`` in another year."""
    at = due.astimezone(SHANGHAI)
    day, clock = at.date(), f"{at:%H:%M}"
    if at.time() == time(0):
        day, clock = day - timedelta(days=1), "24:00"
    today = now.astimezone(SHANGHAI).date()
    weekday = f"周{WEEKDAYS[day.weekday()]}"
    if day.year != today.year:
        return f"{day:%Y-%m-%d} {weekday} {clock}"
    if day == today:
        return f"today {clock}"
    if timedelta(0) < day - today <= timedelta(days=6):
        return f"{weekday} {clock}"
    return f"{day:%m-%d} {weekday} {clock}"


def due_full(due: datetime) -> str:
    """A due in full, Beijing time, the end of a day as 24:00 of it: ``2026-12-14 周一 24:00``."""
    at = due.astimezone(SHANGHAI)
    day, clock = at.date(), f"{at:%H:%M}"
    if at.time() == time(0):
        day, clock = day - timedelta(days=1), "24:00"
    return f"{day:%Y-%m-%d} 周{WEEKDAYS[day.weekday()]} {clock}"


def countdown(clock: TimerClock) -> str:
    """The countdown text of a timer of the current state (see the module's examples)."""
    if clock.status == "suspended":
        return f"suspended, {budget_text(clock.budget)} left"
    if clock.status == "overdue":
        late = span_late(clock.late or timedelta(0))
        if clock.kind == "warning":
            return f"warning passed {late} ago"
        days = clock.late_working_days
        return f"overdue by {late}" + (f" ({_plural(days, 'working day')})" if days else "")
    budget = clock.budget
    due = due_label(clock.due_at, clock.now)
    if len(budget) == 1 and budget[0].unit in _DAYS and budget[0].amount == 0:
        return f"due {due}"
    text = f"{budget_text(budget)} left"
    return text + (f", due {due}" if budget and budget[-1].unit in _DAYS else "")


def provisional_note(clock: TimerClock) -> str | None:
    """Why a due is not certain: a year whose calendar is not published yet is an estimate."""
    if not clock.provisional:
        return None
    if clock.provisional_years:
        years = ", ".join(str(y) for y in clock.provisional_years)
        return f"provisional: the {years} calendar is not published yet (estimated, no make-up workdays)"
    return "provisional: counted on an estimated calendar"
