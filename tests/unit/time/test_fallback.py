"""The fallback for a year without an announced schedule: the seven statutory holidays of
全国年节及纪念日放假办法 (as revised in 2024), lunar dates included, no make-up workday guessed.

The expected dates are written by hand from published lunar calendars: 2027 春节 Sat Feb 6 (除夕
Fri Feb 5), 清明 Mon Apr 5, 端午 Wed Jun 9, 中秋 Wed Sep 15; 2030 春节 Sun Feb 3 (除夕 Sat Feb 2),
清明 Fri Apr 5, 端午 Wed Jun 5, 中秋 Thu Sep 12; 2028's 中秋 is Oct 3, inside National Day.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest

from workflows.time.calendar import SHANGHAI, Deadline, Duration, WorkCalendar
from workflows.time.holidays import package_table, statutory_holidays, statutory_table


def every_day(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def days(year: int, month: int, first: int, last: int | None = None) -> list[date]:
    return [date(year, month, d) for d in range(first, (last or first) + 1)]


def named(**festivals: list[date]) -> dict[date, str]:
    names = {"new_year": "元旦", "spring": "春节", "qingming": "清明节", "labour": "劳动节",
             "dragon_boat": "端午节", "mid_autumn": "中秋节", "national": "国庆节"}  # fmt: skip
    return {day: names[key] for key, listed in festivals.items() for day in listed}


def test_2027_has_the_thirteen_statutory_days() -> None:
    assert dict(statutory_holidays(2027)) == named(
        new_year=days(2027, 1, 1),
        spring=days(2027, 2, 5, 8),
        qingming=days(2027, 4, 5),
        labour=days(2027, 5, 1, 2),
        dragon_boat=days(2027, 6, 9),
        mid_autumn=days(2027, 9, 15),
        national=days(2027, 10, 1, 3),
    )


def test_2030_has_the_thirteen_statutory_days() -> None:
    assert dict(statutory_holidays(2030)) == named(
        new_year=days(2030, 1, 1),
        spring=days(2030, 2, 2, 5),
        qingming=days(2030, 4, 5),
        labour=days(2030, 5, 1, 2),
        dragon_boat=days(2030, 6, 5),
        mid_autumn=days(2030, 9, 12),
        national=days(2030, 10, 1, 3),
    )


def test_a_mid_autumn_inside_national_day_is_one_day_with_both_names() -> None:
    holidays = statutory_holidays(2028)
    assert len(holidays) == 12
    assert holidays[date(2028, 10, 3)] == "中秋节、国庆节"


@pytest.mark.parametrize("year", range(2027, 2100))
def test_qingming_is_the_solar_term_by_chinese_calendars_own_formula(year: int) -> None:
    # chinese-calendar's 寿星 formula is for the 21st century (for 2100 it gives Apr 4, lunar_python Apr 5)
    (term,) = [d for d, _ in chinese_calendar.get_solar_terms(date(year, 3, 30), date(year, 4, 10))]
    assert [d for d, name in statutory_holidays(year).items() if name == "清明节"] == [term]


@pytest.mark.parametrize("year", range(2027, 2101, 7))
def test_no_make_up_workday_is_guessed(year: int) -> None:
    table = statutory_table(year)
    assert table.provisional
    assert not any(d.weekday() >= 5 for d in table.workdays)
    assert not set(statutory_holidays(year)) & table.workdays
    assert table.workdays == {d for d in every_day(year) if d.weekday() < 5} - set(statutory_holidays(year))


def old_fallback_is_workday(day: date) -> bool:
    """The fallback before this change: weekends and Jan 1, May 1–2, Oct 1–3 only."""
    fixed = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
    return day.weekday() < 5 and (day.month, day.day) not in fixed


@pytest.mark.parametrize(("year", "before", "now", "worked"), [(2025, 17, 11, 5), (2026, 21, 15, 6)])
def test_applied_to_2025_and_2026_the_fallback_misses_far_fewer_days(
    year: int, before: int, now: int, worked: int
) -> None:
    announced = package_table(year)
    assert announced is not None
    everyday = every_day(year)
    truth = {d: d in announced.workdays for d in everyday}
    assert sum(old_fallback_is_workday(d) != truth[d] for d in everyday) == before
    estimate = statutory_table(year)
    misses = [d for d in everyday if (d in estimate.workdays) != truth[d]]
    assert len(misses) == now
    # what remains: the make-up workdays (never guessed) and the days the announcement added or swapped
    assert sorted(d for d in misses if truth[d]) == sorted(
        d for d in everyday if d.weekday() >= 5 and truth[d]
    )
    assert len([d for d in misses if truth[d]]) == worked


def test_2027_02_01_plus_5_working_days_is_no_longer_early(caplog: pytest.LogCaptureFixture) -> None:
    calendar = WorkCalendar()
    start = datetime(2027, 2, 1, 9, tzinfo=SHANGHAI)
    with caplog.at_level(logging.WARNING, logger="yunshang.calendar"):
        deadline = calendar.add(start, Duration.parse("5 working days"))
    # Feb 2, 3, 4; Fri Feb 5 (除夕) to Mon Feb 8 (初三) off; Feb 9, 10 — the old fallback said end of Feb 8
    end_of_feb_10 = datetime(2027, 2, 11, tzinfo=SHANGHAI).astimezone(UTC)
    assert deadline == Deadline(end_of_feb_10, provisional=True)
    assert [r.getMessage()[:33] for r in caplog.records] == ["calendar has no schedule for 2027"]
    assert calendar.holiday_name(date(2027, 2, 5)) == "春节"
    assert calendar.year(2027).source == "statutory holidays (estimate)"
