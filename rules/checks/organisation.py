"""Checks of organisation.yaml, and of escalation targets wherever they are written."""

from __future__ import annotations

from rules.checks.context import ORG, Context, duplicates
from rules.schema import Organisation, Target
from rules.yaml_source import PathKey

_UNIT_HINT = "name a department, street or grid of organisation.yaml, or $assignee"
_PLACEHOLDER_KIND = {"$department": "department", "$street": "street", "$grid": "grid"}


def check_organisation(ctx: Context) -> None:
    org = ctx.organisation
    if org is None:
        return
    for index, first in duplicates([r.code for r in org.roles]):
        line = ctx.line_of(ORG, ("roles", first))
        ctx.error(
            ORG,
            ("roles", index, "code"),
            f"role '{org.roles[index].code}' is defined twice (also at line {line})",
        )
    _unique_units(ctx, org)
    _units_refer(ctx, org)
    for index, first in duplicates([lvl.level for lvl in org.escalation_levels]):
        line = ctx.line_of(ORG, ("escalation_levels", first))
        ctx.error(
            ORG,
            ("escalation_levels", index, "level"),
            f"escalation level is defined twice (also at line {line})",
        )
    for index, level in enumerate(org.escalation_levels):
        check_target(ctx, ORG, ("escalation_levels", index, "receiver"), level.receiver, receiver=True)
    for key in ("no_business_license", "address_unreachable"):
        code = getattr(org.referrals, key)
        if not ctx.department_known(code):
            ctx.error(ORG, ("referrals", key), f"unknown department '{code}'")


def _units_refer(ctx: Context, org: Organisation) -> None:
    """Leader and worker roles exist and suit the unit; parents and streets exist; no parent loops."""
    parents = {d.code: d.parent for d in org.departments}
    for index, dept in enumerate(org.departments):
        path: PathKey = ("departments", index)
        _role_of(ctx, dept.leader_role, "department", (*path, "leader_role"))
        if dept.parent is not None and not ctx.department_known(dept.parent):
            ctx.error(ORG, (*path, "parent"), f"unknown department '{dept.parent}'")
        chain = [dept.code]
        while (parent := parents.get(chain[-1])) is not None and parent not in chain:
            chain.append(parent)
        if parent is not None and parent == dept.code:
            loop = " → ".join([*chain, parent])
            ctx.error(ORG, (*path, "parent"), f"department '{dept.code}' is its own parent: {loop}")
    for index, street in enumerate(org.streets):
        _role_of(ctx, street.leader_role, "street", ("streets", index, "leader_role"))
    streets = {s.code for s in org.streets}
    for index, grid in enumerate(org.grids):
        _role_of(ctx, grid.worker_role, "grid", ("grids", index, "worker_role"))
        if (
            grid.street not in streets
            and grid.street not in ctx.pruned
            and (ORG, "streets") not in ctx.unknowable
        ):
            ctx.error(ORG, ("grids", index, "street"), f"unknown street '{grid.street}'")


def _unique_units(ctx: Context, org: Organisation) -> None:
    """Department, street and grid codes share one namespace: a target's ``unit`` may name any."""
    seen: dict[str, PathKey] = {}
    groups: list[tuple[str, list[str]]] = [
        ("departments", [d.code for d in org.departments]),
        ("streets", [s.code for s in org.streets]),
        ("grids", [g.code for g in org.grids]),
    ]
    for group, codes in groups:
        for index, code in enumerate(codes):
            if code in seen:
                line = ctx.line_of(ORG, seen[code])
                ctx.error(
                    ORG,
                    (group, index, "code"),
                    f"code '{code}' is already used at line {line}; codes must be unique",
                )
            else:
                seen[code] = (group, index)


def _role_of(ctx: Context, role: str, kind: str, path: PathKey) -> None:
    org = ctx.organisation
    assert org is not None
    found = next((r for r in org.roles if r.code == role), None)
    if found is None:
        if role not in ctx.pruned and (ORG, "roles") not in ctx.unknowable:
            ctx.error(ORG, path, f"unknown role '{role}': define it under roles")
    elif kind not in found.units:
        ctx.error(ORG, path, f"role '{role}' is not a {kind} role (it is for: {', '.join(found.units)})")


def check_target(ctx: Context, file: str, path: PathKey, target: Target, *, receiver: bool = False) -> None:
    """Every code a target names exists, and the role belongs to that kind of unit."""
    org = ctx.organisation
    if org is None:
        return
    if target.level is not None:
        if receiver:
            ctx.error(
                file,
                (*path, "level"),
                "an escalation level's receiver must be a role or a leader, not 'the level above'",
            )
        elif not org.escalation_levels:
            ctx.error(file, (*path, "level"), "'level: above' needs escalation_levels in organisation.yaml")
        return
    if target.leader_of is not None:
        kind = _kind(ctx, target.leader_of)
        if kind is None:
            ctx.error(file, (*path, "leader_of"), f"unknown unit '{target.leader_of}': {_UNIT_HINT}")
        elif kind == "grid":
            ctx.error(file, (*path, "leader_of"), f"grid '{target.leader_of}' has no leader; name its street")
        return
    assert target.role is not None and target.unit is not None
    role = next((r for r in org.roles if r.code == target.role), None)
    if role is None:
        if target.role not in ctx.pruned and (ORG, "roles") not in ctx.unknowable:
            ctx.error(
                file,
                (*path, "role"),
                f"unknown role '{target.role}': define it under roles in organisation.yaml",
            )
        return
    kind = _kind(ctx, target.unit)
    if kind is None:
        ctx.error(file, (*path, "unit"), f"unknown unit '{target.unit}': {_UNIT_HINT}")
    elif kind not in ("any", "unknowable") and kind not in role.units:
        ctx.error(
            file,
            (*path, "role"),
            f"role '{role.code}' is not a {kind} role (it is for: {', '.join(role.units)})",
        )


def _kind(ctx: Context, unit: str) -> str | None:
    """The kind of unit a code or placeholder names; ``any`` for ``$assignee``; None if unknown."""
    if unit == "$assignee":
        return "any"
    if unit in _PLACEHOLDER_KIND:
        return _PLACEHOLDER_KIND[unit]
    if not ctx.unit_known(unit):
        return None
    kind = ctx.organisation.unit_kind(unit) if ctx.organisation is not None else None
    return kind or "unknowable"
