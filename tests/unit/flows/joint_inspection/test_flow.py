"""The inspection machine without a database: dispatch to every officer of the group, results per
department (the last one moves it on; a problem opens a follow-up case), the refusals of its guards."""

from __future__ import annotations

from typing import Any

from state_machines.base import PUSH_ACTOR
from state_machines.joint_inspection import FOLLOW_UP
from tests.notices import T0, Sim
from workflows.engine.machines import Refused

USCC = "91370212MA3QK7T84W"
OFFICERS = {"SCJG": ["SCJG-001", "SCJG-004"], "WJJ": ["WJJ-002", "WJJ-003"]}


def dispatched() -> Sim:
    payload = {"plan": "P1", "draw": 3, "uscc": USCC, "risk_class": "B", "group": 1, "officers": OFFICERS}
    return Sim.of("joint_inspection").ok("dispatch", payload)


def result(department: str, officer: str, code: str = "NO_PROBLEM", problem: bool = False) -> dict[str, Any]:
    return {
        "department": department,
        "officer": officer,
        "code": code,
        "problem": problem,
        "inspected_at": T0.isoformat(),
    }


def test_dispatch_pushes_the_task_to_every_officer_of_the_group() -> None:
    sim = dispatched()
    assert sim.state == "inspecting" and sim.context["departments"] == ["SCJG", "WJJ"]
    assert [(e.target, e.payload["officer"]) for e in sim.emits] == [
        (PUSH_ACTOR, "SCJG-001"),
        (PUSH_ACTOR, "SCJG-004"),
        (PUSH_ACTOR, "WJJ-002"),
        (PUSH_ACTOR, "WJJ-003"),
    ]


def test_the_last_departments_result_moves_it_on_and_a_problem_opens_a_follow_up() -> None:
    sim = dispatched()
    sim.ok("record_result", result("SCJG", "SCJG-004"))
    assert sim.state == "inspecting"
    sim.ok("record_result", result("WJJ", "WJJ-002", "PENDING_FOLLOW_UP", problem=True))
    assert sim.state == "awaiting_publication"
    [opened] = [e for e in sim.emits if e.target == FOLLOW_UP]
    assert (opened.trigger, opened.business_key, opened.start) == ("open", f"{USCC}:P1:WJJ", True)
    sim.ok("publish", {"by": "平台办"})
    assert sim.state == "published"


def test_the_guards_refuse_outsiders_repeats_and_other_departments() -> None:
    sim = dispatched()
    for payload, says in (
        (result("SCJG", "SCJG-009"), "not of this object's group"),
        (result("GAFJ", "SCJG-001"), "not in this inspection"),
    ):
        refused = sim.fire("record_result", payload)
        assert isinstance(refused, Refused) and says in refused.reason
    sim.ok("record_result", result("SCJG", "SCJG-001"))
    again = sim.fire("record_result", result("SCJG", "SCJG-004"))
    assert isinstance(again, Refused) and "already" in again.reason
