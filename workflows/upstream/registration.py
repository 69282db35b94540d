"""Events of the registration system (登记注册系统) that several flows subscribe to."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field

from workflows.plugins.events import EventData, Name, Text, Uscc

IndustryCode = Annotated[str, Field(pattern=r"^[A-Z]?\d{2,4}$")]


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
    industry_codes: list[IndustryCode] = Field(default_factory=list)
