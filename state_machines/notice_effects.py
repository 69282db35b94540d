"""Payloads, guards and effects of the dual-notification notice (``state_machines.dual_notification``).

Pure functions of (context, payload, now). Payloads arrive JSON-ready (times as ISO strings), as the
engine validated them with the models below; everything written to the context is JSON too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from state_machines.base import PUSH_ACTOR, Context, Effect, EffectFn, Emit, Guard, Payload
from state_machines.referrals import REFER_TO_GRID_CHECK, Referral

DELIVERIES = PUSH_ACTOR

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")]
FeedbackStatus = Literal["applied", "accepted", "not_applied_reminded", "not_needed", "suspected_unlicensed"]
#: where each feedback status takes the notice
FEEDBACK_DEST: dict[str, str] = {
    "applied": "applied",
    "accepted": "accepted",
    "not_applied_reminded": "not_applied_reminded",
    "not_needed": "not_needed",
    "suspected_unlicensed": "referred",
}
#: the facts a delivery about the notice carries (recipients are resolved from them)
SUMMARY = (
    "uscc",
    "name",
    "address",
    "street",
    "grid",
    "permit",
    "permit_name",
    "department",
    "department_name",
    "license_issued_at",
    "pushed_at",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NoticeFacts(_Strict):
    """What a notice is about; the context of a new notice (or the payload of its first push)."""

    uscc: str = Field(min_length=18, max_length=18)
    name: str = Field(min_length=1, max_length=200)
    permit: Code
    permit_name: str = Field(min_length=1, max_length=200)
    department: Code
    department_name: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=200)
    street: str = Field(default="", max_length=64)
    grid: str = Field(default="", max_length=64)
    license_issued_at: AwareDatetime
    claim_window_hours: float | None = Field(default=None, gt=0)
    """The claim deadline in natural hours, from the rules when the notice was planned."""


class PushPayload(_Strict):
    facts: NoticeFacts | None = None


class ClaimPayload(_Strict):
    officer: str = Field(min_length=1, max_length=200)
    claimed_at: AwareDatetime
    department: str | None = Field(default=None, max_length=64)


class ReturnPayload(_Strict):
    reason: Literal["not_our_item", "outside_jurisdiction", "other"]
    comment: str = Field(default="", max_length=2000)
    department: str | None = Field(default=None, max_length=64)


class FeedbackPayload(_Strict):
    status: FeedbackStatus
    comment: str = Field(default="", max_length=2000)
    department: str | None = Field(default=None, max_length=64)


class PermitPayload(_Strict):
    permit_no: str = Field(min_length=1, max_length=200)
    issued_at: AwareDatetime
    department: str | None = Field(default=None, max_length=64)
    working_days: int | None = Field(default=None, ge=0)
    """Working days from the license to the permit, when the sender computed them."""


class CloseNotNeededPayload(_Strict):
    reason: str = Field(default="scope_changed", min_length=1, max_length=200)
    changed_at: AwareDatetime | None = None


class ReroutePayload(_Strict):
    department: Code
    department_name: str = Field(default="", max_length=200)
    comment: str = Field(default="", max_length=2000)


class CancelPayload(_Strict):
    reason: str = Field(min_length=1, max_length=2000)


# ------------------------------------------------------------------------------------------ helpers
def _at(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def delivery(kind: str, ctx: Context, **extra: Any) -> Emit:
    """A push about this notice: ``kind`` is notice | warning | overdue | supervision | returned."""
    facts = {key: ctx[key] for key in SUMMARY if ctx.get(key) is not None}
    return Emit(target=DELIVERIES, payload={"kind": kind, **facts, **extra})


def _claim_facts(ctx: Context, claimed_at: datetime) -> dict[str, Any]:
    """When it was claimed relative to the push, and whether that was within the claim window."""
    pushed_at = _at(ctx["pushed_at"])
    elapsed = max(claimed_at - pushed_at, timedelta(0))
    fired = [e["kind"] for e in ctx.get("escalations", [])]
    window = ctx.get("claim_window_hours")
    in_time = elapsed <= timedelta(hours=float(window)) if window else "overdue" not in fired
    return {
        "claimed_at": claimed_at.isoformat(),
        "claim_hours": round(elapsed.total_seconds() / 3600, 2),
        "claimed_in_time": in_time,
        "late": not in_time,
        "escalations_before_claim": fired,
    }


# ------------------------------------------------------------------------------------------ guards
def push_guard(ctx: Context, payload: Payload, now: datetime) -> str | None:
    facts = {**ctx, **(payload.get("facts") or {})}
    missing = [key for key in ("uscc", "permit", "department") if not facts.get(key)]
    if missing:
        return f"the notice lacks {', '.join(missing)}: start it with its facts or push them"
    return None


def same_department(ctx: Context, payload: Payload, now: datetime) -> str | None:
    department = payload.get("department")
    if department and department != ctx.get("department"):
        return f"the notice is held by {ctx.get('department')}, not {department}"
    return None


def claim_guard(ctx: Context, payload: Payload, now: datetime) -> str | None:
    return same_department(ctx, payload, now)


def late_claim_guard(ctx: Context, payload: Payload, now: datetime) -> str | None:
    """After feedback that implied the claim, or a permit that came first, the real claim still
    records who claimed it and when."""
    if ctx.get("claimed_at") and not ctx.get("claim_implied"):
        return f"the notice was already claimed by {ctx.get('claimed_by')} at {ctx.get('claimed_at')}"
    if not ctx.get("pushed_at"):
        return "the notice was never pushed, so there is nothing to claim"
    return same_department(ctx, payload, now)


def feedback_guard(status: str) -> Guard:
    def guard(ctx: Context, payload: Payload, now: datetime) -> str | None:
        if payload.get("status") != status:
            return f"feedback {payload.get('status')!r} does not lead to {FEEDBACK_DEST[status]}"
        return same_department(ctx, payload, now)

    return guard


# ------------------------------------------------------------------------------------------ effects
def push(ctx: Context, payload: Payload, now: datetime) -> Effect:
    facts = dict(payload.get("facts") or {})
    merged = {**ctx, **facts, "pushed_at": now.isoformat()}
    update = {**facts, "pushed_at": now.isoformat(), "escalations": [], "pushes": ctx.get("pushes", 0) + 1}
    return Effect(context=update, emits=(delivery("notice", merged),))


def escalate(kind: str) -> EffectFn:
    """An escalation step: recorded in the context and pushed to whoever the ladder names."""
    timer = {"warning": "claim_warning", "overdue": "claim_deadline", "supervision": "claim_supervision"}[
        kind
    ]

    def effect(ctx: Context, payload: Payload, now: datetime) -> Effect:
        step = {"kind": kind, "timer": timer, "at": now.isoformat()}
        update = {"escalations": [*ctx.get("escalations", []), step]}
        return Effect(update, (delivery(kind, ctx, timer=timer, state="awaiting_claim"),))

    return effect


def claim(ctx: Context, payload: Payload, now: datetime) -> Effect:
    update = _claim_facts(ctx, min(_at(payload["claimed_at"]), now))
    update.update(claimed_by=payload["officer"], claim_recorded_at=now.isoformat(), claim_implied=False)
    return Effect(update)


def return_notice(ctx: Context, payload: Payload, now: datetime) -> Effect:
    entry = {
        "department": ctx.get("department"),
        "reason": payload["reason"],
        "comment": payload.get("comment", ""),
        "at": now.isoformat(),
    }
    update = {"returns": [*ctx.get("returns", []), entry], "return_reason": payload["reason"]}
    emit = delivery("returned", ctx, reason=payload["reason"], comment=payload.get("comment", ""))
    return Effect(update, (emit,))


def reroute(ctx: Context, payload: Payload, now: datetime) -> Effect:
    previous = [*ctx.get("previous_departments", []), ctx.get("department")]
    update: dict[str, Any] = {
        "department": payload["department"],
        "department_name": payload.get("department_name", ""),
        "previous_departments": previous,
        "pushed_at": now.isoformat(),
        "pushes": ctx.get("pushes", 0) + 1,
        "escalations": [],
        "return_reason": None,
    }
    for key in ("claimed_at", "claimed_by", "claim_hours", "claimed_in_time", "late", "claim_implied"):
        update[key] = None
    return Effect(update, (delivery("notice", {**ctx, **update}, rerouted=True),))


def feedback(ctx: Context, payload: Payload, now: datetime) -> Effect:
    entry = {"status": payload["status"], "comment": payload.get("comment", ""), "at": now.isoformat()}
    update: dict[str, Any] = {"feedback": [*ctx.get("feedback", []), entry], "last_feedback": entry["status"]}
    if not ctx.get("claimed_at"):  # feedback overtook the claim: it implies one, now
        update.update(_claim_facts(ctx, now), claim_implied=True)
    emits: tuple[Emit, ...] = ()
    if payload["status"] == "suspected_unlicensed":
        emits = (_referral(ctx, payload, now),)
    return Effect(update, emits)


def _referral(ctx: Context, payload: Payload, now: datetime) -> Emit:
    """The grid first check of the enterprise (``grid_check.refer``), with the notice's facts."""
    facts = {key: ctx[key] for key in SUMMARY if ctx.get(key) is not None}
    referral = Referral.model_validate(
        {
            **facts,
            "source": "dual_notification",
            "reason": "suspected_unlicensed",
            "comment": payload.get("comment", ""),
            "referred_at": now,
        }
    )
    return REFER_TO_GRID_CHECK.emit(
        referral,
        business_key=f"{ctx['uscc']}:dual_notification:{ctx['permit']}:{ctx['department']}",
        start=True,
        subject=str(ctx["uscc"]),
    )


def permit_issue(ctx: Context, payload: Payload, now: datetime) -> Effect:
    update: dict[str, Any] = {
        "permit_no": payload["permit_no"],
        "permit_issued_at": _at(payload["issued_at"]).isoformat(),
        "permit_recorded_at": now.isoformat(),
        "permit_before_claim": not ctx.get("claimed_at"),
    }
    if payload.get("working_days") is not None:
        update["working_days"] = payload["working_days"]
    return Effect(update)


def close_not_needed(ctx: Context, payload: Payload, now: datetime) -> Effect:
    changed = payload.get("changed_at")
    return Effect({"closed_reason": payload.get("reason", "scope_changed"), "scope_changed_at": changed})


def cancel(ctx: Context, payload: Payload, now: datetime) -> Effect:
    return Effect({"closed_reason": "cancelled", "cancel_reason": payload["reason"]})


__all__ = [
    "FEEDBACK_DEST",
    "CancelPayload",
    "ClaimPayload",
    "CloseNotNeededPayload",
    "FeedbackPayload",
    "NoticeFacts",
    "PermitPayload",
    "PushPayload",
    "ReroutePayload",
    "ReturnPayload",
]
