"""The grid first check machine without a database: dispatch, returns and the binding assignment, the
referral's in-transaction assignment, the permit requests it sends, and dual notification's side of
that contract (open, reopen, remind)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from state_machines.base import PUSH_ACTOR
from state_machines.grid_check import FLOW, TIMERS
from state_machines.grid_effects import ASSIGN_EFFECT
from state_machines.referrals import REQUEST_PERMIT
from tests.notices import PHARMACY, T0, Sim, facts
from workflows.engine.machines import Refused

WORKER = {
    "level": "grid",
    "worker_id": "GW-0001",
    "worker_name": "王芳",
    "recipient": "app:gw-0001",
    "grid": "ZH-001",
    "grid_name": "中韩街道第1网格",
    "street": "ZHONGHAN",
    "street_name": "中韩街道",
}
TASK = {"kind": "complaint", "reference": "C-1", "grid": "ZH-001", "received_at": T0.isoformat()}


def dispatched() -> Sim:
    return Sim.of("grid_check").ok("dispatch", {"facts": TASK, "assignment": WORKER})


def request(**extra: Any) -> dict[str, Any]:
    return {
        "uscc": PHARMACY,
        "name": "崂山便民超市",
        "permit": "FOOD_BUSINESS",
        "permit_name": "食品经营许可",
        "department": "SCJG_SP",
        "source": "grid_check",
        "reason": "permit_needed",
        "case": "grid_check#7",
        "requested_at": T0.isoformat(),
        **extra,
    }


def test_a_dispatch_starts_the_clock_once_and_pushes_the_task_to_the_worker_app() -> None:
    sim = dispatched()
    assert (sim.state, sim.context["worker_id"], sim.context["dispatched_at"]) == (
        "assigned",
        "GW-0001",
        T0.isoformat(),
    )
    [push] = sim.emits
    assert (push.target, push.payload["kind"], push.payload["recipient"]) == (
        PUSH_ACTOR,
        "task",
        "app:gw-0001",
    )


def test_returns_keep_the_first_dispatch_and_a_bound_task_cannot_be_returned() -> None:
    sim = dispatched()
    back = {"by": "GW-0001", "reason": "wrong_grid", "returned_at": T0.isoformat()}
    sim.ok("return_task", {**back, "assignment": {**WORKER, "worker_id": "GW-0002"}}, hours=3)
    assert (sim.state, sim.context["worker_id"], sim.context["dispatched_at"]) == (
        "assigned",
        "GW-0002",
        T0.isoformat(),
    )
    sim.ok("assign", {"assignment": {**WORKER, "worker_id": "GW-0005"}, "by": "平台办"}, hours=4)
    assert sim.context["binding"] is True
    refused = sim.fire("return_task", {**back, "by": "GW-0005", "assignment": WORKER})
    assert isinstance(refused, Refused) and "审定" in refused.reason
    assert [r["to"] for r in sim.context["returns"]] == ["grid"]


def test_a_report_from_another_worker_is_refused_by_the_machine_too() -> None:
    sim = dispatched()
    refused = sim.fire("report", {"worker_id": "GW-0009", "outcome": "ok", "checked_at": T0.isoformat()})
    assert isinstance(refused, Refused) and "held by GW-0001" in refused.reason
    assert sim.state == "assigned"


def test_a_referral_asks_for_its_grid_to_be_looked_up_in_the_same_transaction() -> None:
    referral = {
        "uscc": PHARMACY,
        "grid": "ZH-001",
        "street": "ZHONGHAN",
        "source": "dual_notification",
        "reason": "suspected_unlicensed",
        "referred_at": T0.isoformat(),
    }
    sim = Sim.of("grid_check").ok("refer", referral)
    assert (sim.state, sim.context["task_kind"]) == ("routing", "referral")
    [assign] = sim.emits
    assert (assign.target, dict(assign.payload)) == (ASSIGN_EFFECT, {"grid": "ZH-001", "street": "ZHONGHAN"})


def test_permit_needed_sends_one_request_per_department_to_the_notice_it_names() -> None:
    sim = dispatched()
    report = {
        "worker_id": "GW-0001",
        "outcome": "permit_needed",
        "checked_at": T0.isoformat(),
        "permit_requests": [request(), request(department="WJJ")],
    }
    sim.ok("report", report)
    assert sim.state == "permit_referred"
    sent = [e for e in sim.emits if e.target == "dual_notification"]
    assert [(e.trigger, e.business_key, e.start) for e in sent] == [
        (REQUEST_PERMIT, f"{PHARMACY}:FOOD_BUSINESS:SCJG_SP", True),
        (REQUEST_PERMIT, f"{PHARMACY}:FOOD_BUSINESS:WJJ", True),
    ]


def test_a_permit_request_opens_reopens_or_reminds_the_notice() -> None:
    new = Sim.of("dual_notification").ok("request_permit", request())
    assert (new.state, new.context["requests"][0]["action"]) == ("awaiting_claim", "opened")
    assert new.context["license_issued_at"] == T0.isoformat()  # no license: the request's time

    closed = Sim.of(
        "dual_notification",
        {**facts(), "last_feedback": "not_needed", "closed_reason": "x"},
        state="not_needed",
    )
    closed.ok("request_permit", request(), hours=5)
    assert closed.state == "awaiting_claim" and closed.context["last_feedback"] is None
    assert closed.context["reopened_from"] == [{"last_feedback": "not_needed", "closed_reason": "x"}]

    open_ = Sim.of("dual_notification", {**facts(), "pushed_at": T0.isoformat()}, state="awaiting_claim")
    open_.ok("request_permit", request())
    assert open_.state == "awaiting_claim" and open_.context["requests"][0]["action"] == "reminded"
    assert [e.payload["kind"] for e in open_.emits] == ["requested"]


def _in_street_enforcement() -> Sim:
    sim = dispatched()
    check = {"worker_id": "GW-0001", "outcome": "unlicensed", "checked_at": T0.isoformat()}
    return sim.ok("report", check, hours=1)


def test_a_rectification_period_suspends_the_streets_timers_and_its_end_resumes_them() -> None:
    clocks = {t.trigger: (t.suspends, t.resumes) for t in FLOW.transitions if t.suspends or t.resumes}
    street = ("enforcement_warning", "enforcement_deadline", "enforcement_supervision")
    assert TIMERS["street_enforcement"] == street
    assert clocks == {"order_rectification": (street, ()), "end_rectification": ((), street)}

    sim = _in_street_enforcement()
    assert sim.state == "street_enforcement"
    until = (T0 + timedelta(days=15)).isoformat()
    order = {"street": "ZHONGHAN", "until": until, "ordered_at": T0.isoformat(), "period": "15 natural days"}
    refused = sim.fire("end_rectification", {"street": "ZHONGHAN", "rectified": True, "ended_at": until})
    assert isinstance(refused, Refused) and "no rectification order is open" in refused.reason
    refused = sim.fire("order_rectification", {**order, "street": "JINJIALING"})
    assert isinstance(refused, Refused) and "not JINJIALING" in refused.reason
    sim.ok("order_rectification", order, hours=2)
    assert sim.state == "street_enforcement"
    assert datetime.fromisoformat(sim.context["rectification_order"]["until"]) == T0 + timedelta(days=15)
    refused = sim.fire("order_rectification", order)
    assert isinstance(refused, Refused) and "already" in refused.reason
    sim.ok("end_rectification", {"street": "ZHONGHAN", "rectified": True, "ended_at": until}, hours=3)
    ended = sim.context["rectification_order"]
    assert (ended["rectified"], sim.state) == (True, "street_enforcement")
    assert datetime.fromisoformat(ended["ended_at"]) == T0 + timedelta(days=15)
    # a new period after the first ended: the first is kept in the list
    sim.ok("order_rectification", order, hours=4)
    assert [o["rectified"] for o in sim.context["rectification_orders"]] == [True]
    assert sim.context["rectification_order"]["ended_at"] is None
