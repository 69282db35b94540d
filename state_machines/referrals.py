"""Referrals: one flow hands a case to another through that flow's declared trigger and payload model.

The grid first check (网格首检) flow is not built yet; this module is its half of the contract the
dual-notification flow already relies on. A notice whose department reports ``suspected_unlicensed``
fires ``REFER_TO_GRID_CHECK`` (``grid_check.refer``) with a ``Referral``; the grid-check flow, when it
is built, names its flow ``GRID_CHECK`` and declares ``Trigger(REFER, Referral)``, and the registry
refuses a flow that sends a trigger its target declares differently. Until a plug-in runs
``grid_check``, the referral waits in the outbox for a process that declares ``grid_check.advance``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from state_machines.base import TriggerRef

#: the grid first check flow's name and its trigger that takes a referral
GRID_CHECK = "grid_check"
REFER = "refer"

_Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")]


class Referral(BaseModel):
    """A case referred to another flow: what it is about (the sender's summary facts), who sent it,
    why, and when. Times are timezone-aware; on the wire they are ISO 8601 strings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    uscc: str = Field(min_length=18, max_length=18)
    name: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=200)
    street: str = Field(default="", max_length=64)
    grid: str = Field(default="", max_length=64)
    permit: _Code | None = None
    permit_name: str = Field(default="", max_length=200)
    department: _Code | None = None
    department_name: str = Field(default="", max_length=200)
    license_issued_at: AwareDatetime | None = None
    pushed_at: AwareDatetime | None = None
    source: _Code
    """The flow that referred the case (``dual_notification``)."""
    reason: _Code
    """Why, in the sender's words: ``suspected_unlicensed`` (经营者疑似无证经营)."""
    comment: str = Field(default="", max_length=2000)
    referred_at: AwareDatetime


REFER_TO_GRID_CHECK = TriggerRef(GRID_CHECK, REFER, Referral)
"""Start (or reach) the grid first check of an enterprise with a ``Referral``."""


# ----------------------------------------------------------------------------- grid check → notice
#: the dual-notification flow's name and its trigger that opens (or reopens) a notice on request
DUAL_NOTIFICATION = "dual_notification"
REQUEST_PERMIT = "request_permit"


class PermitRequest(BaseModel):
    """A permit another flow found an enterprise needs (a grid check's ``permit_needed``): the notice
    for (enterprise, permit item, department) is opened, reopened when closed, or reminded when open."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    uscc: str = Field(min_length=18, max_length=18)
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(default="", max_length=200)
    street: str = Field(default="", max_length=64)
    grid: str = Field(default="", max_length=64)
    permit: _Code
    permit_name: str = Field(min_length=1, max_length=200)
    department: _Code
    department_name: str = Field(default="", max_length=200)
    license_issued_at: AwareDatetime | None = None
    source: _Code
    """The flow that asks (``grid_check``)."""
    reason: _Code
    """Why: ``permit_needed`` (a grid worker found the business needs the permit)."""
    case: str = Field(default="", max_length=200)
    """The asking case, e.g. ``grid_check#42``."""
    comment: str = Field(default="", max_length=2000)
    requested_at: AwareDatetime


REQUEST_PERMIT_NOTICE = TriggerRef(DUAL_NOTIFICATION, REQUEST_PERMIT, PermitRequest)
"""Open, reopen or remind the dual-notification notice of a ``PermitRequest``."""


def permit_notice_key(uscc: str, permit: str, department: str) -> str:
    """The business key of the notice of (enterprise, permit item, department)."""
    return f"{uscc}:{permit}:{department}"
