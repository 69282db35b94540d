"""Recipients from the organisation and escalation rules; signatures and backoff of the webhook."""

from __future__ import annotations

from typing import Any

import pytest

from rules import RuleSet
from tests.notices import PHARMACY
from workflows.delivery.channels import encode, sign, verify
from workflows.delivery.recipients import NoRecipient
from workflows.delivery.service import Policy, compose
from workflows.flows.dual_notification.recipients import TITLES, resolve

NOTICE = {"department": "SCJG_YP", "street": "ZHONGHAN", "grid": "ZH-001", "uscc": PHARMACY, "name": "药房"}


def push(kind: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, **NOTICE, **extra}


@pytest.mark.parametrize(
    ("payload", "address", "step"),
    [
        (push("notice"), "SCJG_YP/notice_handler", None),
        (push("warning", timer="claim_warning", state="awaiting_claim"), "SCJG_YP/notice_handler", "warn"),
        (push("overdue", timer="claim_deadline", state="awaiting_claim"), "SCJG_YP/leader", "overdue"),
        (
            push("supervision", timer="claim_supervision", state="awaiting_claim"),
            "PTB/supervisor",
            "supervise",
        ),
        (push("returned", reason="not_our_item"), "PTB/supervisor", None),
        (push("reminder"), f"enterprise/{PHARMACY}", None),
    ],
)
def test_each_push_reaches_whom_the_rules_name(
    ruleset: RuleSet, payload: dict[str, Any], address: str, step: str | None
) -> None:
    recipient = resolve(ruleset, "dual_notification", payload)
    assert (recipient.address, recipient.step) == (address, step)


def test_names_come_from_the_organisation(ruleset: RuleSet) -> None:
    leader = resolve(
        ruleset, "dual_notification", push("overdue", timer="claim_deadline", state="awaiting_claim")
    )
    assert (leader.kind, leader.name) == ("department", "区市场监管局(药监)")


def test_level_above_climbs_the_escalation_levels(ruleset: RuleSet) -> None:
    payload = {"kind": "overdue", "timer": "acknowledge_deadline", "state": "assigned", "street": "ZHONGHAN"}
    recipient = resolve(ruleset, "grid_check", {**payload, "grid": "ZH-001"})
    assert (recipient.address, recipient.kind, recipient.name) == ("ZHONGHAN/leader", "street", "中韩街道")


def test_a_timer_no_ladder_names_has_no_recipient(ruleset: RuleSet) -> None:
    with pytest.raises(NoRecipient, match="no escalation ladder"):
        resolve(ruleset, "dual_notification", push("overdue", timer="nope", state="awaiting_claim"))
    with pytest.raises(NoRecipient, match="unknown push kind"):
        resolve(ruleset, "dual_notification", push("gossip"))


def test_signature_is_hmac_sha256_over_the_exact_body(ruleset: RuleSet) -> None:
    recipient = resolve(ruleset, "dual_notification", push("notice", permit_name="药品经营许可(零售)"))
    message = compose(
        "abc", {"flow": "dual_notification", "instance_id": 7, "payload": push("notice")}, recipient, TITLES
    )
    assert message["recipient"]["code"] == "SCJG_YP" and message["instance_id"] == 7
    body = encode(message)
    signature = sign("s3cret", body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify("s3cret", body, signature)
    assert not verify("other", body, signature)
    assert not verify("s3cret", body + b" ", signature)


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = Policy(max_attempts=5, min_backoff_ms=100, max_backoff_ms=500)
    assert [policy.backoff_ms(n) for n in range(1, 6)] == [100, 200, 400, 500, 500]
