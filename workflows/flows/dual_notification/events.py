"""Pydantic models of the ``data`` of each CloudEvent type the engine accepts.

Every model forbids unknown fields and takes only timezone-aware times. The registry (``EVENT_TYPES``)
is what ``POST /events`` validates against and what ``GET /events/schemas`` publishes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from workflows import uscc


def _uscc(value: str) -> str:
    problem = uscc.malformed(value)
    if problem:
        raise ValueError(problem)
    return value


Uscc = Annotated[str, Field(description="统一社会信用代码, 18 characters"), AfterValidator(_uscc)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class EventData(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LicenseIssued(EventData):
    """`license.issued`: the registration system issued a business license (营业执照)."""

    uscc: Uscc
    name: Name
    business_scope: Text
    address: Name
    street: Name
    grid: Name
    legal_representative: Name
    issued_at: AwareDatetime
    industry_codes: list[Annotated[str, Field(pattern=r"^[A-Z]?\d{2,4}$")]] = Field(default_factory=list)


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


EVENT_TYPES: dict[str, type[EventData]] = {
    "license.issued": LicenseIssued,
    "scope.changed": ScopeChanged,
    "notice.claimed": NoticeClaimed,
    "notice.returned": NoticeReturned,
    "notice.feedback": NoticeFeedback,
    "permit.issued": PermitIssued,
}
