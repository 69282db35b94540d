"""License registration: one instance per enterprise (business key = USCC) that fans a license out.

The registration system's ``license.issued`` is planned at the edge against the permit-routing rules
(the dual-notification plug-in's ``planning``) and ``register``-ed here with the plan: every planned
notice is started and pushed to its department (``dual_notification``), the enterprise gets one reminder
listing the permits it needs, and the enterprise rests in ``notified``, ``no_permit_needed`` (nothing
matched) or ``routing_failed`` (an ambiguous scope: the permits that did match are pushed anyway, and
the platform office is told to route the rest; an operator's ``route`` finishes it). A ``scope.changed``
is planned the same way and ``rescope``-d: new items get new notices, dropped ones are closed as not
needed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from state_machines import dual_notification
from state_machines.base import Context, Effect, Emit, Flow, Guard, Payload, State, Trigger, transition
from state_machines.notice_effects import DELIVERIES, NoticeFacts

FLOW_NAME = "license_registration"
NOTICES = dual_notification.FLOW_NAME


class S(StrEnum):
    received = "received"
    notified = "notified"
    no_permit_needed = "no_permit_needed"
    routing_failed = "routing_failed"


class T(StrEnum):
    register = "register"
    rescope = "rescope"
    route = "route"


PlanStatus = Literal["matched", "no_match", "routing_failed"]
_DEST: dict[str, str] = {
    "matched": S.notified,
    "no_match": S.no_permit_needed,
    "routing_failed": S.routing_failed,
}


class PlannedNotice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    business_key: str = Field(min_length=1, max_length=200)
    facts: NoticeFacts


class PlanPayload(BaseModel):
    """What the rules say about a business scope: notices to start, notices to close, and why not."""

    model_config = ConfigDict(extra="forbid")
    status: PlanStatus
    notices: list[PlannedNotice] = Field(default_factory=list)
    close: list[str] = Field(default_factory=list)
    """Business keys of open notices whose permit item the scope no longer names."""
    reasons: list[str] = Field(default_factory=list)
    """Why routing failed (the review keywords found), shown to the operator who routes it."""
    business_scope: str = Field(default="", max_length=2000)


def _status_is(status: str) -> Guard:
    def guard(ctx: Context, payload: Payload, now: datetime) -> str | None:
        if payload.get("status") != status:
            return f"plan status {payload.get('status')!r} does not lead to {_DEST[status]}"
        return None

    return guard


def _apply_plan(ctx: Context, payload: Payload, now: datetime) -> Effect:
    planned: list[dict[str, Any]] = list(payload.get("notices", []))
    closed = set(payload.get("close", []))
    open_keys = [k for k in ctx.get("notices", []) if k not in closed]
    open_keys += [n["business_key"] for n in planned if n["business_key"] not in open_keys]
    permits = [p for p in ctx.get("permits", []) if p["business_key"] not in closed]
    permits += [_permit_entry(n) for n in planned]
    update: dict[str, Any] = {
        "notices": open_keys,
        "permits": permits,
        "match_status": payload["status"],
        "routing_reasons": list(payload.get("reasons", [])),
        "planned_at": now.isoformat(),
    }
    if payload.get("business_scope"):
        update["business_scope"] = payload["business_scope"]
    emits = [
        Emit(
            target=NOTICES,
            trigger=dual_notification.T.push,
            business_key=n["business_key"],
            start=True,
            subject=n["facts"]["uscc"],
            payload={"facts": n["facts"]},
        )
        for n in planned
    ]
    emits += [
        Emit(
            target=NOTICES,
            trigger=dual_notification.T.close_not_needed,
            business_key=key,
            payload={"reason": "scope_changed"},
        )
        for key in sorted(closed)
    ]
    if planned:
        emits.append(_enterprise(ctx, "reminder", permits=[_permit_entry(n) for n in planned]))
    if payload["status"] == "routing_failed":
        emits.append(_enterprise(ctx, "routing_failed", reasons=list(payload.get("reasons", []))))
    return Effect(update, tuple(emits))


def _permit_entry(notice: dict[str, Any]) -> dict[str, Any]:
    facts = notice["facts"]
    return {
        "business_key": notice["business_key"],
        "permit": facts["permit"],
        "permit_name": facts["permit_name"],
        "department": facts["department"],
        "department_name": facts.get("department_name", ""),
    }


def _enterprise(ctx: Context, kind: str, **extra: Any) -> Emit:
    facts = {k: ctx[k] for k in ("uscc", "name", "address", "street", "grid") if ctx.get(k) is not None}
    return Emit(target=DELIVERIES, payload={"kind": kind, **facts, **extra})


def _plans(trigger: str, source: str | tuple[str, ...], statuses: tuple[str, ...]) -> list[Any]:
    return [transition(trigger, source, _DEST[s], guard=_status_is(s), effect=_apply_plan) for s in statuses]


_RESTING = (S.notified, S.no_permit_needed, S.routing_failed)
_ALL = ("matched", "no_match", "routing_failed")

FLOW = Flow(
    name=FLOW_NAME,
    version=1,
    initial=S.received,
    description=__doc__ or "",
    states=(
        State(S.received, description="license received, not planned yet"),
        State(S.notified, description="notices pushed to every department concerned"),
        State(S.no_permit_needed, description="the business scope needs no post-license permit"),
        State(S.routing_failed, description="the scope needs a person to route it (manual routing)"),
    ),
    triggers=(
        Trigger(T.register, PlanPayload, "plan of a license.issued"),
        Trigger(T.rescope, PlanPayload, "plan of a scope.changed"),
        Trigger(T.route, PlanPayload, "an operator's routing of an ambiguous scope"),
    ),
    transitions=(
        *_plans(T.register, S.received, _ALL),
        *_plans(T.rescope, _RESTING, _ALL),
        *_plans(T.route, S.routing_failed, ("matched", "no_match")),
    ),
)
