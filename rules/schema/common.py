"""Building blocks every rule file shares: the strict base model, code types, escalation targets."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from rules.durations import duration_problem, percent_problem, period_problem


class RuleModel(BaseModel):
    """Base of every rule-file model: unknown keys are errors, values are taken as written."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
PLACEHOLDERS = ("$assignee", "$department", "$street", "$grid")


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} {value!r} must be text; put codes made of digits in quotes")
    return value


def _code(value: object) -> str:
    text = _text(value, "code")
    if not _CODE.match(text):
        raise ValueError(f"code '{text}' may only use letters, digits, _ and -")
    return text


def _name(value: object) -> str:
    text = _text(value, "name")
    if not _NAME.match(text):
        raise ValueError(f"'{text}' is not a valid name: use lower-case letters, digits and _")
    return text


def _unit_ref(value: object) -> str:
    text = _text(value, "unit")
    if text.startswith("$"):
        if text not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder '{text}': use one of {', '.join(PLACEHOLDERS)}")
        return text
    return _code(text)


def _duration(value: object) -> str:
    problem = duration_problem(value)
    if problem:
        raise ValueError(problem)
    assert isinstance(value, str)
    return value


def _period(value: object) -> str:
    problem = period_problem(value)
    if problem:
        raise ValueError(problem)
    assert isinstance(value, str)
    return value


def _percent(value: object) -> str:
    problem = percent_problem(value)
    if problem:
        raise ValueError(problem)
    assert isinstance(value, str)
    return value


Code = Annotated[str, BeforeValidator(_code)]
"""A stable code for a department, street, grid, permit item, ladder step … (``SCJG_YP``)."""
Name = Annotated[str, BeforeValidator(_name)]
"""A snake_case name used by the engine: roles, flows, states, timers (``claim_deadline``)."""
UnitRef = Annotated[str, BeforeValidator(_unit_ref)]
"""A unit code, or a placeholder resolved per case: ``$assignee``, ``$department``, ``$street``, ``$grid``."""
Duration = Annotated[str, BeforeValidator(_duration)]
Period = Annotated[str, BeforeValidator(_period)]
Percent = Annotated[str, BeforeValidator(_percent)]


class Target(RuleModel):
    """Who receives an escalation. Exactly one form:

    - ``{role: notice_handler, unit: $assignee}``: holders of a role in a unit;
    - ``{leader_of: SCJG}``: the unit's leader (its ``leader_role``);
    - ``{level: above}``: whoever receives escalations one level above the case's holder
      (``escalation_levels`` in organisation.yaml).
    """

    role: Name | None = None
    unit: UnitRef | None = None
    leader_of: UnitRef | None = None
    level: Literal["above"] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Target:
        forms = [
            self.role is not None or self.unit is not None,
            self.leader_of is not None,
            self.level is not None,
        ]
        if sum(forms) != 1 or (forms[0] and (self.role is None or self.unit is None)):
            raise ValueError(
                "a target is one of {role: ROLE, unit: UNIT}, {leader_of: UNIT} or {level: above}"
            )
        return self

    def describe(self) -> str:
        if self.level is not None:
            return "the level above"
        if self.leader_of is not None:
            return f"leader of {self.leader_of}"
        return f"{self.role} of {self.unit}"
