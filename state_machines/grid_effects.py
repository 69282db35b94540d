"""Guards and effects of the grid first check (网格首检) task (``state_machines.grid_check``).

Pure functions of (context, payload, now). Payloads arrive JSON-ready, as the engine validated them with
the models of ``grid_payloads``; everything written to the context is JSON too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from state_machines.base import PUSH_ACTOR, Context, Effect, EffectFn, Emit, Guard, Payload
from state_machines.grid_payloads import RESOLVED
from state_machines.referrals import REQUEST_PERMIT_NOTICE, PermitRequest, permit_notice_key

#: the plug-in's in-transaction effect that looks a referred task's grid up in the directory and
#: dispatches it (a referral arrives from another flow without a holder)
ASSIGN_EFFECT = "grid_check.assign"
#: the facts every push about a task carries (its recipient is resolved from them)
SUMMARY = (
    "task_kind",
    "reference",
    "uscc",
    "name",
    "address",
    "grid",
    "grid_name",
    "street",
    "street_name",
    "level",
    "worker_id",
    "worker_name",
    "recipient",
    "department",
    "department_name",
    "dispatched_at",
)
_PLACE = ("grid", "grid_name", "street", "street_name")
#: escalation kind of each timer (escalation.yaml names the recipients)
TIMER_KINDS: dict[str, str] = {
    "acknowledge_deadline": "overdue",
    "first_check_warning": "warning",
    "first_check_deadline": "overdue",
    "first_check_department": "supervision",
    "first_check_district": "supervision",
    "recheck_deadline": "overdue",
    "recheck_supervision": "supervision",
    "enforcement_warning": "warning",
    "enforcement_deadline": "overdue",
    "enforcement_supervision": "supervision",
    "case_warning": "warning",
    "case_deadline": "supervision",
}


def push(kind: str, ctx: Context, **extra: Any) -> Emit:
    """A push about this task: ``kind`` is task | enforcement | department_case | district_review |
    warning | overdue | supervision."""
    facts = {key: ctx[key] for key in SUMMARY if ctx.get(key) not in (None, "")}
    return Emit(target=PUSH_ACTOR, payload={"kind": kind, **facts, **extra})


def _holder(assignment: Payload) -> dict[str, Any]:
    """The holder's fields of the context (a district-level holder keeps the task's grid and street)."""
    holder = {
        "level": assignment["level"],
        "worker_id": assignment.get("worker_id"),
        "worker_name": assignment.get("worker_name", ""),
        "recipient": assignment.get("recipient"),
        "binding": bool(assignment.get("binding")),
    }
    return holder | {key: assignment[key] for key in _PLACE if assignment.get(key)}


# ------------------------------------------------------------------------------------------ guards
def holder_guard(ctx: Context, payload: Payload, now: datetime) -> str | None:
    """A report comes from the worker holding the task (checked at the edge too, with a 422)."""
    worker = payload.get("worker_id")
    held = ctx.get("worker_id")
    if held and worker != held:
        return f"the task is held by {held}, not {worker}"
    return None


def outcome_is(outcome: str) -> Guard:
    def guard(ctx: Context, payload: Payload, now: datetime) -> str | None:
        if payload.get("outcome") != outcome:
            return f"outcome {payload.get('outcome')!r} is not {outcome!r}"
        return holder_guard(ctx, payload, now)

    return guard


def rectified_is(value: bool) -> Guard:
    def guard(ctx: Context, payload: Payload, now: datetime) -> str | None:
        if bool(payload.get("rectified")) is not value:
            return "the re-check says " + ("not rectified" if value else "rectified")
        return None

    return guard


def resolved_is(value: bool) -> Guard:
    def guard(ctx: Context, payload: Payload, now: datetime) -> str | None:
        if (payload.get("result") in RESOLVED) is not value:
            return f"enforcement result {payload.get('result')!r} " + ("hands over" if value else "resolves")
        if not value and not payload.get("handoff"):
            return "a hand-over names its department (handoff)"
        return None

    return guard


def returnable(ctx: Context, payload: Payload, now: datetime) -> str | None:
    if ctx.get("binding"):
        return "the district office assigned this task for good (审定): it cannot be returned"
    return None


def same_department(ctx: Context, payload: Payload, now: datetime) -> str | None:
    if payload.get("department") != ctx.get("department"):
        return f"the case is held by {ctx.get('department')}, not {payload.get('department')}"
    return None


# ------------------------------------------------------------------------------------------ effects
def dispatch(ctx: Context, payload: Payload, now: datetime) -> Effect:
    """The task goes to its holder; the first dispatch starts the clock, and nothing restarts it."""
    facts = dict(payload.get("facts") or {})
    update: dict[str, Any] = {}
    if facts:
        update.update({k: v for k, v in facts.items() if k != "kind"}, task_kind=facts["kind"])
    update.update(_holder(payload["assignment"]))
    update.setdefault("dispatched_at", ctx.get("dispatched_at") or now.isoformat())
    update.update(escalations=ctx.get("escalations", []), returns=ctx.get("returns", []))
    update["pushes"] = ctx.get("pushes", 0) + 1
    return Effect(update, (push("task", {**ctx, **update}),))


def refer(ctx: Context, payload: Payload, now: datetime) -> Effect:
    """A case another flow referred (``Referral``): its grid is looked up and the task dispatched."""
    reference = f"{payload['source']}:{payload.get('permit') or ''}:{payload.get('department') or ''}"
    facts = {
        "task_kind": "referral",
        "reference": reference,
        "uscc": payload["uscc"],
        "name": payload.get("name", ""),
        "address": payload.get("address", ""),
        "grid": payload.get("grid", ""),
        "street": payload.get("street", ""),
        "content": payload.get("comment", ""),
        "received_at": payload["referred_at"],
        "referral": dict(payload),
    }
    assign = Emit(target=ASSIGN_EFFECT, payload={"grid": facts["grid"], "street": facts["street"]})
    return Effect(facts, (assign,))


def acknowledge(ctx: Context, payload: Payload, now: datetime) -> Effect:
    if ctx.get("acknowledged_at"):
        return Effect({"late_acknowledgements": ctx.get("late_acknowledgements", 0) + 1})
    at = min(datetime.fromisoformat(str(payload["acknowledged_at"])), now).isoformat()
    return Effect({"acknowledged_at": at, "acknowledged_by": payload["worker_id"]})


def escalate(timer: str, state: str) -> EffectFn:
    """An escalation step: recorded in the context and pushed to whoever the ladder names."""
    kind = TIMER_KINDS[timer]

    def effect(ctx: Context, payload: Payload, now: datetime) -> Effect:
        step = {"kind": kind, "timer": timer, "state": state, "at": now.isoformat()}
        update = {"escalations": [*ctx.get("escalations", []), step], "escalation": timer}
        return Effect(update, (push(kind, ctx, timer=timer, state=state),))

    return effect


def report(ctx: Context, payload: Payload, now: datetime) -> Effect:
    """The first check's report; each outcome's hand-on is pushed from here."""
    outcome = str(payload["outcome"])
    check = {
        key: payload.get(key)
        for key in ("worker_id", "outcome", "checklist", "gps", "photos", "comment", "checked_at")
    }
    update: dict[str, Any] = {"check": check, "outcome": outcome, "checked_at": payload["checked_at"]}
    if payload.get("working_days") is not None:
        update["working_days_to_check"] = payload["working_days"]
    if not ctx.get("acknowledged_at"):  # the report overtook the acknowledgement: it implies one
        update.update(acknowledged_at=payload["checked_at"], acknowledged_by=payload["worker_id"])
        update["acknowledgement_implied"] = True
    emits: list[Emit] = []
    merged = {**ctx, **update}
    if outcome == "unlicensed":
        emits.append(push("enforcement", merged))
    elif outcome == "permit_needed":
        requests = [PermitRequest.model_validate(r) for r in payload.get("permit_requests", [])]
        update["permit_requests"] = [r.model_dump(mode="json") for r in requests]
        emits += [
            REQUEST_PERMIT_NOTICE.emit(
                r, business_key=permit_notice_key(r.uscc, r.permit, r.department), start=True, subject=r.uscc
            )
            for r in requests
        ]
    elif outcome == "address_unreachable":
        update.update(_handoff(payload["handoff"]))
        emits.append(push("department_case", {**merged, **update}))
    return Effect(update, tuple(emits))


def _handoff(handoff: Payload) -> dict[str, Any]:
    return {
        "department": handoff["department"],
        "department_name": handoff.get("department_name", ""),
        "handoff_basis": handoff.get("basis", ""),
    }


def recheck(ctx: Context, payload: Payload, now: datetime) -> Effect:
    entry = {key: payload.get(key) for key in ("worker_id", "rectified", "comment", "checked_at")}
    update: dict[str, Any] = {"recheck": entry}
    emits: tuple[Emit, ...] = ()
    if not payload["rectified"] and payload.get("handoff"):
        update.update(_handoff(payload["handoff"]))
        emits = (push("department_case", {**ctx, **update}),)
    return Effect(update, emits)


def enforce(ctx: Context, payload: Payload, now: datetime) -> Effect:
    entry = {
        key: payload.get(key)
        for key in ("result", "missing", "permit", "permit_name", "comment", "reported_at")
    }
    update: dict[str, Any] = {"enforcement": entry}
    emits: tuple[Emit, ...] = ()
    if payload.get("handoff"):
        update.update(_handoff(payload["handoff"]))
        emits = (push("department_case", {**ctx, **update}),)
    return Effect(update, emits)


def close_case(ctx: Context, payload: Payload, now: datetime) -> Effect:
    entry = {key: payload.get(key) for key in ("department", "result", "comment", "reported_at")}
    return Effect({"department_case": entry})


def return_task(ctx: Context, payload: Payload, now: datetime) -> Effect:
    """A return (退单) with its reason: the next holder gets the task, the clock runs on."""
    entry = {
        "by": payload["by"],
        "reason": payload["reason"],
        "comment": payload.get("comment", ""),
        "from": {key: ctx.get(key) for key in ("level", "worker_id", "grid", "street")},
        "to": payload["assignment"]["level"],
        "at": payload["returned_at"],
    }
    update: dict[str, Any] = {**_holder(payload["assignment"]), "returns": [*ctx.get("returns", []), entry]}
    kind = "district_review" if update["level"] == "district" else "task"
    return Effect(update, (push(kind, {**ctx, **update}, returned=True, reason=payload["reason"]),))


def assign(ctx: Context, payload: Payload, now: datetime) -> Effect:
    """The district office's binding assignment (审定): no more returns; the clock runs on."""
    assignment = {**payload["assignment"], "binding": True}
    update = {**_holder(assignment), "assigned_by": payload["by"], "assigned_at": now.isoformat()}
    return Effect(update, (push("task", {**ctx, **update}, binding=True),))


def cancel(ctx: Context, payload: Payload, now: datetime) -> Effect:
    return Effect({"closed_reason": "cancelled", "cancel_reason": payload["reason"]})
