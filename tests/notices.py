"""Builders shared by the dual-notification tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from state_machines import dual_notification, grid_check, joint_inspection, license_registration
from state_machines.base import Emit, Flow
from state_machines.dual_notification import notice_key
from tests.support import Stack
from workflows.engine.commands import Cause, StartSpec, validate_payload
from workflows.engine.core import Outcome
from workflows.engine.machines import Fired, FlowMachine, Refused
from workflows.store.models import Delivery

FLOWS = {
    f.name: f
    for f in (
        license_registration.FLOW,
        dual_notification.FLOW,
        grid_check.FLOW,
        joint_inspection.FLOW,
        joint_inspection.FOLLOW_UP_FLOW,
    )
}
PHARMACY = "91370212MA3QK7T84W"
HOTEL = "913702121635678027"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 Asia/Shanghai


def facts(
    uscc: str = PHARMACY,
    permit: str = "DRUG_RETAIL",
    department: str = "SCJG_YP",
    *,
    license_issued_at: datetime = T0,
    window: float | None = 48.0,
) -> dict[str, Any]:
    return {
        "uscc": uscc,
        "name": "青岛崂山仁心大药房有限公司",
        "permit": permit,
        "permit_name": "药品经营许可(零售)",
        "department": department,
        "department_name": "区市场监管局(药监)",
        "address": "青岛市崂山区海尔路1号",
        "street": "ZHONGHAN",
        "grid": "ZH-001",
        "license_issued_at": license_issued_at.isoformat(),
        "claim_window_hours": window,
    }


@dataclass
class Sim:
    """A flow instance without the database: fire triggers the way the engine does."""

    flow: Flow
    state: str
    context: dict[str, Any] = field(default_factory=dict)
    emits: list[Emit] = field(default_factory=list)

    @classmethod
    def of(cls, flow: str, context: dict[str, Any] | None = None, state: str | None = None) -> Sim:
        definition = FLOWS[flow]
        return cls(definition, state or definition.initial, dict(context or {}))

    def fire(
        self, trigger: str, payload: dict[str, Any] | None = None, now: datetime = T0
    ) -> Fired | Refused:
        clean = validate_payload(FLOWS, self.flow.name, trigger, payload or {})
        decision = FlowMachine(self.flow).fire(self.state, trigger, self.context, clean, now)
        if isinstance(decision, Fired):
            effect = decision.transition.effect
            if effect is not None:
                out = effect(self.context, clean, now)
                self.context = {**self.context, **out.context}
                self.emits.extend(out.emits)
            self.state = decision.dest
        return decision

    def ok(self, trigger: str, payload: dict[str, Any] | None = None, hours: float = 0) -> Sim:
        decision = self.fire(trigger, payload, T0 + timedelta(hours=hours))
        assert isinstance(decision, Fired), decision
        return self


def start_notice(stack: Stack, context: dict[str, Any]) -> Outcome:
    """Start a notice with its facts and push it, in one transaction (as the intake does)."""
    engine = stack.runtime.engine
    key = notice_key(context["uscc"], context["permit"], context["department"])
    command = engine.command(
        "dual_notification",
        "push",
        cause=Cause(kind="system"),
        dedupe_key="push",
        business_key=key,
        start=StartSpec(subject=context["uscc"], context=context),
    )
    with stack.runtime.transaction() as session:
        return engine.apply(session, command)


def send(
    stack: Stack, instance_id: int, trigger: str, payload: dict[str, Any] | None = None, *, key: str = ""
) -> None:
    engine = stack.runtime.engine
    dedupe = key or f"{trigger}-{instance_id}-{len(str(payload))}"
    command = engine.command(
        "dual_notification",
        trigger,
        cause=Cause(kind="event", id=dedupe),
        dedupe_key=dedupe,
        payload=payload,
        instance_id=instance_id,
    )
    with stack.runtime.transaction() as session:
        engine.enqueue(session, command)


def deliveries(stack: Stack, instance_id: int | None = None) -> list[Delivery]:
    query = select(Delivery).order_by(Delivery.id)
    if instance_id is not None:
        query = query.where(Delivery.instance_id == instance_id)
    with stack.runtime.db.read() as session:
        return list(session.execute(query).scalars())
