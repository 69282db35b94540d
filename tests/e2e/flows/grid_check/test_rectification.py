"""A rectification period (责令限期改正) in the street's enforcement, end to end through the HTTP API on
both stacks: the order stops the street's clocks (deadline, warning, supervision), the old dues pass
without firing, the end after a public holiday arms them again by the working days they had left, and
the street then reports; bad orders and ends are refused naming the field, with nothing changed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from tests.e2e.flows.grid_check.conftest import Grid, armed
from workflows.time.calendar import SHANGHAI, Duration

MINUTE = timedelta(minutes=1)
STREET = "/streets/ZHONGHAN"
TIMERS = {"enforcement_warning": 8, "enforcement_deadline": 10, "enforcement_supervision": 13}


def _workday(grid: Grid, day: date) -> bool:
    return grid.e2e.stack.runtime.engine.calendar.is_workday(day)[0]


def _day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def _ten(day: date) -> datetime:
    return datetime.combine(day, time(10), SHANGHAI)


def _next_working_day(grid: Grid, day: date) -> date:
    day += timedelta(days=1)
    while not _workday(grid, day):
        day += timedelta(days=1)
    return day


def _end_of_working_day(grid: Grid, day: date, n: int) -> datetime:
    """By hand, a day at a time: 00:00 Asia/Shanghai after the n-th working day after ``day``."""
    while n:
        day += timedelta(days=1)
        n -= _workday(grid, day)
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)


def _public_holiday_after(grid: Grid, day: date) -> date:
    """The first weekday after ``day`` that is not worked: a public holiday."""
    day += timedelta(days=1)
    while day.weekday() >= 5 or _workday(grid, day):
        day += timedelta(days=1)
    return day


def _due(detail: dict[str, Any]) -> dict[str, datetime]:
    return {
        t["name"]: datetime.fromisoformat(t["due_at"]) for t in detail["timers"] if t["status"] == "armed"
    }


def _in_street_enforcement(grid: Grid) -> int:
    task = grid.complaint()
    grid.acknowledge(task)
    grid.check(task, "unlicensed", comment="无照经营餐饮")
    grid.settle()
    assert grid.task(task)["state"] == "street_enforcement"
    return task


def _order(grid: Grid, task: int, **extra: Any) -> dict[str, Any]:
    return {
        "task": task,
        "street": "ZHONGHAN",
        "period": "15 natural days",
        "comment": "责令限期改正: 办理食品经营许可",
        "ordered_at": grid.at(),
        **extra,
    }


def _end(grid: Grid, task: int, **extra: Any) -> dict[str, Any]:
    return {"task": task, "street": "ZHONGHAN", "rectified": True, "ended_at": grid.at(), **extra}


def test_a_rectification_period_stops_the_streets_clocks_and_its_end_counts_the_working_days_left(
    grid: Grid,
) -> None:
    e2e = grid.e2e
    entered_day = _next_working_day(grid, _day(e2e.now()))
    e2e.tick_to(_ten(entered_day))
    task = _in_street_enforcement(grid)
    due = _due(grid.task(task))
    assert due == {name: _end_of_working_day(grid, entered_day, n) for name, n in TIMERS.items()}

    # ordered at 10:00 on the next working day, before any of them: the rest of that day is not budget
    ordered_day = _next_working_day(grid, entered_day)
    e2e.tick_to(_ten(ordered_day))
    grid.emit("street.rectification.ordered", _order(grid, task), source=STREET)
    grid.settle()
    held = grid.task(task)
    assert held["state"] == "street_enforcement" and armed(held) == set()
    left = {name: n - 1 for name, n in TIMERS.items()}  # the order's day was one of them
    shown = {
        t["name"]: (t["status"], t["remaining"]) for t in held["timers"] if t["state"] == "street_enforcement"
    }
    assert shown == {name: ("suspended", f"{n} working days") for name, n in left.items()}
    order = held["context"]["rectification_order"]
    calendar = e2e.stack.runtime.engine.calendar
    ordered_at = datetime.fromisoformat(order["ordered_at"])
    period = Duration.parse("15 natural days")  # on the rules' calendar, from the order
    assert datetime.fromisoformat(order["until"]) == calendar.add(ordered_at, period).due_at
    [suspended] = [h for h in held["history"] if h["trigger"] == "timer_suspended"]
    assert suspended["cause"]["kind"] == "event"
    assert {t["name"] for t in suspended["payload"]["timers"]} == set(TIMERS)

    # the old dues pass: nothing fires, the case is not overdue
    pushed = grid.pushes(task)
    e2e.tick_to(due["enforcement_supervision"] + MINUTE)
    assert grid.pushes(task) == pushed
    assert task not in {i["id"] for i in e2e.instances(flow="grid_check", overdue="true")}
    assert grid.task(task)["context"].get("escalations") == []

    # ended at 10:00 on the first working day after a public holiday
    holiday = _public_holiday_after(grid, _day(e2e.now()))
    assert e2e.stack.runtime.engine.calendar.holiday_name(holiday) is not None
    ended_day = _next_working_day(grid, holiday)
    e2e.tick_to(_ten(ended_day))
    grid.emit("street.rectification.ended", _end(grid, task, comment="已申领许可证"), source=STREET)
    grid.settle()
    resumed = grid.task(task)
    moved = _due(resumed)
    assert moved == {name: _end_of_working_day(grid, ended_day, n) for name, n in left.items()}
    # on one calendar, the due moved by exactly the working days the suspension covered
    covered = e2e.stack.runtime.engine.calendar.working_days_between(_ten(ordered_day), _ten(ended_day))
    assert moved == {name: _end_of_working_day(grid, entered_day, n + covered) for name, n in TIMERS.items()}
    ledger = resumed["context"]["rectification_order"]
    assert (ledger["rectified"], datetime.fromisoformat(ledger["ended_at"]) >= _ten(ended_day)) == (
        True,
        True,
    )
    [back] = [h for h in resumed["history"] if h["trigger"] == "timer_resumed"]
    assert {t["name"]: datetime.fromisoformat(t["due_at"]) for t in back["payload"]["timers"]} == moved

    # the resumed clock runs: the warning fires on its new due, not before
    e2e.tick_to(moved["enforcement_warning"] - MINUTE)
    assert grid.pushes(task) == pushed
    e2e.tick_to(moved["enforcement_warning"] + MINUTE)
    assert grid.pushes(task)[len(pushed) :] == [("warning", "ZHONGHAN/enforcement_officer")]

    # the street then reports its enforcement as ever
    report = {"task": task, "street": "ZHONGHAN", "result": "licensed", "reported_at": grid.at()}
    grid.emit("street.enforcement.reported", report, source=STREET)
    grid.settle()
    done = grid.task(task)
    assert (done["state"], done["context"]["enforcement"]["result"]) == ("resolved", "licensed")
    assert done["closed_at"] is not None and armed(done) == set()


def _refused(grid: Grid, etype: str, data: dict[str, Any], field: str, says: str) -> None:
    response = grid.post(etype, data, source=STREET)
    assert response.status_code == 422, (etype, data, response.text)
    [error] = response.json()["errors"]
    assert error["field"] == field and says in error["message"], (etype, error)


def test_bad_orders_and_ends_are_refused_naming_the_field_and_change_nothing(grid: Grid) -> None:
    task = _in_street_enforcement(grid)
    waiting = grid.complaint()
    grid.acknowledge(waiting)
    closed = grid.complaint()
    grid.check(closed, "ok")
    grid.settle()
    timers = grid.task(task)["timers"]
    before = grid.e2e.counts()
    ordered, ended = "street.rectification.ordered", "street.rectification.ended"
    cases: list[tuple[str, dict[str, Any], str, str]] = [
        (ordered, _order(grid, 999999), "data.task", "no grid check task #999999"),
        (ordered, _order(grid, waiting), "data.task", "is in state acknowledged"),
        (ordered, _order(grid, closed), "data.task", "is closed verified"),
        (
            ordered,
            _order(grid, task, street="JINJIALING"),
            "data.street",
            "with street ZHONGHAN, not JINJIALING",
        ),
        (ended, _end(grid, task), "data.task", "has no rectification order open"),
        (ended, _end(grid, 999999), "data.task", "no grid check task #999999"),
        (ordered, _order(grid, task, period=None), "data.period", "or its end (until)"),
        (
            ordered,
            _order(grid, task, until=(grid.e2e.now() + timedelta(days=15)).isoformat()),
            "data.period",
            "one of them",
        ),
        (ordered, _order(grid, task, period="15 days"), "data.period", "natural days or working days"),
        (
            ordered,
            _order(grid, task, period=None, until=(grid.e2e.now() - timedelta(hours=1)).isoformat()),
            "data.until",
            "not after the order",
        ),
        (ordered, _order(grid, task, ordered_at="2026-12-01T10:00:00"), "data.ordered_at", "timezone"),
        (ended, {**_end(grid, task), "rectified": "maybe"}, "data.rectified", "boolean"),
    ]
    for etype, data, field, says in cases:
        _refused(grid, etype, data, field, says)
    assert grid.e2e.counts() == before
    assert grid.task(task)["timers"] == timers and grid.task(task)["state"] == "street_enforcement"

    grid.emit(ordered, _order(grid, task), source=STREET)
    grid.settle()
    held = grid.task(task)
    assert {t["status"] for t in held["timers"] if t["state"] == "street_enforcement"} == {"suspended"}
    before = grid.e2e.counts()
    earlier = (grid.e2e.now() - timedelta(hours=1)).isoformat()
    for etype, data, field, says in [
        (ordered, _order(grid, task), "data.task", "ordered to rectify already"),
        (ended, _end(grid, task, street="JINJIALING"), "data.street", "not JINJIALING"),
        (ended, _end(grid, task, ended_at=earlier), "data.ended_at", "before the order"),
    ]:
        _refused(grid, etype, data, field, says)
    assert grid.e2e.counts() == before
    assert grid.task(task)["timers"] == held["timers"]
    assert grid.task(task)["context"] == held["context"]
