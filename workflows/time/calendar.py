"""Deadlines on the Chinese working calendar (Asia/Shanghai).

Four kinds of period (DOMAIN.md, "Shared rules"):

* hours — exact elapsed time, through nights and holidays;
* natural days — the start day is not counted; the deadline is the end of the Nth day after it,
  moved to the end of the next working day when that day is not a working day (Civil Code §201/§203);
* working days — the start day is not counted; weekends and public holidays are skipped and
  make-up workdays (调休) count; the deadline is the end of the Nth working day;
* working hours (工作时) — office time (``calendar.yaml``'s ``office_hours``) on working days: a start
  inside office hours counts from the start, one outside from the next opening, and the deadline is
  the instant the budget runs out (``workflows/time/office.py``).

"End of day D" is represented as 00:00 Asia/Shanghai of day D + 1, returned in UTC.

The parts of a sum (``48h + 1 working day``) count one after the other, each from where the one
before ended. A part that ends at exactly 00:00 of day D has ended at the end of day D − 1 — the
instant "end of D − 1" stands for — so the next day-based part has D − 1 as its start day, not D:
``48h`` ending at Sat 00:00 and one ending at Fri 23:59 both make ``+ 1 working day`` the following
Monday, never a day apart. The duration's own start is an event's instant and keeps its date: an
event at 00:00 of D happened on D, which is not counted.

Which days are working days, year by year (``workflows/time/holidays.py``): operator overrides win;
then the year's announced schedule in the rules' ``calendar.yaml`` (``WorkCalendar.from_rules``: the
engine's calendar is the one of the rules in force, swapped with them on a reload); then
chinese-calendar's tables (2004–2026); a year none of them has is estimated from the statutory
holidays, its deadlines are marked provisional and one warning per year is logged. Each year's table
is built once, on first use. Nothing here reads the clock: every instant is passed in.

``WorkCalendar.trace`` is the same count as ``add`` with the day-by-day notes (``trace.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

from rules.schema import Calendar, CalendarYear
from workflows.time.holidays import (
    PACKAGE_YEARS,
    YearTable,
    announced_table,
    package_table,
    statutory_table,
)
from workflows.time.office import OfficeHours
from workflows.time.periods import Duration, DurationError, Period, PeriodKind
from workflows.time.trace import SHANGHAI, START_DAY, DayKind, Deadline, Trace, TracedDay, TracedPeriod

__all__ = [
    "SHANGHAI",
    "DayKind",
    "Deadline",
    "Duration",
    "DurationError",
    "OfficeHours",
    "Period",
    "PeriodKind",
    "Trace",
    "WorkCalendar",
]

log = logging.getLogger("yunshang.calendar")
Notes = list[TracedDay] | None
"""Where a count writes down the days it passes through (``trace``), or None (``add``)."""


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} {value.isoformat()} is a naive datetime (no timezone); "
            "pass an aware datetime such as 2026-01-05T09:00:00+08:00"
        )


def _end_of_day(day: date) -> datetime:
    """The instant day D ends: 00:00 Asia/Shanghai of D + 1, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI).astimezone(UTC)


def _day_ended(instant: datetime) -> date:
    """The start day for the next part after a part ended at ``instant``: its Shanghai date, or the day
    before when it is exactly 00:00 (the end of that day)."""
    local = instant.astimezone(SHANGHAI)
    return local.date() - timedelta(days=1) if local.time() == time(0) else local.date()


class WorkCalendar:
    """Working days: operator overrides, then the announced schedules (``calendar.yaml``), then
    ``chinese_calendar``, then the provisional estimate from the statutory holidays; working hours in
    ``office_hours`` (default 08:30–12:00 and 13:30–17:30)."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        announced: Mapping[int, CalendarYear] | None = None,
        office_hours: OfficeHours | Sequence[str] | None = None,
    ) -> None:
        checked: dict[date, bool] = {}
        for day, workday in (overrides or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"calendar override key {day!r} must be a date (not a datetime)")
            checked[day] = bool(workday)
        self._overrides = checked
        self._announced = dict(announced or {})
        if not isinstance(office_hours, OfficeHours):
            office_hours = OfficeHours.parse() if office_hours is None else OfficeHours.parse(office_hours)
        self.office_hours = office_hours

        self._tables: dict[int, YearTable] = {}
        self._building = threading.Lock()

    @classmethod
    def from_rules(cls, calendar: Calendar) -> WorkCalendar:
        """The calendar of a rule set: its ``calendar.yaml`` years, the built-in tables for the rest."""
        return cls(announced=calendar.years, office_hours=calendar.office_hours)

    def covered_years(self) -> range:
        """Years for which the packaged holiday data is complete."""
        return PACKAGE_YEARS

    def announced_years(self) -> list[int]:
        """Years whose deadlines are certain: in ``calendar.yaml`` or in the packaged data."""
        return sorted(set(self._announced) | set(PACKAGE_YEARS))

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(is a working day, provisional) for an Asia/Shanghai calendar date."""
        if isinstance(day, datetime):
            raise TypeError(f"is_workday takes a date, not a datetime ({day.isoformat()})")
        if day in self._overrides:
            return self._overrides[day], False
        table = self._tables.get(day.year) or self.year(day.year)
        return day in table.workdays, table.provisional

    def holiday_name(self, day: date) -> str | None:
        """The holiday a day off belongs to (``春节``), by the year's table; None for other days."""
        return self.year(day.year).holidays.get(day)

    def year(self, year: int) -> YearTable:
        """The year's table, built on first use (one warning when it is an estimate)."""
        table = self._tables.get(year)
        if table is not None:
            return table
        with self._building:
            table = self._tables.get(year)
            if table is None:
                table = self._build(year)
                self._tables[year] = table
        return table

    def _build(self, year: int) -> YearTable:
        entry = self._announced.get(year)
        if entry is not None:
            return announced_table(year, entry)
        packaged = package_table(year)
        if packaged is not None:
            return packaged
        log.warning(
            "calendar has no schedule for %d; deadlines are provisional: weekends and the statutory "
            "holidays only, no make-up workdays — enter the year's announced schedule in calendar.yaml",
            year,
        )
        return statutory_table(year)

    def add(self, start: datetime, duration: Duration) -> Deadline:
        """The deadline ``duration`` after ``start`` (aware); returned in UTC."""
        return self._count(start, duration, None)

    def trace(self, start: datetime, duration: Duration) -> Trace:
        """``add``, with the days each part counted and skipped, and why."""
        parts: list[TracedPeriod] = []
        deadline = self._count(start, duration, parts)
        return Trace(start.astimezone(UTC), duration, deadline, tuple(parts))

    def day_kind(self, day: date) -> tuple[DayKind, str | None, bool]:
        """(what the day is, the holiday a day off belongs to, provisional)."""
        workday, provisional = self.is_workday(day)
        weekend = day.weekday() >= 5
        if workday:
            return (DayKind.make_up if weekend else DayKind.workday), None, provisional
        name = self.holiday_name(day)
        if name is not None:
            return DayKind.holiday, name, provisional
        return (DayKind.weekend if weekend else DayKind.day_off), None, provisional

    def _count(self, start: datetime, duration: Duration, parts: list[TracedPeriod] | None) -> Deadline:
        _require_aware("start", start)
        instant = start.astimezone(UTC)
        start_day = instant.astimezone(SHANGHAI).date()  # the event's day: not counted
        provisional = False
        for period in duration.periods:
            notes: Notes = None if parts is None else []
            began = instant
            if period.kind is PeriodKind.hours:
                instant += timedelta(hours=period.amount)
            elif period.kind is PeriodKind.working_hours:
                instant, uncertain = self._working_hours(instant, period.amount, notes)
                provisional = provisional or uncertain
            else:
                count = self._natural_days if period.kind is PeriodKind.natural_days else self._working_days
                last_day, uncertain = count(start_day, period.amount, notes)
                provisional = provisional or uncertain
                instant = _end_of_day(last_day)
            start_day = _day_ended(instant)
            if parts is not None and notes is not None:
                parts.append(TracedPeriod(period, began, instant, tuple(notes), self._how(period)))
        return Deadline(due_at=instant, provisional=provisional)

    def _how(self, period: Period) -> str:
        if period.kind is PeriodKind.hours:
            return "natural hours, through nights and holidays"
        if period.kind is PeriodKind.working_hours:
            return f"office hours {self.office_hours} of working days"
        if period.kind is PeriodKind.natural_days:
            return "every day counts; a last day off moves to the next working day"
        return "weekends and holidays skipped, make-up workdays counted"

    def _note(
        self,
        notes: Notes,
        day: date,
        counted: bool,
        *,
        count: int | None = None,
        hours: tuple[tuple[time, time], ...] = (),
        note: str = "",
    ) -> None:
        if notes is not None:
            kind, holiday, provisional = self.day_kind(day)
            notes.append(TracedDay(day, kind, counted, holiday, provisional, count, hours, note))

    def _natural_days(self, start_day: date, amount: int, notes: Notes = None) -> tuple[date, bool]:
        self._note(notes, start_day, False, note=START_DAY)
        for n in range(1, amount if notes is not None else 1):
            self._note(notes, start_day + timedelta(days=n), True, count=n)
        day = start_day + timedelta(days=amount)
        workday, provisional = self.is_workday(day)
        if workday:
            self._note(notes, day, True, count=amount)
            return day, provisional
        self._note(notes, day, False, count=amount, note="the last day is off: the deadline moves on")
        while not workday:
            day += timedelta(days=1)
            workday, uncertain = self.is_workday(day)
            provisional = provisional or uncertain
            self._note(notes, day, workday, note="the deadline moved here" if workday else "")
        return day, provisional

    def _working_days(self, start_day: date, amount: int, notes: Notes = None) -> tuple[date, bool]:
        self._note(notes, start_day, False, note=START_DAY)
        day, counted, provisional = start_day, 0, False
        while counted < amount:
            day += timedelta(days=1)
            workday, uncertain = self.is_workday(day)
            provisional = provisional or uncertain
            counted += workday
            if notes is not None:
                self._note(notes, day, workday, count=counted if workday else None)
        return day, provisional

    def _working_hours(self, start: datetime, hours: int, notes: Notes) -> tuple[datetime, bool]:
        def visit(day: date, spans: tuple[tuple[time, time], ...]) -> None:
            note = "" if spans or not self.is_workday(day)[0] else "after office hours"
            self._note(notes, day, bool(spans), hours=spans, note=note)

        local = start.astimezone(SHANGHAI).replace(tzinfo=None)
        due, provisional = self.office_hours.add(
            local, hours, self.is_workday, visit if notes is not None else None
        )
        return due.replace(tzinfo=SHANGHAI).astimezone(UTC), provisional

    def add_office_time(self, start: datetime, span: timedelta) -> Deadline:
        """The instant ``span`` (positive) of office time after ``start`` (aware), counted as working
        hours are: from ``start`` inside office hours, else from the next opening; in UTC."""
        _require_aware("start", start)
        local = start.astimezone(SHANGHAI).replace(tzinfo=None)
        due, provisional = self.office_hours.add_time(local, span, self.is_workday)
        return Deadline(due_at=due.replace(tzinfo=SHANGHAI).astimezone(UTC), provisional=provisional)

    def office_time_between(self, start: datetime, end: datetime) -> timedelta:
        """The office time of working days from ``start`` to ``end`` (aware); zero when ``end`` is not
        after ``start``."""
        _require_aware("start", start)
        _require_aware("end", end)
        if end <= start:
            return timedelta(0)
        local = [moment.astimezone(SHANGHAI).replace(tzinfo=None) for moment in (start, end)]
        return self.office_hours.between(local[0], local[1], self.is_workday)[0]

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after start's Shanghai date, up to and including end's Shanghai date."""
        _require_aware("start", start)
        _require_aware("end", end)
        day = start.astimezone(SHANGHAI).date()
        last = end.astimezone(SHANGHAI).date()
        count = 0
        while day < last:
            day += timedelta(days=1)
            count += self.is_workday(day)[0]
        return count
