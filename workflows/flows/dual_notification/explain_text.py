"""The words of ``yunshang rules explain``: what a due day is, who a step reaches, the dry run as text."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import chinese_calendar

from rules import RuleSet
from rules.schema import Grid, Organisation, Street, Target
from workflows.time.calendar import SHANGHAI, WorkCalendar

if TYPE_CHECKING:
    from workflows.flows.dual_notification.explain import Explanation, Notice, RuleHit, Unit

NOTICE_FLOW, NOTICE_STATE = "dual_notification", "awaiting_claim"
"""The state whose deadlines and ladders explain shows: a notice pushed, waiting for its claim."""


def format_explanation(result: Explanation) -> str:
    """The dry run, step by step, for people."""
    event = result.event
    who = f"{event.name} " if event.name else ""
    lines = [
        f"event {event.type} {event.id} from {event.source}",
        f"  enterprise {who}USCC {event.uscc}",
        f"  business scope: {event.business_scope}",
    ]
    if event.industry_codes:
        lines.append(f"  industry codes: {', '.join(event.industry_codes)}")
    lines += [f"  warning: {w}" for w in result.warnings]
    start = _local(result.counted_from, weekday=True)
    lines.append(f"  rules version {result.rules_version}; deadlines counted from {start}")
    lines.append("1. routing rules that match (permit_routing.yaml)")
    hits = [hit for permit in result.permits for hit in permit.hits]
    lines += [f"   {_describe_hit(hit)}" for hit in hits] or ["   none"]
    lines += [f"   ignored (negated): {_describe_hit(hit)}" for hit in result.negated]
    lines += [
        f"   review keyword {r.keyword} at {r.start}–{r.end}: {r.excerpt} — {r.reason}"
        + (f"; candidates {', '.join(r.candidates)}" if r.candidates else "")
        for r in result.reviews
    ]
    lines.append("2. permit items and departments notified")
    for permit in result.permits:
        supervising = ", ".join(_unit_text(u) for u in permit.supervising) or "nobody"
        approving = _unit_text(permit.approving)
        lines.append(f"   {permit.code} {permit.name}: approving {approving}; supervising {supervising}")
    if result.notices:
        items = ", ".join(dict.fromkeys(n.permit for n in result.notices))
        lines.append(f"   the enterprise is reminded to apply for: {items}")
    if not result.permits:
        lines.append("   none")
    lines.append(f"3. notices ({NOTICE_FLOW} / {NOTICE_STATE}): deadlines in Asia/Shanghai and escalation")
    for notice in result.notices:
        lines += _notice_lines(notice)
    if not result.notices:
        lines.append("   none")
    lines.append(f"outcome: {result.outcome}")
    return "\n".join(lines)


def _notice_lines(notice: Notice) -> list[str]:
    roles = " and ".join(notice.roles)
    lines = [
        f"   notice {notice.business_key}: {notice.permit_name} → {_unit_text(notice.department)} ({roles})"
    ]
    for timer in notice.timers:
        flag = "  PROVISIONAL (no calendar data for that year)" if timer.provisional else ""
        where = f"  deadlines.yaml:{timer.line}" if timer.line else ""
        lines.append(
            f"     {timer.timer:<20} {timer.duration:<22} {_local(timer.due_at)} ({timer.day}){flag}{where}"
        )
    for ladder in notice.ladders:
        lines.append(f"     ladder {ladder.code} {ladder.name}:")
        for step in ladder.steps:
            when = f" ({_local(step.due_local)})" if step.due_local else ""
            last = "; end" if step.end else ""
            lines.append(
                f"       {step.position}. {step.kind} {step.name} at {step.at}{when} → {step.target}{last}"
            )
    return lines


def _describe_hit(hit: RuleHit) -> str:
    where = f"  permit_routing.yaml:{hit.line}" if hit.line else ""
    if hit.kind == "industry_code":
        return f"industry code {hit.industry_code} starts with {hit.rule} → {hit.permit}{where}"
    return f"keyword {hit.rule} at {hit.start}–{hit.end}: {hit.excerpt} → {hit.permit}{where}"


def _unit_text(unit: Unit) -> str:
    return f"{unit.short_name} [{unit.code}]" if unit.short_name else unit.code


def _local(instant: datetime, *, weekday: bool = False) -> str:
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M" + " %a" * weekday)


# ------------------------------------------------------------------------ words
def outcome(status: str, reviews: int, notices: tuple[Notice, ...]) -> str:
    departments = len({n.department.code for n in notices})
    pushed = f"{len(notices)} notice{'s' * (len(notices) != 1)} to {departments} department"
    pushed += "s" * (departments != 1)
    if status == "ambiguous":
        tail = f"; the permits that did match are still pushed: {pushed}" if notices else ""
        return f"routing_failed: manual routing ({reviews} review keyword(s)){tail}"
    if status == "no_match":
        return "no post-license permit needed: the case is closed"
    return f"notified: {pushed}"


def excerpt(text: str, start: int, end: int, around: int = 8) -> str:
    """``…销售;「药品零售」,食品…``: the match in brackets with a few characters either side."""
    left, right = max(0, start - around), min(len(text), end + around)
    before = ("…" if left > 0 else "") + text[left:start]
    after = text[end:right] + ("…" if right < len(text) else "")
    return f"{before}「{text[start:end]}」{after}"


def describe_day(calendar: WorkCalendar, local: datetime) -> str:
    """The due day as the calendar sees it (``Sun, Spring Festival holiday``, ``Sat, make-up
    workday``); a due time of 00:00 is the end of the day before."""
    midnight = (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
    day = (local - timedelta(days=1)).date() if midnight else local.date()
    workday, provisional = calendar.is_workday(day)
    festival = _festival(day, workday)
    if workday and day.weekday() >= 5:
        kind = ", make-up workday" + (f" ({festival})" if festival else "")
    elif not workday and (festival or day.weekday() < 5):
        kind = f", {festival or 'public'} holiday"
    else:
        kind = ""
    note = f"{day.strftime('%a')}{kind}{' (provisional calendar)' if provisional else ''}"
    return f"end of {note} {day.isoformat()}" if midnight else note


def _festival(day: date, workday: bool) -> str | None:
    """The holiday a day belongs to (or makes up for), when the packaged calendar agrees."""
    try:
        holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return str(name) if name and bool(holiday) != workday else None


# ------------------------------------------------------------------------ targets
def resolve_target(ruleset: RuleSet, target: Target, holder: str) -> str:
    """Who an escalation step reaches for a case held by the unit ``holder``, in words."""
    org = ruleset.organisation
    if target.level is not None:
        levels = org.escalation_levels
        kind = org.unit_kind(holder)
        index = next((i for i, level in enumerate(levels) if level.level == kind), None)
        if index is None or index + 1 >= len(levels):
            return f"the level above {_label(org, holder)} (none is defined)"
        above = levels[index + 1]
        return f"the level above: {above.name} ({above.level}), " + resolve_target(
            ruleset, above.receiver, holder
        )
    if target.leader_of is not None:
        code = _fill(target.leader_of, holder)
        unit = org.department(code) or next((s for s in org.streets if s.code == code), None)
        role = unit.leader_role if unit is not None else "leader"
        return f"{_role(org, role)} of {_label(org, code)}"
    return f"{_role(org, target.role or '')} of {_label(org, _fill(target.unit or '', holder))}"


def _fill(unit: str, holder: str) -> str:
    if unit in ("$assignee", "$department"):
        return holder
    return {"$street": "the enterprise's street", "$grid": "the enterprise's grid"}.get(unit, unit)


def _role(org: Organisation, code: str) -> str:
    role = next((r for r in org.roles if r.code == code), None)
    return f"{role.name} ({code})" if role is not None else code


def _label(org: Organisation, code: str) -> str:
    department = org.department(code)
    if department is not None:
        return f"{department.short_name} [{code}]"
    units: list[Street | Grid] = [*org.streets, *org.grids]
    named = next((u for u in units if u.code == code), None)
    return f"{named.name} [{code}]" if named is not None else code
