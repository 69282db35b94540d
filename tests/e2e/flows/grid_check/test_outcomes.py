"""Every outcome of the on-site first check, end to end: verified; verbal rectification and its
re-check; a permit needed (a dual-notification notice opened, or reopened); unlicensed operation through
the street's enforcement to the follow-up department (无证无照经营查处办法 §5–7); an unreachable address."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.flows.dual_notification.conftest import BAKERY, PHARMACY
from tests.e2e.flows.grid_check.conftest import Grid, armed

STREET = "/streets/ZHONGHAN"


def test_a_license_starts_an_information_check_for_the_grids_worker_which_verifies_it(grid: Grid) -> None:
    e2e = grid.e2e
    answer = e2e.license(PHARMACY, "青岛崂山仁心大药房有限公司", "药品零售")
    assert answer["result"] == "matched, assigned, listed"
    grid.settle()
    [task] = grid.tasks()
    ctx = task["context"]
    assert (task["state"], task["subject"]) == ("assigned", PHARMACY)
    assert (ctx["task_kind"], ctx["level"], ctx["worker_id"], ctx["grid_name"]) == (
        "info_check",
        "grid",
        "GW-0001",
        "中韩街道第1网格",
    )
    assert grid.pushes(task["id"]) == [("task", "app:gw-0001")]
    [push] = grid.deliveries(task["id"], "task")
    assert push.payload["title"] == "网格任务: 青岛崂山仁心大药房有限公司 青岛市崂山区海尔路1号, 请接收并首检"
    assert armed(task) == {"acknowledge_deadline"}
    assert len(e2e.notices(PHARMACY)) == 1  # dual notification routed the same license

    e2e.tick(2)
    grid.acknowledge(task["id"])
    grid.settle()
    acknowledged = grid.task(task["id"])
    assert acknowledged["state"] == "acknowledged"
    assert armed(acknowledged) == {
        "first_check_warning",
        "first_check_deadline",
        "first_check_department",
        "first_check_district",
    }
    e2e.tick(24)
    grid.check(task["id"], "ok")
    grid.settle()
    done = grid.task(task["id"])
    assert (done["state"], done["context"]["outcome"]) == ("verified", "ok")
    assert done["closed_at"] is not None and armed(done) == set()
    assert done["context"]["working_days_to_check"] == e2e.stack.runtime.engine.calendar.working_days_between(
        e2e.stack.clock.now().fromisoformat(done["context"]["dispatched_at"]), e2e.now()
    )
    assert done["context"]["check"]["gps"] == {"lat": 36.1, "lon": 120.47}


@pytest.mark.parametrize("rectified", [True, False])
def test_a_minor_issue_waits_for_the_recheck_then_closes_or_goes_to_market_supervision(
    grid: Grid, rectified: bool
) -> None:
    task = grid.complaint()
    grid.acknowledge(task)
    grid.check(task, "minor_issue", comment="口头指出整改: 门前堆物")
    grid.settle()
    assert grid.task(task)["state"] == "rectifying"
    assert armed(grid.task(task)) == {"recheck_deadline", "recheck_supervision"}
    grid.e2e.tick(72)
    data = {"task": task, "worker_id": "GW-0001", "rectified": rectified, "checked_at": grid.at()}
    grid.emit("grid.recheck.reported", data)
    grid.settle()
    after = grid.task(task)
    if rectified:
        assert (after["state"], after["context"]["recheck"]["rectified"]) == ("rectified", True)
        return
    assert (after["state"], after["context"]["department"]) == ("department_case", "SCJG")
    assert ("department_case", "SCJG") in grid.pushes(task)
    report = {"task": task, "department": "SCJG", "result": "penalised", "reported_at": grid.at()}
    grid.emit("department.case.reported", report, source="/departments/SCJG")
    grid.settle()
    assert grid.task(task)["state"] == "case_closed"


def test_permit_needed_opens_a_notice_through_dual_notification(grid: Grid) -> None:
    task = grid.complaint(uscc=PHARMACY, name="崂山便民超市")
    grid.acknowledge(task)
    grid.check(task, "permit_needed", permit_item="FOOD_BUSINESS", comment="销售预包装食品, 未办证")
    grid.settle()
    assert grid.task(task)["state"] == "permit_referred"
    notice = grid.e2e.notice(PHARMACY, "FOOD_BUSINESS", "SCJG_SP")
    assert notice["state"] == "awaiting_claim"
    assert notice["context"]["name"] == "崂山便民超市"
    [request] = notice["context"]["requests"]
    assert (request["source"], request["case"], request["action"]) == (
        "grid_check",
        f"grid_check#{task}",
        "opened",
    )
    assert [(d.kind, d.recipient) for d in grid.e2e.deliveries(notice["id"])] == [
        ("notice", "SCJG_SP/notice_handler")
    ]


def test_permit_needed_reopens_a_notice_closed_as_not_needed(grid: Grid) -> None:
    e2e = grid.e2e
    e2e.license(BAKERY, "崂山麦香烘焙坊", "食品销售")
    e2e.stack.settle()
    notice = e2e.notice(BAKERY, "FOOD_BUSINESS", "SCJG_SP")
    feedback = {"notice": notice["id"], "status": "not_needed", "comment": "仅销售文创产品"}
    e2e.emit("notice.feedback", feedback, source="/departments/app")
    e2e.stack.settle()
    assert e2e.instance(notice["id"])["closed_at"] is not None

    [task] = [t["id"] for t in grid.tasks() if t["subject"] == BAKERY]
    grid.acknowledge(task)
    grid.check(task, "permit_needed", permit_item="FOOD_BUSINESS")
    grid.settle()
    reopened = e2e.instance(notice["id"])
    assert (reopened["state"], reopened["closed_at"]) == ("awaiting_claim", None)
    assert reopened["context"]["reopened_from"][0]["last_feedback"] == "not_needed"
    assert reopened["context"]["requests"][0]["action"] == "reopened"
    assert armed(reopened) == {"claim_warning", "claim_deadline", "claim_supervision"}
    assert len(e2e.notices(BAKERY)) == 1  # the same notice, not a second one


HANDOFFS: list[tuple[dict[str, Any], str, str]] = [
    ({"missing": "permit", "permit_item": "FOOD_BUSINESS"}, "SCJG_SP", "无证无照经营查处办法 §5"),
    ({"missing": "licence"}, "SCJG", "无证无照经营查处办法 §6"),
    ({"missing": "both", "permit_item": "ENTERTAINMENT_VENUE"}, "WLJ", "无证无照经营查处办法 §7 (as §5)"),
]


@pytest.mark.parametrize(("handoff", "department", "basis"), HANDOFFS)
def test_unlicensed_goes_to_the_street_then_to_the_department_the_law_names(
    grid: Grid, handoff: dict[str, Any], department: str, basis: str
) -> None:
    task = grid.complaint()
    grid.acknowledge(task)
    grid.check(task, "unlicensed")
    grid.settle()
    street = grid.task(task)
    assert street["state"] == "street_enforcement"
    assert ("enforcement", "ZHONGHAN/enforcement_officer") in grid.pushes(task)
    assert armed(street) == {
        "enforcement_warning",
        "enforcement_deadline",
        "enforcement_supervision",
    }
    report = {
        "task": task,
        "street": "ZHONGHAN",
        "result": "handed_over",
        "reported_at": grid.at(),
        **handoff,
    }
    grid.emit("street.enforcement.reported", report, source=STREET)
    grid.settle()
    case = grid.task(task)
    assert (case["state"], case["context"]["department"], case["context"]["handoff_basis"]) == (
        "department_case",
        department,
        basis,
    )
    assert grid.pushes(task)[-1] == ("department_case", department)
    assert armed(case) == {"case_warning", "case_deadline"}


def test_the_street_resolves_an_unlicensed_operator(grid: Grid) -> None:
    task = grid.complaint()
    grid.check(task, "unlicensed")  # the report overtook the acknowledgement: it implies one
    grid.settle()
    report = {"task": task, "street": "ZHONGHAN", "result": "ceased", "reported_at": grid.at()}
    grid.emit("street.enforcement.reported", report, source=STREET)
    grid.settle()
    done = grid.task(task)
    assert (done["state"], done["context"]["enforcement"]["result"]) == ("resolved", "ceased")
    assert done["context"]["acknowledgement_implied"] is True


def test_an_unreachable_address_goes_to_market_supervision_for_the_abnormal_list(grid: Grid) -> None:
    task = grid.complaint()
    grid.acknowledge(task)
    grid.check(task, "address_unreachable")
    grid.settle()
    case = grid.task(task)
    assert (case["state"], case["context"]["department"]) == ("department_case", "SCJG")
    assert case["context"]["handoff_basis"].startswith("经营异常名录")
