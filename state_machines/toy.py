"""A four-state review flow used by the engine's tests and benchmarks.

A submission is reviewed within a deadline (``review_deadline`` in the deadline rules), then decided
and archived. A review that is not started in time escalates; an escalated review can still be decided.
A review put on hold (waiting for the submitter) stops the review clock until it is released.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from state_machines.base import Context, Effect, Emit, Flow, Payload, State, Timer, Trigger, transition


class S(StrEnum):
    awaiting_review = "awaiting_review"
    escalated = "escalated"
    decided = "decided"
    archived = "archived"
    cancelled = "cancelled"


class T(StrEnum):
    decide = "decide"
    review_deadline_passed = "review_deadline_passed"
    archive = "archive"
    note = "note"
    cancel = "cancel"
    hold = "hold"
    release = "release"


class DecidePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: str = Field(pattern="^(approve|reject)$")
    decided_at: datetime | None = None


class NotePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=500)


def _record_decision(ctx: Context, payload: Payload, now: datetime) -> Effect:
    return Effect(context={"decision": payload["decision"]})


def _escalate(ctx: Context, payload: Payload, now: datetime) -> Effect:
    return Effect(context={"escalated_at": now.isoformat()}, emits=(Emit(target="log.notify"),))


def _not_archived_twice(ctx: Context, payload: Payload, now: datetime) -> str | None:
    return None if ctx.get("decision") else "nothing was decided yet"


def _append_note(ctx: Context, payload: Payload, now: datetime) -> Effect:
    notes = [*ctx.get("notes", []), payload["text"]]
    return Effect(context={"notes": notes})


FLOW = Flow(
    name="toy",
    version=1,
    initial=S.awaiting_review,
    description=__doc__ or "",
    states=(
        State(S.awaiting_review, timers=(Timer("review_deadline", T.review_deadline_passed),)),
        State(S.escalated),
        State(S.decided),
        State(S.archived, final=True),
        State(S.cancelled, final=True),
    ),
    triggers=(
        Trigger(T.decide, DecidePayload),
        Trigger(T.review_deadline_passed),
        Trigger(T.archive),
        Trigger(T.note, NotePayload),
        Trigger(T.cancel),
        Trigger(T.hold, description="waiting for the submitter: the review clock stops"),
        Trigger(T.release, description="the submitter answered: the review clock runs on"),
    ),
    transitions=(
        transition(T.decide, (S.awaiting_review, S.escalated), S.decided, effect=_record_decision),
        transition(T.review_deadline_passed, S.awaiting_review, S.escalated, effect=_escalate),
        transition(T.archive, S.decided, S.archived, guard=_not_archived_twice),
        transition(T.note, (S.awaiting_review, S.escalated, S.decided), None, effect=_append_note),
        transition(T.cancel, (S.awaiting_review, S.escalated, S.decided), S.cancelled),
        transition(T.hold, S.awaiting_review, None, suspends=("review_deadline",)),
        transition(T.release, S.awaiting_review, None, resumes=("review_deadline",)),
    ),
)
