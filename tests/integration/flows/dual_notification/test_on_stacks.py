"""Notices through the engine, the sweeper and the deliveries actor, on both stacks."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from rules import RuleSet
from tests.integration.flows.dual_notification.conftest import notice_stack
from tests.notices import HOTEL, PHARMACY, deliveries, facts, send, start_notice
from tests.support import Stack, wait_until
from worker import PLUGINS
from workflows.engine.commands import Cause, StartSpec
from workflows.flows.dual_notification.events import LicenseIssued
from workflows.flows.dual_notification.planning import plan_license
from workflows.store.models import History, Instance, Outbox


def advance_past(stack: Stack, instance_id: int, timer: str) -> None:
    """Move the simulated clock just past ``timer`` of the notice, then sweep it."""
    [row] = [t for t in stack.timers(instance_id) if t.name == timer and t.status == "armed"]
    stack.clock.advance(row.due_at - stack.clock.now() + timedelta(minutes=1))
    stack.runtime.sweeper.sweep()
    stack.settle()


def test_push_warning_overdue_and_supervision_reach_the_right_people(nstack: Stack) -> None:
    outcome = start_notice(nstack, facts())
    assert outcome.state == "awaiting_claim"
    nstack.settle()
    timers = {
        t.name: t.due_at - nstack.instance(outcome.instance_id).updated_at
        for t in nstack.timers(outcome.instance_id)
    }
    assert (timers["claim_warning"], timers["claim_deadline"]) == (timedelta(hours=36), timedelta(hours=48))
    assert timers["claim_supervision"] > timedelta(hours=48)

    nstack.advance(35)
    assert nstack.runtime.sweeper.sweep().fired == 0
    nstack.advance(1.01)  # 36 h: yellow warning
    assert nstack.runtime.sweeper.sweep().fired == 1
    nstack.settle()
    nstack.advance(13)  # 49 h: overdue, to the leader
    nstack.runtime.sweeper.sweep()
    nstack.settle()
    advance_past(nstack, outcome.instance_id, "claim_supervision")

    sent = [(d.kind, d.recipient, d.status, d.channel) for d in deliveries(nstack, outcome.instance_id)]
    assert sent == [
        ("notice", "SCJG_YP/notice_handler", "sent", "log"),
        ("warning", "SCJG_YP/notice_handler", "sent", "log"),
        ("overdue", "SCJG_YP/leader", "sent", "log"),
        ("supervision", "PTB/supervisor", "sent", "log"),
    ]
    steps = [d.payload["step"] for d in deliveries(nstack, outcome.instance_id)]
    assert steps == [None, "warn", "overdue", "supervise"]
    notice = nstack.instance(outcome.instance_id)
    assert notice.state == "awaiting_claim"
    assert [e["kind"] for e in notice.context["escalations"]] == ["warning", "overdue", "supervision"]

    # a late claim is accepted, recorded as late, and the escalation stays in the history
    send(
        nstack,
        outcome.instance_id,
        "claim",
        {"officer": "王警官", "claimed_at": nstack.clock.now().isoformat()},
    )
    nstack.settle()
    notice = nstack.instance(outcome.instance_id)
    assert (notice.state, notice.context["late"], notice.context["claimed_in_time"]) == (
        "claimed",
        True,
        False,
    )
    assert notice.context["escalations_before_claim"] == ["warning", "overdue", "supervision"]
    triggers = [h.trigger for h in nstack.history(outcome.instance_id) if h.outcome == "applied"]
    assert triggers == [
        "start",
        "push",
        "claim_warning_passed",
        "claim_deadline_passed",
        "claim_supervision_passed",
        "claim",
    ]


def test_a_claim_in_time_cancels_the_ladder(nstack: Stack) -> None:
    outcome = start_notice(nstack, facts())
    nstack.advance(10)
    send(
        nstack, outcome.instance_id, "claim", {"officer": "李", "claimed_at": nstack.clock.now().isoformat()}
    )
    nstack.settle()
    nstack.advance(100)
    assert nstack.runtime.sweeper.sweep().fired == 0
    notice = nstack.instance(outcome.instance_id)
    assert (notice.context["claimed_in_time"], notice.context["claim_hours"]) == (True, 10.0)
    assert {t.status for t in nstack.timers(outcome.instance_id)} == {"cancelled"}
    assert [d.kind for d in deliveries(nstack, outcome.instance_id)] == ["notice"]


def test_returned_notice_is_rerouted_by_an_operator(nstack: Stack) -> None:
    outcome = start_notice(nstack, facts())
    send(nstack, outcome.instance_id, "return_notice", {"reason": "outside_jurisdiction"})
    nstack.settle()
    assert nstack.instance(outcome.instance_id).state == "manual_routing"
    assert {t.status for t in nstack.timers(outcome.instance_id)} == {"cancelled"}
    engine = nstack.runtime.engine
    command = engine.command(
        "dual_notification",
        "reroute",
        cause=Cause(kind="operator", operator="ops.zhang", reason="市局审批"),
        dedupe_key="op-reroute-1",
        payload={"department": "SJ_SCJG", "department_name": "市市场监管局"},
        instance_id=outcome.instance_id,
    )
    with nstack.runtime.transaction() as session:
        engine.enqueue(session, command)
    nstack.settle()
    notice = nstack.instance(outcome.instance_id)
    assert (notice.state, notice.context["department"]) == ("awaiting_claim", "SJ_SCJG")
    assert sum(t.status == "armed" for t in nstack.timers(outcome.instance_id)) == 3
    assert [(d.kind, d.recipient) for d in deliveries(nstack, outcome.instance_id)] == [
        ("notice", "SCJG_YP/notice_handler"),
        ("returned", "PTB/supervisor"),
        ("notice", "SJ_SCJG/notice_handler"),
    ]
    operator = nstack.history(outcome.instance_id)[-1]
    assert (operator.trigger, operator.cause_kind, operator.operator) == ("reroute", "operator", "ops.zhang")


def test_a_permit_before_the_claim_closes_the_notice(nstack: Stack) -> None:
    outcome = start_notice(nstack, facts())
    issued = nstack.clock.now().isoformat()
    send(nstack, outcome.instance_id, "permit_issue", {"permit_no": "YP-1", "issued_at": issued})
    nstack.settle()
    send(nstack, outcome.instance_id, "claim", {"officer": "迟到", "claimed_at": issued})  # out of order
    nstack.settle()
    notice = nstack.instance(outcome.instance_id)
    assert (notice.state, notice.context["permit_before_claim"]) == ("permit_issued", True)
    assert notice.closed_at is not None  # recorded, not reopened
    assert notice.context["claimed_by"] == "迟到"
    last = nstack.history(outcome.instance_id)[-1]
    assert (last.trigger, last.outcome) == ("claim", "applied")


def test_redelivered_start_and_push_do_nothing_twice(nstack: Stack) -> None:
    first = start_notice(nstack, facts())
    again = start_notice(nstack, facts())
    nstack.settle()
    assert (again.status, again.instance_id) == ("duplicate", first.instance_id)
    assert len(deliveries(nstack, first.instance_id)) == 1


def _refer(nstack: Stack) -> int:
    outcome = start_notice(nstack, facts())
    # claim and feedback are in flight together: either order ends in `referred`
    send(
        nstack, outcome.instance_id, "claim", {"officer": "李", "claimed_at": nstack.clock.now().isoformat()}
    )
    send(
        nstack, outcome.instance_id, "feedback", {"status": "suspected_unlicensed", "comment": "未办证已营业"}
    )
    wait_until(lambda: nstack.instance(outcome.instance_id).state == "referred", what="the referral")
    return outcome.instance_id


def _grid_tasks(stack: Stack) -> list[Instance]:
    with stack.runtime.db.read() as session:
        return list(session.execute(select(Instance).where(Instance.flow == "grid_check")).scalars())


def test_a_suspected_unlicensed_referral_waits_in_the_outbox_until_the_grid_check_runs(
    stack_kind: str, tmp_path: Path
) -> None:
    without = [p for p in PLUGINS if p.name != "grid_check"]
    with notice_stack(stack_kind, tmp_path, plugins=without) as before:
        _refer(before)
        with before.runtime.db.read() as session:
            rows = list(session.execute(select(Outbox).where(Outbox.queue == "grid_check")).scalars())
        [row] = rows
        text = json.dumps(row.message, ensure_ascii=False)
        assert PHARMACY in text and "suspected_unlicensed" in text and "未办证已营业" in text
        assert row.done_at is None and _grid_tasks(before) == []
    # the grid check is deployed: the held referral is delivered, once
    with notice_stack(stack_kind, tmp_path, reset=False) as after:
        after.runtime.recovery.run()
        wait_until(lambda: any(t.state == "assigned" for t in _grid_tasks(after)), what="the grid task")
        after.settle()
        [task] = _grid_tasks(after)
        assert (task.subject, task.context["task_kind"]) == (PHARMACY, "referral")
        assert task.context["referral"]["comment"] == "未办证已营业"
        with after.runtime.db.read() as session:
            delivered = session.get(Outbox, row.id)
            assert delivered is not None and delivered.done_at is not None


def test_a_suspected_unlicensed_referral_starts_a_grid_check_routed_by_its_grid(nstack: Stack) -> None:
    _refer(nstack)
    nstack.settle()
    [task] = _grid_tasks(nstack)
    assert (task.state, task.subject, task.context["task_kind"]) == ("assigned", PHARMACY, "referral")
    assert task.context["referral"]["reason"] == "suspected_unlicensed"
    # this stack has no grid directory: the district office holds it
    assert task.context["level"] == "district"


def test_a_license_registration_fans_out_to_departments_and_the_enterprise(
    nstack: Stack, ruleset: RuleSet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="yunshang.deliveries")
    engine = nstack.runtime.engine
    for uscc, scope in ((PHARMACY, "药品零售;食品销售"), (HOTEL, "住宿服务")):
        event = LicenseIssued(
            uscc=uscc,
            name="测试企业",
            business_scope=scope,
            address="崂山区",
            street="ZHONGHAN",
            grid="ZH-001",
            legal_representative="张三",
            issued_at=nstack.clock.now(),
        )
        plan = plan_license(ruleset, event)
        command = engine.command(
            "license_registration",
            "register",
            cause=Cause(kind="event", id=f"reg-{uscc}"),
            dedupe_key=f"reg-{uscc}",
            payload=plan.payload(),
            business_key=uscc,
            start=StartSpec(subject=uscc, context=plan.enterprise.context()),
        )
        with nstack.runtime.transaction() as session:
            engine.enqueue(session, command)
    nstack.settle()
    with nstack.runtime.db.read() as session:
        notices = session.execute(
            select(Instance.business_key, Instance.state).where(Instance.flow == "dual_notification")
        ).all()
    assert sorted(notices) == sorted(
        [
            (f"{PHARMACY}:DRUG_RETAIL:SCJG_YP", "awaiting_claim"),
            (f"{PHARMACY}:FOOD_BUSINESS:SCJG_SP", "awaiting_claim"),
            (f"{HOTEL}:PUBLIC_PLACE_HYGIENE:WJJ", "awaiting_claim"),
            (f"{HOTEL}:HOTEL_SPECIAL_TRADE:GAFJ", "awaiting_claim"),
        ]
    )
    pushed = sorted((d.kind, d.recipient) for d in deliveries(nstack))
    assert pushed == sorted(
        [
            ("notice", "SCJG_YP/notice_handler"),
            ("notice", "SCJG_SP/notice_handler"),
            ("notice", "WJJ/notice_handler"),
            ("notice", "GAFJ/notice_handler"),
            ("reminder", f"enterprise/{PHARMACY}"),
            ("reminder", f"enterprise/{HOTEL}"),
        ]
    )
    # notices and log-channel pushes are done in the registration's own transaction: no message
    # started a notice or carried a push, and every push was recorded as sent when it was recorded
    with nstack.runtime.db.read() as session:
        actors = set(session.execute(select(Outbox.actor)).scalars())
        registered = set(session.execute(select(History.at).where(History.trigger == "register")).scalars())
    assert actors == {"license_registration.advance"}
    rows = deliveries(nstack)
    assert {(d.status, d.attempts, d.channel) for d in rows} == {("sent", 1, "log")}
    assert all(d.created_at == d.sent_at and d.created_at >= min(registered) for d in rows)
    logged = [r.getMessage() for r in caplog.records if r.name == "yunshang.deliveries"]
    assert sorted(line.split(" ")[1] for line in logged) == sorted(d.dedupe_key for d in rows)


def test_a_push_the_rules_address_to_nobody_is_recorded_dead(nstack: Stack) -> None:
    outcome = start_notice(nstack, facts())
    nstack.settle()
    service = nstack.runtime.deliveries
    body = {"flow": "dual_notification", "instance_id": outcome.instance_id, "payload": {"kind": "gossip"}}
    first = service.push(body, "no-recipient-1")
    again = service.push(body, "no-recipient-1")
    assert (first.status, again.status, first.delivery_id) == ("dead", "dead", again.delivery_id)
    [row] = [d for d in deliveries(nstack, outcome.instance_id) if d.dedupe_key == "no-recipient-1"]
    assert (row.status, row.recipient) == ("dead", "")
    assert "unknown push kind 'gossip'" in (row.last_error or "")
