"""The event types of the joint inspection: a department's result, and a follow-up case resolved."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field

from workflows.plugins.events import EventData, Name

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")]


class ResultRecorded(EventData):
    """`inspection.result.recorded`: a department's result for one drawn object."""

    inspection: int = Field(ge=1)
    department: Code
    officer: Code
    result: Code
    """A result category of sampling.yaml (NO_PROBLEM, PENDING_FOLLOW_UP, …)."""
    comment: str = Field(default="", max_length=2000)
    inspected_at: AwareDatetime


class FollowUpResolved(EventData):
    """`inspection.follow_up.resolved`: the department resolved a follow-up case."""

    case: int = Field(ge=1)
    department: Code
    outcome: Name
    comment: str = Field(default="", max_length=2000)
    resolved_at: AwareDatetime
