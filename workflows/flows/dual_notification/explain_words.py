"""The words of ``yunshang rules explain``: what a due day is, who a step reaches, the outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from rules import RuleSet
from rules.schema import Grid, Organisation, Street, Target
from state_machines.dual_notification import FLOW_NAME, S
from workflows.time.calendar import DayKind, WorkCalendar

NOTICE_FLOW, NOTICE_STATE = FLOW_NAME, S.awaiting_claim
"""The state whose deadlines and ladders explain shows: a notice pushed, waiting for its claim."""


# ------------------------------------------------------------------------ words
def outcome(status: str, reviews: int, departments_notified: Sequence[str]) -> str:
    """The dry run's outcome in words; ``departments_notified``: the department of each notice."""
    notices = departments_notified
    departments = len(set(notices))
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
    """The due day as the engine's calendar sees it (``Sun, holiday 春节``, ``Sat, make-up
    workday``); a due time of 00:00 is the end of the day before."""
    midnight = (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
    day = (local - timedelta(days=1)).date() if midnight else local.date()
    kind, holiday, provisional = calendar.day_kind(day)
    if kind is DayKind.holiday:
        what = f", holiday {holiday}"
    elif kind in (DayKind.make_up, DayKind.day_off):
        what = f", {kind.value}"
    else:
        what = ""
    note = f"{day.strftime('%a')}{what}{' (provisional calendar)' if provisional else ''}"
    return f"end of {note} {day.isoformat()}" if midnight else note


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
