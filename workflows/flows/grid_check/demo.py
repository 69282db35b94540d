"""The grid first check's part of the demo (``workflows.demo``): the shipped synthetic directory of
Laoshan (654 grids, 735 workers, 15 of them inactive: their grids' tasks go to the backups) is
imported, and every license the demo issues becomes an information check for its grid's worker.

Each new task gets its people's reports at once, scheduled for later hours (``demo_habits``): the
acknowledgement and the first check on the worker's habit (a slow tenth lets some tasks escalate to
the street and on), a re-check after a minor issue, the street office's enforcement of an unlicensed
operator and the follow-up department's case (无证无照经营查处办法 §5–7), a return for the wrong
grid, and the one ``permit_needed`` that opens a dual-notification notice. A task a street office holds
(its grid has no active worker) is left to escalate. The report is the grid scorecard by street.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules.matching import match_scope
from state_machines.grid_check import FLOW_NAME
from workflows.demo.parts import DemoContext, Place
from workflows.flows.grid_check import handoffs
from workflows.flows.grid_check.demo_habits import (
    CASE_WORKING_DAYS,
    MINOR_SHARE,
    PERMIT_ITEM,
    PROMPT,
    RECHECK_DAYS,
    RECTIFIED_SHARE,
    SLOW,
    STREET_WORKING_DAYS,
    OutcomePlan,
    Plan,
    Timing,
    slow_workers,
)
from workflows.flows.grid_check.demo_report import summary
from workflows.flows.grid_check.directory import assignee_for, parse_directory, replace_directory
from workflows.flows.grid_check.directory_synthetic import synthetic_path
from workflows.flows.grid_check.scorecard import grid_scorecard
from workflows.flows.grid_check.scorecard_view import format_scorecard
from workflows.store.models import Instance

GRID_APP = "/demo/grid-app"
CHECKLIST = ("亮照经营", "经营场所与登记一致", "经营范围与实际一致")


class GridCheckDemo:
    """The grid workers, the street offices and the follow-up departments."""

    def __init__(self) -> None:
        self.seen_task = 0
        self.slow: frozenset[str] = frozenset()
        self.neighbours: dict[str, str] = {}
        self.loaded = ""

    def load(self, ctx: DemoContext) -> Sequence[Place]:
        path = synthetic_path()
        directory = parse_directory(path, {s.code: s.name for s in ctx.ruleset.organisation.streets})
        with ctx.runtime.db.transaction() as session:
            report = replace_directory(session, directory, path.name, at=ctx.runtime.clock.now())
        self.slow = slow_workers(directory, ctx.rng)
        self.plan = OutcomePlan(ctx.rng)
        self.timing = Timing(ctx.runtime.engine.calendar, ctx.rng)
        grids = list(directory.grids)
        by_street: dict[str, list[str]] = {}
        for grid in grids:
            by_street.setdefault(grid.street, []).append(grid.code)
        for codes in by_street.values():  # the next grid of the same street (the last's: the first)
            self.neighbours.update(zip(codes, codes[1:] + codes[:1], strict=True))
        counts = report.counts
        self.loaded = (
            f"{path.name}, {counts.grids} grids, {counts.workers} workers "
            f"({counts.workers - counts.active} inactive, {len(self.slow)} slow)"
        )
        return [Place(g.code, g.street) for g in grids]

    def prepare(self, ctx: DemoContext) -> str:
        return f"{self.loaded}; each license is a first check for its grid's worker"

    def follow(self, ctx: DemoContext, now: datetime) -> None:
        with ctx.runtime.db.read() as session:
            rows: list[tuple[int, dict[str, Any]]] = [
                (task, context)
                for task, context in session.execute(
                    select(Instance.id, Instance.context).where(
                        Instance.flow == FLOW_NAME, Instance.id > self.seen_task
                    )
                )
            ]
            # in the order of the facts, not of the ids (the worker threads commit in any order)
            rows.sort(key=lambda row: (str(row[1].get("received_at")), str(row[1].get("reference")), row[0]))
            for task, context in rows:
                self.seen_task = max(self.seen_task, task)
                if context.get("worker_id"):  # a task a street office holds is left to escalate
                    _Script(ctx, self, session, task, context).play(now)

    def report(self, ctx: DemoContext, start: datetime, end: datetime) -> str:
        card = grid_scorecard(ctx.runtime.db, start, end)
        return "\n".join([format_scorecard(card, "street"), *summary(ctx.runtime.db)])


class _Script:
    """The reports of one task, scheduled when the demo first meets it."""

    def __init__(
        self, ctx: DemoContext, part: GridCheckDemo, session: Session, task: int, context: dict[str, Any]
    ) -> None:
        self.ctx, self.part, self.session = ctx, part, session
        self.task, self.context = task, context
        self.worker = str(context["worker_id"])
        self.rng, self.timing = ctx.rng, part.timing

    def emit(self, at: datetime, etype: str, source: str, **data: Any) -> None:
        self.ctx.schedule(at, etype, source, {"task": self.task, **data})

    def play(self, now: datetime) -> None:
        slow = self.worker in self.part.slow
        habit = SLOW if slow else PROMPT
        acknowledged = self.timing.hours(now, habit.ack_hours)
        if slow:
            plan: Plan = "minor_issue" if self.rng.random() < MINOR_SHARE else "ok"
        else:
            plan = self.part.plan.next(not self.part.plan.permit_given and self._needs_no_permit())
        if plan == "returned":
            self._returned(acknowledged)
            return
        self.emit(
            acknowledged,
            "grid.task.acknowledged",
            GRID_APP,
            worker_id=self.worker,
            acknowledged_at=acknowledged.isoformat(),
        )
        checked = self.timing.working_days(acknowledged, habit.check_working_days)
        self._check(checked, plan)
        if plan == "minor_issue":
            self._recheck(checked)
        elif plan == "unlicensed":
            self._enforcement(checked)
        elif plan == "address_unreachable":
            self._case(checked, handoffs.abnormal_list(self.ctx.ruleset)["department"], "abnormal_listed")

    def _needs_no_permit(self) -> bool:
        return (
            bool(self.context.get("uscc"))
            and match_scope(self.ctx.ruleset, self.context.get("content", "")).no_match
        )

    def _check(self, at: datetime, outcome: str, worker: str | None = None) -> None:
        data: dict[str, Any] = {
            "worker_id": worker or self.worker,
            "outcome": outcome,
            "checklist": [
                {"item": item, "result": "ok" if outcome == "ok" else "issue"} for item in CHECKLIST
            ],
            "gps": {
                "lat": round(36.1 + self.rng.uniform(0, 0.15), 5),
                "lon": round(120.45 + self.rng.uniform(0, 0.2), 5),
            },
            "photos": [f"photo/{self.task}-1.jpg"],
            "checked_at": at.isoformat(),
        }
        if outcome == "permit_needed":
            data.update(
                permit_item=PERMIT_ITEM, comment="现场销售预包装食品, 经营范围未载明, 未办食品经营许可"
            )
        self.emit(at, "grid.check.reported", GRID_APP, **data)

    def _recheck(self, checked: datetime) -> None:
        at = self.timing.days(checked, RECHECK_DAYS)
        rectified = self.rng.random() < RECTIFIED_SHARE
        self.emit(
            at,
            "grid.recheck.reported",
            GRID_APP,
            worker_id=self.worker,
            rectified=rectified,
            checked_at=at.isoformat(),
        )
        if not rectified:
            self._case(at, handoffs.not_rectified(self.ctx.ruleset)["department"], "penalised")

    def _enforcement(self, checked: datetime) -> None:
        street = str(self.context.get("street"))
        result, missing = self.part.plan.enforcement()
        at = self.timing.working_days(checked, STREET_WORKING_DAYS)
        data: dict[str, Any] = {"street": street, "result": result, "reported_at": at.isoformat()}
        if missing is not None:
            permits = match_scope(self.ctx.ruleset, self.context.get("content", "")).permits
            item = permits[0].permit if permits else PERMIT_ITEM
            data.update(missing=missing, permit_item=item if missing == "permit" else None)
            handoff, _ = handoffs.unlicensed(self.ctx.ruleset, missing, item)
        self.emit(
            at,
            "street.enforcement.reported",
            f"/demo/streets/{street}",
            **{k: v for k, v in data.items() if v is not None},
        )
        if missing is not None:
            self._case(at, handoff["department"], self.rng.choice(("rectified", "penalised", "closed")))

    def _case(self, after: datetime, department: str, result: str) -> None:
        at = self.timing.working_days(after, CASE_WORKING_DAYS)
        self.emit(
            at,
            "department.case.reported",
            f"/demo/departments/{department}",
            department=department,
            result=result,
            reported_at=at.isoformat(),
        )

    def _returned(self, at: datetime) -> None:
        """The worker returns the task: the shop is in the next grid; its worker takes it from there."""
        grid = self.part.neighbours.get(str(self.context.get("grid")), "")
        self.emit(
            at,
            "grid.task.returned",
            GRID_APP,
            by=self.worker,
            reason="wrong_grid",
            grid=grid,
            comment="商户实际位于相邻网格",
            returned_at=at.isoformat(),
        )
        found = assignee_for(self.session, grid)
        if found is None or found.worker_id is None:
            return
        acknowledged = self.timing.hours(at, PROMPT.ack_hours)
        self.emit(
            acknowledged,
            "grid.task.acknowledged",
            GRID_APP,
            worker_id=found.worker_id,
            acknowledged_at=acknowledged.isoformat(),
        )
        self._check(self.timing.working_days(acknowledged, PROMPT.check_working_days), "ok", found.worker_id)
