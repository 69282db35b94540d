"""What changed between two rule sets, in rule terms: routing rows, deadlines, ladder steps, units,
calendar years.

Each rule set is flattened into named entries per area (``药品零售 → DRUG_RETAIL``,
``dual_notification/awaiting_claim/claim_deadline``, ``dual_notification_claim.warn``), and the two are
compared entry by entry. Comments and formatting never show up: only what the engine would see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rules.schema import LadderStep, RuleSet

ChangeKind = Literal["added", "removed", "changed"]
_SIGN = {"added": "+", "removed": "-", "changed": "~"}


@dataclass(frozen=True)
class Change:
    area: str
    """``routing``, ``permit``, ``review``, ``deadline``, ``ladder``, ``step``, ``department`` …"""
    kind: ChangeKind
    key: str
    before: str = ""
    after: str = ""

    def __str__(self) -> str:
        if self.kind == "changed":
            return f"~ {self.area} {self.key}: {self.before} → {self.after}"
        value = self.after if self.kind == "added" else self.before
        return f"{_SIGN[self.kind]} {self.area} {self.key}" + (f": {value}" if value else "")


def diff(a: RuleSet, b: RuleSet) -> list[Change]:
    """Changes that turn rule set ``a`` into ``b``, grouped by area, then sorted by key."""
    before, after = _flatten(a), _flatten(b)
    changes: list[Change] = []
    for area in dict.fromkeys([*before, *after]):
        old, new = before.get(area, {}), after.get(area, {})
        for key in sorted(old.keys() | new.keys()):
            if key not in new:
                changes.append(Change(area, "removed", key, before=old[key]))
            elif key not in old:
                changes.append(Change(area, "added", key, after=new[key]))
            elif old[key] != new[key]:
                changes.append(Change(area, "changed", key, old[key], new[key]))
    return changes


def format_diff(changes: list[Change]) -> str:
    """One line per change (``+`` added, ``-`` removed, ``~`` changed), or ``no changes``."""
    return "\n".join(str(change) for change in changes) if changes else "no changes"


def _flatten(rules: RuleSet) -> dict[str, dict[str, str]]:
    areas: dict[str, dict[str, str]] = {}
    _routing(rules, areas)
    areas["deadline"] = {
        f"{flow}/{state}/{timer}": duration
        for flow, states in rules.deadlines.flows.items()
        for state, timers in states.items()
        for timer, duration in timers.items()
    }
    _ladders(rules, areas)
    _organisation(rules, areas)
    _sampling(rules, areas)
    _calendar(rules, areas)
    return areas


def _routing(rules: RuleSet, areas: dict[str, dict[str, str]]) -> None:
    routing = rules.permit_routing
    areas["routing"] = {}
    areas["permit"] = {}
    for route in routing.routes:
        code = route.permit.code
        for keyword in route.keywords:
            areas["routing"][f"{keyword} → {code}"] = ""
        for prefix in route.industry_codes:
            areas["routing"][f"industry {prefix} → {code}"] = ""
        supervising = ", ".join(route.supervising) or "nobody"
        areas["permit"][code] = f"{route.permit.name}; approving {route.approving}; supervising {supervising}"
    areas["review"] = {
        r.keyword: f"{r.reason}; candidates {', '.join(r.candidates) or 'none'}"
        for r in routing.review_keywords
    }
    areas["negation"] = {word: "" for word in routing.negation_words}


def _ladders(rules: RuleSet, areas: dict[str, dict[str, str]]) -> None:
    areas["ladder"] = {}
    areas["step"] = {}
    for ladder in rules.escalation.ladders:
        start = f"starts with {ladder.start.step} at {ladder.start.at}"
        areas["ladder"][ladder.code] = f"{ladder.name}; {ladder.flow}/{ladder.state}; {start}"
        for position, step in enumerate(ladder.steps, start=1):
            areas["step"][f"{ladder.code}.{step.code}"] = f"#{position} {_step(step)}"


def _step(step: LadderStep) -> str:
    then = f"next {step.next.step} at {step.next.at}" if step.next else "end"
    return f"{step.kind} {step.name} → {step.target.describe()}; {then}"


def _organisation(rules: RuleSet, areas: dict[str, dict[str, str]]) -> None:
    org = rules.organisation
    areas["district"] = {"district": f"{org.district.code} {org.district.city}{org.district.name}"}
    areas["role"] = {r.code: f"{r.name}; for {', '.join(r.units)}" for r in org.roles}
    areas["department"] = {
        d.code: f"{d.name} ({d.short_name}); {d.level}; parent {d.parent or 'none'}; leader {d.leader_role}"
        for d in org.departments
    }
    areas["street"] = {s.code: f"{s.name}; leader {s.leader_role}" for s in org.streets}
    areas["grid"] = {g.code: f"{g.name}; street {g.street}; worker {g.worker_role}" for g in org.grids}
    areas["escalation level"] = {
        f"#{i} {lvl.level}": f"{lvl.name} → {lvl.receiver.describe()}"
        for i, lvl in enumerate(org.escalation_levels, start=1)
    }
    areas["referral"] = {
        "no_business_license": org.referrals.no_business_license,
        "address_unreachable": org.referrals.address_unreachable,
    }


def _sampling(rules: RuleSet, areas: dict[str, dict[str, str]]) -> None:
    sampling = rules.sampling
    values = {f"risk class {r.code}": f"{r.name} {r.ratio}" for r in sampling.risk_classes}
    values["min_officers_per_department"] = str(sampling.min_officers_per_department)
    values["recusal.use_conflict_list"] = str(sampling.recusal.use_conflict_list).lower()
    values["recusal.previous_rounds"] = str(sampling.recusal.previous_rounds)
    values["exclusion.window"] = sampling.exclusion.window
    values["exclusion.only_if_no_problem_found"] = str(sampling.exclusion.only_if_no_problem_found).lower()
    values["exclusion.no_problem_results"] = ", ".join(sampling.exclusion.no_problem_results)
    for result in sampling.results:
        values[f"result {result.code}"] = f"{result.name}{' (problem)' if result.problem else ''}"
    areas["sampling"] = values


def _calendar(rules: RuleSet, areas: dict[str, dict[str, str]]) -> None:
    """The office hours; per year: its announcement, each holiday's days off and the make-up workdays."""
    values: dict[str, str] = {"office hours": ", ".join(rules.calendar.office_hours)}
    for year, entry in rules.calendar.years.items():
        values[f"{year}"] = entry.reference
        spans: dict[str, list[str]] = {}
        for holiday in entry.holidays:
            last = "" if holiday.last == holiday.first else f" to {holiday.last}"
            spans.setdefault(holiday.name, []).append(f"{holiday.first}{last}")
        for name, days in spans.items():
            values[f"{year} {name}"] = "; ".join(days)
        values[f"{year} make-up workdays"] = ", ".join(str(day) for day in sorted(entry.workdays)) or "none"
    areas["calendar"] = values
