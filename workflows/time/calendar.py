"""Deadlines on the Chinese working calendar (Asia/Shanghai).

Three kinds of period (DOMAIN.md, "Shared rules"):

* hours — exact elapsed time, through nights and holidays;
* natural days — the start day is not counted; the deadline is the end of the Nth day after it,
  moved to the end of the next working day when that day is not a working day (Civil Code §201/§203);
* working days — the start day is not counted; weekends and public holidays are skipped and
  make-up workdays (调休) count; the deadline is the end of the Nth working day.

"End of day D" is represented as 00:00 Asia/Shanghai of day D + 1, returned in UTC.

Calendar data comes from ``chinese_calendar`` (2004–2026), operator overrides win over it, and a
year the package does not cover falls back to weekends plus the fixed-date statutory holidays.
Such deadlines are marked provisional and one warning per year is logged. Nothing here reads the
clock: every instant is passed in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import chinese_calendar

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

# Fixed-date statutory holidays (month, day) used for years the package does not cover.
_FALLBACK_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
)

_PACKAGE_YEARS = range(
    min(chinese_calendar.holidays).year,
    max(chinese_calendar.holidays).year + 1,
)

_HINT = "write 48h, 3 natural days or 5 working days"
_TERM = re.compile(
    r"(?P<amount>[+-]?[0-9]*(?:[.,][0-9]*)?)\s*"
    r"(?P<unit>h|hours?|natural\s+days?|working\s+days?|days?)",
    re.IGNORECASE | re.ASCII,
)


class DurationError(ValueError):
    """A duration text or value that cannot be used as a deadline."""


class PeriodKind(StrEnum):
    hours = "hours"
    natural_days = "natural_days"
    working_days = "working_days"


@dataclass(frozen=True)
class Period:
    amount: int
    kind: PeriodKind

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 1:
            raise DurationError(f"period amount {self.amount!r} must be a whole number of 1 or more")
        if not isinstance(self.kind, PeriodKind):
            raise DurationError(
                f"period kind {self.kind!r} must be one of: hours, natural_days, working_days"
            )

    def __str__(self) -> str:
        if self.kind is PeriodKind.hours:
            return f"{self.amount}h"
        noun = "day" if self.amount == 1 else "days"
        adjective = "natural" if self.kind is PeriodKind.natural_days else "working"
        return f"{self.amount} {adjective} {noun}"


@dataclass(frozen=True)
class Duration:
    """One or more periods, applied left to right (``48h + 1 working day``)."""

    periods: tuple[Period, ...]

    def __post_init__(self) -> None:
        if not self.periods:
            raise DurationError(f"a duration needs at least one period: {_HINT}")

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse ``48h``, ``3 natural days``, ``5 working days`` or a ``+`` sum of them."""
        return cls(tuple(_parse_term(text, term) for term in text.split("+")))

    def __str__(self) -> str:
        return " + ".join(str(period) for period in self.periods)


def _parse_term(text: str, term: str) -> Period:
    match = _TERM.fullmatch(term.strip())
    if match is None or not match["amount"].strip("+-"):
        raise DurationError(f"deadline {text!r} is not a duration: {_HINT}")
    amount, unit = match["amount"], " ".join(match["unit"].lower().split())
    if not amount.isdigit() or int(amount) < 1:
        raise DurationError(
            f"deadline {text!r} is not a duration: amounts must be whole numbers of 1 or more ({_HINT})"
        )
    if unit.startswith("day"):
        raise DurationError(
            f"deadline {text!r} is not a duration: say whether the days are natural days or working days"
        )
    if unit.startswith("natural"):
        kind = PeriodKind.natural_days
    elif unit.startswith("working"):
        kind = PeriodKind.working_days
    else:
        kind = PeriodKind.hours
    return Period(int(amount), kind)


@dataclass(frozen=True)
class Deadline:
    due_at: datetime  # aware, in UTC
    provisional: bool  # True when a day of a year without calendar data decided the result

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
    """Working days: operator overrides, then ``chinese_calendar``, then the provisional fallback."""

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        checked: dict[date, bool] = {}
        for day, workday in (overrides or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"calendar override key {day!r} must be a date (not a datetime)")
            checked[day] = bool(workday)
        self._overrides = checked
        self._warned_years: set[int] = set()
        self._package_days: dict[date, bool] = {}

    def covered_years(self) -> range:
        """Years for which the packaged holiday data is complete."""
        return _PACKAGE_YEARS

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(is a working day, provisional) for an Asia/Shanghai calendar date."""
        if isinstance(day, datetime):
            raise TypeError(f"is_workday takes a date, not a datetime ({day.isoformat()})")
        if day in self._overrides:
            return self._overrides[day], False
        if day.year in _PACKAGE_YEARS:
            known = self._package_days.get(day)
            if known is not None:
                return known, False
            try:
                known = bool(chinese_calendar.is_workday(day))
            except NotImplementedError:
                pass
            else:
                self._package_days[day] = known  # the package's answers never change: remember them
                return known, False
        self._warn_once(day.year)
        workday = day.weekday() < 5 and (day.month, day.day) not in _FALLBACK_HOLIDAYS
        return workday, True

    def _warn_once(self, year: int) -> None:
        if year not in self._warned_years:
            self._warned_years.add(year)
            log.warning(
                "calendar has no data for %d; deadlines are provisional: weekends and fixed statutory "
                "holidays only — add the year's holidays to the calendar overrides",
                year,
            )

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
