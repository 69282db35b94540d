"""The dual-notification scorecard: per department and overall, for notices pushed in a date range.

* ``notices`` — notices pushed in ``[start, end)`` (by the instance's creation time);
* ``claim_due`` — those whose claim window is over: claimed, or past the claim deadline;
* ``claimed_in_time`` and ``claim_rate`` = claimed_in_time ÷ claim_due (the 48-hour claim rate);
  a notice still inside its window counts for neither, so young notices do not drag the rate down;
* ``overdue_now`` — unclaimed notices past their claim deadline at ``now``;
* ``needing_permit`` — notices not closed as not needed and not cancelled; ``permits_issued`` and
  ``permit_rate`` = permits_issued ÷ needing_permit (办证率);
* ``avg_working_days`` — mean working days from the license to the permit over the permits issued
  (the license day not counted, the permit day counted: ``WorkCalendar.working_days_between``).

Contexts are loaded and aggregated in Python: JSON access differs between SQLite and PostgreSQL, and
the figures must be identical on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from rules import RuleSet
from state_machines import dual_notification
from workflows.store.db import Database
from workflows.store.models import Instance
from workflows.time.calendar import WorkCalendar

FLOW = dual_notification.FLOW_NAME
CLOSED_WITHOUT_PERMIT = frozenset({"not_needed", "cancelled"})


@dataclass
class Score:
    department: str
    department_name: str = ""
    notices: int = 0
    claimed: int = 0
    claim_due: int = 0
    claimed_in_time: int = 0
    overdue_now: int = 0
    needing_permit: int = 0
    permits_issued: int = 0
    working_days_total: int = 0
    _days_counted: int = field(default=0, repr=False)

    @property
    def claim_rate(self) -> float | None:
        return _rate(self.claimed_in_time, self.claim_due)

    @property
    def permit_rate(self) -> float | None:
        return _rate(self.permits_issued, self.needing_permit)

    @property
    def avg_working_days(self) -> float | None:
        if not self._days_counted:
            return None
        return round(self.working_days_total / self._days_counted, 2)

    def add(self, other: Score) -> None:
        for name in ("notices", "claimed", "claim_due", "claimed_in_time", "overdue_now"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("needing_permit", "permits_issued", "working_days_total", "_days_counted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_json(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        del out["working_days_total"]
        out.update(
            claim_rate=self.claim_rate, permit_rate=self.permit_rate, avg_working_days=self.avg_working_days
        )
        return out


@dataclass
class Scorecard:
    start: datetime
    end: datetime
    at: datetime
    departments: list[Score]
    overall: Score

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "at": self.at.isoformat(),
            "departments": [d.as_json() for d in self.departments],
            "overall": self.overall.as_json(),
        }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _at(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def claim_deadline(context: Mapping[str, Any]) -> datetime | None:
    """When the notice's claim window closes (pushed_at + claim_window_hours), if known."""
    pushed = _at(context.get("pushed_at"))
    hours = context.get("claim_window_hours")
    if pushed is None or not hours:
        return None
    return pushed + timedelta(hours=float(hours))


def score_notice(
    score: Score, state: str, context: Mapping[str, Any], now: datetime, calendar: WorkCalendar
) -> None:
    """Count one notice into ``score``."""
    score.notices += 1
    escalated = {e.get("kind") for e in context.get("escalations") or []}
    deadline = claim_deadline(context)
    past_deadline = "overdue" in escalated or (deadline is not None and now >= deadline)
    claimed = bool(context.get("claimed_at"))
    if claimed:
        score.claimed += 1
        score.claim_due += 1
        score.claimed_in_time += bool(context.get("claimed_in_time"))
    elif past_deadline and state != "created":
        score.claim_due += 1
        score.overdue_now += state == "awaiting_claim"
    if state not in CLOSED_WITHOUT_PERMIT:
        score.needing_permit += 1
    if state == "permit_issued":
        score.permits_issued += 1
        days = context.get("working_days")
        if days is None:
            license_at, permit_at = (
                _at(context.get("license_issued_at")),
                _at(context.get("permit_issued_at")),
            )
            if license_at is not None and permit_at is not None:
                days = calendar.working_days_between(license_at, permit_at)
        if days is not None:
            score.working_days_total += int(days)
            score._days_counted += 1


def aggregate(
    rows: Iterable[tuple[str, Mapping[str, Any]]],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    calendar: WorkCalendar,
    ruleset: RuleSet | None = None,
) -> Scorecard:
    """The scorecard of (state, context) rows, one per notice."""
    by_department: dict[str, Score] = {}
    for state, context in rows:
        code = str(context.get("department") or "?")
        score = by_department.get(code)
        if score is None:
            score = by_department[code] = Score(code, _name(ruleset, code, context))
        score_notice(score, state, context, now, calendar)
    overall = Score("ALL", "合计")
    for score in by_department.values():
        overall.add(score)
    departments = sorted(by_department.values(), key=lambda s: s.department)
    return Scorecard(start, end, now, departments, overall)


def _name(ruleset: RuleSet | None, code: str, context: Mapping[str, Any]) -> str:
    unit = ruleset.organisation.department(code) if ruleset is not None else None
    return unit.short_name if unit is not None else str(context.get("department_name") or "")


def scorecard(
    db: Database,
    calendar: WorkCalendar,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    ruleset: RuleSet | None = None,
    batch: int = 5_000,
) -> Scorecard:
    """The scorecard of the notices pushed in ``[start, end)``, as things stand at ``now``."""
    if start >= end:
        raise ValueError(f"the range is empty: start {start.isoformat()} is not before end {end.isoformat()}")
    query = (
        select(Instance.id, Instance.state, Instance.context)
        .where(Instance.flow == FLOW, Instance.created_at >= start, Instance.created_at < end)
        .order_by(Instance.id)
    )
    with db.read() as session:
        rows = [(r.state, r.context or {}) for r in session.execute(query.execution_options(yield_per=batch))]
    return aggregate(rows, start=start, end=end, now=now, calendar=calendar, ruleset=ruleset)
