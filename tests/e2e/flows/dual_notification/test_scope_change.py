"""scope.changed through the HTTP API on both stacks: new permit items get new notices, dropped ones are
closed as not needed, and an item named again after its notice closed gets a fresh notice (not the
closed one) that department events then reach."""

from __future__ import annotations

from typing import Any

from tests.e2e.flows.dual_notification.conftest import E2E, PHARMACY


def scope_change(e2e: E2E, scope: str) -> dict[str, Any]:
    answer = e2e.emit(
        "scope.changed", {"uscc": PHARMACY, "business_scope": scope, "changed_at": e2e.now().isoformat()}
    )
    e2e.stack.settle()
    return answer


def by_item(e2e: E2E) -> dict[str, list[tuple[str, str, str]]]:
    found: dict[str, list[tuple[str, str, str]]] = {}
    for item in e2e.instances(flow="dual_notification", subject=PHARMACY):
        n = e2e.instance(item["id"])
        found.setdefault(n["context"]["permit"], []).append(
            (n["business_key"], n["state"], n["context"]["department"])
        )
    return {k: sorted(v) for k, v in found.items()}


def test_a_dropped_item_named_again_gets_a_fresh_notice_that_events_reach(e2e: E2E) -> None:
    e2e.license(PHARMACY, "青岛崂山仁心大药房有限公司", "药品零售；食品销售")
    e2e.stack.settle()
    food = f"{PHARMACY}:FOOD_BUSINESS:SCJG_SP"
    drug = f"{PHARMACY}:DRUG_RETAIL:SCJG_YP"

    scope_change(e2e, "药品零售")
    assert by_item(e2e) == {
        "DRUG_RETAIL": [(drug, "awaiting_claim", "SCJG_YP")],
        "FOOD_BUSINESS": [(food, "not_needed", "SCJG_SP")],
    }

    scope_change(e2e, "药品零售；食品销售；住宿服务")
    items = by_item(e2e)
    assert items["FOOD_BUSINESS"] == [
        (food, "not_needed", "SCJG_SP"),
        (f"{food}#2", "awaiting_claim", "SCJG_SP"),
    ]
    assert items["DRUG_RETAIL"] == [(drug, "awaiting_claim", "SCJG_YP")]  # untouched
    assert {dept for _, _, dept in items["PUBLIC_PLACE_HYGIENE"] + items["HOTEL_SPECIAL_TRADE"]} == {
        "WJJ",
        "GAFJ",
    }
    [fresh] = [
        n
        for n in e2e.instances(flow="dual_notification", subject=PHARMACY)
        if n["business_key"] == f"{food}#2"
    ]
    assert [(d.kind, d.status) for d in e2e.deliveries(fresh["id"])] == [("notice", "sent")]

    # a department naming the item (not the notice id) reaches the open notice
    e2e.emit(
        "notice.claimed",
        {
            "uscc": PHARMACY,
            "permit_item": "FOOD_BUSINESS",
            "department": "SCJG_SP",
            "officer": "officer-007",
            "claimed_at": e2e.now().isoformat(),
        },
        source="/departments/app",
    )
    e2e.stack.settle()
    assert e2e.instance(fresh["id"])["state"] == "claimed"
    assert by_item(e2e)["FOOD_BUSINESS"][0] == (food, "not_needed", "SCJG_SP")
