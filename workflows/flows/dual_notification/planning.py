"""Planning dual notifications: which notices a license (or a scope change) starts, which it closes,
and what the enterprise is reminded of. Pure: rules and events in, a plan out; no database, no clock.

    plan = plan_license(ruleset, license_issued)
    plan.status                      # matched | no_match | routing_failed
    plan.notices[0].business_key     # "<uscc>:<permit>:<department>"
    plan.notices[0].context()        # the notice's facts (the dual_notification context)
    plan.payload()                   # the license_registration ``register`` payload

A matched permit item gets one notice per department to notify (the approving one, then each
supervising one). An ambiguous scope (a review keyword) is ``routing_failed``: the permits that did
match are still planned, and the reasons go to the operator who routes the rest.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from rules import MatchResult, RuleSet, match_scope
from state_machines.dual_notification import FLOW_NAME, base_key, notice_key
from state_machines.license_registration import PlanPayload
from state_machines.notice_effects import NoticeFacts
from workflows.flows.dual_notification.events import LicenseIssued, ScopeChanged
from workflows.time.calendar import Duration, PeriodKind, WorkCalendar

PlanStatus = Literal["matched", "no_match", "routing_failed"]


@dataclass(frozen=True)
class Enterprise:
    """What the registration system told us about an enterprise."""

    uscc: str
    name: str
    license_issued_at: datetime
    address: str = ""
    street: str = ""
    grid: str = ""
    legal_representative: str = ""
    business_scope: str = ""

    @classmethod
    def from_license(cls, event: LicenseIssued) -> Enterprise:
        return cls(
            uscc=event.uscc,
            name=event.name,
            license_issued_at=event.issued_at,
            address=event.address,
            street=event.street,
            grid=event.grid,
            legal_representative=event.legal_representative,
            business_scope=event.business_scope,
        )

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> Enterprise:
        """From a ``license_registration`` instance's context (see ``registration_context``)."""
        return cls(
            uscc=str(context["uscc"]),
            name=str(context["name"]),
            license_issued_at=datetime.fromisoformat(str(context["license_issued_at"])),
            address=str(context.get("address", "")),
            street=str(context.get("street", "")),
            grid=str(context.get("grid", "")),
            legal_representative=str(context.get("legal_representative", "")),
            business_scope=str(context.get("business_scope", "")),
        )

    def context(self) -> dict[str, Any]:
        """The start context of the enterprise's ``license_registration`` instance."""
        return {
            "uscc": self.uscc,
            "name": self.name,
            "address": self.address,
            "street": self.street,
            "grid": self.grid,
            "legal_representative": self.legal_representative,
            "license_issued_at": self.license_issued_at.isoformat(),
            "business_scope": self.business_scope,
        }


@dataclass(frozen=True)
class NoticePlan:
    business_key: str
    facts: NoticeFacts

    @property
    def subject(self) -> str:
        return self.facts.uscc

    def context(self) -> dict[str, Any]:
        """The notice's start context (JSON-ready)."""
        return self.facts.model_dump(mode="json")


@dataclass(frozen=True)
class Plan:
    status: PlanStatus
    enterprise: Enterprise
    notices: tuple[NoticePlan, ...] = ()
    close: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    @property
    def reminder(self) -> list[dict[str, str]]:
        """The permits the enterprise is reminded to apply for (one line per permit and department)."""
        return [
            {
                "permit": n.facts.permit,
                "permit_name": n.facts.permit_name,
                "department": n.facts.department,
                "department_name": n.facts.department_name,
            }
            for n in self.notices
        ]

    def payload(self) -> dict[str, Any]:
        """The payload of ``license_registration`` ``register`` / ``rescope`` / ``route``."""
        model = PlanPayload.model_validate(
            {
                "status": self.status,
                "notices": [{"business_key": n.business_key, "facts": n.facts} for n in self.notices],
                "close": list(self.close),
                "reasons": list(self.reasons),
                "business_scope": self.enterprise.business_scope,
            }
        )
        return model.model_dump(mode="json")


def claim_window_hours(ruleset: RuleSet) -> float | None:
    """The claim deadline in natural hours (``48h`` → 48), or None if it is not in hours."""
    text = ruleset.deadline(FLOW_NAME, "awaiting_claim", "claim_deadline")
    if text is None:
        return None
    periods = Duration.parse(text).periods
    if any(p.kind is not PeriodKind.hours for p in periods):
        return None
    return float(sum(p.amount for p in periods))


def plan_license(ruleset: RuleSet, event: LicenseIssued) -> Plan:
    """The notices a newly issued license starts."""
    enterprise = Enterprise.from_license(event)
    match = match_scope(ruleset, event.business_scope, event.industry_codes)
    return _plan(ruleset, enterprise, match, open_notices=())


def plan_scope_change(
    ruleset: RuleSet,
    enterprise: Enterprise,
    event: ScopeChanged,
    open_notices: Iterable[str],
    taken: Collection[str] = (),
) -> Plan:
    """New permit items get new notices; open notices whose item the new scope drops are closed.

    ``open_notices``: business keys of the enterprise's notices that are not finished; ``taken``: the
    business keys of all its notices, closed ones included (a new notice never reuses one).
    """
    changed = Enterprise(**{**enterprise.__dict__, "business_scope": event.business_scope})
    match = match_scope(ruleset, event.business_scope, event.industry_codes)
    return _plan(ruleset, changed, match, open_notices=tuple(open_notices), taken=taken)


def plan_manual_route(
    ruleset: RuleSet,
    enterprise: Enterprise,
    permit_codes: Sequence[str],
    open_notices: Iterable[str] = (),
    taken: Collection[str] = (),
) -> Plan:
    """An operator's routing of a ``routing_failed`` scope: the permit items they chose."""
    items = ruleset.permit_routing.permit_items()
    unknown = [code for code in permit_codes if code not in items]
    if unknown:
        raise ValueError(f"unknown permit item(s) {', '.join(unknown)}; known: {', '.join(sorted(items))}")
    notices: list[NoticePlan] = []
    for code in dict.fromkeys(permit_codes):
        route = next(r for r in ruleset.permit_routing.routes if r.permit.code == code)
        for department in dict.fromkeys((route.approving, *route.supervising)):
            notices.append(_notice(ruleset, enterprise, code, route.permit.name, department))
    existing = {base_key(key) for key in open_notices}
    fresh = tuple(_unused(n, taken) for n in notices if n.business_key not in existing)
    return Plan("matched" if notices else "no_match", enterprise, fresh)


def _unused(notice: NoticePlan, taken: Collection[str]) -> NoticePlan:
    """The notice under a business key no earlier notice of the enterprise used (``#2``, ``#3``…)."""
    key, n = notice.business_key, 1
    while key in taken:
        n += 1
        key = f"{notice.business_key}#{n}"
    return notice if n == 1 else NoticePlan(key, notice.facts)


def _plan(
    ruleset: RuleSet,
    enterprise: Enterprise,
    match: MatchResult,
    open_notices: Sequence[str],
    taken: Collection[str] = (),
) -> Plan:
    reasons = [f"{hit.keyword}: {hit.reason}" for hit in match.reviews]
    wanted: list[NoticePlan] = []
    for permit in match.permits:
        for department in permit.departments:
            if ruleset.organisation.department(department) is None:
                reasons.append(f"{permit.permit}: department {department} is not in organisation.yaml")
                continue
            wanted.append(_notice(ruleset, enterprise, permit.permit, permit.permit_name, department))
    wanted_keys = {n.business_key for n in wanted}
    existing = {base_key(key) for key in open_notices}
    close = tuple(sorted(key for key in open_notices if base_key(key) not in wanted_keys))
    fresh = tuple(_unused(n, taken) for n in wanted if n.business_key not in existing)
    status: PlanStatus = "routing_failed" if reasons else "matched" if wanted else "no_match"
    return Plan(status, enterprise, fresh, close, tuple(reasons))


def _notice(
    ruleset: RuleSet, enterprise: Enterprise, permit: str, permit_name: str, department: str
) -> NoticePlan:
    unit = ruleset.organisation.department(department)
    facts = NoticeFacts(
        uscc=enterprise.uscc,
        name=enterprise.name,
        permit=permit,
        permit_name=permit_name,
        department=department,
        department_name=unit.short_name if unit is not None else "",
        address=enterprise.address,
        street=enterprise.street,
        grid=enterprise.grid,
        license_issued_at=enterprise.license_issued_at,
        claim_window_hours=claim_window_hours(ruleset),
    )
    return NoticePlan(notice_key(enterprise.uscc, permit, department), facts)


def permit_working_days(
    calendar: WorkCalendar, license_issued_at: datetime, permit_issued_at: datetime
) -> int:
    """Working days from the license to the permit: the license day is not counted, the permit day is
    (``WorkCalendar.working_days_between``); a permit on the license day counts 0."""
    return calendar.working_days_between(license_issued_at, permit_issued_at)
