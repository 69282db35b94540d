"""``yunshang rules explain EVENT.json``: what the rules would do with one event. Changes nothing.

A dry run of the dual notification (双告知) for a ``license.issued`` or ``scope.changed`` CloudEvent:
which routing rules match (a keyword and where it is in the scope text, or an industry code), which
permit items follow and which departments get a notice (approving / supervising), and for each notice
the claim deadlines that would be armed — when exactly they fall in Asia/Shanghai on the real working
calendar (public holidays, make-up workdays) — and the escalation ladder's steps with their targets.

Pure: the rule set, the calendar and the event in, an ``Explanation`` out; ``format_explanation``
(``explain_text``) renders it for people, ``Explanation.as_json`` for machines.

One rule for the start, the engine's: a deadline counts from entering the state, i.e. from the
instant the notice is pushed (``at``: the CLI passes now, or ``--at``), never from the event's own
``issued_at``. The due times and the day-by-day trace (``WorkCalendar.trace``, the very count the
engine's ``WorkCalendar.add`` makes) are computed on the calendar given: the rules' own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from rules import Evidence, RuleSet, match_scope
from rules.matching import MatchStatus, normalise
from rules.schema import Ladder, StepRef
from workflows import uscc
from workflows.errors import BadInput
from workflows.flows.dual_notification.events import LicenseIssued, ScopeChanged
from workflows.flows.dual_notification.explain_words import (
    NOTICE_FLOW,
    NOTICE_STATE,
    describe_day,
    excerpt,
    outcome,
    resolve_target,
)
from workflows.time.calendar import SHANGHAI, Duration, Trace, WorkCalendar

EXPLAINED = ("license.issued", "scope.changed")


class _CloudEvent(BaseModel):
    """The CloudEvents 1.0 attributes explain reads; extension attributes are allowed."""

    model_config = ConfigDict(extra="allow")
    specversion: Literal["1.0"]
    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    time: AwareDatetime | None = None
    data: dict[str, Any]


@dataclass(frozen=True)
class EventFacts:
    type: str
    id: str
    source: str
    uscc: str
    name: str
    business_scope: str
    industry_codes: tuple[str, ...]
    at: datetime
    """``issued_at`` of a license, ``changed_at`` of a scope change."""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleHit:
    """One routing rule that matched: a keyword at ``start:end`` of the scope text, or an industry code."""

    permit: str
    kind: Literal["keyword", "industry_code"]
    rule: str
    start: int
    end: int
    excerpt: str
    industry_code: str
    line: int | None
    """Line of the route in permit_routing.yaml."""


@dataclass(frozen=True)
class Review:
    keyword: str
    start: int
    end: int
    excerpt: str
    reason: str
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    short_name: str


@dataclass(frozen=True)
class Permit:
    code: str
    name: str
    approving: Unit
    supervising: tuple[Unit, ...]
    hits: tuple[RuleHit, ...]


@dataclass(frozen=True)
class TimerPlan:
    timer: str
    duration: str
    due_at: datetime
    """UTC."""
    local: datetime
    """The same instant in Asia/Shanghai."""
    day: str
    """What the calendar says about the due day (``Thu``, ``Wed, public holiday``, ``end of …``)."""
    provisional: bool
    line: int | None
    trace: Trace
    """The days counted and skipped, and why."""


@dataclass(frozen=True)
class StepPlan:
    position: int
    code: str
    name: str
    kind: str
    at: str
    """The timer whose passing reaches this step."""
    due_local: datetime | None
    target: str
    end: bool


@dataclass(frozen=True)
class LadderPlan:
    code: str
    name: str
    steps: tuple[StepPlan, ...]


@dataclass(frozen=True)
class Notice:
    business_key: str
    permit: str
    permit_name: str
    department: Unit
    roles: tuple[str, ...]
    """``approving`` and/or ``supervising``."""
    timers: tuple[TimerPlan, ...]
    ladders: tuple[LadderPlan, ...]


@dataclass(frozen=True)
class Explanation:
    event: EventFacts
    rules_version: str
    counted_from: datetime
    status: MatchStatus
    outcome: str
    permits: tuple[Permit, ...] = ()
    notices: tuple[Notice, ...] = ()
    reviews: tuple[Review, ...] = ()
    negated: tuple[RuleHit, ...] = ()
    warnings: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        data = _jsonable(asdict(self))
        assert isinstance(data, dict)
        for notice, shown in zip(self.notices, data["notices"], strict=True):
            for timer, timer_data in zip(notice.timers, shown["timers"], strict=True):
                timer_data["trace"] = timer.trace.as_json()
        return data


def read_event(raw: object) -> EventFacts:
    """Validate a CloudEvent (``license.issued`` or ``scope.changed``); BadInput names the field."""
    try:
        envelope = _CloudEvent.model_validate(raw)
    except ValidationError as exc:
        raise BadInput(f"not a CloudEvent: {_problems(exc, 'event')}") from None
    if envelope.type not in EXPLAINED:
        raise BadInput(f"explain reads {' and '.join(EXPLAINED)} events; this one is {envelope.type!r}")
    try:
        if envelope.type == "license.issued":
            data: LicenseIssued | ScopeChanged = LicenseIssued.model_validate(envelope.data)
        else:
            data = ScopeChanged.model_validate(envelope.data)
    except ValidationError as exc:
        raise BadInput(f"{envelope.type}: {_problems(exc, 'data')}") from None
    name, at = (data.name, data.issued_at) if isinstance(data, LicenseIssued) else ("", data.changed_at)
    check = uscc.check_warning(data.uscc)
    facts = (envelope.type, envelope.id, envelope.source, data.uscc, name, data.business_scope)
    return EventFacts(*facts, tuple(data.industry_codes), at, (check,) if check else ())


def explain(ruleset: RuleSet, event: EventFacts, calendar: WorkCalendar, at: datetime) -> Explanation:
    """What the rules would do with ``event``, deadlines counted from ``at``: when the notice is pushed."""
    start = at
    if start.tzinfo is None:
        raise BadInput(f"--at {start.isoformat()} has no timezone; give one, e.g. +08:00")
    match = match_scope(ruleset, event.business_scope, event.industry_codes)
    text = normalise(event.business_scope)
    permits = tuple(_permit(ruleset, p.permit, p.evidence, text) for p in match.permits)
    notices, warnings = _notices(ruleset, event, permits, calendar, start), list(event.warnings)
    if event.type == "scope.changed":
        warnings.append(
            "a scope change starts notices only for permit items not already notified and closes open "
            "ones the new scope drops; which those are depends on the database, so all are shown"
        )
    reviews = tuple(
        Review(r.keyword, r.start, r.end, excerpt(text, r.start, r.end), r.reason, r.candidates)
        for r in match.reviews
    )
    negated = tuple(_hit(ruleset, e, text) for e in match.negated)
    return Explanation(
        event=event,
        rules_version=ruleset.content_hash[:16],
        counted_from=start.astimezone(UTC),
        status=match.status,
        outcome=outcome(match.status, len(match.reviews), [n.department.code for n in notices]),
        permits=permits,
        notices=notices,
        reviews=reviews,
        negated=negated,
        warnings=tuple(warnings),
    )


def _unit(ruleset: RuleSet, code: str) -> Unit:
    department = ruleset.organisation.department(code)
    if department is None:
        return Unit(code, "", "")
    return Unit(code, department.name, department.short_name)


def _permit(ruleset: RuleSet, code: str, evidence: tuple[Evidence, ...], text: str) -> Permit:
    route = ruleset.permit_routing.routes[evidence[0].route]
    return Permit(
        code=code,
        name=route.permit.name,
        approving=_unit(ruleset, route.approving),
        supervising=tuple(_unit(ruleset, c) for c in route.supervising),
        hits=tuple(_hit(ruleset, e, text) for e in evidence),
    )


def _hit(ruleset: RuleSet, evidence: Evidence, text: str) -> RuleHit:
    route = ruleset.permit_routing.routes[evidence.route]
    where = ruleset.where("permit_routing.yaml", f"routes[{evidence.route}]")
    shown = excerpt(text, evidence.start, evidence.end) if evidence.kind == "keyword" else ""
    line = where[0] if where else None
    kind, rule, code = evidence.kind, evidence.rule, evidence.industry_code
    return RuleHit(route.permit.code, kind, rule, evidence.start, evidence.end, shown, code, line)


def _notices(
    ruleset: RuleSet, event: EventFacts, permits: tuple[Permit, ...], calendar: WorkCalendar, start: datetime
) -> tuple[Notice, ...]:
    timers = _timers(ruleset, calendar, start)
    notices = []
    for permit in permits:
        supervising = {u.code for u in permit.supervising}
        for code in dict.fromkeys((permit.approving.code, *(u.code for u in permit.supervising))):
            roles = ("approving",) * (code == permit.approving.code) + ("supervising",) * (
                code in supervising
            )
            ladders = tuple(
                _ladder(ruleset, ladder, timers, code)
                for ladder in ruleset.ladders_for(NOTICE_FLOW, NOTICE_STATE)
            )
            notices.append(
                Notice(
                    business_key=f"{event.uscc}:{permit.code}:{code}",
                    permit=permit.code,
                    permit_name=permit.name,
                    department=_unit(ruleset, code),
                    roles=roles,
                    timers=tuple(timers.values()),
                    ladders=ladders,
                )
            )
    return tuple(notices)


def _timers(ruleset: RuleSet, calendar: WorkCalendar, start: datetime) -> dict[str, TimerPlan]:
    plans = {}
    for timer, text in ruleset.timers(NOTICE_FLOW, NOTICE_STATE).items():
        trace = calendar.trace(start, Duration.parse(text))
        deadline = trace.deadline
        local = deadline.due_at.astimezone(SHANGHAI)
        where = ruleset.where("deadlines.yaml", f"flows.{NOTICE_FLOW}.{NOTICE_STATE}.{timer}")
        plans[timer] = TimerPlan(
            timer,
            text,
            deadline.due_at,
            local,
            describe_day(calendar, local),
            deadline.provisional,
            where[0] if where else None,
            trace,
        )
    return plans


def _ladder(ruleset: RuleSet, ladder: Ladder, timers: Mapping[str, TimerPlan], holder: str) -> LadderPlan:
    steps: list[StepPlan] = []
    ref: StepRef | None = ladder.start
    seen: set[str] = set()
    while ref is not None and ref.step not in seen:
        seen.add(ref.step)
        step = ladder.step(ref.step)
        if step is None:
            break
        timer = timers.get(ref.at)
        steps.append(
            StepPlan(
                position=len(steps) + 1,
                code=step.code,
                name=step.name,
                kind=step.kind,
                at=ref.at,
                due_local=timer.local if timer else None,
                target=resolve_target(ruleset, step.target, holder),
                end=step.end,
            )
        )
        ref = step.next
    return LadderPlan(ladder.code, ladder.name, tuple(steps))


def _problems(exc: ValidationError, root: str) -> str:
    return "; ".join(
        f"{'.'.join([root, *(str(p) for p in err['loc'])])}: {err['msg']}" for err in exc.errors()
    )


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value
