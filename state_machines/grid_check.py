"""Grid first check (网格首检): a task for a grid worker, and its escalation chain grid → street →
department → district.

A task starts on a new enterprise in the grid (information check 信息核查), a 12345 hotline complaint, a
grid worker's patrol finding — each ``dispatch``-ed at once to whoever the directory names for the grid
(its worker; the backup worker when that one is inactive; else the street office) — or on a referral
from another flow (``refer``: dual notification's ``suspected_unlicensed``), whose grid is looked up in
the directory within the same transaction (``grid_effects.ASSIGN_EFFECT``) and then dispatched.

The worker acknowledges (``assigned`` → ``acknowledged``) and reports the on-site first check:
``ok`` → ``verified``; ``minor_issue`` → verbal rectification (口头指出整改), ``rectifying`` until the
re-check, which closes it (``rectified``) or hands it to market supervision; ``permit_needed`` → the
permit's notices are opened through dual notification's declared entry (``REQUEST_PERMIT_NOTICE``);
``unlicensed`` (无照无证) → uploaded to the street office for comprehensive enforcement (综合执法), which
resolves it or hands it to the follow-up department (无证无照经营查处办法 §5–7); ``address_unreachable``
→ market supervision (经营异常名录). A department case closes with its report.

While the street holds the case it may order the operator to rectify within a period (责令限期改正,
``order_rectification``): the street's enforcement timers — deadline, warning and supervision — are
suspended until the period ends (``end_rectification``), then run on with the budget they had left
(``state_machines/grid_rectification.py``); the street reports its enforcement as before.

Every level's timers escalate by the ladders of escalation.yaml. A holder may return the task with a
reason (退单): the next holder gets it by an internal transition, so no timer restarts — time counts
from the first dispatch; after the rule's number of returns the district office assigns it for good
(审定). A report that overtakes the acknowledgement implies it; an acknowledgement after the report is
recorded, not refused.
"""

from __future__ import annotations

from enum import StrEnum

from state_machines.base import Flow, State, Timer, TimerKind, Trigger, transition
from state_machines.grid_effects import (
    acknowledge,
    assign,
    cancel,
    close_case,
    dispatch,
    enforce,
    escalate,
    holder_guard,
    outcome_is,
    recheck,
    rectified_is,
    refer,
    report,
    resolved_is,
    return_task,
    returnable,
    same_department,
)
from state_machines.grid_payloads import (
    AcknowledgePayload,
    AssignPayload,
    CancelPayload,
    CasePayload,
    CheckPayload,
    DispatchPayload,
    EnforcementPayload,
    RecheckPayload,
    ReturnPayload,
)
from state_machines.grid_rectification import (
    RectificationEndPayload,
    RectificationOrderPayload,
    end_guard,
    order_guard,
)
from state_machines.grid_rectification import end as end_rectification
from state_machines.grid_rectification import order as order_rectification
from state_machines.referrals import GRID_CHECK, REFER, REQUEST_PERMIT_NOTICE, Referral

FLOW_NAME = GRID_CHECK


class S(StrEnum):
    created = "created"
    routing = "routing"
    assigned = "assigned"
    acknowledged = "acknowledged"
    rectifying = "rectifying"
    street_enforcement = "street_enforcement"
    department_case = "department_case"
    verified = "verified"
    rectified = "rectified"
    permit_referred = "permit_referred"
    resolved = "resolved"
    case_closed = "case_closed"
    cancelled = "cancelled"


class T(StrEnum):
    dispatch = "dispatch"
    refer = REFER
    acknowledge = "acknowledge"
    report = "report"
    recheck = "recheck"
    enforce = "enforce"
    close_case = "close_case"
    return_task = "return_task"
    assign = "assign"
    cancel = "cancel"
    order_rectification = "order_rectification"
    end_rectification = "end_rectification"
    acknowledge_deadline_passed = "acknowledge_deadline_passed"
    first_check_warning_passed = "first_check_warning_passed"
    first_check_deadline_passed = "first_check_deadline_passed"
    first_check_department_passed = "first_check_department_passed"
    first_check_district_passed = "first_check_district_passed"
    recheck_deadline_passed = "recheck_deadline_passed"
    recheck_supervision_passed = "recheck_supervision_passed"
    enforcement_warning_passed = "enforcement_warning_passed"
    enforcement_deadline_passed = "enforcement_deadline_passed"
    enforcement_supervision_passed = "enforcement_supervision_passed"
    case_warning_passed = "case_warning_passed"
    case_deadline_passed = "case_deadline_passed"


#: with the grid: a return or the district's assignment moves the task without restarting a clock
WITH_GRID = (S.assigned, S.acknowledged)
FINAL = (S.verified, S.rectified, S.permit_referred, S.resolved, S.case_closed, S.cancelled)
#: past the acknowledgement and still open
AFTER_ACK = (S.acknowledged, S.rectifying, S.street_enforcement, S.department_case)
OPEN = (S.created, S.routing, S.assigned, *AFTER_ACK)

#: the timers of each state, by name (deadlines.yaml: flows.grid_check.<state>.<name>)
TIMERS: dict[str, tuple[str, ...]] = {
    S.assigned: ("acknowledge_deadline",),
    S.acknowledged: (
        "first_check_warning",
        "first_check_deadline",
        "first_check_department",
        "first_check_district",
    ),
    S.rectifying: ("recheck_deadline", "recheck_supervision"),
    S.street_enforcement: ("enforcement_warning", "enforcement_deadline", "enforcement_supervision"),
    S.department_case: ("case_warning", "case_deadline"),
}
_WARNINGS = frozenset({"first_check_warning", "enforcement_warning", "case_warning"})


def _timers(state: str) -> tuple[Timer, ...]:
    return tuple(
        Timer(name, f"{name}_passed", TimerKind.warning if name in _WARNINGS else TimerKind.deadline)
        for name in TIMERS.get(state, ())
    )


_DESCRIPTIONS = {
    S.created: "received, not dispatched yet",
    S.routing: "referred by another flow; its grid is being looked up",
    S.assigned: "dispatched to its holder, waiting for the acknowledgement",
    S.acknowledged: "acknowledged; the on-site first check is due",
    S.rectifying: "verbal rectification (口头指出整改) given; the re-check is due",
    S.street_enforcement: (
        "unlicensed: the street office's comprehensive enforcement (综合执法); "
        "a rectification period (责令限期改正) stops its clock"
    ),
    S.department_case: "with the follow-up department (§5–7, abnormal-operations list)",
    S.verified: "verified on site, nothing to do",
    S.rectified: "rectified, confirmed by the re-check",
    S.permit_referred: "a permit is needed: the dual-notification notices were opened",
    S.resolved: "resolved by the street (licensed, ceased or penalised)",
    S.case_closed: "closed by the follow-up department",
    S.cancelled: "cancelled by an operator",
}

FLOW = Flow(
    name=FLOW_NAME,
    version=1,
    initial=S.created,
    description=__doc__ or "",
    sends=(REQUEST_PERMIT_NOTICE,),
    states=tuple(State(s, timers=_timers(s), final=s in FINAL, description=_DESCRIPTIONS[s]) for s in S),
    triggers=(
        Trigger(T.dispatch, DispatchPayload, "dispatch the task to its holder (system)"),
        Trigger(T.refer, Referral, "another flow referred a case (dual notification)"),
        Trigger(T.acknowledge, AcknowledgePayload, "the worker acknowledged (grid.task.acknowledged)"),
        Trigger(T.report, CheckPayload, "the on-site first check (grid.check.reported)"),
        Trigger(T.recheck, RecheckPayload, "the re-check after rectification (grid.recheck.reported)"),
        Trigger(T.enforce, EnforcementPayload, "the street's enforcement (street.enforcement.reported)"),
        Trigger(T.close_case, CasePayload, "the department closed its case (department.case.reported)"),
        Trigger(T.return_task, ReturnPayload, "the holder returned the task (grid.task.returned)"),
        Trigger(T.assign, AssignPayload, "the district's binding assignment (grid.task.assigned)"),
        Trigger(T.cancel, CancelPayload, "an operator cancelled the task"),
        Trigger(
            T.order_rectification,
            RectificationOrderPayload,
            "the street ordered rectification within a period (street.rectification.ordered): "
            "its enforcement clock stops",
        ),
        Trigger(
            T.end_rectification,
            RectificationEndPayload,
            "the rectification period ended (street.rectification.ended): the enforcement clock runs on",
        ),
        *(
            Trigger(f"{name}_passed", description=f"timer: {name}")
            for names in TIMERS.values()
            for name in names
        ),
    ),
    transitions=(
        transition(T.dispatch, (S.created, S.routing), S.assigned, effect=dispatch),
        transition(T.refer, S.created, S.routing, effect=refer),
        transition(T.acknowledge, S.assigned, S.acknowledged, guard=holder_guard, effect=acknowledge),
        # an acknowledgement that the report overtook is recorded, not refused
        transition(T.acknowledge, (*AFTER_ACK, *FINAL), None, effect=acknowledge),
        transition(T.report, WITH_GRID, S.verified, guard=outcome_is("ok"), effect=report),
        transition(T.report, WITH_GRID, S.rectifying, guard=outcome_is("minor_issue"), effect=report),
        transition(T.report, WITH_GRID, S.permit_referred, guard=outcome_is("permit_needed"), effect=report),
        transition(T.report, WITH_GRID, S.street_enforcement, guard=outcome_is("unlicensed"), effect=report),
        transition(
            T.report, WITH_GRID, S.department_case, guard=outcome_is("address_unreachable"), effect=report
        ),
        transition(T.recheck, S.rectifying, S.rectified, guard=rectified_is(True), effect=recheck),
        transition(T.recheck, S.rectifying, S.department_case, guard=rectified_is(False), effect=recheck),
        transition(T.enforce, S.street_enforcement, S.resolved, guard=resolved_is(True), effect=enforce),
        transition(
            T.enforce, S.street_enforcement, S.department_case, guard=resolved_is(False), effect=enforce
        ),
        transition(T.close_case, S.department_case, S.case_closed, guard=same_department, effect=close_case),
        transition(T.return_task, WITH_GRID, None, guard=returnable, effect=return_task),
        transition(T.assign, WITH_GRID, None, effect=assign),
        transition(T.cancel, OPEN, S.cancelled, effect=cancel),
        # a rectification period (责令限期改正) stops the street's clocks and its end starts them again
        transition(
            T.order_rectification,
            S.street_enforcement,
            None,
            guard=order_guard,
            effect=order_rectification,
            suspends=TIMERS[S.street_enforcement],
        ),
        transition(
            T.end_rectification,
            S.street_enforcement,
            None,
            guard=end_guard,
            effect=end_rectification,
            resumes=TIMERS[S.street_enforcement],
        ),
        *(
            transition(f"{name}_passed", state, None, effect=escalate(name, state))
            for state, names in TIMERS.items()
            for name in names
        ),
    ),
)
