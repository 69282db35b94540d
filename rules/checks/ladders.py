"""Checks of escalation.yaml: known timers, steps and targets; every ladder ends; no cycles.
And the coverage warning: a department no escalation can ever reach."""

from __future__ import annotations

from rules.checks.context import DEADLINES, ESCALATION, ORG, ROUTING, Context, duplicates
from rules.checks.organisation import check_target
from rules.schema import Ladder, StepRef, Target
from rules.yaml_source import PathKey


def check_ladders(ctx: Context) -> None:
    escalation = ctx.escalation
    if escalation is None:
        return
    for index, first in duplicates([ladder.code for ladder in escalation.ladders]):
        line = ctx.line_of(ESCALATION, ("ladders", first))
        ctx.error(ESCALATION, ("ladders", index, "code"), f"ladder is defined twice (also at line {line})")
    for index, ladder in enumerate(escalation.ladders):
        _check_ladder(ctx, ladder, ("ladders", index))


def _check_ladder(ctx: Context, ladder: Ladder, path: PathKey) -> None:
    timers = _timers(ctx, ladder, path)
    codes = [step.code for step in ladder.steps]
    for index, first in duplicates(codes):
        line = ctx.line_of(ESCALATION, (*path, "steps", first))
        ctx.error(
            ESCALATION,
            (*path, "steps", index, "code"),
            f"step '{codes[index]}' is defined twice (also at line {line})",
        )
    _check_ref(ctx, ladder, ladder.start, (*path, "start"), timers)
    for index, step in enumerate(ladder.steps):
        step_path: PathKey = (*path, "steps", index)
        check_target(ctx, ESCALATION, (*step_path, "target"), step.target)
        if step.next is not None:
            _check_ref(ctx, ladder, step.next, (*step_path, "next"), timers)
            if step.end:
                ctx.error(
                    ESCALATION,
                    (*step_path, "end"),
                    f"step '{step.code}' has both next and end: true; keep one",
                )
    _walk(ctx, ladder, path)


def _timers(ctx: Context, ladder: Ladder, path: PathKey) -> set[str] | None:
    """The timer names the ladder may use; None when they cannot be known (file unusable)."""
    if ctx.deadlines is None or ladder.flow in ctx.pruned:
        return None
    states = ctx.deadlines.flows.get(ladder.flow)
    if states is None or ladder.state not in states:
        ctx.error(
            ESCALATION,
            (*path, "state"),
            f"ladder '{ladder.code}' runs in {ladder.flow}/{ladder.state}, "
            f"which has no timers in {DEADLINES}",
        )
        return None
    return set(states[ladder.state])


def _check_ref(ctx: Context, ladder: Ladder, ref: StepRef, path: PathKey, timers: set[str] | None) -> None:
    if ladder.step(ref.step) is None:
        ctx.error(ESCALATION, (*path, "step"), f"ladder '{ladder.code}' has no step '{ref.step}'")
    if timers is not None and ref.at not in timers:
        known = ", ".join(sorted(timers)) or "none"
        ctx.error(
            ESCALATION,
            (*path, "at"),
            f"unknown timer '{ref.at}': {DEADLINES} has for {ladder.flow}/{ladder.state}: {known}",
        )


def _walk(ctx: Context, ladder: Ladder, path: PathKey) -> None:
    """Follow ``next`` from the start: it must reach a step marked ``end: true``, without a cycle."""
    index_of = {step.code: i for i, step in reversed(list(enumerate(ladder.steps)))}
    visited: list[str] = []
    code = ladder.start.step
    while code in index_of:
        step = ladder.steps[index_of[code]]
        if step.end or step.next is None:
            visited.append(code)
            if not step.end:
                ctx.error(
                    ESCALATION,
                    (*path, "steps", index_of[code]),
                    f"ladder '{ladder.code}' has no end: step '{code}' has no next step; "
                    "write end: true on the last step",
                )
            break
        visited.append(code)
        if step.next.step in visited:
            loop = " → ".join([*visited[visited.index(step.next.step) :], step.next.step])
            ctx.error(
                ESCALATION,
                (*path, "steps", index_of[code], "next", "step"),
                f"ladder '{ladder.code}' has a cycle: {loop}; it must end with a step marked end: true",
            )
            break
        code = step.next.step
    else:
        return  # an unknown step was named: reported by _check_ref, and the rest cannot be judged
    for index, step in enumerate(ladder.steps):
        if step.code not in visited and index_of[step.code] == index:
            ctx.warning(
                ESCALATION, (*path, "steps", index), f"step '{step.code}' is never reached from the start"
            )


def check_escalation_coverage(ctx: Context) -> None:
    """Warn about departments no escalation can reach: never a fixed target, and never holding a case
    (routing, referrals) while some target follows the case (``$assignee``, ``$department``)."""
    org = ctx.organisation
    incomplete = {(ROUTING, "routes"), (ESCALATION, "ladders"), (ORG, "escalation_levels")}
    if org is None or ctx.escalation is None or ctx.partial & incomplete:
        return
    targets: list[Target] = [level.receiver for level in org.escalation_levels]
    targets += [step.target for ladder in ctx.escalation.ladders for step in ladder.steps]
    reached = {t.unit for t in targets if t.unit} | {t.leader_of for t in targets if t.leader_of}
    follows_case = bool(reached & {"$assignee", "$department"})
    if follows_case and ctx.routing is not None:
        for route in ctx.routing.routes:
            reached |= {route.approving, *route.supervising}
        reached |= {org.referrals.no_business_license, org.referrals.address_unreachable}
    if ctx.routing is None and follows_case:
        return
    for index, dept in enumerate(org.departments):
        if dept.code not in reached:
            ctx.warning(
                ORG,
                ("departments", index),
                f"nobody escalates to department '{dept.code}' ({dept.short_name}): no ladder step or "
                f"escalation level names it, and it holds no case in {ROUTING}",
            )
