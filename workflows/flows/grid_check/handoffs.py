"""Where the rules send a grid check's case on: the permit's departments (``permit_needed``), the
follow-up department of an unlicensed operator (无证无照经营查处办法 §5–7), market supervision for an
unreachable address or a failed re-check, and how many returns make a binding assignment.
"""

from __future__ import annotations

from typing import Any

from rules import RuleSet
from workflows.errors import BadInput
from workflows.flows.grid_check.events import CheckReported
from workflows.store.models import Instance

DEFAULT_RETURN_LIMIT = 2


def _department(ruleset: RuleSet, code: str, basis: str) -> dict[str, Any]:
    found = ruleset.organisation.department(code)
    return {"department": code, "department_name": found.short_name if found else "", "basis": basis}


def _permit(ruleset: RuleSet, item: str) -> tuple[str, list[str]]:
    """The permit's name and its departments: the approving one and those supervising it."""
    routes = [r for r in ruleset.permit_routing.routes if r.permit.code == item]
    if not routes:
        known = ", ".join(sorted(ruleset.permit_routing.permit_items()))
        raise BadInput(f"data.permit_item: unknown permit item {item!r}; permit_routing.yaml has {known}")
    departments: list[str] = []
    for route in routes:
        for code in (route.approving, *route.supervising):
            if code not in departments:
                departments.append(code)
    return routes[0].permit.name, departments


def permit_requests(ruleset: RuleSet, task: Instance, data: CheckReported) -> list[dict[str, Any]]:
    """A ``PermitRequest`` per department of the permit item the worker found needed."""
    ctx = task.context
    name, departments = _permit(ruleset, str(data.permit_item))
    uscc = data.uscc or ctx.get("uscc")
    if not uscc:
        raise BadInput("data.uscc: the task names no enterprise; a permit_needed report gives its USCC")
    return [
        {
            "uscc": uscc,
            "name": data.name or ctx.get("name") or uscc,
            "address": ctx.get("address", ""),
            "street": ctx.get("street", ""),
            "grid": ctx.get("grid", ""),
            "permit": data.permit_item,
            "permit_name": name,
            **{k: v for k, v in _department(ruleset, code, "").items() if k != "basis"},
            "source": "grid_check",
            "reason": "permit_needed",
            "case": f"grid_check#{task.id}",
            "comment": data.comment,
            "requested_at": data.checked_at.isoformat(),
        }
        for code in departments
    ]


def unlicensed(ruleset: RuleSet, missing: str, permit_item: str | None) -> tuple[dict[str, Any], str]:
    """The follow-up department of an unlicensed operator the street could not get rectified, and the
    permit's name: no permit → the permit's department (§5); no business licence → market supervision
    (§6); neither → as no permit (§7)."""
    if missing == "licence":
        code = ruleset.organisation.referrals.no_business_license
        return _department(ruleset, code, "无证无照经营查处办法 §6"), ""
    name, departments = _permit(ruleset, str(permit_item))
    basis = "无证无照经营查处办法 §5" if missing == "permit" else "无证无照经营查处办法 §7 (as §5)"
    return _department(ruleset, departments[0], basis), name


def abnormal_list(ruleset: RuleSet) -> dict[str, Any]:
    """An unreachable address: market supervision, for the abnormal-operations list (经营异常名录)."""
    code = ruleset.organisation.referrals.address_unreachable
    return _department(ruleset, code, "经营异常名录: 通过登记的住所无法联系")


def not_rectified(ruleset: RuleSet) -> dict[str, Any]:
    """A verbal rectification that did not work: the market-supervision office."""
    code = ruleset.organisation.referrals.no_business_license
    return _department(ruleset, code, "口头整改未改正: 市场监管")


def return_limit(ruleset: RuleSet | None) -> int:
    """How many returns a task may take (escalation.yaml ``returns.grid_check.limit``, default 2)."""
    if ruleset is None:
        return DEFAULT_RETURN_LIMIT
    rule = ruleset.escalation.returns.get("grid_check")
    return rule.limit if rule is not None else DEFAULT_RETURN_LIMIT
