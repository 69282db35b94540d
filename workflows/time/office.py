"""Working hours (工作时): hours of office time on working days.

The office hours are rule data (``calendar.yaml``'s ``office_hours``, Asia/Shanghai wall time, e.g.
08:30–12:00 and 13:30–17:30); which days are working days is the calendar's (make-up workdays count,
weekends and holidays do not). A start inside office hours counts from the start; a start outside
them counts from the next opening; the due instant is the one at which the budget runs out — at a
closing time when it runs out exactly there (16:30 + 1 working hour is 17:30, not the next opening).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from rules.schema.calendar import DEFAULT_OFFICE_HOURS, office_range

__all__ = ["DayVisit", "OfficeHours"]

Span = tuple[time, time]
IsWorkday = Callable[[date], tuple[bool, bool]]
DayVisit = Callable[[date, tuple[Span, ...]], None]
"""Told each day a count passes through, with the office time it used that day (none on a day off)."""


@dataclass(frozen=True)
class OfficeHours:
    """The office ranges of a working day, in order and apart."""

    ranges: tuple[Span, ...]

    def __post_init__(self) -> None:
        if not self.ranges:
            raise ValueError("office hours need at least one range, like 08:30-12:00")
        for opens, closes in self.ranges:
            if closes <= opens:
                raise ValueError(f"office hours {opens:%H:%M}-{closes:%H:%M} end before they start")
        for (_, closes), (opens, _) in zip(self.ranges, self.ranges[1:], strict=False):
            if opens < closes:
                raise ValueError(f"office hours {self} overlap or are out of order")

    @classmethod
    def parse(cls, texts: Iterable[str] = DEFAULT_OFFICE_HOURS) -> OfficeHours:
        """``["08:30-12:00", "13:30-17:30"]`` → office hours; ValueError names a bad range."""
        return cls(tuple(office_range(text) for text in texts))

    def __str__(self) -> str:
        return ", ".join(f"{opens:%H:%M}–{closes:%H:%M}" for opens, closes in self.ranges)

    def add(
        self, start: datetime, hours: int, is_workday: IsWorkday, visit: DayVisit | None = None
    ) -> tuple[datetime, bool]:
        """The wall-clock instant (naive, Asia/Shanghai) ``hours`` of office time after ``start``
        (naive, Asia/Shanghai), and whether a provisional day decided it."""
        return self.add_time(start, timedelta(hours=hours), is_workday, visit)

    def add_time(
        self, start: datetime, left: timedelta, is_workday: IsWorkday, visit: DayVisit | None = None
    ) -> tuple[datetime, bool]:
        """``add`` for any positive span of office time (a suspended deadline's budget, to the
        microsecond)."""
        if left <= timedelta(0):
            raise ValueError(f"office time to add must be positive, not {left}")
        day, clock, provisional = start.date(), start.time(), False
        while True:
            workday, uncertain = is_workday(day)
            provisional = provisional or uncertain
            used: list[Span] = []
            for opens, closes in self.ranges if workday else ():
                begin = datetime.combine(day, max(opens, clock))
                available = datetime.combine(day, closes) - begin
                if available <= timedelta(0):
                    continue
                if left <= available:
                    used.append((begin.time(), (begin + left).time()))
                    if visit is not None:
                        visit(day, tuple(used))
                    return begin + left, provisional
                left -= available
                used.append((begin.time(), closes))
            if visit is not None:
                visit(day, tuple(used))
            day, clock = day + timedelta(days=1), time(0)

    def between(self, start: datetime, end: datetime, is_workday: IsWorkday) -> tuple[timedelta, bool]:
        """The office time from ``start`` to ``end`` (naive, Asia/Shanghai; none when ``end`` is not
        after ``start``), and whether a provisional day was counted."""
        total, provisional = timedelta(0), False
        day = start.date()
        while day <= end.date():
            workday, uncertain = is_workday(day)
            provisional = provisional or uncertain
            for opens, closes in self.ranges if workday else ():
                begin = max(datetime.combine(day, opens), start)
                finish = min(datetime.combine(day, closes), end)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total, provisional
