"""The escalation chain grid → street → department → district, each level on its deadline across a
public holiday; returns (退单) that never restart the clock and end in the district's binding assignment
(审定); inactive workers; duplicate and out-of-order reports; bad input refused with nothing changed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from tests.e2e.flows.grid_check.conftest import Grid, armed
from workflows.time.calendar import SHANGHAI

MINUTE = timedelta(minutes=1)


def _workday(grid: Grid, day: date) -> bool:
    return grid.e2e.stack.runtime.engine.calendar.is_workday(day)[0]


def _end_of_working_day(grid: Grid, start: datetime, n: int) -> datetime:
    """By hand, a day at a time: 00:00 Asia/Shanghai after the n-th working day after ``start``'s date."""
    day = start.astimezone(SHANGHAI).date()
    while n:
        day += timedelta(days=1)
        n -= _workday(grid, day)
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)


def _eve_of_a_holiday(grid: Grid) -> datetime:
    """10:00 on the next working day followed by a public holiday on a weekday."""
    day = grid.e2e.now().astimezone(SHANGHAI).date() + timedelta(days=1)
    while not (_workday(grid, day) and day.weekday() < 4 and not _workday(grid, day + timedelta(days=1))):
        day += timedelta(days=1)
    return datetime.combine(day, time(10), SHANGHAI)


def _due(detail: dict[str, Any]) -> dict[str, datetime]:
    return {
        t["name"]: datetime.fromisoformat(t["due_at"]) for t in detail["timers"] if t["status"] == "armed"
    }


def test_every_level_escalates_on_its_deadline_across_a_public_holiday(grid: Grid) -> None:
    e2e = grid.e2e
    eve = _eve_of_a_holiday(grid)
    e2e.tick_to(eve)
    task = grid.complaint()
    acknowledge_by = _end_of_working_day(grid, eve, 1)
    assert acknowledge_by - eve > timedelta(days=2)  # the holiday is not counted
    assert _due(grid.task(task)) == {"acknowledge_deadline": acknowledge_by}

    e2e.tick_to(acknowledge_by - MINUTE)
    assert grid.pushes(task) == [("task", "app:gw-0001")]
    e2e.tick_to(acknowledge_by + MINUTE)  # not acknowledged: the street office
    assert grid.pushes(task)[1:] == [("overdue", "ZHONGHAN/leader")]

    grid.acknowledge(task)
    grid.settle()
    acknowledged = e2e.now()
    due = _due(grid.task(task))
    assert due == {
        "first_check_warning": _end_of_working_day(grid, acknowledged, 4),
        "first_check_deadline": _end_of_working_day(grid, acknowledged, 5),
        "first_check_department": _end_of_working_day(grid, acknowledged, 7),
        "first_check_district": _end_of_working_day(grid, acknowledged, 10),
    }
    e2e.tick_to(due["first_check_warning"] + MINUTE)
    assert grid.pushes(task)[2:] == [("warning", "ZH-001/grid_worker")]
    assert task not in {i["id"] for i in e2e.instances(flow="grid_check", overdue="true")}  # yellow only
    e2e.tick_to(due["first_check_deadline"] + MINUTE)
    assert grid.pushes(task)[3:] == [("overdue", "ZHONGHAN/leader")]
    assert task in {i["id"] for i in e2e.instances(flow="grid_check", overdue="true")}  # red
    e2e.tick_to(due["first_check_department"] + MINUTE)
    assert grid.pushes(task)[4:] == [("supervision", "SCJG/leader")]
    e2e.tick_to(due["first_check_district"] + MINUTE)
    assert grid.pushes(task)[5:] == [("supervision", "PTB/supervisor")]
    [district] = [d for d in grid.deliveries(task, "supervision") if d.recipient == "PTB/supervisor"]
    assert district.payload["step"] == "district"
    assert [s["timer"] for s in grid.task(task)["context"]["escalations"]] == [
        "acknowledge_deadline",
        "first_check_warning",
        "first_check_deadline",
        "first_check_department",
        "first_check_district",
    ]


def _return(g: Grid, task: int, by: str, reason: str, **extra: Any) -> Any:
    data = {"task": task, "by": by, "reason": reason, "returned_at": g.at(), **extra}
    return g.post("grid.task.returned", data)


def test_two_returns_go_to_the_district_for_a_binding_assignment_and_the_clock_never_restarts(
    grid: Grid,
) -> None:
    task = grid.complaint()
    timers = [(t["id"], t["due_at"]) for t in grid.task(task)["timers"]]
    dispatched = grid.task(task)["context"]["dispatched_at"]

    grid.e2e.tick(1)
    assert (
        _return(grid, task, "GW-0001", "wrong_grid", grid="ZH-002", comment="不在本网格").status_code == 202
    )
    grid.settle()
    first = grid.task(task)["context"]
    assert (first["worker_id"], first["level"], len(first["returns"])) == ("GW-0002", "grid", 1)
    assert grid.pushes(task)[-1] == ("task", "app:gw-0002")

    assert _return(grid, task, "GW-0002", "not_ours").status_code == 202
    grid.settle()
    second = grid.task(task)
    assert (second["context"]["level"], second["state"]) == ("district", "assigned")
    assert grid.pushes(task)[-1] == ("district_review", "PTB/supervisor")

    before = grid.e2e.counts()
    refused = _return(grid, task, "GW-0002", "not_ours")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "data.task"
    assert "binding assignment" in refused.json()["errors"][0]["message"]
    assert grid.e2e.counts() == before

    assign = {
        "task": task,
        "by": "平台办 张主任",
        "worker_id": "GW-0005",
        "comment": "审定: 由金家岭网格承办",
    }
    grid.emit("grid.task.assigned", assign)
    grid.settle()
    bound = grid.task(task)["context"]
    assert (bound["worker_id"], bound["binding"], bound["assigned_by"]) == ("GW-0005", True, "平台办 张主任")
    assert grid.pushes(task)[-1] == ("task", "app:gw-0005")
    refused = _return(grid, task, "GW-0005", "not_ours")
    assert refused.status_code == 422 and "审定" in refused.json()["errors"][0]["message"]

    # the clock counts from the first dispatch: the same timers, the same due times
    assert [(t["id"], t["due_at"]) for t in grid.task(task)["timers"]] == timers
    assert grid.task(task)["context"]["dispatched_at"] == dispatched


def test_an_inactive_worker_passes_to_the_backup_then_to_the_street_office(grid: Grid) -> None:
    backup = grid.complaint("ZH-003")
    assert (grid.task(backup)["context"]["level"], grid.task(backup)["context"]["worker_id"]) == (
        "backup",
        "GW-0002",
    )
    assert grid.pushes(backup) == [("task", "app:gw-0002")]
    street = grid.complaint("ZH-004")
    assert (grid.task(street)["context"]["level"], grid.task(street)["context"].get("worker_id")) == (
        "street",
        None,
    )
    assert grid.pushes(street) == [("task", "ZHONGHAN")]


def test_duplicate_and_out_of_order_reports_are_absorbed(grid: Grid) -> None:
    task = grid.complaint()
    first = grid.check(task, "ok", id="report-1")  # before the acknowledgement
    again = grid.check(task, "ok", id="report-1")
    assert (first["status"], again["status"]) == ("accepted", "duplicate")
    grid.settle()
    grid.acknowledge(task)  # the acknowledgement arrives after the report
    grid.settle()
    done = grid.task(task)
    assert done["state"] == "verified"
    assert (done["context"]["acknowledgement_implied"], done["context"]["late_acknowledgements"]) == (True, 1)
    reports = [h for h in done["history"] if h["trigger"] == "report"]
    assert [h["outcome"] for h in reports] == ["applied"]
    assert armed(done) == set()


def test_bad_input_is_refused_naming_the_field_and_changes_nothing(grid: Grid) -> None:
    task = grid.complaint()
    closed = grid.complaint()
    grid.check(closed, "ok")
    grid.settle()
    before = grid.e2e.counts()
    check = {"worker_id": "GW-0001", "checked_at": grid.at()}
    cases: list[tuple[str, dict[str, Any], str, str]] = [
        (
            "complaint.received",
            {
                "complaint_id": "C-x",
                "address": "某处",
                "grid": "ZH-999",
                "content": "投诉",
                "received_at": grid.at(),
            },
            "data.grid",
            "unknown grid 'ZH-999'",
        ),
        (
            "grid.check.reported",
            {**check, "task": closed, "outcome": "ok"},
            "data.task",
            "is closed verified",
        ),
        ("grid.check.reported", {**check, "task": task, "outcome": "fine"}, "data.outcome", "'ok'"),
        (
            "grid.check.reported",
            {**check, "task": task, "outcome": "ok", "worker_id": "GW-0002"},
            "data.worker_id",
            "held by GW-0001",
        ),
        (
            "grid.check.reported",
            {**check, "task": task, "outcome": "permit_needed", "permit_item": "NO_SUCH", "uscc": None},
            "data.permit_item",
            "unknown permit item 'NO_SUCH'",
        ),
        (
            "grid.task.acknowledged",
            {"task": 999999, "worker_id": "GW-0001", "acknowledged_at": grid.at()},
            "data.task",
            "no grid check task #999999",
        ),
    ]
    for etype, data, field, says in cases:
        response = grid.post(etype, data)
        assert response.status_code == 422, (etype, data, response.text)
        [error] = response.json()["errors"]
        assert error["field"] == field and says in error["message"], (etype, error)
    assert grid.e2e.counts() == before
    assert grid.task(task)["state"] == "assigned"


def _enforcement(grid: Grid, task: int) -> None:
    grid.check(task, "unlicensed")


def _rectification(grid: Grid, task: int) -> None:
    grid.check(task, "minor_issue")


def _department(grid: Grid, task: int) -> None:
    grid.check(task, "unlicensed")
    grid.settle()
    report = {
        "task": task,
        "street": "ZHONGHAN",
        "result": "handed_over",
        "missing": "licence",
        "reported_at": grid.at(),
    }
    grid.emit("street.enforcement.reported", report, source="/streets/ZHONGHAN")


LADDERS = [
    (
        _enforcement,
        "street_enforcement",
        [
            ("enforcement_warning", "warning", "ZHONGHAN/enforcement_officer"),
            ("enforcement_deadline", "overdue", "ZHONGHAN/leader"),
            ("enforcement_supervision", "supervision", "PTB/supervisor"),
        ],
    ),
    (
        _rectification,
        "rectifying",
        [
            ("recheck_deadline", "overdue", "ZHONGHAN/leader"),
            ("recheck_supervision", "supervision", "SCJG/leader"),
        ],
    ),
    (
        _department,
        "department_case",
        [("case_warning", "warning", "SCJG/leader"), ("case_deadline", "supervision", "PTB/supervisor")],
    ),
]


@pytest.mark.parametrize(("reach", "state", "steps"), LADDERS, ids=[s for _, s, _ in LADDERS])
def test_the_street_rectification_and_department_levels_escalate_on_their_deadlines(
    grid: Grid, reach: Any, state: str, steps: list[tuple[str, str, str]]
) -> None:
    task = grid.complaint()
    grid.acknowledge(task)
    reach(grid, task)
    grid.settle()
    detail = grid.task(task)
    assert detail["state"] == state
    due = _due(detail)
    assert set(due) == {timer for timer, _, _ in steps}
    pushed = len(grid.pushes(task))
    for timer, kind, recipient in steps:
        grid.e2e.tick_to(due[timer] - MINUTE)
        assert len(grid.pushes(task)) == pushed, timer  # not before its deadline
        grid.e2e.tick_to(due[timer] + MINUTE)
        assert grid.pushes(task)[pushed:] == [(kind, recipient)], timer
        pushed += 1
    assert grid.task(task)["state"] == state  # escalation moves the case up, not on
