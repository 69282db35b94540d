"""One enterprise across every flow (全景画像): the instances whose ``subject`` is its USCC, grouped by
flow, with their deadlines met and missed, and the directory facts their contexts carry.

The engine knows no flow by name: a case shows its state, its dates and a few scalar facts of its
context; the directory facts (name, risk class, street, grid…) are read from the contexts the flows
wrote (a notice carries the licence's street and grid, an inspection the object's risk class).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select

from workflows.queries.instances import WarningTimers
from workflows.queries.scope import in_department
from workflows.store.db import Database
from workflows.store.models import Instance, TimerRow, TimerStatus

#: context keys shown first on a case, when present (any other short scalar fills up to ``FACTS``)
PREFERRED = (
    "department",
    "permit",
    "permit_no",
    "claimed_by",
    "outcome",
    "grid",
    "worker_id",
    "level",
    "risk_class",
    "plan",
    "group",
)
FACTS = 8
#: context keys that describe the enterprise itself (its directory facts), shown once on the page
DIRECTORY = (
    "name",
    "risk_class",
    "street",
    "street_name",
    "grid",
    "grid_name",
    "address",
    "legal_representative",
)
_SKIP = frozenset(DIRECTORY) - {"grid", "risk_class"} | {"uscc"}


@dataclass
class Deadline:
    name: str
    state: str
    due_at: datetime
    status: str
    fired_at: datetime | None

    @property
    def missed(self) -> bool:
        return self.status == TimerStatus.FIRED


@dataclass
class Case:
    id: int
    flow: str
    state: str
    business_key: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    facts: list[tuple[str, str]]
    deadlines: list[Deadline] = field(default_factory=list)

    @property
    def met(self) -> int:
        """Deadlines whose state was left in time (the timer was cancelled, never fired)."""
        return sum(d.status == TimerStatus.CANCELLED for d in self.deadlines)

    @property
    def missed(self) -> list[Deadline]:
        return [d for d in self.deadlines if d.missed]


@dataclass
class Profile:
    uscc: str
    directory: dict[str, str]
    flows: dict[str, list[Case]]

    @property
    def cases(self) -> list[Case]:
        return [c for cases in self.flows.values() for c in cases]

    @property
    def met(self) -> int:
        return sum(c.met for c in self.cases)

    @property
    def missed(self) -> list[tuple[Case, Deadline]]:
        return [(c, d) for c in self.cases for d in c.missed]


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value)
    return text if text and len(text) <= 60 else None


def facts_of(context: dict[str, Any]) -> list[tuple[str, str]]:
    """A few short scalar facts of a context: the preferred keys first, then any other."""
    keys = [k for k in PREFERRED if k in context] + sorted(
        k for k in context if k not in PREFERRED and k not in _SKIP and not k.endswith("_at")
    )
    found: list[tuple[str, str]] = []
    for key in keys:
        text = _text(context.get(key))
        if text is not None:
            found.append((key, text))
        if len(found) == FACTS:
            break
    return found


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def profile(db: Database, uscc: str, warnings: WarningTimers = (), scope: str | None = None) -> Profile:
    """Everything about ``uscc`` an operator of ``scope`` (None: the district) may see."""
    query = select(Instance).where(Instance.subject == uscc).order_by(Instance.flow, Instance.id)
    if scope is not None:
        query = query.where(in_department(scope))
    skip = set(warnings)
    with db.read() as session:
        instances = list(session.execute(query).scalars())
        ids = [i.id for i in instances]
        timers = (
            list(
                session.execute(
                    select(TimerRow).where(TimerRow.instance_id.in_(ids)).order_by(TimerRow.due_at)
                ).scalars()
            )
            if ids
            else []
        )
    flows: dict[str, list[Case]] = {}
    by_id: dict[int, Case] = {}
    directory: dict[str, str] = {}
    for inst in sorted(instances, key=lambda i: _aware(i.updated_at)):
        context = inst.context or {}
        for key in DIRECTORY:
            text = _text(context.get(key))
            if text is not None:
                directory[key] = text  # the most recently updated case wins
        case = Case(
            inst.id,
            inst.flow,
            inst.state,
            inst.business_key,
            _aware(inst.created_at),
            _aware(inst.updated_at),
            _aware(inst.closed_at) if inst.closed_at else None,
            facts_of(context),
        )
        by_id[inst.id] = case
    for inst in instances:
        flows.setdefault(inst.flow, []).append(by_id[inst.id])
    for t in timers:
        case = by_id[t.instance_id]
        if (case.flow, t.name) in skip:
            continue
        fired = _aware(t.fired_at) if t.fired_at else None
        case.deadlines.append(Deadline(t.name, t.state, _aware(t.due_at), t.status, fired))
    return Profile(uscc, directory, flows)


@dataclass(frozen=True)
class Match:
    uscc: str
    name: str
    cases: int


def search(db: Database, q: str, scope: str | None = None, limit: int = 50) -> list[Match]:
    """Enterprises whose USCC starts with ``q`` or whose name (in a case's context) contains it."""
    q = q.strip()
    if not q:
        return []
    query = select(Instance.subject, Instance.context["name"].as_string()).where(
        Instance.subject.is_not(None),
        or_(
            Instance.subject.startswith(q.upper(), autoescape=True),
            Instance.context["name"].as_string().contains(q, autoescape=True),
        ),
    )
    if scope is not None:
        query = query.where(in_department(scope))
    found: dict[str, list[Any]] = {}
    with db.read() as session:
        for subject, name in session.execute(query.order_by(Instance.id).limit(5_000)):
            entry = found.setdefault(str(subject), ["", 0])
            entry[0] = entry[0] or (name or "")
            entry[1] += 1
    matches = [Match(code, str(name), int(n)) for code, (name, n) in found.items()]
    return sorted(matches, key=lambda m: m.uscc)[:limit]
