"""The grid part of the demo promises its outcomes by plan: exactly one permit_needed, a handful of
unlicensed operators of which a third go on to departments, the returns; and a slow tenth of workers."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime

from workflows.flows.grid_check.demo_habits import (
    RETURNED,
    SLOW_SHARE,
    UNLICENSED_EVERY,
    OutcomePlan,
    Timing,
    slow_workers,
)
from workflows.flows.grid_check.directory import parse_directory
from workflows.flows.grid_check.directory_synthetic import synthetic_path
from workflows.time.calendar import SHANGHAI, WorkCalendar

STREETS = {
    "ZHONGHAN": "中韩街道",
    "SHAZIKOU": "沙子口街道",
    "WANGGEZHUANG": "王哥庄街道",
    "BEIZHAI": "北宅街道",
    "JINJIALING": "金家岭街道",
}


def test_exactly_one_permit_needed_the_first_scope_needing_none_after_the_fifth() -> None:
    plan = OutcomePlan(random.Random(1))
    outcomes = [plan.next(needs_no_permit=n in (2, 9, 11)) for n in range(2000)]
    assert outcomes.count("permit_needed") == 1 and outcomes[9] == "permit_needed"
    assert [n for n, o in enumerate(outcomes) if o == "unlicensed"] == list(range(3, 2000, UNLICENSED_EVERY))
    assert {n for n, o in enumerate(outcomes) if o == "returned"} == RETURNED
    counts = Counter(outcomes)
    assert counts["address_unreachable"] == 4
    assert 0.04 < counts["minor_issue"] / 2000 < 0.12 and counts["ok"] > 1700


def test_the_street_hands_a_third_over_alternately_for_a_permit_and_a_licence() -> None:
    plan = OutcomePlan(random.Random(1))
    results = [plan.enforcement() for _ in range(9)]
    assert [r for r in results if r[0] == "handed_over"] == [
        ("handed_over", "permit"),
        ("handed_over", "licence"),
        ("handed_over", "permit"),
    ]
    assert {r for r, missing in results if missing is None} <= {"licensed", "ceased", "penalised"}


def test_a_tenth_of_the_active_workers_are_slow_and_no_inactive_one() -> None:
    directory = parse_directory(synthetic_path(), STREETS)
    slow = slow_workers(directory, random.Random(3))
    active = {w.worker_id for w in directory.workers if w.active}
    assert slow <= active and len(slow) == round(len(active) * SLOW_SHARE)
    assert slow == slow_workers(directory, random.Random(3))


def test_a_report_some_working_days_on_falls_in_office_hours_of_that_working_day() -> None:
    timing = Timing(WorkCalendar(), random.Random(5))
    friday = datetime(2026, 11, 6, 17, 0, tzinfo=SHANGHAI)
    for _ in range(50):
        at = timing.working_days(friday, (1, 1)).astimezone(SHANGHAI)
        assert at.date() == date(2026, 11, 9) and 9 <= at.hour < 18  # the Monday
