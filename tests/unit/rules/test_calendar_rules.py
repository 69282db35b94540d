"""calendar.yaml as a rule file: read into the rule set, checked with file:line problems, optional."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from rules import RuleSet, RulesInvalid, diff, format_report, lint, load_rules

Edit = Callable[[str, str, str], Path]

YEAR_2027 = """  2027:
    reference: 国务院办公厅关于2027年部分节假日安排的通知（测试）
    holidays:
      - {name: 元旦, first: 2027-01-01, last: 2027-01-03}
      - {name: 春节, first: "2027-02-05", last: 2027-02-12}
    workdays: [2027-02-20]
"""


def lines(directory: Path) -> list[str]:
    return format_report(lint(directory), with_directory=False, summary=False).splitlines()


def add_2027(directory: Path) -> Path:
    path = directory / "calendar.yaml"
    path.write_text(path.read_text(encoding="utf-8") + YEAR_2027, encoding="utf-8")
    return directory


def test_the_shipped_calendar_is_part_of_the_rule_set(defaults: RuleSet) -> None:
    years = defaults.calendar.years
    assert sorted(years) == list(range(2004, 2027))
    spring = next(h for h in years[2026].holidays if h.name == "春节")
    assert (spring.first, spring.last) == (date(2026, 2, 15), date(2026, 2, 23))
    assert years[2026].workdays[:2] == [date(2026, 1, 4), date(2026, 2, 14)]
    assert defaults.where("calendar.yaml", "years[2026].workdays[1]") == (315, 28)


def test_a_new_year_is_entered_as_text_and_shows_in_the_diff(defaults: RuleSet, rules_copy: Path) -> None:
    directory = add_2027(rules_copy)
    assert lines(directory) == []
    entry = load_rules(directory).calendar.years[2027]
    assert entry.days_off()[date(2027, 2, 5)] == "春节"  # a date in quotes is a date too
    assert [str(change) for change in diff(defaults, load_rules(directory))] == [
        "+ calendar 2027: 国务院办公厅关于2027年部分节假日安排的通知（测试）",
        "+ calendar 2027 make-up workdays: 2027-02-20",
        "+ calendar 2027 元旦: 2027-01-01 to 2027-01-03",
        "+ calendar 2027 春节: 2027-02-05 to 2027-02-12",
    ]


def test_a_make_up_workday_moved_to_a_friday_is_an_error_at_its_line(edit: Edit) -> None:
    directory = edit(
        "calendar.yaml", "workdays: [2026-01-04, 2026-02-14,", "workdays: [2026-01-04, 2026-02-13,"
    )
    assert lines(directory) == [
        "calendar.yaml:315:28: error: years[2026].workdays[1]: make-up workday 2026-02-13 is a Friday: a "
        "make-up workday (调休上班) must fall on a Saturday or Sunday"
    ]
    with pytest.raises(RulesInvalid, match=r"calendar\.yaml:315:28: error: years\[2026\]\.workdays\[1\]"):
        load_rules(directory)


def test_without_calendar_yaml_the_rules_load_with_a_warning(rules_copy: Path) -> None:
    (rules_copy / "calendar.yaml").unlink()
    assert lines(rules_copy) == [
        "calendar.yaml:1:1: warning: no calendar.yaml: deadlines use the engine's built-in calendar for every year"
    ]
    assert load_rules(rules_copy).calendar.years == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "years:\n  1900:\n    reference: x\n",
            "calendar.yaml:2:3: error: years[1900]: year 1900 is not between 1949 and 2100",
        ),
        (
            "years:\n  2027:\n    reference: x\n    holidays:\n      - {name: 春节, first: 2027-02-12, last: 2027-02-05}\n",
            "calendar.yaml:5:39: error: years[2027].holidays[0].last: 春节 ends on 2027-02-05, before it starts on "
            "2027-02-12",
        ),
        (
            "years:\n  2027:\n    holidays: []\n",
            "calendar.yaml:2:3: error: years[2027]: missing required key 'reference'",
        ),
        ("", "calendar.yaml:1:1: error: the file is empty"),
    ],
)
def test_schema_problems(rules_copy: Path, text: str, expected: str) -> None:
    (rules_copy / "calendar.yaml").write_text(text, encoding="utf-8")
    assert lines(rules_copy) == [expected]


OFFICE_LINE = 'office_hours: ["08:30-12:00", "13:30-17:30"]'


def test_the_shipped_office_hours(defaults: RuleSet) -> None:
    assert defaults.calendar.office_hours == ["08:30-12:00", "13:30-17:30"]
    assert defaults.where("calendar.yaml", "office_hours[1]") == (39, 31)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            'office_hours: ["08:30-12:00", "13:30-1730"]',
            "calendar.yaml:39:31: error: office_hours[1]: office hours '13:30-1730' are not a time range: "
            "write them like 08:30-12:00",
        ),
        (
            'office_hours: ["08:30-12:00", "17:30-13:30"]',
            "calendar.yaml:39:31: error: office_hours[1]: office hours '17:30-13:30' end before they start: "
            "write the earlier time first",
        ),
        (
            'office_hours: ["08:30-12:00", "25:00-26:00"]',
            "calendar.yaml:39:31: error: office_hours[1]: office hours '25:00-26:00' are not times of day: "
            "hours 0-23, minutes 0-59",
        ),
        (
            'office_hours: ["08:30-12:00", "11:30-17:30"]',
            "calendar.yaml:39:31: error: office_hours[1]: office hours 11:30-17:30 overlap 08:30-12:00 "
            "(line 39): list the ranges in the order of the day, apart from each other",
        ),
        (
            'office_hours: ["13:30-17:30", "08:30-12:00"]',
            "calendar.yaml:39:31: error: office_hours[1]: office hours 08:30-12:00 come before 13:30-17:30 "
            "(line 39): list the ranges in the order of the day, apart from each other",
        ),
        (
            "office_hours: []",
            "calendar.yaml:39:1: error: office_hours: office_hours is empty: working hours need at least "
            "one range, like 08:30-12:00",
        ),
        (
            "office_hours: [830]",
            "calendar.yaml:39:16: error: office_hours[0]: office hours 830 are not a time range: write them "
            'like "08:30-12:00"',
        ),
    ],
)
def test_malformed_office_hours_are_errors_at_their_line(edit: Edit, line: str, expected: str) -> None:
    directory = edit("calendar.yaml", OFFICE_LINE, line)
    assert lines(directory) == [expected]
    with pytest.raises(RulesInvalid):
        load_rules(directory)


def test_office_hours_one_a_line_and_a_file_without_them(edit: Edit, rules_copy: Path) -> None:
    directory = edit("calendar.yaml", OFFICE_LINE, 'office_hours:\n  - "09:00-12:00"\n  - 14:00-18:00')
    assert lines(directory) == []
    assert load_rules(directory).calendar.office_ranges()[1][0].hour == 14
    directory = edit("calendar.yaml", 'office_hours:\n  - "09:00-12:00"\n  - 14:00-18:00', "")
    assert load_rules(directory).calendar.office_hours == ["08:30-12:00", "13:30-17:30"]
