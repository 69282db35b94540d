"""Deadlines on the Chinese working calendar.

Expected instants were worked out by hand against chinese_calendar 1.11:
National Day 2025: Oct 1–8 off, make-up workdays Sun Sep 28 and Sat Oct 11.
Spring Festival 2026: Feb 15–23 off, make-up workdays Sat Feb 14 and Sat Feb 28.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.time.calendar import (
    SHANGHAI,
    Deadline,
    Duration,
    DurationError,
    Period,
    PeriodKind,
    WorkCalendar,
)

H, N, W = PeriodKind.hours, PeriodKind.natural_days, PeriodKind.working_days
HINT = "write 48h, 3 natural days, 5 working days or 4 working hours"
WHOLE = f"amounts must be whole numbers of 1 or more ({HINT})"
WARNING_2027 = (
    "calendar has no schedule for 2027; deadlines are provisional: weekends and the statutory holidays "
    "only, no make-up workdays — enter the year's announced schedule in calendar.yaml"
)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def due(start: datetime, text: str, calendar: WorkCalendar | None = None) -> Deadline:
    return (calendar or WorkCalendar()).add(start, Duration.parse(text))


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "periods", "canonical"),
    [
        ("48h", ((48, H),), "48h"),
        ("48 hours", ((48, H),), "48h"),
        ("1 hour", ((1, H),), "1h"),
        ("36H", ((36, H),), "36h"),
        ("3 natural days", ((3, N),), "3 natural days"),
        ("1 natural day", ((1, N),), "1 natural day"),
        ("5 working days", ((5, W),), "5 working days"),
        ("1 working day", ((1, W),), "1 working day"),
        ("  5   Working   DAYS ", ((5, W),), "5 working days"),
        ("48h + 1 working day", ((48, H), (1, W)), "48h + 1 working day"),
        (
            "48h+1 working day+2 natural days",
            ((48, H), (1, W), (2, N)),
            "48h + 1 working day + 2 natural days",
        ),
    ],
)
def test_parse_accepts_and_canonicalises(
    text: str, periods: tuple[tuple[int, PeriodKind], ...], canonical: str
) -> None:
    duration = Duration.parse(text)
    assert duration.periods == tuple(Period(amount, kind) for amount, kind in periods)
    assert str(duration) == canonical
    assert Duration.parse(str(duration)) == duration


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("48小时", f"deadline '48小时' is not a duration: {HINT}"),
        ("", f"deadline '' is not a duration: {HINT}"),
        ("48", f"deadline '48' is not a duration: {HINT}"),
        ("h", f"deadline 'h' is not a duration: {HINT}"),
        ("five working days", f"deadline 'five working days' is not a duration: {HINT}"),
        ("48h +", f"deadline '48h +' is not a duration: {HINT}"),
        ("48hrs", f"deadline '48hrs' is not a duration: {HINT}"),
        ("0h", f"deadline '0h' is not a duration: {WHOLE}"),
        ("-3 natural days", f"deadline '-3 natural days' is not a duration: {WHOLE}"),
        ("1.5h", f"deadline '1.5h' is not a duration: {WHOLE}"),
        (
            "3 days",
            "deadline '3 days' is not a duration: say whether the days are natural days or working days",
        ),
    ],
)
def test_parse_rejects_with_plain_message(text: str, message: str) -> None:
    with pytest.raises(DurationError) as info:
        Duration.parse(text)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_periods_and_durations_validate_direct_construction() -> None:
    with pytest.raises(DurationError, match="whole number of 1 or more"):
        Period(0, H)
    with pytest.raises(DurationError, match="at least one period"):
        Duration(())


# --- hours -----------------------------------------------------------------------------------


def test_hours_run_through_holidays_and_return_utc() -> None:
    deadline = due(sh(2025, 9, 30, 10), "48h")
    assert deadline == Deadline(datetime(2025, 10, 2, 2, tzinfo=UTC), provisional=False)
    assert deadline.due_at.tzinfo is UTC


def test_hours_beyond_the_package_are_not_provisional(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="yunshang.calendar"):
        deadline = due(sh(2027, 10, 1, 9), "36h")
    assert deadline == Deadline(datetime(2027, 10, 2, 13, tzinfo=UTC), provisional=False)
    assert caplog.records == []


# --- working days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "text", "expected_shanghai"),
    [
        # National Day 2025
        (sh(2025, 9, 30, 10), "1 working day", sh(2025, 10, 10)),  # Oct 1–8 off → Thu Oct 9
        (sh(2025, 9, 26, 10), "2 working days", sh(2025, 9, 30)),  # Sun Sep 28 make-up, Mon Sep 29
        (sh(2025, 10, 9, 10), "2 working days", sh(2025, 10, 12)),  # Fri Oct 10, Sat Oct 11 make-up
        (sh(2025, 9, 30, 10), "5 working days", sh(2025, 10, 15)),  # Oct 9, 10, 11, (12 off), 13, 14
        # Spring Festival 2026
        (sh(2026, 2, 13, 9), "1 working day", sh(2026, 2, 15)),  # Sat Feb 14 make-up
        (sh(2026, 2, 14, 15), "1 working day", sh(2026, 2, 25)),  # Feb 15–23 off → Tue Feb 24
        (sh(2026, 2, 13, 9), "5 working days", sh(2026, 2, 28)),  # 14, 24, 25, 26, 27
        (sh(2026, 2, 13, 9), "6 working days", sh(2026, 3, 1)),  # ... + Sat Feb 28 make-up
        # New Year 2026: Jan 1–3 off, Sun Jan 4 make-up
        (sh(2025, 12, 31, 18), "1 working day", sh(2026, 1, 5)),
        # a start at exactly 00:00 is on that day, which is not counted
        (sh(2025, 9, 22), "1 working day", sh(2025, 9, 24)),
    ],
)
def test_working_days_against_real_holiday_tables(
    start: datetime, text: str, expected_shanghai: datetime
) -> None:
    assert due(start, text) == Deadline(expected_shanghai.astimezone(UTC), provisional=False)


def test_start_day_is_the_shanghai_date_of_the_instant() -> None:
    # 17:00 UTC on Sep 30 is 01:00 on Oct 1 in Shanghai: the start day is Oct 1.
    deadline = due(datetime(2025, 9, 30, 17, tzinfo=UTC), "1 working day")
    assert deadline.due_at == datetime(2025, 10, 9, 16, tzinfo=UTC)  # 00:00 Oct 10 Shanghai


# --- natural days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "text", "expected_shanghai"),
    [
        (sh(2025, 9, 22, 10), "3 natural days", sh(2025, 9, 26)),  # ends Thu Sep 25, a workday
        (sh(2025, 9, 18, 10), "2 natural days", sh(2025, 9, 23)),  # Sat Sep 20 → Mon Sep 22
        (sh(2025, 9, 28, 10), "3 natural days", sh(2025, 10, 10)),  # Oct 1 holiday → Thu Oct 9
        (sh(2025, 9, 25, 10), "3 natural days", sh(2025, 9, 29)),  # Sun Sep 28 is a make-up workday
        (sh(2026, 2, 12, 10), "5 natural days", sh(2026, 2, 25)),  # Feb 17 holiday → Tue Feb 24
        (sh(2026, 2, 7, 10), "7 natural days", sh(2026, 2, 15)),  # Sat Feb 14 make-up: no move
    ],
)
def test_natural_days_move_off_holidays(start: datetime, text: str, expected_shanghai: datetime) -> None:
    assert due(start, text) == Deadline(expected_shanghai.astimezone(UTC), provisional=False)


# --- sums ------------------------------------------------------------------------------------


def test_48h_plus_one_working_day_across_national_day() -> None:
    # Mon Sep 29 10:00 + 48h = Wed Oct 1 10:00; next working day after Oct 1 is Thu Oct 9.
    assert due(sh(2025, 9, 29, 10), "48h + 1 working day").due_at == sh(2025, 10, 10).astimezone(UTC)


def test_day_periods_chain_from_the_end_of_the_previous_day() -> None:
    start = sh(2025, 9, 22, 10)
    assert due(start, "1 working day + 1 working day") == due(start, "2 working days")
    assert due(start, "1 natural day + 2 natural days") == due(start, "3 natural days")
    assert due(start, "1 natural day + 2h").due_at == sh(2025, 9, 24, 2).astimezone(UTC)


# --- years beyond the package ----------------------------------------------------------------


def test_covered_years() -> None:
    assert WorkCalendar().covered_years() == range(2004, 2027)


def test_missing_year_falls_back_provisionally_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    calendar = WorkCalendar()
    with caplog.at_level(logging.WARNING, logger="yunshang.calendar"):
        # Jan 1 2027 (Fri) statutory holiday, Jan 2–3 weekend → Mon Jan 4.
        first = due(sh(2026, 12, 31, 10), "1 working day", calendar)
        # Oct 1–3 2027 (Fri–Sun) → Mon Oct 4.
        second = due(sh(2027, 9, 30, 10), "1 working day", calendar)
        # May 1–2 2027 fall on a weekend anyway → Mon May 3.
        third = due(sh(2027, 4, 30, 10), "1 natural day", calendar)
    assert first == Deadline(sh(2027, 1, 5).astimezone(UTC), provisional=True)
    assert second == Deadline(sh(2027, 10, 5).astimezone(UTC), provisional=True)
    assert third == Deadline(sh(2027, 5, 4).astimezone(UTC), provisional=True)
    assert [r.getMessage() for r in caplog.records] == [WARNING_2027]
    assert caplog.records[0].levelno == logging.WARNING
    assert calendar.is_workday(date(2027, 1, 4)) == (True, True)
    assert calendar.is_workday(date(2027, 5, 3)) == (True, True)


def test_each_missing_year_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    calendar = WorkCalendar()
    with caplog.at_level(logging.WARNING, logger="yunshang.calendar"):
        calendar.working_days_between(sh(2027, 12, 1), sh(2028, 1, 31))
        calendar.working_days_between(sh(2027, 12, 1), sh(2028, 1, 31))
    assert [r.getMessage()[:33] for r in caplog.records] == [
        "calendar has no schedule for 2027",
        "calendar has no schedule for 2028",
    ]


# --- overrides -------------------------------------------------------------------------------


def test_overrides_win_over_the_package() -> None:
    calendar = WorkCalendar({date(2025, 10, 8): True, date(2025, 9, 29): False})
    assert calendar.is_workday(date(2025, 10, 8)) == (True, False)
    assert calendar.is_workday(date(2025, 9, 29)) == (False, False)
    assert due(sh(2025, 9, 30, 10), "1 working day", calendar).due_at == sh(2025, 10, 9).astimezone(UTC)
    # Sep 28 make-up, Sep 29 now off, Sep 30 → end of Sep 30
    assert due(sh(2025, 9, 26, 10), "2 working days", calendar).due_at == sh(2025, 10, 1).astimezone(UTC)


def test_overrides_make_a_missing_year_certain(caplog: pytest.LogCaptureFixture) -> None:
    calendar = WorkCalendar({date(2027, 1, 1): False, date(2027, 1, 2): True})
    with caplog.at_level(logging.WARNING, logger="yunshang.calendar"):
        deadline = due(sh(2026, 12, 31, 10), "1 working day", calendar)
    assert deadline == Deadline(sh(2027, 1, 3).astimezone(UTC), provisional=False)
    assert caplog.records == []


def test_override_keys_must_be_dates() -> None:
    with pytest.raises(TypeError, match="must be a date"):
        WorkCalendar({sh(2025, 10, 8): True})


# --- input checks ----------------------------------------------------------------------------


def test_naive_datetimes_are_rejected() -> None:
    calendar = WorkCalendar()
    naive = datetime(2025, 9, 30, 10)
    with pytest.raises(ValueError, match=r"^start 2025-09-30T10:00:00 is a naive datetime"):
        calendar.add(naive, Duration.parse("48h"))
    with pytest.raises(ValueError, match=r"^end 2025-09-30T10:00:00 is a naive datetime"):
        calendar.working_days_between(sh(2025, 9, 1), naive)


def test_is_workday_rejects_datetimes() -> None:
    with pytest.raises(TypeError, match="takes a date"):
        WorkCalendar().is_workday(sh(2025, 10, 8))


# --- working_days_between --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (sh(2025, 9, 30, 10), sh(2025, 10, 9, 9), 1),
        (sh(2025, 9, 26, 10), sh(2025, 10, 12, 23), 6),  # Sep 28, 29, 30, Oct 9, 10, 11
        (sh(2026, 2, 13, 10), sh(2026, 3, 2, 10), 7),  # Feb 14, 24–28, Mar 2
        (sh(2025, 9, 30, 10), sh(2025, 9, 30, 23), 0),  # same day
        (sh(2025, 10, 9, 10), sh(2025, 9, 30, 10), 0),  # end before start
        (datetime(2025, 10, 8, 16, tzinfo=UTC), datetime(2025, 10, 9, 15, tzinfo=UTC), 0),  # both Oct 9
    ],
)
def test_working_days_between(start: datetime, end: datetime, expected: int) -> None:
    assert WorkCalendar().working_days_between(start, end) == expected


# --- properties ------------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2004, 1, 2),
    max_value=datetime(2028, 12, 1),
    timezones=st.sampled_from([SHANGHAI, UTC]),
)
CALENDAR = WorkCalendar()


@given(starts, st.integers(min_value=1, max_value=2000))
def test_hours_are_plain_timedelta_arithmetic(start: datetime, hours: int) -> None:
    deadline = CALENDAR.add(start, Duration((Period(hours, H),)))
    assert deadline.due_at == start.astimezone(UTC) + timedelta(hours=hours)
    assert deadline.due_at.tzinfo is UTC
    assert not deadline.provisional


@given(starts, st.integers(min_value=1, max_value=40))
def test_working_day_deadline_is_shanghai_midnight_after_a_workday(start: datetime, n: int) -> None:
    deadline = CALENDAR.add(start, Duration((Period(n, W),)))
    local = deadline.due_at.astimezone(SHANGHAI)
    assert local.time() == datetime.min.time()
    assert CALENDAR.is_workday(local.date() - timedelta(days=1))[0]
    # counting up to the last instant of the deadline's day gives back n
    assert CALENDAR.working_days_between(start, deadline.due_at - timedelta(microseconds=1)) == n


@given(starts, st.integers(min_value=1, max_value=40))
def test_natural_day_deadline_is_first_workday_on_or_after_day_n(start: datetime, n: int) -> None:
    deadline = CALENDAR.add(start, Duration((Period(n, N),)))
    last_day = deadline.due_at.astimezone(SHANGHAI).date() - timedelta(days=1)
    day_n = start.astimezone(SHANGHAI).date() + timedelta(days=n)
    assert last_day >= day_n
    assert CALENDAR.is_workday(last_day)[0]
    skipped = (day_n + timedelta(days=i) for i in range((last_day - day_n).days))
    assert not any(CALENDAR.is_workday(day)[0] for day in skipped)


@given(st.lists(st.tuples(st.integers(1, 500), st.sampled_from(list(PeriodKind))), min_size=1, max_size=4))
def test_canonical_text_round_trips(parts: list[tuple[int, PeriodKind]]) -> None:
    duration = Duration(tuple(Period(amount, kind) for amount, kind in parts))
    assert Duration.parse(str(duration)) == duration
    assert Duration.parse(str(duration).upper()) == duration


# --- a part ending at midnight ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected_shanghai"),
    [
        # Wed Sep 17 00:00 + 48h = Fri Sep 19 00:00, the end of Thu Sep 18: next working day Fri Sep 19
        (sh(2025, 9, 17), sh(2025, 9, 20)),
        (sh(2025, 9, 16, 23, 59), sh(2025, 9, 20)),  # one minute earlier: Thu 23:59, same day
        # Thu Sep 18 00:00 + 48h = Sat Sep 20 00:00, the end of Fri: Sat and Sun off → Mon Sep 22
        (sh(2025, 9, 18), sh(2025, 9, 23)),
        (sh(2025, 9, 17, 23, 59), sh(2025, 9, 23)),
        # Sun Sep 28 (a make-up workday) 00:00 + 48h = Tue Sep 30 00:00, the end of Mon Sep 29: Sep 30
        (sh(2025, 9, 28), sh(2025, 10, 1)),
        (sh(2025, 9, 27, 23, 59), sh(2025, 10, 1)),
    ],
)
def test_an_hours_part_ending_at_midnight_ends_the_day_before(
    start: datetime, expected_shanghai: datetime
) -> None:
    assert due(start, "48h + 1 working day").due_at == expected_shanghai.astimezone(UTC)


def test_midnight_and_one_minute_before_never_differ_by_a_day() -> None:
    start = sh(2025, 1, 1)
    for day in range(400):
        at = start + timedelta(days=day)
        exact, earlier = due(at, "48h + 1 working day"), due(at - timedelta(minutes=1), "48h + 1 working day")
        assert exact == earlier, at
        assert due(at, "24h + 2 natural days") == due(at - timedelta(minutes=1), "24h + 2 natural days")
