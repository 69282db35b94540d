"""``WorkCalendar.trace``: the days a deadline counted and skipped, and why, on the shipped calendar.yaml.

National Day 2025 (国办发明电〔2024〕12号): Oct 1–5 国庆节, Oct 6 中秋节, Oct 7–8 国庆节; make-up
workdays Sun Sep 28 and Sat Oct 11. Spring Festival 2026 (国办发明电〔2025〕7号): Feb 15–23 off,
make-up workdays Sat Feb 14 and Sat Feb 28.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from hypothesis import given, settings
from hypothesis import strategies as st

from rules import DEFAULT_DIRECTORY, load_rules
from workflows.time.calendar import SHANGHAI, DayKind, Duration, Period, PeriodKind, WorkCalendar
from workflows.time.trace import TracedDay

CALENDAR = WorkCalendar.from_rules(load_rules(DEFAULT_DIRECTORY).calendar)
W, MAKE_UP, WEEKEND, HOLIDAY = DayKind.workday, DayKind.make_up, DayKind.weekend, DayKind.holiday


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def days(start: datetime, text: str) -> list[tuple[date, DayKind, bool, str | None, int | None]]:
    (part,) = CALENDAR.trace(start, Duration.parse(text)).periods
    return [(d.day, d.kind, d.counted, d.holiday, d.count) for d in part.days]


def test_five_working_days_across_national_day_2025() -> None:
    assert days(sh(2025, 9, 30, 10), "5 working days") == [
        (date(2025, 9, 30), W, False, None, None),  # the start day, not counted
        *((date(2025, 10, n), HOLIDAY, False, "国庆节", None) for n in range(1, 6)),
        (date(2025, 10, 6), HOLIDAY, False, "中秋节", None),
        (date(2025, 10, 7), HOLIDAY, False, "国庆节", None),
        (date(2025, 10, 8), HOLIDAY, False, "国庆节", None),
        (date(2025, 10, 9), W, True, None, 1),
        (date(2025, 10, 10), W, True, None, 2),
        (date(2025, 10, 11), MAKE_UP, True, None, 3),  # Saturday, 调休上班
        (date(2025, 10, 12), WEEKEND, False, None, None),
        (date(2025, 10, 13), W, True, None, 4),
        (date(2025, 10, 14), W, True, None, 5),
    ]


def test_six_working_days_across_the_spring_festival_2026() -> None:
    assert days(sh(2026, 2, 13, 9), "6 working days") == [
        (date(2026, 2, 13), W, False, None, None),
        (date(2026, 2, 14), MAKE_UP, True, None, 1),
        *((date(2026, 2, n), HOLIDAY, False, "春节", None) for n in range(15, 24)),
        *((date(2026, 2, n), W, True, None, n - 22) for n in range(24, 28)),
        (date(2026, 2, 28), MAKE_UP, True, None, 6),
    ]


def test_natural_days_ending_on_a_holiday_move_to_the_next_working_day() -> None:
    (part,) = CALENDAR.trace(sh(2025, 9, 28, 10), Duration.parse("3 natural days")).periods
    moved = [(d.day.day, d.counted, d.count, d.note) for d in part.days]
    assert moved[:4] == [
        (28, False, None, "start day, not counted"),
        (29, True, 1, ""),
        (30, True, 2, ""),
        (1, False, 3, "the last day is off: the deadline moves on"),
    ]
    assert moved[-1] == (9, True, None, "the deadline moved here")
    assert [d.kind for d in part.days[4:-1]] == [HOLIDAY] * 7


def test_working_hours_name_the_office_time_of_each_day() -> None:
    (part,) = CALENDAR.trace(sh(2025, 9, 26, 17), Duration.parse("2 working hours")).periods
    assert part.days == (
        TracedDay(date(2025, 9, 26), W, True, hours=((time(17), time(17, 30)),)),
        TracedDay(date(2025, 9, 27), WEEKEND, False),
        TracedDay(date(2025, 9, 28), MAKE_UP, True, hours=((time(8, 30), time(10)),)),
    )
    assert part.how == "office hours 08:30–12:00, 13:30–17:30 of working days"


def test_the_text_for_people() -> None:
    trace = CALENDAR.trace(sh(2025, 9, 29, 10), Duration.parse("48h + 1 working day"))
    assert trace.lines() == [
        "48h + 1 working day from 2025-09-29 10:00 Mon → due 2025-10-10 00:00 Fri (the end of 2025-10-09 Thu)",
        "  48h (natural hours, through nights and holidays): 2025-09-29 10:00 Mon → 2025-10-01 10:00 Wed",
        "  1 working day (weekends and holidays skipped, make-up workdays counted): 2025-10-01 10:00 Wed → "
        "2025-10-10 00:00 Fri",
        "    2025-10-01 Wed  start day, not counted: holiday 国庆节",
        "    2025-10-02 Thu – 2025-10-05 Sun  skipped: holiday 国庆节",
        "    2025-10-06 Mon  skipped: holiday 中秋节",
        "    2025-10-07 Tue – 2025-10-08 Wed  skipped: holiday 国庆节",
        "    2025-10-09 Thu  counted (1): working day",
    ]
    hours = CALENDAR.trace(sh(2025, 9, 26, 17), Duration.parse("2 working hours")).lines()
    assert hours == [
        "2 working hours from 2025-09-26 17:00 Fri → due 2025-09-28 10:00 Sun",
        "  office hours 08:30–12:00, 13:30–17:30 of working days",
        "  2025-09-26 Fri  counted 17:00–17:30: working day",
        "  2025-09-27 Sat  skipped: weekend",
        "  2025-09-28 Sun  counted 08:30–10:00: make-up workday (调休上班)",
    ]


def test_an_hours_part_ending_at_midnight_starts_the_next_part_on_the_day_it_ended() -> None:
    trace = CALENDAR.trace(sh(2025, 9, 18), Duration.parse("48h + 1 working day"))
    hours, day = trace.periods
    assert hours.end == sh(2025, 9, 20).astimezone(UTC)  # Sat 00:00: the end of Fri
    assert [(d.day.day, d.kind, d.counted) for d in day.days] == [
        (19, W, False),  # Friday is the start day
        (20, WEEKEND, False),
        (21, WEEKEND, False),
        (22, W, True),
    ]


def test_a_year_without_a_schedule_is_flagged() -> None:
    trace = WorkCalendar().trace(sh(2027, 9, 30, 10), Duration.parse("2 working days"))
    assert trace.deadline.provisional
    assert trace.provisional_years == [2027]
    assert trace.lines()[0].endswith("PROVISIONAL (2027: no announced schedule)")
    assert trace.as_json()["periods"][0]["days"][1] == {
        "day": "2027-10-01",
        "kind": "holiday",
        "counted": False,
        "holiday": "国庆节",
        "provisional": True,
        "count": None,
        "hours": [],
        "note": "",
    }


durations = st.lists(
    st.tuples(st.integers(1, 30), st.sampled_from(list(PeriodKind))), min_size=1, max_size=3
).map(lambda parts: Duration(tuple(Period(amount, kind) for amount, kind in parts)))


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2004, 1, 1), max_value=datetime(2026, 6, 1), timezones=st.just(UTC)
    ),
    duration=durations,
)
def test_trace_is_add_with_notes(start: datetime, duration: Duration) -> None:
    trace = CALENDAR.trace(start, duration)
    assert trace.deadline == CALENDAR.add(start, duration)
    assert [part.period for part in trace.periods] == list(duration.periods)
    assert trace.periods[-1].end == trace.deadline.due_at
    for before, after in zip(trace.periods, trace.periods[1:], strict=False):
        assert before.end == after.start
