"""``yunshang rules explain`` of a dual-notification event as text for people, and the plug-in's
explainer (``explain_event``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rules import RuleSet
from workflows.flows.dual_notification.explain import (
    Explanation,
    Notice,
    RuleHit,
    TimerPlan,
    Unit,
    explain,
    read_event,
)
from workflows.flows.dual_notification.explain_words import NOTICE_FLOW, NOTICE_STATE
from workflows.time.calendar import SHANGHAI, WorkCalendar


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
    else:
        lines.append("4. the deadlines day by day (every notice's are the same)")
        lines += [f"   {line}" for timer in result.notices[0].timers for line in _trace_lines(timer)]
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


def _trace_lines(timer: TimerPlan) -> list[str]:
    first, *rest = timer.trace.lines()
    return [f"{timer.timer}: {first}", *rest]


def _describe_hit(hit: RuleHit) -> str:
    where = f"  permit_routing.yaml:{hit.line}" if hit.line else ""
    if hit.kind == "industry_code":
        return f"industry code {hit.industry_code} starts with {hit.rule} → {hit.permit}{where}"
    return f"keyword {hit.rule} at {hit.start}–{hit.end}: {hit.excerpt} → {hit.permit}{where}"


def _unit_text(unit: Unit) -> str:
    return f"{unit.short_name} [{unit.code}]" if unit.short_name else unit.code


def _local(instant: datetime, *, weekday: bool = False) -> str:
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M" + " %a" * weekday)


@dataclass(frozen=True)
class Explained:
    """An explanation with both of its renderings (the plug-in's ``Explained``)."""

    explanation: Explanation

    def as_json(self) -> dict[str, Any]:
        return self.explanation.as_json()

    def as_text(self) -> str:
        return format_explanation(self.explanation)


def explain_event(ruleset: RuleSet, raw: Any, calendar: WorkCalendar, at: datetime) -> Explained:
    """The plug-in's explainer of ``license.issued`` and ``scope.changed``, deadlines counted from ``at``
    (the push); raises BadInput."""
    return Explained(explain(ruleset, read_event(raw), calendar, at))
