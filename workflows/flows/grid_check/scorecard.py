"""The grid scorecard: per grid, street and worker and overall, for tasks dispatched in a date range.

* ``pushes`` — tasks dispatched in ``[start, end)`` (by their first dispatch);
* ``checked`` and ``verified_rate`` = checked ÷ pushes: tasks whose on-site first check was reported
  (核查率; 34,000 of 73,000 in the reference district);
* ``unlicensed`` — first checks that found unlicensed operation (无照无证);
* ``days_p50`` / ``days_p90`` — working days from the first dispatch to the first check (the dispatch
  day not counted, the check day counted: ``WorkCalendar.working_days_between``);
* ``overdue`` — open tasks past a deadline of their current state, by the level that now holds the
  escalation (street, department, district: the ladders of escalation.yaml);
* ``returns`` — returns (退单) the tasks took.

A task counts for the worker holding it now. Contexts are aggregated in Python: JSON access differs
between SQLite and PostgreSQL, and the figures must be identical on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median_low, quantiles
from typing import Any

from sqlalchemy import select

from state_machines.grid_check import FLOW_NAME
from workflows.store.db import Database
from workflows.store.models import Instance

#: the level an escalation reaches when a deadline timer passes (warnings reach none)
LEVEL_OF_TIMER: dict[str, str] = {
    "acknowledge_deadline": "street",
    "first_check_deadline": "street",
    "first_check_department": "department",
    "first_check_district": "district",
    "recheck_deadline": "street",
    "recheck_supervision": "department",
    "enforcement_deadline": "street",
    "enforcement_supervision": "district",
    "case_deadline": "district",
}
LEVELS = ("street", "department", "district")


@dataclass
class GridScore:
    key: str
    name: str = ""
    pushes: int = 0
    checked: int = 0
    unlicensed: int = 0
    returns: int = 0
    overdue: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    days: list[int] = field(default_factory=list, repr=False)

    @property
    def verified_rate(self) -> float | None:
        return round(self.checked / self.pushes, 4) if self.pushes else None

    def percentile(self, p: int) -> float | None:
        if not self.days:
            return None
        if p == 50:
            return float(median_low(self.days))
        if len(self.days) == 1:
            return float(self.days[0])
        return round(quantiles(self.days, n=100, method="inclusive")[p - 1], 1)

    def add(self, task: Mapping[str, Any], days: int | None, level: str | None) -> None:
        self.pushes += 1
        self.checked += "outcome" in task
        self.unlicensed += task.get("outcome") == "unlicensed"
        self.returns += len(task.get("returns", []))
        if days is not None:
            self.days.append(days)
        if level is not None:
            self.overdue[level] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "pushes": self.pushes,
            "checked": self.checked,
            "verified_rate": self.verified_rate,
            "unlicensed": self.unlicensed,
            "days_p50": self.percentile(50),
            "days_p90": self.percentile(90),
            "overdue": dict(self.overdue),
            "overdue_total": sum(self.overdue.values()),
            "returns": self.returns,
        }


@dataclass
class GridScorecard:
    start: datetime | None
    end: datetime | None
    overall: GridScore
    streets: list[GridScore]
    grids: list[GridScore]
    workers: list[GridScore]

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "overall": self.overall.as_json(),
            "streets": [s.as_json() for s in self.streets],
            "grids": [g.as_json() for g in self.grids],
            "workers": [w.as_json() for w in self.workers],
        }


def overdue_level(state: str, closed: bool, ctx: Mapping[str, Any]) -> str | None:
    """The highest level an open task's escalations reached in its current state, if any."""
    if closed:
        return None
    reached = [
        LEVEL_OF_TIMER[step["timer"]]
        for step in ctx.get("escalations", [])
        if step.get("state") == state and step.get("timer") in LEVEL_OF_TIMER
    ]
    return max(reached, key=LEVELS.index) if reached else None


def build(
    rows: Iterable[tuple[str, datetime | None, Mapping[str, Any]]],
    start: datetime | None = None,
    end: datetime | None = None,
) -> GridScorecard:
    """Aggregate (state, closed_at, context) rows of grid check tasks."""
    overall = GridScore("all")
    streets: dict[str, GridScore] = {}
    grids: dict[str, GridScore] = {}
    workers: dict[str, GridScore] = {}
    for state, closed_at, ctx in rows:
        dispatched = ctx.get("dispatched_at")
        if not dispatched:
            continue
        at = datetime.fromisoformat(str(dispatched))
        if (start is not None and at < start) or (end is not None and at >= end):
            continue
        days = ctx.get("working_days_to_check")
        level = overdue_level(state, closed_at is not None, ctx)
        overall.add(ctx, days, level)
        street, grid = str(ctx.get("street") or "-"), str(ctx.get("grid") or "-")
        streets.setdefault(street, GridScore(street, str(ctx.get("street_name", "")))).add(ctx, days, level)
        grids.setdefault(grid, GridScore(grid, str(ctx.get("grid_name", "")))).add(ctx, days, level)
        holder = str(ctx.get("worker_id") or f"({ctx.get('level', '-')})")
        workers.setdefault(holder, GridScore(holder, str(ctx.get("worker_name") or ""))).add(ctx, days, level)
    return GridScorecard(
        start,
        end,
        overall,
        *(sorted(group.values(), key=lambda s: s.key) for group in (streets, grids, workers)),
    )


def grid_scorecard(db: Database, start: datetime | None = None, end: datetime | None = None) -> GridScorecard:
    """The scorecard of the tasks dispatched in ``[start, end)`` (all when open-ended)."""
    with db.read() as session:
        rows = session.execute(
            select(Instance.state, Instance.closed_at, Instance.context).where(Instance.flow == FLOW_NAME)
        ).all()
    return build(((state, closed, ctx) for state, closed, ctx in rows), start, end)
