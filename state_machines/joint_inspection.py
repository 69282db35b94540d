"""Cross-department double-random joint inspection (双随机联合抽查): one instance per drawn object, and
a follow-up case per problem a department finds.

A verified draw (the plug-in's ``draw`` and ``receipt``) starts one ``joint_inspection`` instance per
drawn object and ``dispatch``-es it to its group: every officer of the group gets a push. Each
department of the plan records its result (``record_result``, the official categories of
sampling.yaml); the last one moves the object to ``awaiting_publication``, and ``publish`` makes the
results public (``published``) — within 20 working days of the inspection (国办发〔2015〕58号). A result
whose category is a problem opens an ``inspection_follow_up`` case for that department, closed by its
``resolve``. Missed completion, publication and follow-up deadlines escalate by escalation.yaml.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from state_machines.base import (
    PUSH_ACTOR,
    Context,
    Effect,
    EffectFn,
    Emit,
    Flow,
    Guard,
    Payload,
    State,
    Timer,
    TimerKind,
    Trigger,
    transition,
)

FLOW_NAME = "joint_inspection"
FOLLOW_UP = "inspection_follow_up"
_Code = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DispatchPayload(_Strict):
    plan: str = Field(min_length=1, max_length=100)
    draw: int = Field(ge=1)
    uscc: str = Field(min_length=18, max_length=18)
    name: str = Field(default="", max_length=200)
    risk_class: str = Field(min_length=1, max_length=16)
    group: int = Field(ge=0)
    officers: dict[str, list[str]]
    """Officer ids of the group, by department (every department of the plan, at least two each)."""


class ResultPayload(_Strict):
    department: str = _Code
    officer: str = Field(min_length=1, max_length=64)
    code: str = _Code
    name: str = Field(default="", max_length=200)
    problem: bool = False
    comment: str = Field(default="", max_length=2000)
    inspected_at: AwareDatetime


class ReplacePayload(_Strict):
    department: str = _Code
    officer: str = Field(min_length=1, max_length=64)
    """The officer replaced."""
    replacement: str = Field(min_length=1, max_length=64)
    """The officer drawn in from the draw's stream (the receipt records it)."""
    reason: str = Field(min_length=1, max_length=2000)


class PublishPayload(_Strict):
    by: str = Field(min_length=1, max_length=200)


class OpenPayload(_Strict):
    uscc: str = Field(min_length=18, max_length=18)
    plan: str = Field(min_length=1, max_length=100)
    inspection: str = Field(min_length=1, max_length=200)
    """The business key of the inspection that found it (``<plan>:<uscc>``)."""
    department: str = _Code
    code: str = _Code
    name: str = Field(default="", max_length=200)
    comment: str = Field(default="", max_length=2000)


class ResolvePayload(_Strict):
    department: str = _Code
    outcome: str = Field(min_length=1, max_length=200)
    comment: str = Field(default="", max_length=2000)
    resolved_at: AwareDatetime


class S(StrEnum):
    created = "created"
    inspecting = "inspecting"
    awaiting_publication = "awaiting_publication"
    published = "published"
    cancelled = "cancelled"


class F(StrEnum):
    created = "created"
    open = "open"
    resolved = "resolved"


def _push(kind: str, ctx: Context, **extra: Any) -> Emit:
    facts = {
        k: ctx[k] for k in ("uscc", "name", "plan", "draw", "group", "department") if ctx.get(k) is not None
    }
    return Emit(target=PUSH_ACTOR, payload={"kind": kind, **facts, **extra})


def dispatch(ctx: Context, payload: Payload, now: datetime) -> Effect:
    officers: dict[str, list[str]] = dict(payload["officers"])
    departments = sorted(officers)
    update = {**payload, "departments": departments, "department": departments[0], "results": {}}
    update["dispatched_at"] = now.isoformat()
    pushes = [_push("inspection", update, officer=o, department=d) for d in departments for o in officers[d]]
    return Effect(update, tuple(pushes))


def _pending_after(ctx: Context, payload: Payload) -> list[str]:
    done = {*ctx.get("results", {}), payload.get("department")}
    return [d for d in ctx.get("departments", []) if d not in done]


def result_guard(last: bool) -> Guard:
    def guard(ctx: Context, payload: Payload, now: datetime) -> str | None:
        department = payload.get("department")
        if department not in ctx.get("departments", []):
            return (
                f"department {department} is not in this inspection ({', '.join(ctx.get('departments', []))})"
            )
        if department in ctx.get("results", {}):
            return f"department {department} has recorded its result already"
        if payload.get("officer") not in ctx.get("officers", {}).get(department, []):
            return f"officer {payload.get('officer')} is not of this object's group for {department}"
        if (not _pending_after(ctx, payload)) is not last:
            return "other departments' results are still due" if last else "this is the last result"
        return None

    return guard


def record_result(ctx: Context, payload: Payload, now: datetime) -> Effect:
    entry = {k: payload.get(k) for k in ("officer", "code", "name", "problem", "comment", "inspected_at")}
    results = {**ctx.get("results", {}), str(payload["department"]): entry}
    emits: tuple[Emit, ...] = ()
    if payload.get("problem"):
        opened = {
            "uscc": ctx["uscc"],
            "plan": ctx["plan"],
            "inspection": f"{ctx['plan']}:{ctx['uscc']}",
            "department": payload["department"],
            "code": payload["code"],
            "name": payload.get("name", ""),
            "comment": payload.get("comment", ""),
        }
        key = f"{ctx['uscc']}:{ctx['plan']}:{payload['department']}"
        emits = (Emit(FOLLOW_UP, "open", key, opened, start=True, subject=str(ctx["uscc"])),)
    update: dict[str, Any] = {"results": results}
    if not _pending_after(ctx, payload):
        update["inspected_at"] = max(str(r["inspected_at"]) for r in results.values())
    return Effect(update, emits)


def replace_guard(ctx: Context, payload: Payload, now: datetime) -> str | None:
    department = payload.get("department")
    if payload.get("officer") not in ctx.get("officers", {}).get(department, []):
        return f"officer {payload.get('officer')} is not of this object's group for {department}"
    if department in ctx.get("results", {}):
        return f"department {department} has recorded its result already"
    return None


def replace_officer(ctx: Context, payload: Payload, now: datetime) -> Effect:
    """The group's officer of a department is replaced; the one drawn in gets the push."""
    department, out, into = str(payload["department"]), payload["officer"], payload["replacement"]
    officers = {d: list(members) for d, members in ctx.get("officers", {}).items()}
    officers[department] = [into if o == out else o for o in officers[department]]
    step = {"department": department, "officer": out, "replacement": into, "reason": payload["reason"]}
    update = {
        "officers": officers,
        "replacements": [*ctx.get("replacements", []), {**step, "at": now.isoformat()}],
    }
    return Effect(
        update, (_push("inspection", {**ctx, **update}, officer=into, department=department, replaces=out),)
    )


#: the plug-in's in-transaction effect that writes a published inspection into the object's directory
#: row (last inspected, its result, its inspectors): the next round's exclusion and recusal read them
RECORD_EFFECT = "joint_inspection.record"


def publish(ctx: Context, payload: Payload, now: datetime) -> Effect:
    results: dict[str, Any] = dict(ctx.get("results", {}))
    problems = [r["code"] for _, r in sorted(results.items()) if r.get("problem")]
    codes = [r["code"] for _, r in sorted(results.items())]
    inspected = max((str(r["inspected_at"]) for r in results.values()), default=now.isoformat())
    record = {
        "uscc": ctx["uscc"],
        "inspected_at": inspected,
        "result": problems[0] if problems else (codes[0] if codes else "no_problem"),
        "inspectors": sorted(o for members in ctx.get("officers", {}).values() for o in members),
    }
    update = {"published_at": now.isoformat(), "published_by": payload["by"]}
    return Effect(update, (Emit(target=RECORD_EFFECT, payload=record),))


def escalate(timer: str, state: str, kind: str) -> EffectFn:
    def effect(ctx: Context, payload: Payload, now: datetime) -> Effect:
        step = {"kind": kind, "timer": timer, "state": state, "at": now.isoformat()}
        update = {"escalations": [*ctx.get("escalations", []), step]}
        return Effect(update, (_push(kind, ctx, timer=timer, state=state),))

    return effect


def cancel(ctx: Context, payload: Payload, now: datetime) -> Effect:
    return Effect({"closed_reason": "cancelled", "cancel_reason": payload.get("reason", "")})


class CancelPayload(_Strict):
    reason: str = Field(min_length=1, max_length=2000)


FLOW = Flow(
    name=FLOW_NAME,
    version=1,
    initial=S.created,
    description=__doc__ or "",
    states=(
        State(S.created, description="drawn, not dispatched yet"),
        State(
            S.inspecting,
            timers=(
                Timer("completion_warning", "completion_warning_passed", TimerKind.warning),
                Timer("completion_deadline", "completion_deadline_passed"),
            ),
            description="dispatched to its group; each department records its result",
        ),
        State(
            S.awaiting_publication,
            timers=(
                Timer("publication_warning", "publication_warning_passed", TimerKind.warning),
                Timer("publication_deadline", "publication_deadline_passed"),
            ),
            description="every department's result is in; to be made public within 20 working days",
        ),
        State(S.published, final=True, description="the results are public"),
        State(S.cancelled, final=True, description="cancelled by an operator"),
    ),
    triggers=(
        Trigger("dispatch", DispatchPayload, "the draw dispatches the object to its group (system)"),
        Trigger("record_result", ResultPayload, "a department's result (inspection.result.recorded)"),
        Trigger("replace_officer", ReplacePayload, "a group's officer is replaced (operator)"),
        Trigger("publish", PublishPayload, "the results are made public (operator)"),
        Trigger("cancel", CancelPayload, "an operator cancelled the inspection"),
        *(
            Trigger(f"{t}_passed", description=f"timer: {t}")
            for t in (
                "completion_warning",
                "completion_deadline",
                "publication_warning",
                "publication_deadline",
            )
        ),
    ),
    transitions=(
        transition("dispatch", S.created, S.inspecting, effect=dispatch),
        transition("record_result", S.inspecting, None, guard=result_guard(last=False), effect=record_result),
        transition(
            "record_result",
            S.inspecting,
            S.awaiting_publication,
            guard=result_guard(last=True),
            effect=record_result,
        ),
        transition("replace_officer", S.inspecting, None, guard=replace_guard, effect=replace_officer),
        transition("publish", S.awaiting_publication, S.published, effect=publish),
        transition("cancel", (S.created, S.inspecting, S.awaiting_publication), S.cancelled, effect=cancel),
        transition(
            "completion_warning_passed",
            S.inspecting,
            None,
            effect=escalate("completion_warning", S.inspecting, "warning"),
        ),
        transition(
            "completion_deadline_passed",
            S.inspecting,
            None,
            effect=escalate("completion_deadline", S.inspecting, "overdue"),
        ),
        transition(
            "publication_warning_passed",
            S.awaiting_publication,
            None,
            effect=escalate("publication_warning", S.awaiting_publication, "warning"),
        ),
        transition(
            "publication_deadline_passed",
            S.awaiting_publication,
            None,
            effect=escalate("publication_deadline", S.awaiting_publication, "supervision"),
        ),
    ),
)


def open_case(ctx: Context, payload: Payload, now: datetime) -> Effect:
    update = {**payload, "opened_at": now.isoformat()}
    return Effect(update, (_push("follow_up", update),))


def resolve(ctx: Context, payload: Payload, now: datetime) -> Effect:
    return Effect(
        {
            "outcome": payload["outcome"],
            "resolution": payload.get("comment", ""),
            "resolved_at": now.isoformat(),
        }
    )


def _same_department(ctx: Context, payload: Payload, now: datetime) -> str | None:
    if payload.get("department") != ctx.get("department"):
        return f"the case is {ctx.get('department')}'s, not {payload.get('department')}'s"
    return None


FOLLOW_UP_FLOW = Flow(
    name=FOLLOW_UP,
    version=1,
    initial=F.created,
    description="A follow-up case (后续处置) of a problem a joint inspection found, for one department.",
    states=(
        State(F.created, description="opened by the inspection's result"),
        State(
            F.open,
            timers=(Timer("follow_up_deadline", "follow_up_deadline_passed"),),
            description="with the department until it is resolved",
        ),
        State(F.resolved, final=True, description="resolved by the department"),
    ),
    triggers=(
        Trigger("open", OpenPayload, "a problem found by a joint inspection (system)"),
        Trigger("resolve", ResolvePayload, "the department resolved it (inspection.follow_up.resolved)"),
        Trigger("follow_up_deadline_passed", description="timer: follow_up_deadline"),
    ),
    transitions=(
        transition("open", F.created, F.open, effect=open_case),
        transition("resolve", F.open, F.resolved, guard=_same_department, effect=resolve),
        transition(
            "follow_up_deadline_passed",
            F.open,
            None,
            effect=escalate("follow_up_deadline", F.open, "overdue"),
        ),
    ),
)
