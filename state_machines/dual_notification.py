"""Dual notification (双告知): one notice per (enterprise, permit item, department), claimed within 48 h.

A notice is ``created`` with the facts of the enterprise and the permit (business key
``<uscc>:<permit>:<department>``) and ``push``-ed to the department at once: that transition emits the
delivery and arms the claim timers of ``awaiting_claim`` (deadlines.yaml). The yellow warning, the
overdue push to the department's leader and the supervision (督办) by the platform office are internal
transitions: the notice stays unclaimed, each step is appended to ``escalations`` and delivered to
whoever the escalation ladder names. A claim is accepted whenever it comes; one after the claim window
(``claim_window_hours``, copied from the rules when the notice was planned) is recorded as ``late``.
Feedback moves a claimed notice along (applied → accepted → permit issued); ``suspected_unlicensed``
refers the enterprise to a grid first check. A department may return a notice (manual routing) and an
operator re-routes it to another department. A permit may arrive before anything else: it is recorded,
with ``permit_before_claim``. Events that arrive out of order are absorbed, not lost: feedback before
the claim counts as an implied claim, and the real claim arriving afterwards fills in who and when.
"""

from __future__ import annotations

from enum import StrEnum

from state_machines.base import Flow, State, Timer, TimerKind, Trigger, transition
from state_machines.notice_effects import (
    FEEDBACK_DEST,
    CancelPayload,
    ClaimPayload,
    CloseNotNeededPayload,
    FeedbackPayload,
    PermitPayload,
    PushPayload,
    ReroutePayload,
    ReturnPayload,
    cancel,
    claim,
    claim_guard,
    close_not_needed,
    escalate,
    feedback,
    feedback_guard,
    late_claim_guard,
    permit_issue,
    push,
    push_guard,
    reroute,
    return_notice,
    same_department,
)
from state_machines.notice_requests import open_requested, remind, reopen
from state_machines.referrals import REFER_TO_GRID_CHECK, REQUEST_PERMIT, PermitRequest, permit_notice_key

FLOW_NAME = "dual_notification"


class S(StrEnum):
    created = "created"
    awaiting_claim = "awaiting_claim"
    claimed = "claimed"
    applied = "applied"
    accepted = "accepted"
    not_applied_reminded = "not_applied_reminded"
    referred = "referred"
    manual_routing = "manual_routing"
    permit_issued = "permit_issued"
    not_needed = "not_needed"
    cancelled = "cancelled"


class T(StrEnum):
    push = "push"
    claim = "claim"
    claim_warning_passed = "claim_warning_passed"
    claim_deadline_passed = "claim_deadline_passed"
    claim_supervision_passed = "claim_supervision_passed"
    return_notice = "return_notice"
    reroute = "reroute"
    feedback = "feedback"
    permit_issue = "permit_issue"
    close_not_needed = "close_not_needed"
    cancel = "cancel"
    request_permit = REQUEST_PERMIT


#: claimed and being followed up: feedback, late claims and returns are accepted here
TRACKING = (S.claimed, S.applied, S.accepted, S.not_applied_reminded, S.referred)
#: every state a notice can still leave
OPEN = (S.created, S.awaiting_claim, *TRACKING, S.manual_routing)
#: the closed ones (a permit request reopens them)
CLOSED = (S.permit_issued, S.not_needed, S.cancelled)

_CLAIM_TIMERS = (
    Timer("claim_warning", T.claim_warning_passed, kind=TimerKind.warning),
    Timer("claim_deadline", T.claim_deadline_passed),
    Timer("claim_supervision", T.claim_supervision_passed),
)

FLOW = Flow(
    name=FLOW_NAME,
    version=1,
    initial=S.created,
    description=__doc__ or "",
    sends=(REFER_TO_GRID_CHECK,),
    states=(
        State(S.created, description="planned; pushed to the department within seconds"),
        State(S.awaiting_claim, timers=_CLAIM_TIMERS, description="pushed, waiting for the claim"),
        State(S.claimed, description="claimed by the department, no feedback yet"),
        State(S.applied, description="the enterprise applied for the permit"),
        State(S.accepted, description="the application was accepted"),
        State(S.not_applied_reminded, description="not applied yet; the enterprise was reminded"),
        State(S.referred, description="suspected unlicensed operation, referred to a grid check"),
        State(S.manual_routing, description="returned by the department; an operator re-routes it"),
        State(S.permit_issued, final=True, description="the permit was issued"),
        State(S.not_needed, final=True, description="no permit needed (feedback or scope change)"),
        State(S.cancelled, final=True, description="cancelled by an operator"),
    ),
    triggers=(
        Trigger(T.push, PushPayload, "push the notice to its department (system)"),
        Trigger(T.claim, ClaimPayload, "the department claimed the notice (notice.claimed)"),
        Trigger(T.claim_warning_passed, description="timer: yellow warning"),
        Trigger(T.claim_deadline_passed, description="timer: claim overdue"),
        Trigger(T.claim_supervision_passed, description="timer: supervision (督办)"),
        Trigger(T.return_notice, ReturnPayload, "the department returned the notice (notice.returned)"),
        Trigger(T.reroute, ReroutePayload, "an operator routes the notice to a department"),
        Trigger(T.feedback, FeedbackPayload, "the department reports progress (notice.feedback)"),
        Trigger(T.permit_issue, PermitPayload, "the permit was issued (permit.issued)"),
        Trigger(T.close_not_needed, CloseNotNeededPayload, "a scope change dropped the permit item"),
        Trigger(T.cancel, CancelPayload, "an operator cancelled the notice"),
        Trigger(T.request_permit, PermitRequest, "another flow found the permit needed (grid check)"),
    ),
    transitions=(
        transition(T.push, S.created, S.awaiting_claim, guard=push_guard, effect=push),
        transition(T.claim, S.awaiting_claim, S.claimed, guard=claim_guard, effect=claim),
        # a claim after feedback or after the permit (events out of order) is recorded, not refused
        transition(T.claim, (*TRACKING, S.permit_issued), None, guard=late_claim_guard, effect=claim),
        transition(T.claim_warning_passed, S.awaiting_claim, None, effect=escalate("warning")),
        transition(T.claim_deadline_passed, S.awaiting_claim, None, effect=escalate("overdue")),
        transition(T.claim_supervision_passed, S.awaiting_claim, None, effect=escalate("supervision")),
        transition(
            T.return_notice,
            (S.awaiting_claim, *TRACKING),
            S.manual_routing,
            guard=same_department,
            effect=return_notice,
        ),
        transition(T.reroute, (S.manual_routing, S.awaiting_claim), S.awaiting_claim, effect=reroute),
        *(
            transition(
                T.feedback,
                (S.awaiting_claim, *TRACKING),
                dest,
                guard=feedback_guard(status),
                effect=feedback,
            )
            for status, dest in FEEDBACK_DEST.items()
        ),
        transition(T.permit_issue, OPEN, S.permit_issued, guard=same_department, effect=permit_issue),
        transition(T.close_not_needed, OPEN, S.not_needed, effect=close_not_needed),
        transition(T.cancel, OPEN, S.cancelled, effect=cancel),
        # a permit another flow found needed: opened, reopened, or its department reminded
        transition(T.request_permit, S.created, S.awaiting_claim, effect=open_requested),
        transition(T.request_permit, CLOSED, S.awaiting_claim, effect=reopen),
        transition(T.request_permit, (S.awaiting_claim, *TRACKING, S.manual_routing), None, effect=remind),
    ),
)


def notice_key(uscc: str, permit: str, department: str) -> str:
    """The business key of a notice: one per (enterprise, permit item, department) at a time. A later
    notice for the same item, after the first was closed (a scope that dropped the item and named it
    again), is ``<key>#2``, then ``#3``…"""
    return permit_notice_key(uscc, permit, department)


def base_key(business_key: str) -> str:
    """The (enterprise, permit item, department) key of a notice's business key."""
    return business_key.split("#", 1)[0]
