"""Suspended clocks, pure: the budget left at a suspension, in the rule's units, and the due on resume
(``workflows/time/suspension.py``), checked by hand across 2026's National Day and against a
day-by-day count on chinese-calendar."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest

from workflows.time.calendar import SHANGHAI, Duration, WorkCalendar
from workflows.time.suspension import (
    Part,
    SuspensionError,
    Unit,
    budget_of,
    describe,
    due_of,
    from_json,
    left_until,
    remaining,
    replay,
    to_json,
)

CAL = WorkCalendar()
HOUR = 3_600_000_000


def at(day: str, clock: str = "00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}+08:00")


def test_working_days_across_national_day_2026() -> None:
    # armed Thu 24 Sep 10:00 with 5 working days: 28, 29, 30 Sep, 8, 9 Oct (25 Sep is Mid-Autumn,
    # 1–7 Oct National Day) → due at the end of Fri 9 Oct
    armed, rule = at("2026-09-24", "10:00"), budget_of(Duration.parse("5 working days"))
    assert due_of(armed, rule, CAL).due_at == at("2026-10-10")
    # suspended Mon 28 Sep 15:00: the rest of Monday is not budget; 29, 30 Sep, 8, 9 Oct are
    left = remaining(armed, rule, at("2026-09-28", "15:00"), CAL)
    assert left == (Part(Unit.working_days, 4),) and describe(left) == "4 working days"
    # resumed Fri 9 Oct 09:00: 10 Oct (a Saturday worked, 调休), 12, 13, 14 Oct → end of Wed 14 Oct
    assert due_of(at("2026-10-09", "09:00"), left, CAL).due_at == at("2026-10-15")
    # resumed on the holiday itself, Sat 3 Oct: 8, 9, 10, 12 Oct → end of Mon 12 Oct
    assert due_of(at("2026-10-03", "16:00"), left, CAL).due_at == at("2026-10-13")


def test_suspended_on_the_last_day_keeps_the_rest_of_a_working_day() -> None:
    rule = budget_of(Duration.parse("1 working day"))
    left = remaining(at("2026-09-29", "09:00"), rule, at("2026-09-30", "11:00"), CAL)  # due end of 30 Sep
    assert left == (Part(Unit.working_days, 0),)
    assert due_of(at("2026-10-02", "10:00"), left, CAL).due_at == at("2026-10-09")  # next working day: 8 Oct
    assert due_of(at("2026-10-08", "10:00"), left, CAL).due_at == at("2026-10-09")  # the resume day itself


def test_hours_keep_their_wall_time_and_a_sum_keeps_its_later_parts() -> None:
    armed = at("2026-09-29", "09:00")
    left = remaining(armed, budget_of(Duration.parse("48h")), armed + timedelta(hours=10, minutes=20), CAL)
    assert left == (Part(Unit.wall, 37 * HOUR + 40 * 60_000_000),) and describe(left) == "37h 40m"
    back = at("2026-10-04", "12:00")
    assert due_of(back, left, CAL).due_at == back + timedelta(hours=37, minutes=40)

    compound = budget_of(Duration.parse("48h + 1 working day"))
    left = remaining(armed, compound, armed + timedelta(hours=47), CAL)
    assert describe(left) == "1h + 1 working day"
    # resumed Thu 8 Oct 23:30: the hour ends Fri 9 Oct 00:30, then 1 working day after Fri: Sat 10 Oct
    assert due_of(at("2026-10-08", "23:30"), left, CAL).due_at == at("2026-10-11")
    # suspended in the working-day part (armed Tue 09:00, 48h end Thu 1 Oct 09:00, then 8 Oct)
    assert due_of(armed, compound, CAL).due_at == at("2026-10-09")
    assert remaining(armed, compound, at("2026-10-05", "12:00"), CAL) == (Part(Unit.working_days, 1),)


def test_natural_days_count_days_ahead_of_the_nominal_last_day() -> None:
    rule = budget_of(Duration.parse("7 natural days"))
    armed = at("2026-09-21", "10:00")  # nominal last day 28 Sep (a Monday, worked)
    assert due_of(armed, rule, CAL).due_at == at("2026-09-29")
    left = remaining(armed, rule, at("2026-09-24", "18:00"), CAL)
    assert left == (Part(Unit.natural_days, 4),)
    # resumed Wed 30 Sep: 4 days on is Sun 4 Oct, a holiday → moved to the end of Thu 8 Oct
    assert due_of(at("2026-09-30", "08:00"), left, CAL).due_at == at("2026-10-09")


def test_nothing_is_left_once_due_and_a_budget_round_trips_as_json() -> None:
    rule = budget_of(Duration.parse("2h"))
    with pytest.raises(SuspensionError, match="fell due"):
        remaining(at("2026-09-29", "09:00"), rule, at("2026-09-29", "11:00"), CAL)
    with pytest.raises(SuspensionError, match="fell due"):
        left_until(at("2026-09-29", "11:00"), at("2026-09-29", "11:00"), Unit.wall, CAL)
    budget = budget_of(Duration.parse("48h + 7 natural days + 3 working days"))
    assert from_json(to_json(budget)) == budget


def test_replay_of_a_ledger_agrees_with_suspending_and_resuming_by_hand() -> None:
    armed, rule = at("2026-09-24", "10:00"), budget_of(Duration.parse("5 working days"))
    spans = [(at("2026-09-28", "15:00"), at("2026-09-29", "09:00")), (at("2026-09-30", "17:00"), None)]
    first = remaining(armed, rule, spans[0][0], CAL)  # 29, 30 Sep, 8, 9 Oct
    assert due_of(at("2026-09-29", "09:00"), first, CAL).due_at == at("2026-10-11")  # 30 Sep, 8, 9, 10 Oct
    second = remaining(at("2026-09-29", "09:00"), first, at("2026-09-30", "17:00"), CAL)
    assert replay(rule, armed, spans, CAL).budget == second == (Part(Unit.working_days, 3),)
    assert replay(rule, armed, spans, CAL).due is None  # still suspended
    resumed = replay(rule, armed, [spans[0], (spans[1][0], at("2026-10-12", "10:00"))], CAL)
    assert resumed.due is not None and resumed.due.due_at == at("2026-10-16")  # 13, 14, 15 Oct
    # suspended again on the day of a resume: that day's rest was never budget, so nothing is lost
    same_day = remaining(at("2026-09-29", "09:00"), first, at("2026-09-29", "17:00"), CAL)
    assert same_day == first


RULES = ["2h", "48h", "1 working day", "5 working days", "20 working days", "7 natural days",
         "48h + 1 working day", "7 natural days + 3 working days"]  # fmt: skip


def _oracle_workdays(first: date, last: date) -> int:
    """Working days in (first, last], one by one on chinese-calendar."""
    return sum(
        chinese_calendar.is_workday(first + timedelta(days=n)) for n in range(1, (last - first).days + 1)
    )


def test_against_a_day_by_day_count_and_resuming_at_once_changes_nothing() -> None:
    rnd = random.Random(20261001)
    span = int((datetime(2026, 6, 1, tzinfo=UTC) - datetime(2005, 1, 1, tzinfo=UTC)).total_seconds())
    for _ in range(3000):
        armed = datetime(2005, 1, 1, tzinfo=UTC) + timedelta(seconds=rnd.randrange(span))
        duration = Duration.parse(rnd.choice(RULES))
        budget = budget_of(duration)
        due = CAL.add(armed, duration).due_at
        assert due_of(armed, budget, CAL).due_at == due  # a budget is placed as the calendar places a rule
        paused = armed + (due - armed) * rnd.random()
        if paused >= due:
            continue
        left = remaining(armed, budget, paused, CAL)
        assert due_of(paused, left, CAL).due_at == due  # resumed at once: the same due
        if len(budget) == 1 and budget[0].unit is Unit.working_days:
            last = (due - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
            assert left[0].amount == _oracle_workdays(paused.astimezone(SHANGHAI).date(), last)
            back = paused + timedelta(days=rnd.randrange(1, 60), hours=rnd.randrange(24))
            if back.year > 2026 or left[0].amount == 0:
                continue
            moved = due_of(back, left, CAL).due_at
            end = (moved - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
            assert moved.astimezone(SHANGHAI).time() == datetime.min.time()  # the end of a day
            assert _oracle_workdays(back.astimezone(SHANGHAI).date(), end) == left[0].amount
            assert chinese_calendar.is_workday(end)


# ------------------------------------------------------------------------ working hours (工作时)
# office hours 08:30–12:00 and 13:30–17:30 (the default); Thu 3, Fri 4, Mon 7 Dec 2026 are working
# days, Sat 5 and Sun 6 Dec are not; 1–7 Oct 2026 is National Day, Thu 8 Oct is worked
FOUR_HOURS = budget_of(Duration.parse("4 working hours"))


def test_working_hours_keep_the_office_time_left_and_count_it_again_in_office_hours() -> None:
    armed = at("2026-12-03", "09:00")  # Thu: 09:00–12:00 and 13:30–14:30
    assert FOUR_HOURS == (Part(Unit.working_hours, 4 * HOUR),)
    assert due_of(armed, FOUR_HOURS, CAL).due_at == at("2026-12-03", "14:30")
    left = remaining(armed, FOUR_HOURS, at("2026-12-03", "11:00"), CAL)  # 11:00–12:00, 13:30–14:30
    assert left == (Part(Unit.working_hours, 2 * HOUR),) and describe(left) == "2h of working hours"
    # resumed Fri 16:30 across the weekend: 16:30–17:30, then Mon 08:30–09:30
    assert due_of(at("2026-12-04", "16:30"), left, CAL).due_at == at("2026-12-07", "09:30")
    # resumed on the next working day without a weekend: Wed 2 Dec 16:30 → Thu 09:30
    assert due_of(at("2026-12-02", "16:30"), left, CAL).due_at == at("2026-12-03", "09:30")
    # resumed outside office hours: counted from the next opening (Sat → Mon 08:30)
    assert due_of(at("2026-12-05", "10:00"), left, CAL).due_at == at("2026-12-07", "10:30")
    assert due_of(at("2026-12-03", "19:00"), left, CAL).due_at == at("2026-12-04", "10:30")
    # resumed on the eve of National Day: 16:30–17:30 on 30 Sep, then 08:30–09:30 on Thu 8 Oct
    assert due_of(at("2026-09-30", "16:30"), left, CAL).due_at == at("2026-10-08", "09:30")
    # resumed at once: the same due
    assert due_of(at("2026-12-03", "11:00"), left, CAL).due_at == at("2026-12-03", "14:30")


def test_working_hours_and_the_lunch_break() -> None:
    armed = at("2026-12-03", "09:00")  # due 14:30
    # suspended during lunch: the morning's 3 hours are spent, 13:30–14:30 is left
    lunch = remaining(armed, FOUR_HOURS, at("2026-12-03", "12:45"), CAL)
    assert lunch == (Part(Unit.working_hours, HOUR),)
    # suspended at 11:00 (2 h left), resumed Mon 11:30: 11:30–12:00, then 13:30–15:00
    left = remaining(armed, FOUR_HOURS, at("2026-12-03", "11:00"), CAL)
    assert due_of(at("2026-12-07", "11:30"), left, CAL).due_at == at("2026-12-07", "15:00")
    # a budget that runs out at noon ends at noon, not at 13:30
    half = (Part(Unit.working_hours, HOUR // 2),)
    assert due_of(at("2026-12-07", "11:30"), half, CAL).due_at == at("2026-12-07", "12:00")
    # resumed during lunch: from 13:30
    assert due_of(at("2026-12-07", "12:10"), lunch, CAL).due_at == at("2026-12-07", "14:30")


def test_working_hours_to_the_microsecond_in_a_sum_and_from_a_known_due() -> None:
    armed = at("2026-12-03", "09:00")
    left = remaining(armed, FOUR_HOURS, at("2026-12-03", "11:00") + timedelta(microseconds=500_000), CAL)
    assert left == (Part(Unit.working_hours, 2 * HOUR - 500_000),)
    assert describe(left) == "1h 59m 59s of working hours"
    # a sum keeps its later parts: 4 working hours (due Thu 14:30), then 1 working day (Fri)
    compound = budget_of(Duration.parse("4 working hours + 1 working day"))
    assert (
        due_of(armed, compound, CAL).due_at
        == CAL.add(armed, Duration.parse("4 working hours + 1 working day")).due_at
    )
    assert due_of(armed, compound, CAL).due_at == at("2026-12-05")
    left = remaining(armed, compound, at("2026-12-03", "11:00"), CAL)
    assert describe(left) == "2h of working hours + 1 working day"
    # resumed Fri 16:30: the hours end Mon 09:30, then 1 working day → the end of Tue 8 Dec
    assert due_of(at("2026-12-04", "16:30"), left, CAL).due_at == at("2026-12-09")
    # from a recorded due (rules changed since): the office time up to it
    assert left_until(at("2026-12-07", "09:30"), at("2026-12-04", "16:30"), Unit.working_hours, CAL) == (
        Part(Unit.working_hours, 2 * HOUR),
    )
    assert from_json(to_json(left)) == left
    # replayed through a ledger: the same as by hand
    spans = [(at("2026-12-03", "11:00"), at("2026-12-04", "16:30"))]
    replayed = replay(FOUR_HOURS, armed, spans, CAL)
    assert replayed.due is not None and replayed.due.due_at == at("2026-12-07", "09:30")


def test_a_part_ending_at_midnight_starts_the_next_day_part_on_the_day_it_ended() -> None:
    # 48h from Sun 29 Nov 00:00 end Tue 1 Dec 00:00, the end of Mon 30 Nov: + 1 working day is Tue,
    # as the calendar counts it (not Wed)
    armed, rule = at("2026-11-29"), Duration.parse("48h + 1 working day")
    assert due_of(armed, budget_of(rule), CAL).due_at == CAL.add(armed, rule).due_at == at("2026-12-02")


WORKING_HOUR_RULES = ["1 working hour", "4 working hours", "30 working hours", "48h + 4 working hours",
                      "4 working hours + 1 working day", "1 working day + 4 working hours"]  # fmt: skip


def test_working_hours_against_the_calendar_and_resuming_at_once_changes_nothing() -> None:
    rnd = random.Random(20261203)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    span = int((datetime(2026, 12, 1, tzinfo=UTC) - start).total_seconds())
    for _ in range(2000):
        armed = start + timedelta(seconds=rnd.randrange(span), microseconds=rnd.randrange(1_000_000))
        duration = Duration.parse(rnd.choice(WORKING_HOUR_RULES))
        budget = budget_of(duration)
        due = CAL.add(armed, duration).due_at
        assert due_of(armed, budget, CAL).due_at == due
        paused = armed + (due - armed) * rnd.random()
        if paused >= due:
            continue
        left = remaining(armed, budget, paused, CAL)
        assert due_of(paused, left, CAL).due_at == due
        if len(left) == 1 and left[0].unit is Unit.working_hours:
            back = paused + timedelta(hours=rnd.randrange(1, 24 * 30))
            moved = due_of(back, left, CAL).due_at
            assert CAL.office_time_between(back, moved) == timedelta(microseconds=left[0].amount)
