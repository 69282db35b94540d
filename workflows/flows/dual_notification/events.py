"""The ``data`` models of the dual-notification (双告知) event types: licenses, scope changes, the
departments' claims, returns and feedback, and permits. Strict: unknown fields and naive times are
refused."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from workflows.plugins.events import EventData, Name, Text, Uscc
from workflows.upstream.registration import LicenseIssued

__all__ = [
    "LicenseIssued",
    "NoticeClaimed",
    "NoticeFeedback",
    "NoticeRef",
    "NoticeReturned",
    "PermitIssued",
    "ScopeChanged",
]


class ScopeChanged(EventData):
    """`scope.changed`: the enterprise's business scope was changed."""

    uscc: Uscc
    business_scope: Text
    changed_at: AwareDatetime
    industry_codes: list[Annotated[str, Field(pattern=r"^[A-Z]?\d{2,4}$")]] = Field(default_factory=list)


class NoticeRef(EventData):
    """A notice, by id or by (uscc, permit item, department)."""

    notice: int | None = None
    uscc: Uscc | None = None
    permit_item: Name | None = None
    department: Name | None = None

    @model_validator(mode="after")
    def _identifies_a_notice(self) -> NoticeRef:
        if self.notice is None and not (self.uscc and self.permit_item and self.department):
            raise ValueError(
                "name the notice: give `notice` (its id) or all of `uscc`, `permit_item`, `department`"
            )
        return self


class NoticeClaimed(NoticeRef):
    """`notice.claimed`: a department claimed a dual-notification notice."""

    officer: Name
    claimed_at: AwareDatetime


class NoticeReturned(NoticeRef):
    """`notice.returned`: a department returned a notice (not its item / outside its jurisdiction)."""

    reason: Literal["not_our_item", "outside_jurisdiction", "other"]
    comment: str = Field(default="", max_length=2000)


class NoticeFeedback(NoticeRef):
    """`notice.feedback`: the department reports where the enterprise stands."""

    status: Literal["applied", "accepted", "not_applied_reminded", "not_needed", "suspected_unlicensed"]
    comment: str = Field(default="", max_length=2000)


class PermitIssued(EventData):
    """`permit.issued`: the approving department issued the permit."""

    uscc: Uscc
    permit_item: Name
    department: Name
    permit_no: Name
    issued_at: AwareDatetime
