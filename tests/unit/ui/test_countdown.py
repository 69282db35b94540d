"""The instance page's countdown, pure (``workflows.queries.clocks.clock_of`` measured on the working
calendar, worded by ``workflows.ui.countdown``): hours, working days, across 2026's National Day,
a sum, past due, a warning passed, suspended, and provisional in 2027 (no published calendar yet).
Every expected text is counted by hand from the dates in the comments."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import chinese_calendar

from workflows.engine.deadlines import StaticDeadlines
from workflows.queries.clocks import TimerClock, clock_of
from workflows.time.calendar import Duration, WorkCalendar
from workflows.time.suspension import Part, Unit, to_json
from workflows.ui.countdown import countdown, due_full, due_label, provisional_note, span_late, span_left

CAL = WorkCalendar()
RULES = StaticDeadlines(
    {
        "f.s.claim": "48h",
        "f.s.check": "5 working days",
        "f.s.short": "3 working days",
        "f.s.supervise": "48h + 1 working day",
        "f.s.warn": "36h",
        "f.s.next_day": "1 working day",
        "f.s.office": "4 working hours",
    },
    calendar=CAL,
)
WARNINGS = {("f", "warn")}


def at(day: str, clock: str = "00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}+08:00")


def armed(name: str, since: datetime, **row: object) -> SimpleNamespace:
    """A timer row armed at ``since`` with its rule's due, as the engine arms it."""
    due = CAL.add(since, Duration.parse(RULES.deadline("f", "s", name)))
    fields: dict[str, object] = {
        "id": 1,
        "name": name,
        "state": "s",
        "status": "armed",
        "due_at": due.due_at,
        "provisional": due.provisional,
        "created_at": since,
        "ledger": None,
        "remaining": None,
    }
    return SimpleNamespace(**(fields | row))


def clock(timer: SimpleNamespace, now: datetime) -> TimerClock:
    return clock_of(timer, "f", RULES, now, WARNINGS)


def text(timer: SimpleNamespace, now: datetime) -> str:
    return countdown(clock(timer, now))


def test_hours_count_down_rounded_up_to_the_minute() -> None:
    pushed = at("2026-12-09", "10:00")  # Wed
    claim = armed("claim", pushed)
    assert text(claim, pushed + timedelta(hours=17)) == "31 hours left"
    assert text(claim, pushed + timedelta(hours=17, seconds=30)) == "31 hours left"
    assert text(claim, pushed + timedelta(hours=46, minutes=15)) == "1 hour 45 minutes left"
    assert text(claim, pushed + timedelta(hours=47, minutes=58)) == "2 minutes left"
    assert text(claim, pushed + timedelta(hours=48) - timedelta(seconds=20)) == "1 minute left"
    assert text(claim, pushed) == "48 hours left"
    assert clock(claim, pushed + timedelta(hours=1)).status == "running"


def test_working_days_left_skip_the_weekend_and_name_the_due_day() -> None:
    # Wed 9 Dec 10:00 + 5 working days: Thu 10, Fri 11, Mon 14, Tue 15, Wed 16 → the end of Wed 16
    started = at("2026-12-09", "10:00")
    check = armed("check", started)
    assert check.due_at == at("2026-12-17")
    assert text(check, at("2026-12-09", "18:00")) == "5 working days left, due 12-16 周三 24:00"
    assert text(check, at("2026-12-11", "09:00")) == "3 working days left, due 周三 24:00"  # Fri
    # Sat and Sun leave the count alone: still Mon, Tue, Wed ahead; naive days would say 4 and 3
    assert text(check, at("2026-12-12", "09:00")) == "3 working days left, due 周三 24:00"
    assert text(check, at("2026-12-13", "23:00")) == "3 working days left, due 周三 24:00"
    assert text(check, at("2026-12-14", "09:00")) == "2 working days left, due 周三 24:00"
    assert text(check, at("2026-12-16", "09:00")) == "due today 24:00"  # its last day


def test_working_days_across_national_day_2026() -> None:
    # Mon 28 Sep 10:00 + 5 working days: 29, 30 Sep, (1–7 Oct off), Thu 8, Fri 9, Sat 10 Oct (a make-up
    # workday 调休上班) → the end of Sat 10 Oct
    assert [chinese_calendar.is_workday(at(f"2026-10-{d:02}").date()) for d in (7, 8, 10, 11)] == [
        False,
        True,
        True,
        False,
    ]
    check = armed("check", at("2026-09-28", "10:00"))
    assert check.due_at == at("2026-10-11")
    # on Wed 30 Sep: 8, 9 and 10 Oct are left — three working days over ten calendar days
    assert text(check, at("2026-09-30", "09:00")) == "3 working days left, due 10-10 周六 24:00"
    assert text(check, at("2026-10-04", "12:00")) == "3 working days left, due 周六 24:00"  # in the holiday
    assert text(check, at("2026-10-09", "12:00")) == "1 working day left, due 周六 24:00"


def test_a_sum_counts_its_hours_then_its_working_day() -> None:
    # Wed 10:00: 48 h end Fri 10:00, then one working day after Fri: Mon → the end of Mon 14 Dec
    pushed = at("2026-12-09", "10:00")
    supervise = armed("supervise", pushed)
    assert supervise.due_at == at("2026-12-15")
    thursday = pushed + timedelta(hours=17)
    assert text(supervise, thursday) == "31 hours + 1 working day left, due 周一 24:00"
    assert text(supervise, pushed + timedelta(hours=51)) == "1 working day left, due 周一 24:00"  # Fri
    assert text(supervise, at("2026-12-12", "12:00")) == "1 working day left, due 周一 24:00"  # Sat
    assert text(supervise, at("2026-12-14", "12:00")) == "due today 24:00"


def test_working_hours_count_office_time() -> None:
    # Fri 11 Dec 16:30 + 4 working hours: 16:30–17:30, then Mon 08:30–11:30
    office = armed("office", at("2026-12-11", "16:30"))
    assert office.due_at == at("2026-12-14", "11:30")
    assert text(office, at("2026-12-11", "17:00")) == "3 working hours 30 minutes left"
    assert text(office, at("2026-12-12", "10:00")) == "3 working hours left"  # Saturday: no office time


def test_past_due_says_by_how_much() -> None:
    pushed = at("2026-12-09", "10:00")
    claim = armed("claim", pushed)
    late = clock(claim, pushed + timedelta(hours=51))  # armed, not swept yet
    assert (late.status, countdown(late)) == ("overdue", "overdue by 3 hours")
    fired = armed("claim", pushed, status="fired")
    assert (
        text(fired, pushed + timedelta(hours=51, minutes=20, seconds=50)) == "overdue by 3 hours 20 minutes"
    )
    assert text(fired, pushed + timedelta(hours=48, seconds=30)) == "overdue by less than a minute"
    assert text(fired, pushed + timedelta(hours=48 + 75)) == "overdue by 3 days 3 hours"
    # a rule in days: the whole working days gone by since its last day ended (the end of Wed 16 Dec)
    check = armed("check", pushed, status="fired")
    assert text(check, at("2026-12-17", "02:00")) == "overdue by 2 hours"
    assert text(check, at("2026-12-18", "02:00")) == "overdue by 26 hours (1 working day)"  # Thu gone
    assert text(check, at("2026-12-19", "12:00")) == "overdue by 2 days 12 hours (2 working days)"  # Sat
    assert text(check, at("2026-12-21", "12:00")) == "overdue by 4 days 12 hours (2 working days)"  # Mon
    warn = armed("warn", pushed, status="fired")
    assert text(warn, pushed + timedelta(hours=51)) == "warning passed 15 hours ago"


def test_a_suspended_clock_keeps_its_budget() -> None:
    pushed = at("2026-12-09", "10:00")
    ledger = [[at("2026-12-11", "15:00").isoformat(), None]]
    held = armed(
        "check",
        pushed,
        status="suspended",
        ledger=ledger,
        remaining=to_json((Part(Unit.working_days, 3),)),
    )
    for now in (at("2026-12-11", "16:00"), at("2027-03-01", "09:00")):
        c = clock(held, now)
        assert (c.status, c.suspended_at) == ("suspended", at("2026-12-11", "15:00"))
        assert countdown(c) == "suspended, 3 working days left"
    hours = armed(
        "supervise",
        pushed,
        status="suspended",
        ledger=ledger,
        remaining=to_json((Part(Unit.wall, 13 * 3_600_000_000), Part(Unit.working_days, 1))),
    )
    assert text(hours, at("2026-12-20")) == "suspended, 13 hours + 1 working day left"


def test_provisional_in_a_year_without_a_published_calendar() -> None:
    # Thu 31 Dec 2026 10:00 + 1 working day: 1 Jan 2027 (元旦, estimated), the weekend → the end of
    # Mon 4 Jan 2027; 2027's schedule is not published, so the due is provisional
    assert CAL.year(2027).provisional and not CAL.year(2026).provisional
    timer = armed("next_day", at("2026-12-31", "10:00"))
    assert timer.provisional
    c = clock(timer, at("2026-12-31", "12:00"))
    assert countdown(c) == "1 working day left, due 2027-01-04 周一 24:00"
    assert (c.provisional, c.provisional_years) == (True, (2027,))
    assert provisional_note(c) == (
        "provisional: the 2027 calendar is not published yet (estimated, no make-up workdays)"
    )
    certain = clock(armed("check", at("2026-12-01", "10:00")), at("2026-12-02", "10:00"))
    assert (certain.provisional, provisional_note(certain)) == (False, None)


def test_words_for_spans_and_dues() -> None:
    assert span_left(timedelta(seconds=1)) == "1 minute"
    assert span_left(timedelta(hours=1)) == "1 hour"
    assert span_left(timedelta(0)) == "nothing"
    assert span_late(timedelta(minutes=61, seconds=59)) == "1 hour 1 minute"
    now = at("2026-12-09", "10:00")  # Wed
    assert due_label(at("2026-12-10"), now) == "today 24:00"
    assert due_label(at("2026-12-10", "09:30"), now) == "周四 09:30"
    assert due_label(at("2026-12-16"), now) == "周二 24:00"
    assert due_label(at("2026-12-17"), now) == "12-16 周三 24:00"
    assert due_label(at("2027-01-01"), at("2026-12-30")) == "周四 24:00"  # the end of 2026
    assert due_label(at("2027-01-02"), at("2026-12-30")) == "2027-01-01 周五 24:00"
    assert due_full(at("2026-12-15")) == "2026-12-14 周一 24:00"
    assert due_full(at("2026-12-14", "11:30")) == "2026-12-14 周一 11:30"


def test_a_rule_in_hours_is_never_provisional() -> None:
    # 48 hours from Wed 30 Dec 2026 run into 2027, whose calendar is an estimate: wall time needs none
    claim = armed("claim", at("2026-12-30", "10:00"))
    c = clock(claim, at("2026-12-30", "11:00"))
    assert (claim.provisional, c.provisional, c.provisional_years) == (False, False, ())
    assert countdown(c) == "47 hours left"
    supervise = clock(armed("supervise", at("2026-12-30", "10:00")), at("2026-12-30", "11:00"))
    assert (supervise.provisional, supervise.provisional_years) == (True, (2027,))
    assert countdown(supervise) == "47 hours + 1 working day left, due 2027-01-04 周一 24:00"
