"""An independent oracle: for the years chinese-calendar covers, ``WorkCalendar.add`` and
``working_days_between`` agree with stepping day by day through ``chinese_calendar.is_workday``, over
random starts and lengths — for the built-in tables and for the shipped calendar.yaml alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import DEFAULT_DIRECTORY, load_rules
from workflows.time.calendar import SHANGHAI, Duration, Period, PeriodKind, WorkCalendar

CALENDARS = {
    "built-in": WorkCalendar(),
    "calendar.yaml": WorkCalendar.from_rules(load_rules(DEFAULT_DIRECTORY).calendar),
}

# the Shanghai day of every start, and of every deadline up to 60 working days later, stays in 2004–2026
starts = st.datetimes(
    min_value=datetime(2004, 1, 1),
    max_value=datetime(2026, 9, 15),
    timezones=st.sampled_from([SHANGHAI, UTC]),
)
lengths = st.integers(min_value=1, max_value=60)


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI).astimezone(UTC)


def nth_working_day_after(day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return day


def first_working_day_from(day: date) -> date:
    while not chinese_calendar.is_workday(day):
        day += timedelta(days=1)
    return day


@pytest.mark.parametrize("name", CALENDARS)
@settings(max_examples=300, deadline=None)
@given(start=starts, n=lengths)
def test_working_days_step_by_step(name: str, start: datetime, n: int) -> None:
    deadline = CALENDARS[name].add(start, Duration((Period(n, PeriodKind.working_days),)))
    assert deadline.due_at == end_of(nth_working_day_after(local_day(start), n))
    assert not deadline.provisional


@pytest.mark.parametrize("name", CALENDARS)
@settings(max_examples=300, deadline=None)
@given(start=starts, n=lengths)
def test_natural_days_step_by_step(name: str, start: datetime, n: int) -> None:
    deadline = CALENDARS[name].add(start, Duration((Period(n, PeriodKind.natural_days),)))
    assert deadline.due_at == end_of(first_working_day_from(local_day(start) + timedelta(days=n)))
    assert not deadline.provisional


@pytest.mark.parametrize("name", CALENDARS)
@settings(max_examples=300, deadline=None)
@given(start=starts, days=st.integers(min_value=-30, max_value=100), hour=st.integers(0, 23))
def test_working_days_between_counts_day_by_day(name: str, start: datetime, days: int, hour: int) -> None:
    end = (start + timedelta(days=days)).astimezone(SHANGHAI).replace(hour=hour)
    first, last = local_day(start), local_day(end)
    expected = sum(
        chinese_calendar.is_workday(first + timedelta(days=i)) for i in range(1, (last - first).days + 1)
    )
    assert CALENDARS[name].working_days_between(start, end) == expected
