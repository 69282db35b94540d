"""Duplicate events have one effect; events out of order are handled and recorded, not rejected; an
event about an enterprise or notice the engine has never seen is refused (422) and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.flows.dual_notification.conftest import (
    E2E,
    HOTEL,
    NOBODY,
    PHARMACY,
    REGISTRATION,
    at,
    cloudevent,
    license_data,
)

NAME = "青岛崂山仁心大药房有限公司"


def test_the_same_event_twice_has_one_effect(e2e: E2E) -> None:
    body = cloudevent(
        "license.issued", license_data(PHARMACY, NAME, "药品零售；食品销售", e2e.now()), id="lic-7"
    )
    first, again = e2e.post(body), e2e.post(body)
    assert (first.status_code, first.json()["status"]) == (202, "accepted")
    assert (again.status_code, again.json()) == (
        202,
        {"status": "duplicate", "id": "lic-7", "source": REGISTRATION, "type": "license.issued"},
    )
    e2e.stack.settle()
    assert len(e2e.instances(flow="license_registration")) == 1
    notices = e2e.notices(PHARMACY)
    assert len(notices) == 2
    assert sorted(d.kind for d in e2e.deliveries()) == ["notice", "notice", "reminder"]
    counts = e2e.counts()
    assert counts["inbox"] == 1

    # the same license re-sent under a new id: accepted at the door, but no second fan-out
    resent = e2e.post({**body, "id": "lic-7-resent"})
    assert resent.json()["status"] == "accepted"
    e2e.stack.settle()
    assert (len(e2e.instances(flow="dual_notification")), len(e2e.deliveries())) == (2, 3)
    [registration] = e2e.instances(flow="license_registration")
    assert [(h["trigger"], h["outcome"]) for h in e2e.instance(registration["id"])["history"]] == [
        ("start", "applied"),
        ("register", "applied"),
        ("register", "rejected"),
    ]

    # a claim posted twice (the department app retried): claimed once, by the first officer
    drug = notices[("DRUG_RETAIL", "SCJG_YP")]
    claim = cloudevent(
        "notice.claimed",
        {"notice": drug["id"], "officer": "药监科 李", "claimed_at": e2e.now().isoformat()},
        id="claim-1",
        source="/departments/app",
    )
    assert [e2e.post(claim).json()["status"] for _ in range(2)] == ["accepted", "duplicate"]
    e2e.stack.settle()
    detail = e2e.instance(drug["id"])
    assert [h["trigger"] for h in detail["history"]].count("claim") == 1
    assert (detail["state"], detail["context"]["claimed_by"]) == ("claimed", "药监科 李")
    assert e2e.counts()["inbox"] == 3


def test_a_permit_before_the_claim_closes_the_notice_and_the_claim_after_it_is_recorded(e2e: E2E) -> None:
    e2e.license(PHARMACY, NAME, "药品零售；食品销售")
    e2e.stack.settle()
    drug = e2e.notice(PHARMACY, "DRUG_RETAIL", "SCJG_YP")
    pushed = at(drug["context"]["pushed_at"])
    e2e.tick(2)

    # the permit arrives first
    issued = e2e.now()
    answer = e2e.permit(PHARMACY, "DRUG_RETAIL", "SCJG_YP", "鲁CB5320456", issued)
    assert answer["instances"] == [drug["id"]]
    e2e.stack.settle()
    closed = e2e.instance(drug["id"])
    assert (closed["state"], closed["context"]["permit_before_claim"]) == ("permit_issued", True)
    assert closed["closed_at"] is not None
    assert {t["status"] for t in closed["timers"]} == {"cancelled"}

    # the claim made 1 h after the push, delivered after the permit: accepted, recorded, not reopened
    claimed_at = pushed + timedelta(hours=1)
    response = e2e.post(
        cloudevent(
            "notice.claimed",
            {"notice": drug["id"], "officer": "药监科 李", "claimed_at": claimed_at.isoformat()},
            id="late-claim",
            source="/departments/app",
        )
    )
    assert (response.status_code, response.json()["status"], response.json()["result"]) == (
        202,
        "accepted",
        "queued",
    )
    e2e.stack.settle()
    after = e2e.instance(drug["id"])
    assert (after["state"], after["closed_at"]) == ("permit_issued", closed["closed_at"])
    assert {t["status"] for t in after["timers"]} == {"cancelled"}
    last = after["history"][-1]
    assert (last["trigger"], last["payload"]["officer"], at(last["payload"]["claimed_at"])) == (
        "claim",
        "药监科 李",
        claimed_at,
    )
    ctx = after["context"]
    assert (ctx.get("claimed_by"), ctx.get("claimed_in_time"), ctx.get("claim_hours")) == (
        "药监科 李",
        True,
        1.0,
    ), "the claim that arrived after the permit is recorded on the notice"
    assert at(ctx["claimed_at"]) == claimed_at
    assert (last["from"], last["to"], last["outcome"]) == ("permit_issued", "permit_issued", "applied")
    # and the department is credited with its in-time claim once the window is over
    e2e.tick(48)
    [yp] = [
        d
        for d in e2e.scorecard(pushed - timedelta(hours=1), e2e.now())["departments"]
        if d["department"] == "SCJG_YP"
    ]
    assert (yp["claim_due"], yp["claimed_in_time"], yp["claim_rate"], yp["permit_rate"]) == (1, 1, 1.0, 1.0)


def test_feedback_before_the_claim_implies_it_and_the_claim_fills_in_who(e2e: E2E) -> None:
    e2e.license(PHARMACY, NAME, "食品销售")
    e2e.stack.settle()
    food = e2e.notice(PHARMACY, "FOOD_BUSINESS", "SCJG_SP")
    e2e.tick(3)
    e2e.emit(
        "notice.feedback",
        {"notice": food["id"], "status": "applied", "comment": "企业已在政务服务网提交申请"},
        source="/departments/app",
    )
    e2e.stack.settle()
    implied = e2e.instance(food["id"])
    assert (implied["state"], implied["context"]["claim_implied"], implied["context"]["claimed_in_time"]) == (
        "applied",
        True,
        True,
    )
    e2e.tick(1)
    e2e.emit(
        "notice.claimed",
        {
            "uscc": PHARMACY,
            "permit_item": "FOOD_BUSINESS",
            "department": "SCJG_SP",
            "officer": "食品科 赵",
            "claimed_at": (at(food["context"]["pushed_at"]) + timedelta(hours=2)).isoformat(),
        },
        source="/departments/app",
    )
    e2e.stack.settle()
    claimed = e2e.instance(food["id"])
    ctx = claimed["context"]
    assert claimed["state"] == "applied"
    assert (ctx["claimed_by"], ctx["claim_implied"], ctx["claim_hours"], ctx["late"]) == (
        "食品科 赵",
        False,
        2.0,
        False,
    )
    assert {t["status"] for t in claimed["timers"]} == {"cancelled"}


def _claim(**ref: Any) -> dict[str, Any]:
    return {"officer": "某科员", "claimed_at": "2026-11-30T09:00:00+08:00", **ref}


UNKNOWN = [
    pytest.param(
        "notice.claimed",
        _claim(uscc=NOBODY, permit_item="DRUG_RETAIL", department="SCJG_YP"),
        "data.uscc",
        f"no notice of {NOBODY} for permit item 'DRUG_RETAIL' and department 'SCJG_YP'",
        id="claim-unknown-enterprise",
    ),
    pytest.param(
        "notice.claimed",
        _claim(uscc=PHARMACY, permit_item="HOTEL_SPECIAL_TRADE", department="GAFJ"),
        "data.uscc",
        f"no notice of {PHARMACY} for permit item 'HOTEL_SPECIAL_TRADE' and department 'GAFJ'",
        id="claim-permit-the-enterprise-was-not-told-of",
    ),
    pytest.param(
        "notice.claimed",
        _claim(notice=987654),
        "data.notice",
        "no dual-notification notice #987654",
        id="claim-unknown-notice-id",
    ),
    pytest.param(
        "notice.feedback",
        {"notice": 987654, "status": "applied"},
        "data.notice",
        "no dual-notification notice #987654",
        id="feedback-unknown-notice-id",
    ),
    pytest.param(
        "notice.returned",
        {"uscc": NOBODY, "permit_item": "DRUG_RETAIL", "department": "SCJG_YP", "reason": "not_our_item"},
        "data.uscc",
        f"no notice of {NOBODY} for permit item 'DRUG_RETAIL' and department 'SCJG_YP'",
        id="return-unknown-enterprise",
    ),
    pytest.param(
        "permit.issued",
        {
            "uscc": NOBODY,
            "permit_item": "DRUG_RETAIL",
            "department": "SCJG_YP",
            "permit_no": "鲁CB5320999",
            "issued_at": "2026-11-30T09:00:00+08:00",
        },
        "data.uscc",
        f"no notice of {NOBODY} for permit item 'DRUG_RETAIL' and department 'SCJG_YP'",
        id="permit-unknown-enterprise",
    ),
    pytest.param(
        "scope.changed",
        {"uscc": HOTEL, "business_scope": "住宿服务", "changed_at": "2026-11-30T09:00:00+08:00"},
        "data.uscc",
        f"no license.issued was received for {HOTEL}; send it first",
        id="scope-change-of-an-unlicensed-enterprise",
    ),
]


@pytest.mark.parametrize(("etype", "data", "field", "message"), UNKNOWN)
def test_an_event_about_an_unknown_enterprise_or_notice_is_refused_and_changes_nothing(
    e2e: E2E, etype: str, data: dict[str, Any], field: str, message: str
) -> None:
    e2e.license(PHARMACY, NAME, "药品零售")
    e2e.stack.settle()
    before = e2e.counts()
    response = e2e.post(cloudevent(etype, data, id="unknown-1", source="/departments/app"))
    assert response.status_code == 422
    assert response.json()["status"] == "rejected"
    assert response.json()["errors"] == [{"field": field, "message": message}]
    e2e.stack.settle()
    assert e2e.counts() == before
    # refused, not remembered: the same id is still free once the event is right
    [notice] = e2e.notices(PHARMACY).values()
    retry = e2e.post(
        cloudevent("notice.claimed", _claim(notice=notice["id"]), id="unknown-1", source="/departments/app")
    )
    assert retry.json()["status"] == "accepted"
