"""Pydantic models of the rule files, and of the whole rule set they make together."""

from __future__ import annotations

from pydantic import Field

from rules.schema.calendar import Calendar, CalendarYear, Holiday
from rules.schema.common import RuleModel, Target
from rules.schema.organisation import (
    Department,
    District,
    EscalationLevel,
    Grid,
    Organisation,
    Referrals,
    Role,
    Street,
)
from rules.schema.routing import PermitItem, PermitRouting, ReviewKeyword, Route
from rules.schema.sampling import Exclusion, Recusal, RiskClass, Sampling
from rules.schema.timing import Deadlines, Escalation, Ladder, LadderStep, StepRef

FILES: dict[str, type[RuleModel]] = {
    "organisation.yaml": Organisation,
    "permit_routing.yaml": PermitRouting,
    "deadlines.yaml": Deadlines,
    "escalation.yaml": Escalation,
    "sampling.yaml": Sampling,
    "calendar.yaml": Calendar,
}
"""Every rule file of a rule set, and the model of its content."""

OPTIONAL: frozenset[str] = frozenset({"calendar.yaml"})
"""Rule files a rule set may lack: without calendar.yaml the engine's built-in calendar is used (rule
versions stored before the file existed have none)."""


class RuleSet(RuleModel):
    """A complete, validated rule set. ``content_hash`` identifies the files it was read from;
    ``locations`` maps ``"file:path"`` (``"permit_routing.yaml:routes[3]"``) to ``(line, column)``."""

    organisation: Organisation
    permit_routing: PermitRouting
    deadlines: Deadlines
    escalation: Escalation
    sampling: Sampling
    calendar: Calendar = Field(default_factory=Calendar)
    content_hash: str = ""
    locations: dict[str, tuple[int, int]] = Field(default_factory=dict, repr=False)

    def deadline(self, flow: str, state: str, timer: str) -> str | None:
        """The duration text of a timer (``"48h + 1 working day"``), or None if there is none."""
        return self.deadlines.deadline(flow, state, timer)

    def timers(self, flow: str, state: str) -> dict[str, str]:
        """Every timer to arm on entering ``state`` of ``flow``: name → duration text."""
        return dict(self.deadlines.flows.get(flow, {}).get(state, {}))

    def ladders_for(self, flow: str, state: str) -> list[Ladder]:
        return [x for x in self.escalation.ladders if x.flow == flow and x.state == state]

    def where(self, file: str, path: str) -> tuple[int, int] | None:
        return self.locations.get(f"{file}:{path}")


__all__ = [
    "FILES",
    "OPTIONAL",
    "Calendar",
    "CalendarYear",
    "Deadlines",
    "Department",
    "District",
    "Escalation",
    "EscalationLevel",
    "Exclusion",
    "Grid",
    "Holiday",
    "Ladder",
    "LadderStep",
    "Organisation",
    "PermitItem",
    "PermitRouting",
    "Recusal",
    "Referrals",
    "ReviewKeyword",
    "RiskClass",
    "Role",
    "Route",
    "RuleModel",
    "RuleSet",
    "Sampling",
    "StepRef",
    "Street",
    "Target",
]
