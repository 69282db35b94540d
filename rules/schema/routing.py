"""permit_routing.yaml: business-scope keywords and industry codes → permit items → departments."""

from __future__ import annotations

from pydantic import Field, model_validator

from rules.schema.common import Code, RuleModel


class PermitItem(RuleModel):
    code: Code
    name: str
    """Chinese name of the permit (许可事项), e.g. 食品经营许可."""


class Route(RuleModel):
    """One row: any keyword found in the business scope (or any industry code) needs ``permit``,
    approved by ``approving`` and supervised by every department in ``supervising`` (谁审批、谁监管)."""

    keywords: list[str] = Field(default_factory=list)
    industry_codes: list[str] = Field(default_factory=list)
    """GB/T 4754 industry codes, matched by prefix: ``"61"`` covers ``"6110"``."""
    permit: PermitItem
    approving: Code
    supervising: list[Code] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_a_trigger(self) -> Route:
        if not self.keywords and not self.industry_codes:
            raise ValueError("a route needs at least one keyword or industry code")
        if any(not k.strip() for k in self.keywords):
            raise ValueError("a keyword must not be empty")
        return self


class ReviewKeyword(RuleModel):
    """A keyword that needs a person to decide (manual routing): the match is ``ambiguous``."""

    keyword: str
    reason: str
    candidates: list[Code] = Field(default_factory=list)
    """Permit item codes the operator will most likely choose from."""


class PermitRouting(RuleModel):
    routes: list[Route]
    review_keywords: list[ReviewKeyword] = Field(default_factory=list)
    negation_words: list[str] = Field(default_factory=list)
    """Words that cancel a keyword later in the same clause: 不含危险化学品经营 needs no permit."""

    def permit_items(self) -> dict[str, PermitItem]:
        return {route.permit.code: route.permit for route in self.routes}
