"""Planning notices from licenses and scope changes, and the license_registration flow that runs a plan."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rules import RuleSet, load_rules
from state_machines.license_registration import PlanPayload
from tests.notices import HOTEL, PHARMACY, T0, Sim
from workflows.engine.machines import Refused
from workflows.flows.dual_notification.events import LicenseIssued, ScopeChanged
from workflows.flows.dual_notification.planning import (
    Enterprise,
    claim_window_hours,
    permit_working_days,
    plan_license,
    plan_manual_route,
    plan_scope_change,
)
from workflows.settings import RULES_DIR
from workflows.time.calendar import WorkCalendar


def license(scope: str, uscc: str = PHARMACY, **extra: Any) -> LicenseIssued:
    return LicenseIssued(
        uscc=uscc,
        name="青岛崂山测试有限公司",
        business_scope=scope,
        address="青岛市崂山区香港东路195号",
        street="ZHONGHAN",
        grid="ZH-001",
        legal_representative="张三",
        issued_at=T0,
        **extra,
    )


def routed(plan: Any) -> set[tuple[str, str]]:
    return {(n.facts.permit, n.facts.department) for n in plan.notices}


def test_a_pharmacy_needs_food_and_drug_notices(ruleset: RuleSet) -> None:
    plan = plan_license(ruleset, license("药品零售;食品销售(仅销售预包装食品)"))
    assert plan.status == "matched"
    assert routed(plan) == {("DRUG_RETAIL", "SCJG_YP"), ("FOOD_BUSINESS", "SCJG_SP")}
    notice = next(n for n in plan.notices if n.facts.permit == "DRUG_RETAIL")
    assert notice.business_key == f"{PHARMACY}:DRUG_RETAIL:SCJG_YP"
    assert notice.subject == PHARMACY
    ctx = notice.context()
    assert (ctx["department_name"], ctx["street"], ctx["grid"]) == (
        "区市场监管局(药监)",
        "ZHONGHAN",
        "ZH-001",
    )
    assert ctx["claim_window_hours"] == 48.0  # from deadlines.yaml
    assert datetime.fromisoformat(ctx["license_issued_at"]) == T0
    assert {r["permit_name"] for r in plan.reminder} == {"药品经营许可(零售)", "食品经营许可"}


def test_a_hotel_goes_to_health_and_public_security(ruleset: RuleSet) -> None:
    plan = plan_license(ruleset, license("住宿服务;会议服务", uscc=HOTEL))
    assert routed(plan) == {("PUBLIC_PLACE_HYGIENE", "WJJ"), ("HOTEL_SPECIAL_TRADE", "GAFJ")}


def test_approving_and_supervising_departments_each_get_a_notice(ruleset: RuleSet) -> None:
    plan = plan_license(ruleset, license("第三类医疗器械经营"))
    assert routed(plan) == {("MEDICAL_DEVICE_III", "SJ_SCJG"), ("MEDICAL_DEVICE_III", "SCJG_YP")}


def test_no_match_needs_no_notice(ruleset: RuleSet) -> None:
    plan = plan_license(ruleset, license("软件开发;信息技术咨询服务"))
    assert (plan.status, plan.notices, plan.reminder) == ("no_match", (), [])


def test_an_ambiguous_scope_fails_routing_but_pushes_what_matched(ruleset: RuleSet) -> None:
    plan = plan_license(ruleset, license("医疗器械经营;食品销售"))
    assert plan.status == "routing_failed"
    assert routed(plan) == {("FOOD_BUSINESS", "SCJG_SP")}
    assert plan.reasons and plan.reasons[0].startswith("医疗器械经营:")


def test_a_scope_change_starts_new_items_and_closes_dropped_ones(ruleset: RuleSet) -> None:
    first = plan_license(ruleset, license("药品零售;食品销售"))
    enterprise = Enterprise.from_context(first.enterprise.context())
    change = ScopeChanged(uscc=PHARMACY, business_scope="药品零售;住宿服务", changed_at=T0)
    plan = plan_scope_change(ruleset, enterprise, change, [n.business_key for n in first.notices])
    assert plan.close == (f"{PHARMACY}:FOOD_BUSINESS:SCJG_SP",)
    assert routed(plan) == {("PUBLIC_PLACE_HYGIENE", "WJJ"), ("HOTEL_SPECIAL_TRADE", "GAFJ")}
    assert plan.enterprise.business_scope == "药品零售;住宿服务"
    payload = PlanPayload.model_validate(plan.payload())
    assert payload.close == [f"{PHARMACY}:FOOD_BUSINESS:SCJG_SP"] and len(payload.notices) == 2


def test_a_later_notice_for_an_item_never_reuses_a_closed_notices_key(ruleset: RuleSet) -> None:
    enterprise = Enterprise.from_license(license("药品零售;食品销售"))
    food, drug = f"{PHARMACY}:FOOD_BUSINESS:SCJG_SP", f"{PHARMACY}:DRUG_RETAIL:SCJG_YP"
    change = ScopeChanged(uscc=PHARMACY, business_scope="药品零售;食品销售", changed_at=T0)
    # the food notice was closed once (key taken) and re-opened as #2 then closed again
    plan = plan_scope_change(ruleset, enterprise, change, [drug], taken={drug, food, f"{food}#2"})
    assert [n.business_key for n in plan.notices] == [f"{food}#3"] and plan.close == ()
    # an open #2 counts as the item's open notice: kept, neither closed nor started again
    kept = plan_scope_change(
        ruleset, enterprise, change, [drug, f"{food}#2"], taken={drug, food, f"{food}#2"}
    )
    assert (kept.notices, kept.close) == ((), ())
    dropped = ScopeChanged(uscc=PHARMACY, business_scope="药品零售", changed_at=T0)
    closing = plan_scope_change(
        ruleset, enterprise, dropped, [drug, f"{food}#2"], taken={drug, food, f"{food}#2"}
    )
    assert closing.close == (f"{food}#2",)


def test_an_operator_routes_by_permit_item(ruleset: RuleSet) -> None:
    enterprise = Enterprise.from_license(license("医疗器械经营"))
    plan = plan_manual_route(ruleset, enterprise, ["MEDICAL_DEVICE_III"])
    assert plan.status == "matched"
    assert routed(plan) == {("MEDICAL_DEVICE_III", "SJ_SCJG"), ("MEDICAL_DEVICE_III", "SCJG_YP")}
    with pytest.raises(ValueError, match="unknown permit item"):
        plan_manual_route(ruleset, enterprise, ["NOPE"])


def test_the_claim_window_follows_the_rules(tmp_path: Path, ruleset: RuleSet) -> None:
    assert claim_window_hours(ruleset) == 48.0
    for name in ("organisation.yaml", "permit_routing.yaml", "escalation.yaml", "sampling.yaml"):
        (tmp_path / name).write_text((RULES_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    text = (RULES_DIR / "deadlines.yaml").read_text(encoding="utf-8")
    (tmp_path / "deadlines.yaml").write_text(
        text.replace("claim_deadline: 48h", "claim_deadline: 24h"), encoding="utf-8"
    )
    assert claim_window_hours(load_rules(tmp_path)) == 24.0
    (tmp_path / "deadlines.yaml").write_text(
        text.replace("claim_deadline: 48h", "claim_deadline: 2 working days"), encoding="utf-8"
    )
    assert claim_window_hours(load_rules(tmp_path)) is None


def test_working_days_from_license_to_permit_skip_national_day() -> None:
    calendar = WorkCalendar()
    license_at = datetime(2025, 9, 30, 2, 0, tzinfo=UTC)  # Tue 30 Sep, the eve of National Day
    assert permit_working_days(calendar, license_at, datetime(2025, 10, 10, 3, tzinfo=UTC)) == 2
    assert permit_working_days(calendar, license_at, datetime(2025, 10, 11, 3, tzinfo=UTC)) == 3  # 调休
    assert permit_working_days(calendar, license_at, datetime(2025, 9, 30, 9, tzinfo=UTC)) == 0


# -------------------------------------------------------------------- license_registration flow
def registration(ruleset: RuleSet, scope: str) -> tuple[Sim, Any]:
    plan = plan_license(ruleset, license(scope))
    sim = Sim.of("license_registration", plan.enterprise.context())
    return sim.ok("register", plan.payload()), plan


def test_register_pushes_every_notice_and_reminds_the_enterprise(ruleset: RuleSet) -> None:
    sim, plan = registration(ruleset, "药品零售;食品销售")
    assert sim.state == "notified"
    starts = [e for e in sim.emits if e.target == "dual_notification"]
    assert {(e.trigger, e.start, e.business_key) for e in starts} == {
        ("push", True, n.business_key) for n in plan.notices
    }
    assert all(e.payload["facts"]["uscc"] == PHARMACY for e in starts)
    [reminder] = [e for e in sim.emits if e.target == "deliveries.push"]
    assert reminder.payload["kind"] == "reminder" and len(reminder.payload["permits"]) == 2
    assert sorted(sim.context["notices"]) == sorted(n.business_key for n in plan.notices)


def test_register_without_a_match_records_no_permit_needed(ruleset: RuleSet) -> None:
    sim, _ = registration(ruleset, "软件开发")
    assert (sim.state, sim.emits, sim.context["match_status"]) == ("no_permit_needed", [], "no_match")


def test_routing_failed_tells_the_office_and_an_operator_routes_it(ruleset: RuleSet) -> None:
    sim, _ = registration(ruleset, "医疗器械经营")
    assert sim.state == "routing_failed"
    assert [e.payload["kind"] for e in sim.emits] == ["routing_failed"]
    enterprise = Enterprise.from_context(sim.context)
    sim.ok("route", plan_manual_route(ruleset, enterprise, ["MEDICAL_DEVICE_III"]).payload())
    assert sim.state == "notified" and len(sim.context["notices"]) == 2
    refused = sim.fire("route", plan_manual_route(ruleset, enterprise, []).payload())
    assert isinstance(refused, Refused)


def test_rescope_closes_dropped_notices(ruleset: RuleSet) -> None:
    sim, _ = registration(ruleset, "药品零售;食品销售")
    change = ScopeChanged(uscc=PHARMACY, business_scope="药品零售", changed_at=T0)
    plan = plan_scope_change(ruleset, Enterprise.from_context(sim.context), change, sim.context["notices"])
    before = len(sim.emits)
    sim.ok("rescope", plan.payload())
    [close] = sim.emits[before:]
    assert (close.target, close.trigger, close.business_key) == (
        "dual_notification",
        "close_not_needed",
        f"{PHARMACY}:FOOD_BUSINESS:SCJG_SP",
    )
    assert sim.context["notices"] == [f"{PHARMACY}:DRUG_RETAIL:SCJG_YP"]
    assert [p["permit"] for p in sim.context["permits"]] == ["DRUG_RETAIL"]
    assert sim.context["business_scope"] == "药品零售"
