"""Which table decides a day: overrides, then the rules' calendar.yaml, then chinese-calendar, then the
statutory estimate — and the engine counts on the calendar of the rules it runs."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from rules import DEFAULT_DIRECTORY, load_rules
from rules.schema import CalendarYear, Holiday
from workflows.engine.deadlines import StaticDeadlines
from workflows.ruleset.adapter import RuleDeadlines
from workflows.time.calendar import SHANGHAI, Deadline, Duration, WorkCalendar

#: a made-up 2027 schedule (the real one is not announced yet)
SCHEDULE_2027 = CalendarYear(
    reference="国务院办公厅关于2027年部分节假日安排的通知（测试）",
    holidays=[Holiday(name="春节", first=date(2027, 2, 5), last=date(2027, 2, 12))],
    workdays=[date(2027, 2, 20)],
)


def due(calendar: WorkCalendar, start: datetime, text: str) -> Deadline:
    return calendar.add(start, Duration.parse(text))


def test_an_announced_year_is_certain_and_silent(caplog: pytest.LogCaptureFixture) -> None:
    calendar = WorkCalendar(announced={2027: SCHEDULE_2027})
    with caplog.at_level(logging.WARNING, logger="yunshang.calendar"):
        deadline = due(calendar, datetime(2027, 2, 1, 9, tzinfo=SHANGHAI), "5 working days")
        saturday = calendar.is_workday(date(2027, 2, 20))
    # Feb 2, 3, 4; Feb 5–12 off; Mon Feb 15, Tue Feb 16 → end of Feb 16
    assert deadline == Deadline(datetime(2027, 2, 17, tzinfo=SHANGHAI).astimezone(UTC), provisional=False)
    assert saturday == (True, False)
    assert caplog.records == []
    assert calendar.holiday_name(date(2027, 2, 9)) == "春节"
    assert calendar.announced_years()[-2:] == [2026, 2027]


def test_a_year_of_the_file_wins_over_the_package() -> None:
    # 2026 as announced, but the rule author took Sat Feb 14's make-up workday away
    shipped = load_rules(DEFAULT_DIRECTORY).calendar.years[2026]
    edited = shipped.model_copy(update={"workdays": [d for d in shipped.workdays if d != date(2026, 2, 14)]})
    assert WorkCalendar().is_workday(date(2026, 2, 14)) == (True, False)
    assert WorkCalendar(announced={2026: edited}).is_workday(date(2026, 2, 14)) == (False, False)
    assert WorkCalendar(announced={2026: edited}).year(2026).source == "calendar.yaml, 国办发明电〔2025〕7号"


def test_a_year_the_file_lacks_falls_back_to_the_package_then_to_the_estimate() -> None:
    calendar = WorkCalendar(announced={2027: SCHEDULE_2027})
    assert calendar.year(2025).source.startswith("chinese-calendar ")
    assert calendar.is_workday(date(2025, 9, 28)) == (True, False)  # a make-up Sunday of the package
    assert calendar.year(2028).provisional
    assert calendar.is_workday(date(2028, 1, 26)) == (False, True)  # 春节 by the lunar calendar


def test_overrides_win_over_the_file() -> None:
    calendar = WorkCalendar({date(2027, 2, 8): True}, announced={2027: SCHEDULE_2027})
    assert calendar.is_workday(date(2027, 2, 8)) == (True, False)
    assert calendar.is_workday(date(2027, 2, 9)) == (False, False)


def test_each_year_is_built_once() -> None:
    calendar = WorkCalendar()
    assert calendar.year(2026) is calendar.year(2026)
    assert calendar.year(2031) is calendar.year(2031)


def test_deadline_sources_carry_their_calendar() -> None:
    ruleset = load_rules(DEFAULT_DIRECTORY)
    with_2027 = ruleset.model_copy(
        update={
            "calendar": ruleset.calendar.model_copy(
                update={"years": {**ruleset.calendar.years, 2027: SCHEDULE_2027}}
            )
        }
    )
    assert not RuleDeadlines(with_2027).calendar.year(2027).provisional
    assert RuleDeadlines(ruleset).calendar.year(2027).provisional
    assert StaticDeadlines({}).calendar.year(2026).source.startswith("chinese-calendar ")
