"""The working days of one year, worked out once: from the year's announced schedule (the rules'
``calendar.yaml``), from chinese-calendar's tables, or estimated from the statutory holidays.

The estimate, for a year nobody has announced yet, has the thirteen days off of 全国年节及纪念日放假办法
as revised in 2024 (国务院令第795号, in force since 2025): New Year's Day (1 day), the Spring Festival
(4: New Year's Eve and the first three days of the first lunar month), Qingming (1, the day of the
solar term), Labour Day (2), the Dragon Boat Festival (1, 5th day of the 5th lunar month), the
Mid-Autumn Festival (1, 15th day of the 8th lunar month) and National Day (3). It guesses no make-up
workday (调休) and no swapped or substitute day off: the State Council decides those each year, so
such a year's deadlines are provisional.

Lunar dates and the solar term come from ``lunar_python`` (6tail's lunar-python on PyPI): maintained
(1.4.8 came out in November 2025), pure Python without dependencies, MIT licensed, and it
computes the 24 solar terms astronomically, so Qingming is the real solar term's day (4 or 5 April),
not a fixed date. ``tests/unit/time/test_fallback.py`` holds 2027's and 2030's dates written by hand
from published calendars (``lunardate``, another package with its own table, gives the same), and
checks Qingming 2027–2099 against chinese-calendar's solar-term formula.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

import chinese_calendar
from chinese_calendar.constants import Holiday as PackageHoliday
from lunar_python import Lunar, Solar

from rules.schema import CalendarYear

__all__ = [
    "PACKAGE_YEARS",
    "YearTable",
    "announced_table",
    "package_table",
    "statutory_holidays",
    "statutory_table",
]

PACKAGE_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)
"""The years whose announced schedule chinese-calendar carries (2004–2026 in 1.11)."""

_PACKAGE_VERSION = getattr(chinese_calendar, "__version__", "")


@dataclass(frozen=True)
class YearTable:
    """One year's calendar: its working days, the named days off, and how it is known."""

    year: int
    workdays: frozenset[date]
    """Every working day of the year: make-up workdays and weekdays that are no day off."""
    holidays: Mapping[date, str]
    """Each day off of a holiday (weekends inside it included), with the holiday's name."""
    provisional: bool
    """True for an estimate: no announced schedule for the year."""
    source: str


def _table(
    year: int, days_off: Mapping[date, str], worked: Collection[date], *, provisional: bool, source: str
) -> YearTable:
    first = date(year, 1, 1)
    days = (first + timedelta(days=n) for n in range((date(year, 12, 31) - first).days + 1))
    workdays = frozenset(d for d in days if d in worked or (d.weekday() < 5 and d not in days_off))
    return YearTable(year, workdays, MappingProxyType(dict(days_off)), provisional, source)


def announced_table(year: int, entry: CalendarYear) -> YearTable:
    """The year as ``calendar.yaml`` has it."""
    return _table(
        year,
        entry.days_off(),
        frozenset(entry.workdays),
        provisional=False,
        source=f"calendar.yaml, {entry.reference}",
    )


@functools.cache
def package_table(year: int) -> YearTable | None:
    """The year as chinese-calendar has it, or None when the package does not cover it. Read from
    the package's tables directly: its ``is_workday`` recomputes their bounds on every call."""
    if year not in PACKAGE_YEARS:
        return None
    holidays = chinese_calendar.holidays.items()
    names = {day: PackageHoliday(value).chinese for day, value in holidays if day.year == year}
    worked = frozenset(day for day in chinese_calendar.workdays if day.year == year)
    source = f"chinese-calendar {_PACKAGE_VERSION}".rstrip()
    return _table(year, names, worked, provisional=False, source=source)


@functools.cache
def statutory_holidays(year: int) -> Mapping[date, str]:
    """The thirteen statutory days off of ``year`` (fewer when two festivals share a day)."""
    spring = _day(Lunar.fromYmd(year, 1, 1).getSolar())
    qingming = _day(Solar.fromYmd(year, 4, 1).getLunar().getJieQiTable()["清明"])
    named: list[tuple[date, str]] = [
        (date(year, 1, 1), "元旦"),
        *((spring + timedelta(days=n), "春节") for n in (-1, 0, 1, 2)),
        (qingming, "清明节"),
        (date(year, 5, 1), "劳动节"),
        (date(year, 5, 2), "劳动节"),
        (_day(Lunar.fromYmd(year, 5, 5).getSolar()), "端午节"),
        (_day(Lunar.fromYmd(year, 8, 15).getSolar()), "中秋节"),
        *((date(year, 10, n), "国庆节") for n in (1, 2, 3)),
    ]
    days: dict[date, str] = {}
    for day, name in named:
        days[day] = f"{days[day]}、{name}" if day in days else name
    return MappingProxyType(dict(sorted(days.items())))


@functools.cache
def statutory_table(year: int) -> YearTable:
    """The estimate for a year without an announced schedule: weekends and the statutory days."""
    source = "statutory holidays (estimate)"
    return _table(year, statutory_holidays(year), (), provisional=True, source=source)


def _day(solar: Solar) -> date:
    return date(solar.getYear(), solar.getMonth(), solar.getDay())
