"""Working hours (工作时): office time on working days, 08:30–12:00 and 13:30–17:30 by default.

National Day 2025: Oct 1–8 off, make-up workdays Sun Sep 28 and Sat Oct 11.
Spring Festival 2026: Feb 15–23 off, make-up workdays Sat Feb 14 and Sat Feb 28.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import DEFAULT_DIRECTORY, load_rules
from workflows.time.calendar import (
    SHANGHAI,
    Deadline,
    Duration,
    OfficeHours,
    Period,
    PeriodKind,
    WorkCalendar,
)

CALENDAR = WorkCalendar.from_rules(load_rules(DEFAULT_DIRECTORY).calendar)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def due(start: datetime, text: str, calendar: WorkCalendar = CALENDAR) -> datetime:
    return calendar.add(start, Duration.parse(text)).due_at.astimezone(SHANGHAI)


@pytest.mark.parametrize(
    ("text", "amount"), [("4 working hours", 4), ("1 working hour", 1), ("2  Working  Hours", 2)]
)
def test_parse(text: str, amount: int) -> None:
    duration = Duration.parse(text)
    assert duration.periods == (Period(amount, PeriodKind.working_hours),)
    assert Duration.parse(str(duration)) == duration
    assert str(Duration.parse("48h + 4 working hours")) == "48h + 4 working hours"
    assert str(Duration.parse("1 working hour")) == "1 working hour"


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        (sh(2025, 9, 22, 9), "2 working hours", sh(2025, 9, 22, 11)),  # inside the morning
        (sh(2025, 9, 22, 11), "2 working hours", sh(2025, 9, 22, 14, 30)),  # across lunch
        (sh(2025, 9, 22, 12, 30), "1 working hour", sh(2025, 9, 22, 14, 30)),  # from lunch: 13:30
        (sh(2025, 9, 22, 7), "1 working hour", sh(2025, 9, 22, 9, 30)),  # before opening: 08:30
        (sh(2025, 9, 22, 16, 30), "1 working hour", sh(2025, 9, 22, 17, 30)),  # runs out at closing
        (sh(2025, 9, 22, 11), "1 working hour", sh(2025, 9, 22, 12)),  # runs out at noon, not 13:30
        (sh(2025, 9, 23, 16, 30), "4 working hours", sh(2025, 9, 24, 11, 30)),  # across an evening
        (sh(2025, 9, 22, 18), "1 working hour", sh(2025, 9, 23, 9, 30)),  # after closing
        (sh(2025, 9, 22, 8, 30), "7 working hours", sh(2025, 9, 22, 17)),  # a day has 7.5
        (sh(2025, 9, 22, 8, 30), "8 working hours", sh(2025, 9, 23, 9)),
        (sh(2025, 9, 19, 16, 30), "4 working hours", sh(2025, 9, 22, 11, 30)),  # Fri → Mon, weekend
        (sh(2025, 9, 20, 10), "1 working hour", sh(2025, 9, 22, 9, 30)),  # a Saturday start
        # National Day: Sep 30 16:00–17:30, Oct 1–8 off, Thu Oct 9 from 08:30
        (sh(2025, 9, 30, 16), "4 working hours", sh(2025, 10, 9, 11)),
        # Sun Sep 28 is a make-up workday: Fri 17:00–17:30, then Sun from 08:30
        (sh(2025, 9, 26, 17), "2 working hours", sh(2025, 9, 28, 10)),
        # Sat Feb 14 2026 is a make-up workday before the Spring Festival (Feb 15–23 off)
        (sh(2026, 2, 13, 16, 30), "4 working hours", sh(2026, 2, 14, 11, 30)),
        (sh(2026, 2, 14, 16, 30), "4 working hours", sh(2026, 2, 24, 11, 30)),
    ],
)
def test_working_hours(start: datetime, text: str, expected: datetime) -> None:
    assert due(start, text) == expected
    assert due(start, text, WorkCalendar()) == expected  # the built-in office hours are the same


def test_a_utc_start_counts_on_shanghai_office_hours() -> None:
    # 01:00 UTC is 09:00 in Shanghai
    deadline = CALENDAR.add(datetime(2025, 9, 22, 1, tzinfo=UTC), Duration.parse("1 working hour"))
    assert deadline == Deadline(datetime(2025, 9, 22, 2, tzinfo=UTC), provisional=False)


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        # Wed 15:00 + 48h = Fri 15:00; 2.5 h on Friday, Sat off, make-up Sun Sep 28 from 08:30
        (sh(2025, 9, 24, 15), "48h + 4 working hours", sh(2025, 9, 28, 10)),
        # Mon 09:00 + 4 working hours = Mon 14:30; + 1 working day = the end of Tue
        (sh(2025, 9, 22, 9), "4 working hours + 1 working day", sh(2025, 9, 24)),
        # the end of Tue (Wed 00:00) + 4 working hours = Wed 08:30–12:00, 13:30–14:00
        (sh(2025, 9, 22, 10), "1 working day + 4 working hours", sh(2025, 9, 24, 14)),
        (sh(2025, 9, 22, 10), "2 working hours + 2 working hours", sh(2025, 9, 22, 15, 30)),
    ],
)
def test_sums(start: datetime, text: str, expected: datetime) -> None:
    assert due(start, text) == expected


def test_office_hours_are_the_calendars() -> None:
    calendar = WorkCalendar(office_hours=["09:00-18:00"])
    assert due(sh(2025, 9, 22, 17), "2 working hours", calendar) == sh(2025, 9, 23, 10)
    assert str(calendar.office_hours) == "09:00–18:00"
    assert str(CALENDAR.office_hours) == "08:30–12:00, 13:30–17:30"


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ([], "at least one range"),
        (["12:00-08:30"], "end before they start"),
        (["08:30-12:00", "11:00-17:30"], "overlap or are out of order"),
        (["13:30-17:30", "08:30-12:00"], "overlap or are out of order"),
        (["8.30-12"], "not a time range"),
    ],
)
def test_bad_office_hours_are_refused(texts: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OfficeHours.parse(texts)


def test_a_year_without_a_schedule_is_provisional() -> None:
    deadline = WorkCalendar().add(sh(2027, 3, 1, 9), Duration.parse("4 working hours"))
    assert deadline == Deadline(sh(2027, 3, 1, 14, 30).astimezone(UTC), provisional=True)


starts = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2026, 11, 1), timezones=st.just(SHANGHAI)
)


@settings(max_examples=300, deadline=None)
@given(start=starts, hours=st.integers(min_value=1, max_value=60))
def test_the_due_instant_is_where_the_office_time_runs_out(start: datetime, hours: int) -> None:
    """Stepping minute by minute (on a 15-minute grid) through office time on working days agrees."""
    start = start.replace(minute=start.minute // 15 * 15, second=0, microsecond=0)
    due_at = due(start, f"{hours} working hours")
    step, at, left = timedelta(minutes=15), start, hours * 4
    while left:
        local = at.astimezone(SHANGHAI)
        clock = (local.hour, local.minute)
        in_office = (8, 30) <= clock < (12, 0) or (13, 30) <= clock < (17, 30)
        if in_office and CALENDAR.is_workday(local.date())[0]:
            left -= 1
        at += step
    assert due_at == at
