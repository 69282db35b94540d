"""Suspended clocks in the store (``workflows/engine/suspend.py``, ``timer_actions.py``): an operator's
suspension across 2026's National Day, a flow's declared hold and release, the sweep skipping a
suspended timer, and refusals that change nothing — on the embedded stack and PostgreSQL + Redis."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.support import STACKS, Stack, running_stack
from workflows.engine.deadlines import StaticDeadlines
from workflows.engine.suspend import Action
from workflows.engine.timer_actions import act_on_timers
from workflows.errors import BadInput, InstanceNotFound, TimerConflict
from workflows.queries.instances import instance_detail
from workflows.store.models import TimerRow
from workflows.time.calendar import Duration, WorkCalendar


@pytest.fixture(params=STACKS)
def stack_kind(request: pytest.FixtureRequest) -> str:
    """The two stacks (the clock work is the database's; the broker only carries the timer's fire)."""
    return str(request.param)


@pytest.fixture
def working(stack_kind: str, tmp_path: Path) -> Iterator[Stack]:
    """A stack whose toy review takes 5 working days."""
    rules = StaticDeadlines({"toy.awaiting_review.review_deadline": "5 working days"}, version="wd")
    with running_stack(stack_kind, tmp_path, deadlines=rules) as s:
        yield s


@dataclass
class At:
    """A clock standing still at one instant (the operator's action at a chosen time)."""

    moment: datetime
    simulated: bool = True

    def now(self) -> datetime:
        return self.moment


def at(day: str, clock: str = "00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}+08:00").astimezone(UTC)


def backdate(stack: Stack, instance_id: int, armed: datetime) -> datetime:
    """Make the instance's timer one armed at ``armed`` (the stack's clock is in December 2026)."""
    due = WorkCalendar().add(armed, Duration.parse("5 working days")).due_at
    with stack.runtime.db.transaction() as session:
        session.execute(
            update(TimerRow).where(TimerRow.instance_id == instance_id).values(created_at=armed, due_at=due)
        )
    return due


def clocks(stack: Stack, moment: datetime, iid: int, action: Action, **kw: str) -> dict[str, Any]:
    rt = stack.runtime
    return act_on_timers(rt.db, At(moment), rt.engine.deadlines, iid, action, operator="li.wei", **kw)


def test_an_extension_across_national_day_moves_the_due_by_the_working_days_left(working: Stack) -> None:
    iid = working.start_toy("extension")
    assert backdate(working, iid, at("2026-09-24", "10:00")) == at("2026-10-10")  # 28–30 Sep, 8, 9 Oct
    done = clocks(working, at("2026-09-28", "15:00"), iid, "suspend", reason="延期: 企业申请延期整改")
    (entry,) = done["timers"]
    assert (done["status"], entry["remaining_text"]) == ("applied", "4 working days")  # 29, 30 Sep, 8, 9 Oct
    (timer,) = working.timers(iid)
    assert (timer.status, timer.ledger) == ("suspended", [[at("2026-09-28", "15:00").isoformat(), None]])

    # the old due (10 Oct) is long past on the stack's clock: the sweep leaves a suspended timer alone
    assert working.runtime.sweeper.sweep().fired == 0
    assert (working.timers(iid)[0].status, working.instance(iid).state) == ("suspended", "awaiting_review")
    shown = instance_detail(working.runtime.db, iid)["timers"][0]
    assert (shown["status"], shown["remaining"]) == ("suspended", "4 working days")
    assert shown["suspended_at"] == at("2026-09-28", "15:00").isoformat()
    assert instance_detail(working.runtime.db, iid)["next_due"] is None

    # resumed Fri 9 Oct 09:00: 10 Oct (a Saturday worked), 12, 13, 14 Oct → end of Wed 14 Oct
    back = clocks(working, at("2026-10-09", "09:00"), iid, "resume", reason="延期届满")
    assert back["timers"][0]["due_at"] == at("2026-10-15").isoformat()
    (timer,) = working.timers(iid)
    assert (timer.status, timer.due_at) == ("armed", at("2026-10-15"))
    assert timer.ledger == [[at("2026-09-28", "15:00").isoformat(), at("2026-10-09", "09:00").isoformat()]]

    suspended, resumed = working.history(iid)[-2:]
    assert (suspended.trigger, suspended.cause_kind, suspended.operator, suspended.reason) == (
        "timer_suspended",
        "operator",
        "li.wei",
        "延期: 企业申请延期整改",
    )
    assert suspended.at == at("2026-09-28", "15:00")
    assert suspended.payload["timers"][0]["was_due_at"] == at("2026-10-10").isoformat()
    assert suspended.payload["timers"][0]["remaining"] == [{"unit": "working_days", "amount": 4}]
    assert (resumed.trigger, resumed.at, resumed.reason) == (
        "timer_resumed",
        at("2026-10-09", "09:00"),
        "延期届满",
    )
    assert resumed.payload["timers"][0]["due_at"] == at("2026-10-15").isoformat()
    assert resumed.payload["timers"][0]["suspended_at"] == at("2026-09-28", "15:00").isoformat()

    # armed again and past due on the stack's clock: now it fires
    assert working.runtime.sweeper.sweep().fired == 1
    working.settle()
    assert working.instance(iid).state == "escalated"


def test_a_flow_holds_and_releases_its_clock_and_leaving_the_state_cancels_it(stack: Stack) -> None:
    iid = stack.start_toy("hold")
    stack.advance(0.5)
    stack.send(iid, "hold", "hold-1")
    stack.settle()
    (timer,) = stack.timers(iid)
    assert timer.status == "suspended"
    (row,) = [h for h in stack.history(iid) if h.trigger == "timer_suspended"]
    assert (row.cause_kind, row.cause_id, row.dedupe_key) == ("event", "hold-1", "hold-1:suspend")
    left = timedelta(microseconds=row.payload["timers"][0]["remaining"][0]["amount"])
    assert timedelta(hours=1, minutes=29) < left <= timedelta(hours=1, minutes=30)  # of the 2h

    stack.advance(3)  # the old due passes
    assert stack.runtime.sweeper.sweep().fired == 0
    stack.send(iid, "hold", "hold-2")  # held already: applied, nothing more to suspend
    stack.settle()  # (two messages may be applied in either order)
    stack.send(iid, "release", "release-1")
    stack.settle()
    (timer,) = stack.timers(iid)
    assert timer.ledger is not None and timer.ledger[-1][1] is not None
    assert (timer.status, timer.due_at) == ("armed", datetime.fromisoformat(timer.ledger[-1][1]) + left)
    assert [h.trigger for h in stack.history(iid)].count("timer_suspended") == 1
    assert stack.instance(iid).state == "awaiting_review"

    stack.send(iid, "hold", "hold-3")
    stack.settle()
    assert stack.timers(iid)[0].status == "suspended"
    stack.send(iid, "decide", "decide-1", {"decision": "approve"})
    stack.settle()
    assert [t.status for t in stack.timers(iid)] == ["cancelled"]  # a suspended timer is cancelled too


def test_refusals_name_the_field_and_change_nothing(working: Stack) -> None:
    iid = working.start_toy("refusals")
    now = working.runtime.clock.now()
    before = (working.timers(iid), len(working.history(iid)))
    with pytest.raises(TimerConflict, match=r"^timer: timer review_deadline of #\d+ is armed, not suspended"):
        clocks(working, now, iid, "resume", reason="r")
    with pytest.raises(
        BadInput, match=r"^timer: #\d+ has no open timer 'nope' in its state 'awaiting_review'"
    ):
        clocks(working, now, iid, "suspend", reason="r", timer="nope")
    with pytest.raises(BadInput, match=r"^reason: say why"):
        clocks(working, now, iid, "suspend", reason=" ")
    with pytest.raises(InstanceNotFound):
        clocks(working, now, 10**9, "suspend", reason="r")
    assert working.timers(iid)[0].status == before[0][0].status == "armed"
    assert (working.timers(iid)[0].due_at, len(working.history(iid))) == (before[0][0].due_at, before[1])

    clocks(working, now, iid, "suspend", reason="延期")
    with pytest.raises(TimerConflict, match="is suspended already"):
        clocks(working, now, iid, "suspend", reason="again")
    working.send(iid, "cancel", "cancel-1")
    working.settle()
    count = len(working.history(iid))
    with pytest.raises(TimerConflict, match=r"^instance_id: #\d+ is closed \(cancelled since "):
        clocks(working, now, iid, "resume", reason="r")
    assert len(working.history(iid)) == count


def test_a_retry_with_the_same_key_is_a_duplicate(working: Stack) -> None:
    iid = working.start_toy("retry")
    now = working.runtime.clock.now()
    first = clocks(working, now, iid, "suspend", reason="延期", dedupe_key="operator:k1")
    again = clocks(working, now, iid, "suspend", reason="延期", dedupe_key="operator:k1")
    assert (first["status"], again["status"], again["timers"]) == ("applied", "duplicate", first["timers"])
    assert [h.trigger for h in working.history(iid)].count("timer_suspended") == 1


def test_a_working_hours_deadline_keeps_its_office_time_left(stack_kind: str, tmp_path: Path) -> None:
    """4 working hours armed Thu 3 Dec 2026 09:00 (due 14:30), suspended at 11:00 with 2 h left (11:00–12:00,
    13:30–14:30), resumed Fri 16:30: 16:30–17:30, then 08:30–09:30 on Monday 7 Dec."""
    rules = StaticDeadlines({"toy.awaiting_review.review_deadline": "4 working hours"}, version="wh")
    with running_stack(stack_kind, tmp_path, deadlines=rules) as s:
        iid = s.start_toy("office")
        armed = at("2026-12-03", "09:00")
        with s.runtime.db.transaction() as session:
            session.execute(
                update(TimerRow)
                .where(TimerRow.instance_id == iid)
                .values(created_at=armed, due_at=at("2026-12-03", "14:30"))
            )
        done = clocks(s, at("2026-12-03", "11:00"), iid, "suspend", reason="延期: 等待企业补正材料")
        assert done["timers"][0]["remaining"] == [{"unit": "working_hours", "amount": 2 * 3_600_000_000}]
        assert done["timers"][0]["remaining_text"] == "2h of working hours"
        back = clocks(s, at("2026-12-04", "16:30"), iid, "resume", reason="材料已补正")
        assert back["timers"][0]["due_at"] == at("2026-12-07", "09:30").isoformat()
        assert s.timers(iid)[0].due_at == at("2026-12-07", "09:30")
