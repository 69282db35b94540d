"""Checks of permit_routing.yaml: known departments, one meaning per permit item and per keyword."""

from __future__ import annotations

from rules.checks.context import ROUTING, Context
from rules.schema import PermitRouting, Route
from rules.yaml_source import PathKey


def check_routing(ctx: Context) -> None:
    routing = ctx.routing
    if routing is None:
        return
    for index, route in enumerate(routing.routes):
        path: PathKey = ("routes", index)
        if not ctx.department_known(route.approving):
            ctx.error(ROUTING, (*path, "approving"), f"unknown department '{route.approving}'")
        for position, code in enumerate(route.supervising):
            if not ctx.department_known(code):
                ctx.error(ROUTING, (*path, "supervising", position), f"unknown department '{code}'")
        if not route.supervising:
            ctx.warning(
                ROUTING,
                (*path, "supervising"),
                f"permit item '{route.permit.code}' ({route.permit.name}) has no supervising department: "
                "add one under supervising (谁审批、谁监管)",
            )
    _permit_items_agree(ctx, routing)
    _keywords_agree(ctx, routing)
    _review_keywords(ctx, routing)


def _permit_items_agree(ctx: Context, routing: PermitRouting) -> None:
    """Rows naming one permit item must give it the same name and departments; one name, one code."""
    first_by_code: dict[str, int] = {}
    code_by_name: dict[str, tuple[str, int]] = {}
    for index, route in enumerate(routing.routes):
        code, name = route.permit.code, route.permit.name
        if code not in first_by_code:
            first_by_code[code] = index
            other = code_by_name.setdefault(name, (code, index))
            if other[0] != code:
                line = _line(ctx, other[1])
                ctx.error(
                    ROUTING,
                    ("routes", index, "permit", "code"),
                    f"contradicting routing: permit '{name}' is '{code}' here "
                    f"but '{other[0]}' at line {line}",
                )
            continue
        first = routing.routes[first_by_code[code]]
        line = _line(ctx, first_by_code[code])
        for what, phrase in _differences(route, first):
            ctx.error(
                ROUTING,
                ("routes", index, what),
                f"contradicting routing: permit item '{code}' {phrase} at line {line}",
            )


def _differences(route: Route, first: Route) -> list[tuple[str, str]]:
    """(field, "is approved by X here but by Y") for each way ``route`` disagrees with ``first``."""
    found = []
    if route.permit.name != first.permit.name:
        found.append(("permit", f"is named '{route.permit.name}' here but '{first.permit.name}'"))
    if route.approving != first.approving:
        found.append(("approving", f"is approved by {route.approving} here but by {first.approving}"))
    if sorted(route.supervising) != sorted(first.supervising):
        mine, theirs = _list(route.supervising), _list(first.supervising)
        found.append(("supervising", f"is supervised by {mine} here but by {theirs}"))
    return found


def _list(codes: list[str]) -> str:
    return ", ".join(sorted(codes)) or "nobody"


def _keywords_agree(ctx: Context, routing: PermitRouting) -> None:
    """A keyword listed twice for one permit item is a copy-paste slip."""
    seen: dict[tuple[str, str], int] = {}
    for index, route in enumerate(routing.routes):
        for position, keyword in enumerate(route.keywords):
            key = (keyword.strip(), route.permit.code)
            if key in seen:
                ctx.warning(
                    ROUTING,
                    ("routes", index, "keywords", position),
                    f"keyword '{keyword}' already routes to '{route.permit.code}' "
                    f"at line {_line(ctx, seen[key])}",
                )
            else:
                seen[key] = index


def _review_keywords(ctx: Context, routing: PermitRouting) -> None:
    routed: dict[str, tuple[str, int]] = {}
    for index, route in enumerate(routing.routes):
        for keyword in route.keywords:
            routed.setdefault(keyword.strip(), (route.permit.code, index))
    items = routing.permit_items()
    seen: dict[str, int] = {}
    for index, review in enumerate(routing.review_keywords):
        path: PathKey = ("review_keywords", index)
        keyword = review.keyword.strip()
        if keyword in routed:
            code, row = routed[keyword]
            ctx.error(
                ROUTING,
                (*path, "keyword"),
                f"contradicting routing: keyword '{keyword}' needs manual review here "
                f"but routes straight to '{code}' at line {_line(ctx, row)}",
            )
        if keyword in seen:
            line = ctx.line_of(ROUTING, ("review_keywords", seen[keyword]))
            ctx.error(
                ROUTING,
                (*path, "keyword"),
                f"review keyword '{keyword}' is listed twice (also at line {line})",
            )
        seen.setdefault(keyword, index)
        for position, code in enumerate(review.candidates):
            if code not in items and code not in ctx.pruned and (ROUTING, "routes") not in ctx.unknowable:
                ctx.error(
                    ROUTING,
                    (*path, "candidates", position),
                    f"unknown permit item '{code}': it must be the permit code of a route",
                )


def _line(ctx: Context, route_index: int) -> int:
    return ctx.line_of(ROUTING, ("routes", route_index))
