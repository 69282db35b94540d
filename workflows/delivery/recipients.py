"""Who receives a push: the organisation and escalation-ladder rules applied to one case. Pure.

A ``deliveries.push`` payload names its ``kind``; the flow plug-in's ``Resolver`` maps each kind to a
recipient with the helpers here:

* ``ladder_recipient`` — the target of the ladder step reached when the payload's ``timer`` passed in
  the payload's ``state`` (escalation.yaml), placeholders filled from the case (``$assignee`` /
  ``$department``: its department, ``$street``, ``$grid``);
* ``office`` — the platform office: the receiver of the highest escalation level (organisation.yaml
  ``escalation_levels``), the office that routes by hand;
* ``department_role`` — a role of a department (its handlers), else the department itself;
* ``enterprise`` — the enterprise itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rules import RuleSet
from rules.schema import LadderStep, StepRef, Target


class NoRecipient(ValueError):
    """The rules name nobody for this push (e.g. a ladder no longer has the step)."""


@dataclass(frozen=True)
class Recipient:
    """A role in a unit (``SCJG_YP/notice_handler``), a unit's inbox, or an enterprise."""

    kind: str  # department | street | grid | enterprise
    code: str
    role: str | None = None
    name: str = ""
    step: str | None = None
    """The ladder step that named this recipient, for escalations."""

    @property
    def address(self) -> str:
        base = f"enterprise/{self.code}" if self.kind == "enterprise" else self.code
        return f"{base}/{self.role}" if self.role else base

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "code": self.code, "role": self.role, "name": self.name}


#: (rule set, flow, push payload) → recipient; raises ``NoRecipient`` when the rules name nobody
Resolver = Callable[[RuleSet, str, Mapping[str, Any]], "Recipient"]


def enterprise(payload: Mapping[str, Any]) -> Recipient:
    return Recipient("enterprise", str(payload["uscc"]), name=str(payload.get("name", "")))


def office(ruleset: RuleSet, payload: Mapping[str, Any]) -> Recipient:
    """The platform office: the receiver of the highest escalation level."""
    levels = ruleset.organisation.escalation_levels
    if not levels:
        raise NoRecipient("organisation.yaml has no escalation_levels: nobody routes by hand")
    return _target(ruleset, levels[-1].receiver, payload)


def department_role(ruleset: RuleSet, department: str, role: str) -> Recipient:
    """``role`` in ``department`` when organisation.yaml gives departments that role, else the
    department's own inbox."""
    roles = {r.code for r in ruleset.organisation.roles if "department" in r.units}
    return Recipient(
        "department", department, role if role in roles else None, _unit_name(ruleset, department)
    )


def ladder_recipient(ruleset: RuleSet, flow: str, payload: Mapping[str, Any]) -> Recipient:
    """Whoever the ladder step reached by the payload's ``timer`` in its ``state`` names."""
    step = ladder_step(ruleset, flow, str(payload.get("state", "")), str(payload.get("timer", "")))
    found = _target(ruleset, step.target, payload)
    return Recipient(found.kind, found.code, found.role, found.name, step.code)


def ladder_step(ruleset: RuleSet, flow: str, state: str, timer: str) -> LadderStep:
    """The step a ladder of ``flow``/``state`` reaches when ``timer`` passes."""
    for ladder in ruleset.ladders_for(flow, state):
        ref: StepRef | None = ladder.start
        seen: set[str] = set()
        while ref is not None and ref.step not in seen:
            seen.add(ref.step)
            step = ladder.step(ref.step)
            if step is None:
                break
            if ref.at == timer:
                return step
            ref = step.next
    raise NoRecipient(f"no escalation ladder of {flow}.{state} has a step at {timer!r}")


def _placeholders(payload: Mapping[str, Any]) -> dict[str, str]:
    department = str(payload.get("department", ""))
    return {
        "$assignee": department,
        "$department": department,
        "$street": str(payload.get("street", "")),
        "$grid": str(payload.get("grid", "")),
    }


def _target(ruleset: RuleSet, target: Target, payload: Mapping[str, Any], depth: int = 0) -> Recipient:
    org = ruleset.organisation
    values = _placeholders(payload)
    if target.level is not None:
        holder = "department" if payload.get("department") else "grid"
        names = [level.level for level in org.escalation_levels]
        if holder not in names or names.index(holder) + 1 >= len(names) or depth > len(names):
            raise NoRecipient(f"no escalation level above {holder!r} in organisation.yaml")
        above = org.escalation_levels[names.index(holder) + 1].receiver
        return _target(ruleset, above, payload, depth + 1)
    unit = target.leader_of if target.leader_of is not None else target.unit
    code = values.get(unit or "", unit or "")
    if not code:
        raise NoRecipient(f"the push names no unit for {target.describe()}")
    kind = org.unit_kind(code) or "department"
    role = target.role if target.leader_of is None else _leader_role(ruleset, code)
    return Recipient(kind, code, role, _unit_name(ruleset, code))


def _leader_role(ruleset: RuleSet, code: str) -> str:
    org = ruleset.organisation
    department = org.department(code)
    if department is not None:
        return department.leader_role
    street = next((s for s in org.streets if s.code == code), None)
    return street.leader_role if street is not None else "leader"


def _unit_name(ruleset: RuleSet, code: str) -> str:
    org = ruleset.organisation
    department = org.department(code)
    if department is not None:
        return department.short_name
    named = {s.code: s.name for s in org.streets} | {g.code: g.name for g in org.grids}
    return named.get(code, "")
