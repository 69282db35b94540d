"""A deadline and how it was counted, day by day: ``WorkCalendar.trace`` (one explainer for
``rules explain``, the engine and the API: ``WorkCalendar.add`` is the same count without the notes).

Each part of a duration lists the days it passed through: counted or skipped, and why — a weekend, a
holiday (with its name), a make-up workday (调休上班, counted as a working day), a day off an operator
entered — and whether the day's year is only estimated (provisional).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from workflows.time.periods import Duration, Period

__all__ = ["START_DAY", "DayKind", "Deadline", "Trace", "TracedDay", "TracedPeriod"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
START_DAY = "start day, not counted"
"""The note on the day a day-based part starts from (Civil Code §201: the start day is not counted)."""


@dataclass(frozen=True)
class Deadline:
    due_at: datetime  # aware, in UTC
    provisional: bool  # True when a day of a year without an announced schedule decided the result

    def __post_init__(self) -> None:
        if self.due_at.tzinfo is None:
            raise ValueError(f"Deadline.due_at {self.due_at.isoformat()} is naive; it must be aware (UTC)")


class DayKind(StrEnum):
    workday = "working day"
    make_up = "make-up workday"
    """A Saturday or Sunday worked (调休上班): counted as a working day."""
    weekend = "weekend"
    holiday = "holiday"
    day_off = "day off"
    """A weekday off that no holiday names (an operator's override)."""


@dataclass(frozen=True)
class TracedDay:
    day: date
    kind: DayKind
    counted: bool
    holiday: str | None = None
    """The holiday a day off belongs to (``国庆节``)."""
    provisional: bool = False
    count: int | None = None
    """The how-manyth day of the part this one is (working days, natural days)."""
    hours: tuple[tuple[time, time], ...] = ()
    """The office time counted on this day (working hours)."""
    note: str = ""

    @property
    def reason(self) -> str:
        """``holiday 国庆节``, ``make-up workday (调休上班)``, ``weekend`` …"""
        if self.kind is DayKind.holiday and self.holiday:
            return f"holiday {self.holiday}"
        if self.kind is DayKind.make_up:
            return "make-up workday (调休上班)"
        return self.kind.value


@dataclass(frozen=True)
class TracedPeriod:
    period: Period
    start: datetime
    """UTC; where this part started counting (the end of the part before)."""
    end: datetime
    """UTC; where it ended."""
    days: tuple[TracedDay, ...]
    how: str = ""
    """How the part counts (``office hours 08:30–12:00, 13:30–17:30``)."""


@dataclass(frozen=True)
class Trace:
    start: datetime
    duration: Duration
    deadline: Deadline
    periods: tuple[TracedPeriod, ...]

    @property
    def provisional_years(self) -> list[int]:
        return sorted({d.day.year for p in self.periods for d in p.days if d.provisional})

    def lines(self) -> list[str]:
        """For people: each part, then its days (runs of alike days on one line)."""
        due = self.deadline.due_at
        lines = [f"{self.duration} from {_when(self.start)} → due {_when(due)}{_end_of(due)}"]
        if self.deadline.provisional:
            years = ", ".join(str(year) for year in self.provisional_years)
            lines[0] += f"  PROVISIONAL ({years}: no announced schedule)"
        for part in self.periods:
            if len(self.periods) > 1:
                how = f" ({part.how})" if part.how else ""
                lines.append(f"  {part.period}{how}: {_when(part.start)} → {_when(part.end)}")
                lines += [f"    {line}" for line in _day_lines(part.days)]
            else:
                lines += [f"  {part.how}"] * bool(part.how) + [f"  {line}" for line in _day_lines(part.days)]
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "duration": str(self.duration),
            "due_at": self.deadline.due_at.isoformat(),
            "provisional": self.deadline.provisional,
            "periods": [
                {
                    "period": str(part.period),
                    "start": part.start.isoformat(),
                    "end": part.end.isoformat(),
                    "how": part.how,
                    "days": [_day_json(day) for day in part.days],
                }
                for part in self.periods
            ],
        }


def _day_json(day: TracedDay) -> dict[str, Any]:
    return {
        "day": day.day.isoformat(),
        "kind": day.kind.value,
        "counted": day.counted,
        "holiday": day.holiday,
        "provisional": day.provisional,
        "count": day.count,
        "hours": [f"{a:%H:%M}-{b:%H:%M}" for a, b in day.hours],
        "note": day.note,
    }


def _day_lines(days: tuple[TracedDay, ...]) -> list[str]:
    def key(day: TracedDay) -> tuple[object, ...]:
        return (day.counted, day.kind, day.holiday, day.provisional, day.note, id(day) if day.hours else 0)

    runs: list[list[TracedDay]] = []
    for day in days:
        if runs and runs[-1][-1].day + timedelta(days=1) == day.day and key(runs[-1][-1]) == key(day):
            runs[-1].append(day)
        else:
            runs.append([day])
    return [_run_line(run) for run in runs]


def _run_line(run: list[TracedDay]) -> str:
    first, last = run[0], run[-1]
    when = _day(first.day) if first is last else f"{_day(first.day)} – {_day(last.day)}"
    verdict = "counted" if first.counted else "skipped"
    if first.hours:
        verdict += " " + ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in first.hours)
    if first.count is not None:
        span = str(first.count) if first is last else f"{first.count}–{last.count}"
        verdict += f" ({span})"
    flag = "  provisional" if first.provisional else ""
    if first.note == START_DAY:
        return f"{when}  {START_DAY}: {first.reason}{flag}"
    extra = f"; {first.note}" if first.note else ""
    return f"{when}  {verdict}: {first.reason}{extra}{flag}"


def _day(day: date) -> str:
    return f"{day.isoformat()} {day:%a}"


def _when(instant: datetime) -> str:
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M %a")


def _end_of(instant: datetime) -> str:
    local = instant.astimezone(SHANGHAI)
    if local.time() != time(0):
        return ""
    return f" (the end of {_day(local.date() - timedelta(days=1))})"
