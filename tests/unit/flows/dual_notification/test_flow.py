"""The notice flow on its own (no database): every transition, its guards and what it emits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from state_machines.dual_notification import FLOW, OPEN, S
from state_machines.referrals import REFER_TO_GRID_CHECK, Referral
from tests.notices import PHARMACY, T0, Sim, facts
from workflows.engine.machines import Refused, mermaid
from workflows.errors import InvalidPayload, NaiveDatetime


def pushed(**kw: Any) -> Sim:
    return Sim.of("dual_notification", facts(**kw)).ok("push")


def claim(hours: float, officer: str = "王警官", **extra: Any) -> dict[str, Any]:
    return {"officer": officer, "claimed_at": (T0 + timedelta(hours=hours)).isoformat(), **extra}


def test_push_enters_awaiting_claim_and_pushes_to_the_department() -> None:
    sim = pushed()
    assert sim.state == S.awaiting_claim
    assert sim.context["pushed_at"] == T0.isoformat()
    assert sim.context["escalations"] == [] and sim.context["pushes"] == 1
    [emit] = sim.emits
    assert emit.target == "deliveries.push"
    assert emit.payload["kind"] == "notice"
    assert (emit.payload["department"], emit.payload["uscc"]) == ("SCJG_YP", PHARMACY)


def test_push_may_carry_the_facts_itself() -> None:
    sim = Sim.of("dual_notification").ok("push", {"facts": facts()})
    assert sim.context["department"] == "SCJG_YP"
    assert sim.emits[0].payload["permit"] == "DRUG_RETAIL"


def test_push_without_facts_is_refused() -> None:
    decision = Sim.of("dual_notification").fire("push")
    assert isinstance(decision, Refused)
    assert "lacks uscc, permit, department" in decision.reason


def test_claim_within_the_window() -> None:
    sim = pushed().ok("claim", claim(20, department="SCJG_YP"), hours=20.5)
    assert sim.state == S.claimed
    ctx = sim.context
    assert (ctx["claimed_by"], ctx["claimed_in_time"], ctx["late"]) == ("王警官", True, False)
    assert ctx["claim_hours"] == 20.0
    assert ctx["escalations_before_claim"] == []


def test_claim_by_another_department_is_refused() -> None:
    decision = pushed().fire("claim", claim(1, department="WJJ"))
    assert isinstance(decision, Refused)
    assert "held by SCJG_YP, not WJJ" in decision.reason


def test_escalations_stay_in_awaiting_claim_and_push_each_step() -> None:
    sim = pushed()
    sim.ok("claim_warning_passed", hours=36).ok("claim_deadline_passed", hours=48)
    sim.ok("claim_supervision_passed", hours=72)
    assert sim.state == S.awaiting_claim
    assert [e["kind"] for e in sim.context["escalations"]] == ["warning", "overdue", "supervision"]
    kinds = [(e.payload["kind"], e.payload.get("timer"), e.payload.get("state")) for e in sim.emits[1:]]
    assert kinds == [
        ("warning", "claim_warning", "awaiting_claim"),
        ("overdue", "claim_deadline", "awaiting_claim"),
        ("supervision", "claim_supervision", "awaiting_claim"),
    ]


def test_a_late_claim_is_accepted_and_records_the_steps_that_fired() -> None:
    sim = pushed().ok("claim_warning_passed", hours=36).ok("claim_deadline_passed", hours=48)
    sim.ok("claim", claim(50), hours=50)
    assert sim.state == S.claimed
    ctx = sim.context
    assert (ctx["late"], ctx["claimed_in_time"], ctx["claim_hours"]) == (True, False, 50.0)
    assert ctx["escalations_before_claim"] == ["warning", "overdue"]
    assert len(ctx["escalations"]) == 2  # the escalation stays in the record


def test_the_window_comes_from_the_context_not_a_constant() -> None:
    sim = pushed(window=24.0).ok("claim", claim(30), hours=30)
    assert sim.context["late"] is True  # no step fired, but 30 h > the 24 h in the context
    sim = pushed(window=None).ok("claim", claim(30), hours=30)
    assert sim.context["late"] is False  # unknown window: late only once the overdue step fired


def test_a_claim_dated_in_the_future_counts_from_now() -> None:
    sim = pushed().ok("claim", claim(100), hours=10)
    assert sim.context["claim_hours"] == 10.0


def test_a_second_claim_is_refused() -> None:
    decision = pushed().ok("claim", claim(1), hours=1).fire("claim", claim(2))
    assert isinstance(decision, Refused)
    assert "already claimed by 王警官" in decision.reason


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("applied", S.applied),
        ("accepted", S.accepted),
        ("not_applied_reminded", S.not_applied_reminded),
        ("not_needed", S.not_needed),
        ("suspected_unlicensed", S.referred),
    ],
)
def test_feedback_moves_a_claimed_notice(status: str, state: S) -> None:
    sim = (
        pushed().ok("claim", claim(1), hours=1).ok("feedback", {"status": status, "comment": "电话核实"}, 30)
    )
    assert sim.state == state
    assert sim.context["last_feedback"] == status
    assert sim.context["feedback"][0]["comment"] == "电话核实"


def test_feedback_walks_on_and_back() -> None:
    sim = pushed().ok("claim", claim(1), hours=1)
    for status in ("not_applied_reminded", "applied", "applied", "accepted"):
        sim.ok("feedback", {"status": status})
    assert sim.state == S.accepted
    assert [f["status"] for f in sim.context["feedback"]] == [
        "not_applied_reminded",
        "applied",
        "applied",
        "accepted",
    ]


def test_suspected_unlicensed_refers_to_a_grid_check() -> None:
    sim = pushed().ok("claim", claim(1), hours=1)
    sim.ok("feedback", {"status": "suspected_unlicensed", "comment": "已在经营"}, hours=5)
    emit = sim.emits[-1]
    assert (emit.target, emit.trigger, emit.start, emit.subject) == ("grid_check", "refer", True, PHARMACY)
    assert emit.business_key == f"{PHARMACY}:dual_notification:DRUG_RETAIL:SCJG_YP"
    assert emit.payload["reason"] == "suspected_unlicensed"
    assert (emit.payload["grid"], emit.payload["comment"]) == ("ZH-001", "已在经营")
    # the grid-check flow's declared trigger, with its payload model
    assert (emit.target, emit.trigger) == (REFER_TO_GRID_CHECK.flow, REFER_TO_GRID_CHECK.trigger)
    referral = Referral.model_validate(emit.payload)
    assert (referral.source, referral.uscc, referral.permit) == ("dual_notification", PHARMACY, "DRUG_RETAIL")
    assert referral.referred_at == T0 + timedelta(hours=5)
    assert referral.license_issued_at is not None and referral.license_issued_at.tzinfo is not None
    # still tracked: a permit may follow
    sim.ok("permit_issue", {"permit_no": "JY13702120001", "issued_at": T0.isoformat()})
    assert sim.state == S.permit_issued


def test_feedback_before_the_claim_implies_it_and_the_claim_fills_in_later() -> None:
    sim = pushed().ok("feedback", {"status": "applied"}, hours=3)
    assert sim.state == S.applied
    assert (sim.context["claim_implied"], sim.context["claim_hours"]) == (True, 3.0)
    sim.ok("claim", claim(2, officer="李科长"), hours=4)
    assert sim.state == S.applied  # internal: the claim only fills in who and when
    assert (sim.context["claimed_by"], sim.context["claim_hours"], sim.context["claim_implied"]) == (
        "李科长",
        2.0,
        False,
    )


@pytest.mark.parametrize("before", ["created", "awaiting_claim"])
def test_a_permit_before_the_claim_is_accepted_and_recorded(before: str) -> None:
    sim = Sim.of("dual_notification", facts())
    if before == "awaiting_claim":
        sim.ok("push")
    issued = (T0 + timedelta(days=3)).isoformat()
    sim.ok("permit_issue", {"permit_no": "YP-2026-001", "issued_at": issued, "working_days": 3}, 72)
    assert sim.state == S.permit_issued
    ctx = sim.context
    assert (ctx["permit_no"], ctx["permit_issued_at"], ctx["working_days"]) == ("YP-2026-001", issued, 3)
    assert ctx["permit_before_claim"] is True


def test_a_permit_from_the_wrong_department_is_refused() -> None:
    payload = {"permit_no": "X1", "issued_at": T0.isoformat(), "department": "WJJ"}
    assert isinstance(pushed().fire("permit_issue", payload), Refused)


def test_return_goes_to_manual_routing_and_reroute_pushes_the_new_department() -> None:
    sim = pushed().ok("claim", claim(1), hours=1)
    sim.ok("return_notice", {"reason": "not_our_item", "comment": "应由市局审批"}, hours=2)
    assert sim.state == S.manual_routing
    returned = sim.emits[-1]
    assert (returned.payload["kind"], returned.payload["reason"]) == ("returned", "not_our_item")
    sim.ok("reroute", {"department": "SJ_SCJG", "department_name": "市市场监管局"}, hours=5)
    assert sim.state == S.awaiting_claim
    ctx = sim.context
    assert (ctx["department"], ctx["previous_departments"], ctx["pushes"]) == ("SJ_SCJG", ["SCJG_YP"], 2)
    assert ctx["claimed_at"] is None and ctx["pushed_at"] == (T0 + timedelta(hours=5)).isoformat()
    assert ctx["returns"][0]["department"] == "SCJG_YP"
    push = sim.emits[-1]
    assert (push.payload["kind"], push.payload["department"], push.payload["rerouted"]) == (
        "notice",
        "SJ_SCJG",
        True,
    )
    sim.ok("claim", claim(6, department="SJ_SCJG"), hours=6)
    assert sim.context["claim_hours"] == 1.0  # measured from the new push


def test_an_operator_may_reroute_an_unclaimed_notice() -> None:
    sim = pushed().ok("claim_warning_passed", hours=36).ok("reroute", {"department": "WJJ"}, hours=40)
    assert (sim.state, sim.context["department"], sim.context["escalations"]) == (S.awaiting_claim, "WJJ", [])


def test_reroute_is_refused_once_claimed() -> None:
    assert isinstance(pushed().ok("claim", claim(1), 1).fire("reroute", {"department": "WJJ"}), Refused)


@pytest.mark.parametrize("state", [s for s in OPEN])
def test_close_not_needed_and_cancel_from_every_open_state(state: str) -> None:
    sim = Sim.of("dual_notification", {**facts(), "pushed_at": T0.isoformat()}, state=state)
    sim.ok("close_not_needed", {"reason": "scope_changed", "changed_at": T0.isoformat()})
    assert (sim.state, sim.context["closed_reason"]) == (S.not_needed, "scope_changed")
    sim = Sim.of("dual_notification", {**facts(), "pushed_at": T0.isoformat()}, state=state)
    sim.ok("cancel", {"reason": "重复告知"})
    assert (sim.state, sim.context["cancel_reason"]) == (S.cancelled, "重复告知")


@pytest.mark.parametrize("state", [S.not_needed, S.cancelled])  # permit_issued still records a late claim
def test_final_states_accept_only_a_permit_request(state: str) -> None:
    decision = Sim.of("dual_notification", facts(), state=state).fire("claim", claim(1))
    assert isinstance(decision, Refused)
    assert "(allowed: request_permit)" in decision.reason


def test_bad_payloads_are_stopped_at_the_edge() -> None:
    sim = pushed()
    with pytest.raises(NaiveDatetime):
        sim.fire("claim", {"officer": "x", "claimed_at": T0.replace(tzinfo=None)})
    with pytest.raises(InvalidPayload, match=r"payload\.status"):
        sim.fire("feedback", {"status": "maybe"})
    with pytest.raises(InvalidPayload, match=r"payload\.extra"):
        sim.fire("return_notice", {"reason": "other", "extra": 1})
    with pytest.raises(InvalidPayload, match="takes no payload"):
        sim.fire("claim_warning_passed", {"x": 1})


def test_the_diagram_is_generated() -> None:
    from state_machines import dual_notification

    text = mermaid(dual_notification.FLOW)
    assert "created --> awaiting_claim: push" in text
    assert "manual_routing --> awaiting_claim: reroute" in text
    assert "permit_issued --> [*]" in text


def test_the_flow_declares_what_it_sends_and_its_warning_timer() -> None:
    assert FLOW.sends == (REFER_TO_GRID_CHECK,)
    kinds = {timer.name: timer.kind for _, timer in FLOW.timers()}
    assert kinds == {
        "claim_warning": "warning",
        "claim_deadline": "deadline",
        "claim_supervision": "deadline",
    }
