"""The 48-hour claim and its escalation ladder (escalation.yaml ``dual_notification_claim``): the yellow
warning to the department's claim handlers at 36 h, the overdue push to the department's leader at
48 h, the supervision (督办) by the platform office at 48 h + 1 working day; and a late claim."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.flows.dual_notification.conftest import E2E, PHARMACY, at, end_of_next_working_day

NAME = "青岛崂山仁心大药房有限公司"
MINUTE = timedelta(minutes=1)


def licensed_drug_notice(e2e: E2E) -> dict[str, Any]:
    """A pharmacy licensed for drug retail only: one notice, to the drug section."""
    e2e.license(PHARMACY, NAME, "药品零售")
    e2e.stack.settle()
    [notice] = e2e.notices(PHARMACY).values()
    assert (notice["context"]["permit"], notice["department"], notice["state"]) == (
        "DRUG_RETAIL",
        "SCJG_YP",
        "awaiting_claim",
    )
    return notice


def ladder(e2e: E2E, notice_id: int) -> list[tuple[str, str, str | None, str]]:
    return [(d.kind, d.recipient, d.payload.get("step"), d.status) for d in e2e.deliveries(notice_id)]


def test_unclaimed_for_49_hours_is_overdue_to_the_leader_then_supervised(e2e: E2E) -> None:
    notice = licensed_drug_notice(e2e)
    nid = notice["id"]
    pushed = at(notice["context"]["pushed_at"])
    supervision = end_of_next_working_day(pushed + timedelta(hours=48))
    due = {t["name"]: at(t["due_at"]) for t in notice["timers"]}
    assert due == {
        "claim_warning": pushed + timedelta(hours=36),
        "claim_deadline": pushed + timedelta(hours=48),
        "claim_supervision": supervision,
    }

    e2e.tick_to(pushed + timedelta(hours=35))
    assert ladder(e2e, nid) == [("notice", "SCJG_YP/notice_handler", None, "sent")]
    assert e2e.overdue_ids() == set()

    e2e.tick_to(pushed + timedelta(hours=36) + MINUTE)  # yellow warning, to the claim handlers
    assert ladder(e2e, nid)[1:] == [("warning", "SCJG_YP/notice_handler", "warn", "sent")]

    e2e.tick_to(pushed + timedelta(hours=49))  # overdue: pushed to the leader of the drug section
    assert ladder(e2e, nid)[2:] == [("overdue", "SCJG_YP/leader", "overdue", "sent")]
    [overdue] = e2e.deliveries(nid, kind="overdue")
    assert overdue.payload["title"] == f"超时未认领: {NAME}「药品经营许可(零售)」"
    assert overdue.payload["recipient"] == {
        "kind": "department",
        "code": "SCJG_YP",
        "role": "leader",
        "name": "区市场监管局(药监)",
    }
    assert e2e.overdue_ids() == {nid}
    assert nid not in {i["id"] for i in e2e.instances(flow="dual_notification", overdue="false")}
    assert [i["id"] for i in e2e.instances(flow="dual_notification", department="SCJG_YP")] == [nid]

    e2e.tick_to(supervision - MINUTE)
    assert len(e2e.deliveries(nid)) == 3  # not yet: the working day is not over
    e2e.tick_to(supervision + MINUTE)  # supervised by the platform office
    assert ladder(e2e, nid) == [
        ("notice", "SCJG_YP/notice_handler", None, "sent"),
        ("warning", "SCJG_YP/notice_handler", "warn", "sent"),
        ("overdue", "SCJG_YP/leader", "overdue", "sent"),
        ("supervision", "PTB/supervisor", "supervise", "sent"),
    ]
    [supervised] = e2e.deliveries(nid, kind="supervision")
    assert supervised.payload["recipient"]["name"] == "平台办"
    assert supervised.payload["title"] == f"督办: {NAME}「药品经营许可(零售)」告知超时未认领"

    detail = e2e.instance(nid)
    assert detail["state"] == "awaiting_claim"
    assert [(e["kind"], e["timer"]) for e in detail["context"]["escalations"]] == [
        ("warning", "claim_warning"),
        ("overdue", "claim_deadline"),
        ("supervision", "claim_supervision"),
    ]
    assert [at(e["at"]) >= due[e["timer"]] for e in detail["context"]["escalations"]] == [True] * 3
    assert {t["name"]: t["status"] for t in detail["timers"]} == {
        "claim_warning": "fired",
        "claim_deadline": "fired",
        "claim_supervision": "fired",
    }
    assert e2e.overdue_ids() == {nid}
    card = e2e.scorecard(pushed - timedelta(hours=1), e2e.now())
    assert (card["overall"]["overdue_now"], card["overall"]["claim_due"], card["overall"]["claim_rate"]) == (
        1,
        1,
        0.0,
    )


def test_a_notice_with_only_the_yellow_warning_is_not_overdue_yet(e2e: E2E) -> None:
    """36 h < 37 h < 48 h: warned (即将超时), but the claim deadline has not passed."""
    notice = licensed_drug_notice(e2e)
    pushed = at(notice["context"]["pushed_at"])
    e2e.tick_to(pushed + timedelta(hours=37))
    assert [d.kind for d in e2e.deliveries(notice["id"])] == ["notice", "warning"]
    card = e2e.scorecard(pushed - timedelta(hours=1), e2e.now())
    assert card["overall"]["overdue_now"] == 0  # the scorecard agrees: not overdue
    assert e2e.overdue_ids() == set()


def test_a_late_claim_is_accepted_recorded_as_late_and_the_escalations_stay(e2e: E2E) -> None:
    notice = licensed_drug_notice(e2e)
    nid = notice["id"]
    pushed = at(notice["context"]["pushed_at"])
    e2e.tick_to(pushed + timedelta(hours=37))  # one step at a time: the ladder's order is fixed
    e2e.tick_to(pushed + timedelta(hours=49))
    assert e2e.overdue_ids() == {nid}

    claimed_at = e2e.now()
    answer = e2e.claim(nid, "药监科 王科员", claimed_at)
    assert (answer["result"], answer["instances"]) == ("queued", [nid])
    e2e.stack.settle()

    detail = e2e.instance(nid)
    ctx = detail["context"]
    assert detail["state"] == "claimed"
    assert (ctx["claimed_by"], at(ctx["claimed_at"]), ctx["late"], ctx["claimed_in_time"]) == (
        "药监科 王科员",
        claimed_at,
        True,
        False,
    )
    assert ctx["claim_hours"] == round((claimed_at - pushed).total_seconds() / 3600, 2)
    assert ctx["claim_hours"] >= 49.0
    assert ctx["escalations_before_claim"] == ["warning", "overdue"]
    assert [e["kind"] for e in ctx["escalations"]] == ["warning", "overdue"]
    assert [(h["trigger"], h["from"], h["to"], h["outcome"]) for h in detail["history"]] == [
        ("start", None, "created", "applied"),
        ("push", "created", "awaiting_claim", "applied"),
        ("claim_warning_passed", "awaiting_claim", "awaiting_claim", "applied"),
        ("claim_deadline_passed", "awaiting_claim", "awaiting_claim", "applied"),
        ("claim", "awaiting_claim", "claimed", "applied"),
    ]
    assert detail["history"][-1]["cause"]["kind"] == "event"
    assert {t["name"]: t["status"] for t in detail["timers"]} == {
        "claim_warning": "fired",
        "claim_deadline": "fired",
        "claim_supervision": "cancelled",
    }
    assert e2e.overdue_ids() == set()

    # the ladder stopped: no supervision, and the pushes already made stay on record
    e2e.tick_to(end_of_next_working_day(pushed + timedelta(hours=48)) + timedelta(hours=1))
    assert ladder(e2e, nid) == [
        ("notice", "SCJG_YP/notice_handler", None, "sent"),
        ("warning", "SCJG_YP/notice_handler", "warn", "sent"),
        ("overdue", "SCJG_YP/leader", "overdue", "sent"),
    ]
    assert e2e.instance(nid)["state"] == "claimed"
    card = e2e.scorecard(pushed - timedelta(hours=1), e2e.now())
    [drug] = card["departments"]
    assert (drug["department"], drug["claimed"], drug["claim_due"], drug["claimed_in_time"]) == (
        "SCJG_YP",
        1,
        1,
        0,
    )
    assert (drug["claim_rate"], drug["overdue_now"]) == (0.0, 0)
