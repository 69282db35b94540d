"""Payloads of the grid first check (网格首检) task (``state_machines.grid_check``).

Strict models: unknown fields and naive times are refused. What only the database or the rules can tell
(who holds a grid, which department a permit belongs to, how many returns make a binding assignment)
is resolved at the edge, by the plug-in's routes, and arrives here in the payload.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from state_machines.referrals import PermitRequest

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")]
Short = Annotated[str, Field(max_length=200)]

#: who holds a task: a grid's worker, the backup worker, the street office, the district office
Level = Literal["grid", "backup", "street", "district"]
TaskKind = Literal["info_check", "complaint", "finding", "referral"]
#: the outcomes of an on-site first check
Outcome = Literal["ok", "minor_issue", "permit_needed", "unlicensed", "address_unreachable"]
OUTCOMES: tuple[str, ...] = ("ok", "minor_issue", "permit_needed", "unlicensed", "address_unreachable")
#: a street's comprehensive enforcement (综合执法): resolved, or handed to a department
EnforcementResult = Literal["licensed", "ceased", "penalised", "handed_over"]
RESOLVED: tuple[str, ...] = ("licensed", "ceased", "penalised")
#: what an unlicensed operator lacks (无证无照经营查处办法 §5–7)
Missing = Literal["permit", "licence", "both"]
CaseResult = Literal["rectified", "penalised", "abnormal_listed", "closed"]
ReturnReason = Literal["not_ours", "wrong_grid", "other"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Assignment(_Strict):
    """Who holds the task, as the directory said when it was routed."""

    level: Level
    worker_id: Short | None = None
    worker_name: Short = ""
    recipient: Short | None = None
    """The grid worker app's recipient id (none for an office)."""
    grid: Short = ""
    grid_name: Short = ""
    street: Short = ""
    street_name: Short = ""
    binding: bool = False
    """A binding assignment (审定) by the district office: it cannot be returned."""


class TaskFacts(_Strict):
    """What a task is about: the start of an information check, complaint, finding or referral."""

    kind: TaskKind
    reference: Short = ""
    """The complaint id, the finding id, or the referring case."""
    uscc: str | None = Field(default=None, min_length=18, max_length=18)
    name: Short = ""
    address: Short = ""
    grid: Short
    street: Short = ""
    content: str = Field(default="", max_length=2000)
    received_at: AwareDatetime


class DispatchPayload(_Strict):
    facts: TaskFacts | None = None
    assignment: Assignment


class AcknowledgePayload(_Strict):
    worker_id: Short
    acknowledged_at: AwareDatetime


class ChecklistItem(_Strict):
    item: Short = Field(min_length=1)
    result: Literal["ok", "issue", "not_applicable"]
    note: str = Field(default="", max_length=500)


class Gps(_Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Handoff(_Strict):
    """The follow-up department a case goes to, resolved from the rules by the route."""

    department: Code
    department_name: Short = ""
    basis: Short = ""
    """Why this department (e.g. ``无证无照经营查处办法 §5``)."""


class CheckPayload(_Strict):
    """``grid.check.reported``: the on-site first check."""

    worker_id: Short
    outcome: Outcome
    checklist: list[ChecklistItem] = Field(default_factory=list, max_length=100)
    gps: Gps | None = None
    photos: list[Short] = Field(default_factory=list, max_length=50)
    comment: str = Field(default="", max_length=2000)
    checked_at: AwareDatetime
    working_days: int | None = Field(default=None, ge=0)
    """Working days from the first dispatch to the check, computed by the route."""
    permit_requests: list[PermitRequest] = Field(default_factory=list, max_length=20)
    """``permit_needed``: the notices to open, one per department."""
    handoff: Handoff | None = None
    """``address_unreachable``: the department that lists it (经营异常名录)."""


class RecheckPayload(_Strict):
    worker_id: Short
    rectified: bool
    comment: str = Field(default="", max_length=2000)
    checked_at: AwareDatetime
    handoff: Handoff | None = None
    """Not rectified: the market-supervision office it goes to."""


class EnforcementPayload(_Strict):
    """``street.enforcement.reported``: the street office's comprehensive enforcement."""

    result: EnforcementResult
    missing: Missing | None = None
    permit: Code | None = None
    permit_name: Short = ""
    handoff: Handoff | None = None
    comment: str = Field(default="", max_length=2000)
    reported_at: AwareDatetime


class CasePayload(_Strict):
    """``department.case.reported``: the follow-up department closes its case."""

    department: Code
    result: CaseResult
    comment: str = Field(default="", max_length=2000)
    reported_at: AwareDatetime


class ReturnPayload(_Strict):
    """``grid.task.returned``: the holder returns the task with a reason (退单)."""

    by: Short
    reason: ReturnReason
    comment: str = Field(default="", max_length=2000)
    assignment: Assignment
    """Who holds it next: the right grid's worker, the street office, or the district office."""
    returned_at: AwareDatetime


class AssignPayload(_Strict):
    """``grid.task.assigned``: the district office's binding assignment (审定)."""

    assignment: Assignment
    by: Short
    comment: str = Field(default="", max_length=2000)


class CancelPayload(_Strict):
    reason: str = Field(min_length=1, max_length=2000)
