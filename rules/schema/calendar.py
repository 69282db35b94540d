"""calendar.yaml: the office hours working hours (工作时) count in, and each year's public holidays and
make-up workdays (调休上班), as the State Council announces them (国务院办公厅关于部分节假日安排的通知).

A year listed here is the working calendar of that year for every deadline; a year not listed falls
back to the engine's built-in tables (``workflows/time/holidays.py``). The checks that need more than
one entry (make-up days on weekends, no day both off and worked, dates inside their year, no day
twice, office hours in order and apart) are in ``rules/checks/calendar.py``, so that each problem is
reported at its own line.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated

from pydantic import BeforeValidator, Field

from rules.schema.common import RuleModel

FIRST_YEAR, LAST_YEAR = 1949, 2100
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_RANGE = re.compile(r"([0-9]{1,2}):([0-9]{2})\s*[-–]\s*([0-9]{1,2}):([0-9]{2})", re.ASCII)
DEFAULT_OFFICE_HOURS = ("08:30-12:00", "13:30-17:30")
"""Office hours when calendar.yaml gives none: 08:30–12:00 and 13:30–17:30, Asia/Shanghai."""


def _year(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"year {value!r} must be a year number such as 2027 (no quotes)")
    if not FIRST_YEAR <= value <= LAST_YEAR:
        raise ValueError(f"year {value} is not between {FIRST_YEAR} and {LAST_YEAR}")
    return value


def _day(value: object) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"{value.isoformat(sep=' ')} is a time: write the day alone, like 2027-02-05")
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)  # a date in quotes, or one YAML could not read
        except ValueError as exc:
            raise ValueError(f"'{value}' is not a date: {exc}") from None
    if not isinstance(value, date):
        shown = f"'{value}'" if isinstance(value, str) else repr(value)
        raise ValueError(f"expected a date written like 2027-02-05, got {shown}")
    return value


def office_range(text: str) -> tuple[time, time]:
    """``"08:30-12:00"`` → (08:30, 12:00); ValueError with the fix for anything else."""
    match = _RANGE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"office hours '{text}' are not a time range: write them like 08:30-12:00")
    hour, minute, end_hour, end_minute = (int(part) for part in match.groups())
    if hour > 23 or minute > 59 or end_hour > 23 or end_minute > 59:
        raise ValueError(f"office hours '{text}' are not times of day: hours 0-23, minutes 0-59")
    opens, closes = time(hour, minute), time(end_hour, end_minute)
    if closes <= opens:
        raise ValueError(f"office hours '{text}' end before they start: write the earlier time first")
    return opens, closes


def _office_range(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f'office hours {value!r} are not a time range: write them like "08:30-12:00"')
    office_range(value)
    return value.strip()


Year = Annotated[int, BeforeValidator(_year)]
Day = Annotated[date, BeforeValidator(_day)]
"""A calendar day, written ``2027-02-05`` (YAML reads it as a date)."""
OfficeRange = Annotated[str, BeforeValidator(_office_range)]
"""Office hours of a working day, ``08:30-12:00`` in Asia/Shanghai."""


class Holiday(RuleModel):
    """Days off in a row, ``first`` to ``last`` (both included, weekends inside them too)."""

    name: str
    """The festival as the announcement names it: 元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节."""
    first: Day
    last: Day
    reference: str | None = None
    """A later notice that changed these days (the 2020 Spring Festival extension), if any."""

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


class CalendarYear(RuleModel):
    reference: str
    """The announcement: its document number (国办发明电〔2025〕7号) or its title."""
    url: str | None = None
    holidays: list[Holiday] = Field(default_factory=list)
    workdays: list[Day] = Field(default_factory=list)
    """Make-up workdays (调休上班): weekend days worked."""

    def days_off(self) -> dict[date, str]:
        """Every day off of the year's holidays, with its holiday's name."""
        return {day: holiday.name for holiday in self.holidays for day in holiday.days()}


class Calendar(RuleModel):
    """``office_hours``, and ``years → year → reference, holidays, workdays``."""

    office_hours: list[OfficeRange] = Field(default_factory=lambda: list(DEFAULT_OFFICE_HOURS))
    """The ranges of a working day (make-up workdays too) that working hours count in, in order."""
    years: dict[Year, CalendarYear] = Field(default_factory=dict)

    def office_ranges(self) -> list[tuple[time, time]]:
        """The office hours as (opens, closes) pairs, in the file's order."""
        return [office_range(text) for text in self.office_hours]
