"""sampling.yaml: the double-random joint inspection policy (双随机联合抽查)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator

from rules.durations import percent_share
from rules.schema.common import Code, Percent, Period, RuleModel


class RiskClass(RuleModel):
    code: Code
    name: str
    ratio: Percent
    """Share of the class's objects drawn in an undirected plan, e.g. ``5%``."""

    @property
    def share(self) -> Decimal:
        return percent_share(self.ratio)


class Recusal(RuleModel):
    """回避: never match an officer with an object on their conflict list, nor with one they
    inspected in the last ``previous_rounds`` rounds."""

    use_conflict_list: bool = True
    previous_rounds: int = Field(default=1, ge=0)


class Exclusion(RuleModel):
    """Leave out objects inspected within ``window`` (when no problem was found, if so set: the last
    result is one of ``no_problem_results``)."""

    window: Period
    only_if_no_problem_found: bool = True
    no_problem_results: list[Code] = Field(default_factory=lambda: ["no_problem"])
    """The result codes (of ``results``) that found no problem."""


class ResultCategory(RuleModel):
    """A result category of a random inspection (市场监管领域随机抽查情况记录表); ``problem`` opens a
    follow-up case for the department that recorded it."""

    code: Code
    name: str
    problem: bool = False


class Sampling(RuleModel):
    risk_classes: list[RiskClass]
    results: list[ResultCategory] = Field(default_factory=list)
    """The result categories a department records (the official list)."""
    min_officers_per_department: int
    """Officers of each involved department per object; the law (行政处罚法 §42) asks for two."""
    recusal: Recusal
    exclusion: Exclusion

    @field_validator("min_officers_per_department")
    @classmethod
    def _at_least_two(cls, value: int) -> int:
        if value < 2:
            raise ValueError(
                f"min_officers_per_department is {value}: inspections need at least 2 officers "
                "per department (行政处罚法 §42)"
            )
        return value
