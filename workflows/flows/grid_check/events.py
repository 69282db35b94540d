"""The ``data`` models of the grid first check (网格首检) event types: what starts a task (a 12345
complaint, a patrol finding; a ``license.issued`` is the registration system's, in
``workflows.upstream``) and what the grid worker's app, the street office and the departments report.

Strict: unknown fields and naive times are refused; an outcome outside the list is refused naming it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, model_validator

from state_machines.grid_payloads import (
    CaseResult,
    ChecklistItem,
    EnforcementResult,
    Gps,
    Missing,
    Outcome,
    ReturnReason,
)
from workflows.plugins.events import EventData, Name, Text, Uscc

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")]
Comment = Annotated[str, Field(max_length=2000)]


class ComplaintReceived(EventData):
    """`complaint.received`: a 12345 hotline complaint about a place in a grid."""

    complaint_id: Code
    address: Name
    grid: Code
    uscc: Uscc | None = None
    name: Name | None = None
    content: Text
    received_at: AwareDatetime


class FindingReported(EventData):
    """`grid.finding.reported`: a grid worker's patrol found something to check."""

    finding_id: Code
    worker_id: Code
    grid: Code
    address: Name
    uscc: Uscc | None = None
    name: Name | None = None
    description: Text
    found_at: AwareDatetime


class TaskRef(EventData):
    """A grid check task, by its id (the instance id the 202 and `GET /tasks` give)."""

    task: int = Field(ge=1)


class TaskAcknowledged(TaskRef):
    """`grid.task.acknowledged`: the worker took the task."""

    worker_id: Code
    acknowledged_at: AwareDatetime


class CheckReported(TaskRef):
    """`grid.check.reported`: the on-site first check."""

    worker_id: Code
    outcome: Outcome
    checklist: list[ChecklistItem] = Field(default_factory=list, max_length=100)
    gps: Gps | None = None
    photos: list[Name] = Field(default_factory=list, max_length=50)
    comment: Comment = ""
    checked_at: AwareDatetime
    permit_item: Code | None = None
    """``permit_needed``: the permit item (permit_routing.yaml code) the business needs."""
    uscc: Uscc | None = None
    """The enterprise found, when the task did not name one (a complaint about a shop)."""
    name: Name | None = None

    @model_validator(mode="after")
    def _permit_named(self) -> CheckReported:
        if self.outcome == "permit_needed" and not self.permit_item:
            raise ValueError("permit_item: an outcome of permit_needed names the permit item")
        return self


class RecheckReported(TaskRef):
    """`grid.recheck.reported`: the re-check after a verbal rectification."""

    worker_id: Code
    rectified: bool
    comment: Comment = ""
    checked_at: AwareDatetime


class EnforcementReported(TaskRef):
    """`street.enforcement.reported`: the street office's comprehensive enforcement (综合执法)."""

    street: Code
    result: EnforcementResult
    missing: Missing | None = None
    """``handed_over``: what the operator lacks (permit, licence or both; 无证无照经营查处办法 §5–7)."""
    permit_item: Code | None = None
    comment: Comment = ""
    reported_at: AwareDatetime

    @model_validator(mode="after")
    def _handoff_named(self) -> EnforcementReported:
        if self.result == "handed_over" and self.missing is None:
            raise ValueError("missing: a hand-over says what is missing (permit, licence or both)")
        if self.missing in ("permit", "both") and not self.permit_item:
            raise ValueError("permit_item: a missing permit names its permit item")
        return self


class CaseReported(TaskRef):
    """`department.case.reported`: the follow-up department closes its case."""

    department: Code
    result: CaseResult
    comment: Comment = ""
    reported_at: AwareDatetime


class TaskReturned(TaskRef):
    """`grid.task.returned`: the holder returns the task with a reason (退单)."""

    by: Code
    """The holder returning it: the worker id, or the street code for a street office."""
    reason: ReturnReason
    grid: Code | None = None
    """``wrong_grid``: the grid the task belongs to."""
    comment: Comment = ""
    returned_at: AwareDatetime

    @model_validator(mode="after")
    def _grid_named(self) -> TaskReturned:
        if self.reason == "wrong_grid" and not self.grid:
            raise ValueError("grid: a return for the wrong grid names the right one")
        return self


class TaskAssigned(TaskRef):
    """`grid.task.assigned`: the district office's binding assignment (审定) to a worker or a street."""

    by: Name
    worker_id: Code | None = None
    street: Code | None = None
    comment: Comment = ""

    @model_validator(mode="after")
    def _someone(self) -> TaskAssigned:
        if (self.worker_id is None) == (self.street is None):
            raise ValueError("worker_id: name either the worker or the street office, not both or neither")
        return self
