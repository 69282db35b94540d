"""The joint inspection's part of the demo (``workflows.demo``): a synthetic district of 5,000 inspection
objects and the 800 officers over the 17 departments is imported; on the second morning the platform
office freezes a plan of pharmacies' and shops' joint inspection by market supervision (SCJG) and the
health commission (WJJ) — 40 objects over the four risk classes, 5 groups of 2 + 2 officers — and draws
it an hour later with the day's lottery result as the revealed value. One officer then falls ill and is
replaced from the draw's stream. Each department's officer records a result within a few days (a
fifth of them a problem, which opens a follow-up case; most cases are resolved), the office publishes
each inspection the day after its last result, and the report verifies the draw again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from state_machines.joint_inspection import FLOW_NAME, FOLLOW_UP, S
from workflows.demo.parts import DemoContext, Place
from workflows.engine.commands import Cause
from workflows.flows.joint_inspection import service
from workflows.flows.joint_inspection.demo_report import summary
from workflows.flows.joint_inspection.directory import replace_objects, replace_officers
from workflows.flows.joint_inspection.directory_parse import parse_objects, parse_officers
from workflows.flows.joint_inspection.directory_synthetic import (
    write_synthetic_objects,
    write_synthetic_officers,
)
from workflows.flows.joint_inspection.plans import InspectionDraw
from workflows.store.models import Instance

OBJECTS = 5_000
PLAN_ID = "DEMO-LS-2026-01"
OFFICE = "demo-platform-office"
LOTTERY = "福彩3D 第2026320期 开奖号码 4 7 1"
APP = "/demo/inspection-app"
#: (result code, share) a department records
RESULTS = (("no_problem", 0.7), ("corrected", 0.1), ("follow_up", 0.12), ("not_publicised", 0.08))
RESOLVED_SHARE = 0.7


class JointInspectionDemo:
    """The platform office (plan, draw, a replacement, publication) and the drawn officers."""

    def __init__(self) -> None:
        self.loaded = ""
        self.draw_id: int | None = None
        self.replaced = ""
        self.seen = 0
        self.seen_cases = 0
        self.due_publication: dict[int, datetime] = {}

    def load(self, ctx: DemoContext) -> Sequence[Place]:
        rules = ctx.ruleset
        with tempfile.TemporaryDirectory(prefix="yunshang-demo-") as tmp:
            objects, officers = Path(tmp) / "objects.csv", Path(tmp) / "officers.csv"
            write_synthetic_objects(objects, OBJECTS, ctx.seed)
            write_synthetic_officers(officers, ctx.seed, OBJECTS)
            parsed = parse_objects(
                objects,
                {r.code for r in rules.sampling.risk_classes},
                {s.code for s in rules.organisation.streets},
                [r.code for r in rules.sampling.results],
            )
            staff = parse_officers(officers, {d.code for d in rules.organisation.departments})
        with ctx.runtime.db.transaction() as session:
            replace_objects(session, parsed, objects.name, at=ctx.runtime.clock.now())
            replace_officers(session, staff, officers.name, at=ctx.runtime.clock.now())
        self.loaded = f"{len(parsed.objects):,} inspection objects, {len(staff.officers)} officers"
        return []

    def prepare(self, ctx: DemoContext) -> str:
        return f"{self.loaded}; plan {PLAN_ID} is frozen on day 2 at 09:00 and drawn at 10:00"

    def follow(self, ctx: DemoContext, now: datetime) -> None:
        hour = now - ctx.start
        if hour == timedelta(hours=25):
            self._plan(ctx, now)
        elif hour == timedelta(hours=26):
            self._draw(ctx, now)
        elif hour == timedelta(hours=27):
            self._replace(ctx, now)
        elif hour > timedelta(hours=27):
            self._results(ctx, now)
            self._publish(ctx, now)
            self._cases(ctx, now)

    def _plan(self, ctx: DemoContext, now: datetime) -> None:
        body = service.PlanBody.model_validate(
            {
                "id": PLAN_ID,
                "name": "崂山区药店及商超跨部门联合抽查",
                "departments": {"SCJG": ["药品经营", "食品经营"], "WJJ": ["公共场所卫生"]},
                "quotas": {"A": 10, "B": 10, "C": 10, "D": 10},
                "per_department": 2,
                "groups": 5,
                "commitment": {"kind": "public_value"},
            }
        )
        with ctx.runtime.transaction() as session:
            service.create_plan(session, body, ctx.ruleset, now, OFFICE)

    def _draw(self, ctx: DemoContext, now: datetime) -> None:
        with ctx.runtime.transaction() as session:
            self.draw_id = service.draw_plan(session, ctx.runtime.engine, PLAN_ID, LOTTERY, now, OFFICE).id

    def _replace(self, ctx: DemoContext, now: datetime) -> None:
        assert self.draw_id is not None
        with ctx.runtime.transaction() as session:
            draw = session.get(InspectionDraw, self.draw_id)
            assert draw is not None
            sick = draw.receipt["result"]["groups"][0][-1]
            done = service.replace(session, ctx.runtime.engine, self.draw_id, sick, "病假", OFFICE, now)
        self.replaced = f"{done['officer']} → {done['replacement']} (病假)"

    def _results(self, ctx: DemoContext, now: datetime) -> None:
        """New inspections get each department's result, a few days on."""
        with ctx.runtime.db.read() as session:
            rows = session.execute(
                select(Instance.id, Instance.context).where(
                    Instance.flow == FLOW_NAME, Instance.id > self.seen, Instance.state == S.inspecting
                )
            ).all()
        for inspection, context in sorted(rows, key=lambda r: str(r[1].get("uscc"))):
            self.seen = max(self.seen, inspection)
            for department in context["departments"]:
                at = now + timedelta(hours=ctx.rng.randint(20, 100))
                code = _pick(ctx, RESULTS)
                data: dict[str, Any] = {
                    "inspection": inspection,
                    "department": department,
                    "officer": context["officers"][department][0],
                    "result": code,
                    "inspected_at": at.isoformat(),
                }
                if code != "no_problem":
                    data["comment"] = "进货查验记录不全" if department == "SCJG" else "消毒记录缺失"
                ctx.schedule(at, "inspection.result.recorded", APP, data)

    def _publish(self, ctx: DemoContext, now: datetime) -> None:
        """The office publishes an inspection the day after its last result is in."""
        with ctx.runtime.db.read() as session:
            waiting = session.execute(
                select(Instance.id).where(
                    Instance.flow == FLOW_NAME, Instance.state == S.awaiting_publication
                )
            ).scalars()
            for inspection in waiting:
                self.due_publication.setdefault(inspection, now + timedelta(days=1))
        for inspection, due in sorted(self.due_publication.items()):
            if due <= now:
                command = ctx.runtime.engine.command(
                    FLOW_NAME,
                    "publish",
                    cause=Cause(kind="operator", operator=OFFICE, reason="结果已核"),
                    dedupe_key=f"demo-publish:{inspection}",
                    payload={"by": OFFICE},
                    instance_id=inspection,
                )
                ctx.runtime.execute(command)
                del self.due_publication[inspection]

    def _cases(self, ctx: DemoContext, now: datetime) -> None:
        """Most follow-up cases are resolved by their department within a week."""
        with ctx.runtime.db.read() as session:
            rows = session.execute(
                select(Instance.id, Instance.context).where(
                    Instance.flow == FOLLOW_UP, Instance.id > self.seen_cases
                )
            ).all()
        for case, context in sorted(rows, key=lambda r: (str(r[1].get("uscc")), str(r[1].get("department")))):
            self.seen_cases = max(self.seen_cases, case)
            if ctx.rng.random() < RESOLVED_SHARE:
                at = now + timedelta(hours=ctx.rng.randint(48, 160))
                data = {
                    "case": case,
                    "department": context["department"],
                    "outcome": "已整改",
                    "comment": "复查合格",
                    "resolved_at": at.isoformat(),
                }
                ctx.schedule(
                    at, "inspection.follow_up.resolved", f"/demo/departments/{context['department']}", data
                )

    def report(self, ctx: DemoContext, start: datetime, end: datetime) -> str:
        return summary(ctx.runtime.db, PLAN_ID, self.draw_id, self.replaced)


def _pick(ctx: DemoContext, shares: Sequence[tuple[str, float]]) -> str:
    u, total = ctx.rng.random(), 0.0
    for code, share in shares:
        total += share
        if u < total:
            return code
    return shares[-1][0]
