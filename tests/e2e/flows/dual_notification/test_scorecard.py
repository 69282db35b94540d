"""GET /scorecard over a small known week: two enterprises, four departments, claims in time, late
and never, a permit across National Day, a notice found not needed."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.e2e.flows.dual_notification.conftest import E2E, HOTEL, PHARMACY, at
from workflows.time.calendar import SHANGHAI

LICENSED = datetime.fromisoformat("2025-09-29T02:00:00+00:00")  # Mon 29 Sep 2025, 10:00 in Shanghai
PERMIT = datetime.fromisoformat("2025-10-13T07:00:00+00:00")  # 5 working days later (see test_permits)


def test_the_scorecard_of_a_known_scenario(e2e: E2E) -> None:
    e2e.license(PHARMACY, "青岛崂山仁心大药房有限公司", "药品零售；食品销售", LICENSED)
    e2e.license(HOTEL, "青岛崂山海韵宾馆有限公司", "住宿服务", LICENSED)
    e2e.stack.settle()
    notices = {**e2e.notices(PHARMACY), **e2e.notices(HOTEL)}
    drug, food = notices[("DRUG_RETAIL", "SCJG_YP")], notices[("FOOD_BUSINESS", "SCJG_SP")]
    hygiene, trade = notices[("PUBLIC_PLACE_HYGIENE", "WJJ")], notices[("HOTEL_SPECIAL_TRADE", "GAFJ")]
    first = min(at(n["created_at"]) for n in notices.values())

    e2e.tick(5)  # public security claims at 5 h (named by enterprise, item and department)
    e2e.emit(
        "notice.claimed",
        {
            "uscc": HOTEL,
            "permit_item": "HOTEL_SPECIAL_TRADE",
            "department": "GAFJ",
            "officer": "治安大队 孙",
            "claimed_at": e2e.now().isoformat(),
        },
        source="/departments/app",
    )
    e2e.tick(5)  # the drug section at 10 h
    e2e.claim(drug["id"], "药监科 李")
    e2e.stack.settle()
    e2e.permit(HOTEL, "HOTEL_SPECIAL_TRADE", "GAFJ", "鲁公特旅字2025-018", PERMIT)
    e2e.tick(27)  # 37 h: warnings
    e2e.tick(13)  # 50 h: the food section and the health commission are overdue
    e2e.claim(hygiene["id"], "卫监所 周")  # late
    e2e.stack.settle()
    e2e.emit(
        "notice.feedback",
        {"notice": hygiene["id"], "status": "not_needed", "comment": "仅提供住宿, 不设公共浴室等, 已核实"},
        source="/departments/app",
    )
    e2e.stack.settle()
    assert {
        n: e2e.instance(x["id"])["state"]
        for n, x in (("drug", drug), ("food", food), ("hygiene", hygiene), ("trade", trade))
    } == {
        "drug": "claimed",
        "food": "awaiting_claim",
        "hygiene": "not_needed",
        "trade": "permit_issued",
    }

    now = e2e.now()
    card = e2e.scorecard(first - timedelta(minutes=1), now + timedelta(minutes=1))
    assert [d["department"] for d in card["departments"]] == ["GAFJ", "SCJG_SP", "SCJG_YP", "WJJ"]
    by = {d["department"]: d for d in card["departments"]}
    assert by["GAFJ"] == {
        "department": "GAFJ",
        "department_name": "公安崂山分局",
        "notices": 1,
        "claimed": 1,
        "claim_due": 1,
        "claimed_in_time": 1,
        "overdue_now": 0,
        "needing_permit": 1,
        "permits_issued": 1,
        "claim_rate": 1.0,
        "permit_rate": 1.0,
        "avg_working_days": 5.0,
    }
    assert by["SCJG_SP"] == {
        "department": "SCJG_SP",
        "department_name": "区市场监管局(食品)",
        "notices": 1,
        "claimed": 0,
        "claim_due": 1,
        "claimed_in_time": 0,
        "overdue_now": 1,
        "needing_permit": 1,
        "permits_issued": 0,
        "claim_rate": 0.0,
        "permit_rate": 0.0,
        "avg_working_days": None,
    }
    assert by["SCJG_YP"] == {
        "department": "SCJG_YP",
        "department_name": "区市场监管局(药监)",
        "notices": 1,
        "claimed": 1,
        "claim_due": 1,
        "claimed_in_time": 1,
        "overdue_now": 0,
        "needing_permit": 1,
        "permits_issued": 0,
        "claim_rate": 1.0,
        "permit_rate": 0.0,
        "avg_working_days": None,
    }
    assert by["WJJ"] == {
        "department": "WJJ",
        "department_name": "区卫生健康局",
        "notices": 1,
        "claimed": 1,
        "claim_due": 1,
        "claimed_in_time": 0,
        "overdue_now": 0,
        "needing_permit": 0,
        "permits_issued": 0,
        "claim_rate": 0.0,
        "permit_rate": None,
        "avg_working_days": None,
    }
    assert card["overall"] == {
        "department": "ALL",
        "department_name": "合计",
        "notices": 4,
        "claimed": 3,
        "claim_due": 4,
        "claimed_in_time": 2,
        "overdue_now": 1,
        "needing_permit": 3,
        "permits_issued": 1,
        "claim_rate": 0.5,
        "permit_rate": 0.3333,
        "avg_working_days": 5.0,
    }
    assert at(card["at"]) >= now

    # local days (Asia/Shanghai, end inclusive) give the same figures
    days = e2e.get(
        "/scorecard",
        start=first.astimezone(SHANGHAI).date().isoformat(),
        end=now.astimezone(SHANGHAI).date().isoformat(),
    )
    assert days["overall"] == card["overall"]
    assert at(days["start"]) == datetime.combine(
        first.astimezone(SHANGHAI).date(), datetime.min.time(), SHANGHAI
    )
    # a range before any notice was pushed is empty
    empty = e2e.scorecard(first - timedelta(days=7), first - timedelta(days=1))
    assert (empty["departments"], empty["overall"]["notices"], empty["overall"]["claim_rate"]) == (
        [],
        0,
        None,
    )
    # a range that is no range is refused, naming the parameter
    refused = e2e.http.get("/scorecard", params={"start": now.isoformat(), "end": first.isoformat()})
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("start: ")
