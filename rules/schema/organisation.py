"""organisation.yaml: the district, its departments, streets, grids, roles and escalation levels."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rules.schema.common import Code, Name, RuleModel, Target

UnitKind = Literal["department", "street", "grid"]


class District(RuleModel):
    code: Code
    """Administrative division code, e.g. ``"370212"`` (positions 3–8 of a local USCC)."""
    name: str
    city: str


class Role(RuleModel):
    """A kind of post, e.g. ``leader`` or ``grid_worker``; ``units`` says which kinds of unit have it."""

    code: Name
    name: str
    units: list[UnitKind]


class Department(RuleModel):
    code: Code
    name: str
    short_name: str
    level: Literal["district", "city"] = "district"
    parent: Code | None = None
    """A section (科室) names the bureau it belongs to."""
    leader_role: Name


class Street(RuleModel):
    code: Code
    name: str
    leader_role: Name


class Grid(RuleModel):
    code: Code
    name: str
    street: Code
    worker_role: Name


class EscalationLevel(RuleModel):
    """One rung of the district's chain; ``{level: above}`` in a ladder means the next one up."""

    level: Name
    name: str
    receiver: Target


class Referrals(RuleModel):
    """Where grid checks hand cases on (无证无照经营查处办法 §5–7). No permit → the permit's department."""

    no_business_license: Code
    address_unreachable: Code


class Organisation(RuleModel):
    district: District
    roles: list[Role]
    departments: list[Department]
    streets: list[Street] = Field(default_factory=list)
    grids: list[Grid] = Field(default_factory=list)
    escalation_levels: list[EscalationLevel]
    referrals: Referrals

    def department(self, code: str) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)

    def unit_kind(self, code: str) -> UnitKind | None:
        """``department``, ``street`` or ``grid`` for a known unit code; None otherwise."""
        if any(d.code == code for d in self.departments):
            return "department"
        if any(s.code == code for s in self.streets):
            return "street"
        if any(g.code == code for g in self.grids):
            return "grid"
        return None
