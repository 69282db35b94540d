"""Manual routing (人工指派) of a license whose business scope the rules cannot route alone, through the
HTTP API on both stacks: what matched is pushed at once, the rest waits for an operator's
``POST /instances/{id}/route``, which is audited and refused cleanly when it cannot apply."""

from __future__ import annotations

from tests.e2e.flows.dual_notification.conftest import E2E, PHARMACY


def test_an_operator_routes_an_ambiguous_scope_and_bad_routings_change_nothing(e2e: E2E) -> None:
    answer = e2e.license(PHARMACY, "青岛崂山康健医疗器械有限公司", "医疗器械经营；食品销售")
    assert answer["result"] == "routing_failed"
    e2e.stack.settle()
    [registration] = e2e.instances(flow="license_registration", subject=PHARMACY)
    assert registration["state"] == "routing_failed"
    assert set(e2e.notices(PHARMACY)) == {("FOOD_BUSINESS", "SCJG_SP")}  # what matched went out at once
    reg = registration["id"]
    food = e2e.notice(PHARMACY, "FOOD_BUSINESS", "SCJG_SP")["id"]
    before = e2e.counts()

    refusals = {
        "unknown item": e2e.http.post(
            f"/instances/{reg}/route", json={"permit_items": ["NOPE"], "reason": "试一下"}
        ),
        "not a registration": e2e.http.post(
            f"/instances/{food}/route", json={"permit_items": ["MEDICAL_DEVICE_III"], "reason": "错了"}
        ),
        "no reason": e2e.http.post(f"/instances/{reg}/route", json={"permit_items": ["MEDICAL_DEVICE_III"]}),
        "no such instance": e2e.http.post(
            "/instances/999999/route", json={"permit_items": [], "reason": "不存在"}
        ),
    }
    assert {k: r.status_code for k, r in refusals.items()} == {
        "unknown item": 422,
        "not a registration": 422,
        "no reason": 422,
        "no such instance": 404,
    }
    assert refusals["unknown item"].json()["detail"].startswith("permit_items: unknown permit item(s) NOPE")
    assert "is not a license registration" in refusals["not a registration"].json()["detail"]
    assert e2e.counts() == before
    assert e2e.instance(reg)["state"] == "routing_failed"

    routed = e2e.http.post(
        f"/instances/{reg}/route", json={"permit_items": ["MEDICAL_DEVICE_III"], "reason": "三类医疗器械"}
    )
    assert routed.status_code == 200, routed.text
    assert routed.json() == {"status": "applied", "state": "notified"}
    e2e.stack.settle()
    assert set(e2e.notices(PHARMACY)) == {
        ("FOOD_BUSINESS", "SCJG_SP"),
        ("MEDICAL_DEVICE_III", "SJ_SCJG"),
        ("MEDICAL_DEVICE_III", "SCJG_YP"),
    }
    for department in ("SJ_SCJG", "SCJG_YP"):
        notice = e2e.notice(PHARMACY, "MEDICAL_DEVICE_III", department)
        assert notice["state"] == "awaiting_claim"
        assert [(d.kind, d.status) for d in e2e.deliveries(notice["id"])] == [("notice", "sent")]
    last = e2e.instance(reg)["history"][-1]
    assert (last["trigger"], last["to"], last["cause"]["kind"], last["reason"]) == (
        "route",
        "notified",
        "operator",
        "三类医疗器械",
    )
    assert last["cause"]["operator"]

    again = e2e.http.post(f"/instances/{reg}/route", json={"permit_items": [], "reason": "再来一次"})
    assert again.status_code == 409
    assert e2e.instance(reg)["state"] == "notified"
