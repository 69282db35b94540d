"""Deadlines on the Chinese working calendar (Asia/Shanghai).

Three kinds of period (DOMAIN.md, "Shared rules"):

* hours — exact elapsed time, through nights and holidays;
* natural days — the start day is not counted; the deadline is the end of the Nth day after it,
  moved to the end of the next working day when that day is not a working day (Civil Code §201/§203);
* working days — the start day is not counted; weekends and public holidays are skipped and
  make-up workdays (调休) count; the deadline is the end of the Nth working day.

"End of day D" is represented as 00:00 Asia/Shanghai of day D + 1, returned in UTC.

Which days are working days, year by year (``workflows/time/holidays.py``): operator overrides win;
then the year's announced schedule in the rules' ``calendar.yaml`` (``WorkCalendar.from_rules``: the
engine's calendar is the one of the rules in force, swapped with them on a reload); then
chinese-calendar's tables (2004–2026); a year none of them has is estimated from the statutory
holidays, its deadlines are marked provisional and one warning per year is logged. Each year's table
is built once, on first use. Nothing here reads the clock: every instant is passed in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rules.schema import Calendar, CalendarYear
from workflows.time.holidays import (
    PACKAGE_YEARS,
    YearTable,
    announced_table,
    package_table,
    statutory_table,
)
from workflows.time.periods import Duration, DurationError, Period, PeriodKind

__all__ = [
    "SHANGHAI",
    "Deadline",
    "Duration",
    "DurationError",
    "Period",
    "PeriodKind",
    "WorkCalendar",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")

log = logging.getLogger("yunshang.calendar")


@dataclass(frozen=True)
class Deadline:
    due_at: datetime  # aware, in UTC
    provisional: bool  # True when a day of a year without an announced schedule decided the result

    def __post_init__(self) -> None:
        if self.due_at.tzinfo is None:
            raise ValueError(f"Deadline.due_at {self.due_at.isoformat()} is naive; it must be aware (UTC)")


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} {value.isoformat()} is a naive datetime (no timezone); "
            "pass an aware datetime such as 2026-01-05T09:00:00+08:00"
        )


def _end_of_day(day: date) -> datetime:
    """The instant day D ends: 00:00 Asia/Shanghai of D + 1, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI).astimezone(UTC)


class WorkCalendar:
    """Working days: operator overrides, then the announced schedules (``calendar.yaml``), then
    ``chinese_calendar``, then the provisional estimate from the statutory holidays."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        announced: Mapping[int, CalendarYear] | None = None,
    ) -> None:
        checked: dict[date, bool] = {}
        for day, workday in (overrides or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"calendar override key {day!r} must be a date (not a datetime)")
            checked[day] = bool(workday)
        self._overrides = checked
        self._announced = dict(announced or {})
        self._tables: dict[int, YearTable] = {}
        self._building = threading.Lock()

    @classmethod
    def from_rules(cls, calendar: Calendar) -> WorkCalendar:
        """The calendar of a rule set: its ``calendar.yaml`` years, the built-in tables for the rest."""
        return cls(announced=calendar.years)

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
        _require_aware("start", start)
        instant = start.astimezone(UTC)
        # The Shanghai day that counts as "the start day" for the next day-based period. After a
        # day-based period the result is the end of day D (00:00 of D + 1), so the next one starts on D.
        start_day = instant.astimezone(SHANGHAI).date()
        provisional = False
        for period in duration.periods:
            if period.kind is PeriodKind.hours:
                instant += timedelta(hours=period.amount)
                start_day = instant.astimezone(SHANGHAI).date()
                continue
            if period.kind is PeriodKind.natural_days:
                last_day, uncertain = self._natural_days(start_day, period.amount)
            else:
                last_day, uncertain = self._working_days(start_day, period.amount)
            provisional = provisional or uncertain
            instant, start_day = _end_of_day(last_day), last_day
        return Deadline(due_at=instant, provisional=provisional)

    def _natural_days(self, start_day: date, amount: int) -> tuple[date, bool]:
        day = start_day + timedelta(days=amount)
        workday, provisional = self.is_workday(day)
        while not workday:
            day += timedelta(days=1)
            workday, uncertain = self.is_workday(day)
            provisional = provisional or uncertain
        return day, provisional

    def _working_days(self, start_day: date, amount: int) -> tuple[date, bool]:
        day, counted, provisional = start_day, 0, False
        while counted < amount:
            day += timedelta(days=1)
            workday, uncertain = self.is_workday(day)
            provisional = provisional or uncertain
            counted += workday
        return day, provisional

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
