"""The shipped calendar.yaml: seeded from chinese-calendar, it gives the package's answer on every day
of the years the package covers, and each year names its announcement."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from rules import DEFAULT_DIRECTORY, load_rules
from workflows.time.calendar import WorkCalendar
from workflows.time.holidays import PACKAGE_YEARS

#: chinese-calendar's name of a holiday → the notices' name, as calendar.yaml writes it
NOTICE_NAMES = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar.from_rules(load_rules(DEFAULT_DIRECTORY).calendar)


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def test_the_file_has_every_year_of_the_package() -> None:
    years = load_rules(DEFAULT_DIRECTORY).calendar.years
    assert sorted(years) == list(PACKAGE_YEARS) == list(range(2004, 2027))
    assert years[2026].reference == "国办发明电〔2025〕7号"
    assert years[2025].reference == "国办发明电〔2024〕12号"
    assert all(entry.reference for entry in years.values())


@pytest.mark.parametrize("year", list(PACKAGE_YEARS))
def test_every_day_agrees_with_the_package(calendar: WorkCalendar, year: int) -> None:
    table = calendar.year(year)
    assert table.source.startswith("calendar.yaml")
    wrong = [d for d in days_of(year) if calendar.is_workday(d) != (chinese_calendar.is_workday(d), False)]
    assert wrong == []


@pytest.mark.parametrize("year", list(PACKAGE_YEARS))
def test_holiday_names_agree_with_the_package(calendar: WorkCalendar, year: int) -> None:
    for day in days_of(year):
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        if on_holiday and name is not None:
            chinese = chinese_calendar.Holiday(name).chinese
            assert calendar.holiday_name(day) == NOTICE_NAMES.get(chinese, chinese), day
