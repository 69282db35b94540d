"""A permit asked for by another flow (``referrals.REQUEST_PERMIT_NOTICE``): the dual-notification
notice is opened when new, reopened when closed, and its department reminded when it is open.

Pure functions of (context, payload, now), as every effect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from state_machines.base import Context, Effect, Payload
from state_machines.notice_effects import delivery

#: the facts of a notice a request carries
_FACTS = (
    "uscc",
    "name",
    "address",
    "street",
    "grid",
    "permit",
    "permit_name",
    "department",
    "department_name",
)
#: what a claim, feedback or permit left on a closed notice that a reopening clears
_CLEARED = (
    "claimed_at",
    "claimed_by",
    "claim_hours",
    "claimed_in_time",
    "late",
    "claim_implied",
    "last_feedback",
    "closed_reason",
    "permit_no",
    "permit_issued_at",
    "return_reason",
)


def _entry(payload: Payload, now: datetime, action: str) -> dict[str, Any]:
    return {
        "source": payload["source"],
        "reason": payload["reason"],
        "case": payload.get("case", ""),
        "comment": payload.get("comment", ""),
        "action": action,
        "at": now.isoformat(),
    }


def _facts(ctx: Context, payload: Payload, now: datetime) -> dict[str, Any]:
    facts = {key: payload[key] for key in _FACTS if payload.get(key) not in (None, "")}
    facts["license_issued_at"] = (
        ctx.get("license_issued_at") or payload.get("license_issued_at") or now.isoformat()
    )
    return facts


def open_requested(ctx: Context, payload: Payload, now: datetime) -> Effect:
    """A notice no license planned: started by the request and pushed to its department."""
    update = {
        **_facts(ctx, payload, now),
        "pushed_at": now.isoformat(),
        "escalations": [],
        "pushes": ctx.get("pushes", 0) + 1,
        "requests": [*ctx.get("requests", []), _entry(payload, now, "opened")],
    }
    return Effect(update, (delivery("notice", {**ctx, **update}, requested_by=payload["source"]),))


def reopen(ctx: Context, payload: Payload, now: datetime) -> Effect:
    """A closed notice the request reopens: pushed again, its earlier claim and outcome kept in
    ``reopened_from``."""
    earlier = {key: ctx.get(key) for key in _CLEARED if ctx.get(key) is not None}
    update: dict[str, Any] = {key: None for key in _CLEARED}
    update.update(
        _facts(ctx, payload, now),
        pushed_at=now.isoformat(),
        escalations=[],
        pushes=ctx.get("pushes", 0) + 1,
        requests=[*ctx.get("requests", []), _entry(payload, now, "reopened")],
        reopened_from=[*ctx.get("reopened_from", []), earlier],
    )
    return Effect(update, (delivery("notice", {**ctx, **update}, reopened=True),))


def remind(ctx: Context, payload: Payload, now: datetime) -> Effect:
    """An open notice: its department is reminded that another flow found the permit needed."""
    update = {"requests": [*ctx.get("requests", []), _entry(payload, now, "reminded")]}
    emit = delivery("requested", ctx, source=payload["source"], comment=payload.get("comment", ""))
    return Effect(update, (emit,))
