"""license.issued → one notice per (permit item, department), pushed within the same settle, and a
reminder to the enterprise listing the permits it needs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from tests.e2e.flows.dual_notification.conftest import (
    E2E,
    HOTEL,
    PHARMACY,
    cloudevent,
    event_id,
    license_data,
)
from workflows.store.models import InboxEvent


def received_at(e2e: E2E, source: str, id: str) -> datetime:
    with e2e.stack.runtime.db.read() as session:
        at: datetime = session.execute(
            select(InboxEvent.received_at).where(InboxEvent.source == source, InboxEvent.event_id == id)
        ).scalar_one()
    return at


def test_a_pharmacy_is_pushed_to_the_drug_and_the_food_section(e2e: E2E) -> None:
    name = "青岛崂山仁心大药房有限公司"
    body = cloudevent(
        "license.issued",
        license_data(PHARMACY, name, "药品零售；食品销售；日用百货销售；医疗器械（第一类）销售", e2e.now()),
        id=event_id("lic"),
    )
    response = e2e.post(body)
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["result"]) == ("accepted", "matched")
    accepted = received_at(e2e, body["source"], body["id"])
    e2e.stack.settle()  # one settle: every push below happened within it

    notices = e2e.notices(PHARMACY)
    assert set(notices) == {("DRUG_RETAIL", "SCJG_YP"), ("FOOD_BUSINESS", "SCJG_SP")}
    drug, food = notices[("DRUG_RETAIL", "SCJG_YP")], notices[("FOOD_BUSINESS", "SCJG_SP")]
    assert (drug["business_key"], drug["state"], drug["department"]) == (
        f"{PHARMACY}:DRUG_RETAIL:SCJG_YP",
        "awaiting_claim",
        "SCJG_YP",
    )
    assert (food["business_key"], food["state"], food["department"]) == (
        f"{PHARMACY}:FOOD_BUSINESS:SCJG_SP",
        "awaiting_claim",
        "SCJG_SP",
    )
    assert (drug["context"]["permit_name"], drug["context"]["department_name"]) == (
        "药品经营许可(零售)",
        "区市场监管局(药监)",
    )
    assert (food["context"]["permit_name"], food["context"]["department_name"]) == (
        "食品经营许可",
        "区市场监管局(食品)",
    )
    for notice in (drug, food):
        assert notice["context"]["claim_window_hours"] == 48.0
        assert sorted(t["name"] for t in notice["timers"] if t["status"] == "armed") == [
            "claim_deadline",
            "claim_supervision",
            "claim_warning",
        ]

    [registration] = e2e.instances(flow="license_registration", subject=PHARMACY)
    assert (registration["business_key"], registration["state"]) == (PHARMACY, "notified")

    pushed = e2e.deliveries()
    assert sorted((d.kind, d.recipient, d.instance_id, d.status, d.channel) for d in pushed) == sorted(
        [
            ("notice", "SCJG_YP/notice_handler", drug["id"], "sent", "log"),
            ("notice", "SCJG_SP/notice_handler", food["id"], "sent", "log"),
            ("reminder", f"enterprise/{PHARMACY}", registration["id"], "sent", "log"),
        ]
    )
    for delivery in pushed:  # 秒推: within seconds of the event being accepted
        assert delivery.created_at - accepted < timedelta(seconds=5), delivery.kind
        assert delivery.attempts == 1
    [reminder] = [d for d in pushed if d.kind == "reminder"]
    assert reminder.payload["title"] == f"{name}: 请办理后置许可"
    assert reminder.payload["recipient"] == {
        "kind": "enterprise",
        "code": PHARMACY,
        "role": None,
        "name": name,
    }
    assert sorted(reminder.payload["data"]["permits"], key=lambda p: p["permit"]) == [
        {
            "business_key": f"{PHARMACY}:DRUG_RETAIL:SCJG_YP",
            "permit": "DRUG_RETAIL",
            "permit_name": "药品经营许可(零售)",
            "department": "SCJG_YP",
            "department_name": "区市场监管局(药监)",
        },
        {
            "business_key": f"{PHARMACY}:FOOD_BUSINESS:SCJG_SP",
            "permit": "FOOD_BUSINESS",
            "permit_name": "食品经营许可",
            "department": "SCJG_SP",
            "department_name": "区市场监管局(食品)",
        },
    ]
    [to_drug] = [d for d in pushed if d.instance_id == drug["id"]]
    assert to_drug.payload["title"] == f"双告知: {name} 需办理「药品经营许可(零售)」, 请认领"
    assert (to_drug.payload["data"]["uscc"], to_drug.payload["data"]["permit"]) == (PHARMACY, "DRUG_RETAIL")


def test_a_hotel_is_pushed_to_the_health_commission_and_public_security(e2e: E2E) -> None:
    name = "青岛崂山海韵宾馆有限公司"
    answer = e2e.license(HOTEL, name, "住宿服务；会议及展览服务；停车场服务")
    assert answer["result"] == "matched"
    e2e.stack.settle()

    notices = e2e.notices(HOTEL)
    assert {k: (v["state"], v["context"]["permit_name"]) for k, v in notices.items()} == {
        ("PUBLIC_PLACE_HYGIENE", "WJJ"): ("awaiting_claim", "公共场所卫生许可"),
        ("HOTEL_SPECIAL_TRADE", "GAFJ"): ("awaiting_claim", "旅馆业特种行业许可"),
    }
    hygiene, trade = notices[("PUBLIC_PLACE_HYGIENE", "WJJ")], notices[("HOTEL_SPECIAL_TRADE", "GAFJ")]
    [registration] = e2e.instances(flow="license_registration", subject=HOTEL)
    pushed = e2e.deliveries()
    assert sorted((d.kind, d.recipient, d.instance_id, d.status) for d in pushed) == sorted(
        [
            ("notice", "WJJ/notice_handler", hygiene["id"], "sent"),
            ("notice", "GAFJ/notice_handler", trade["id"], "sent"),
            ("reminder", f"enterprise/{HOTEL}", registration["id"], "sent"),
        ]
    )
    names = {d.recipient: d.payload["recipient"]["name"] for d in pushed}
    assert (names["WJJ/notice_handler"], names["GAFJ/notice_handler"]) == ("区卫生健康局", "公安崂山分局")
    [reminder] = [d for d in pushed if d.kind == "reminder"]
    assert sorted((p["permit"], p["department"]) for p in reminder.payload["data"]["permits"]) == [
        ("HOTEL_SPECIAL_TRADE", "GAFJ"),
        ("PUBLIC_PLACE_HYGIENE", "WJJ"),
    ]


def test_a_scope_needing_no_permit_is_recorded_and_pushes_nothing(e2e: E2E) -> None:
    answer = e2e.license(PHARMACY, "青岛崂山软件科技有限公司", "软件开发；信息技术咨询服务")
    assert answer["result"] == "no_match"
    e2e.stack.settle()
    [registration] = e2e.instances(flow="license_registration", subject=PHARMACY)
    assert registration["state"] == "no_permit_needed"
    assert e2e.instances(flow="dual_notification") == []
    assert e2e.deliveries() == []
