"""The joint inspection's lines of the demo report: the draw (candidates, exclusions, groups, its
verification again), the replacement, the inspections by state, the results by category, the
follow-up cases and the publication record."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from state_machines.joint_inspection import FLOW_NAME, FOLLOW_UP
from workflows.flows.joint_inspection import service
from workflows.flows.joint_inspection.plans import InspectionPlan
from workflows.store.db import Database
from workflows.store.models import Instance


def summary(db: Database, plan_id: str, draw_id: int | None, replaced: str) -> str:
    with db.read() as session:
        plan = session.get(InspectionPlan, plan_id)
        if plan is None or draw_id is None:
            return "joint inspection: no plan was drawn (the demo ran less than two days)"
        counts = plan.snapshot["counts"]
        checked = service.verify_draw(session, draw_id)
        states = dict(
            session.execute(
                select(Instance.state, func.count())
                .where(Instance.flow == FLOW_NAME)
                .group_by(Instance.state)
            ).all()
        )
        cases = dict(
            session.execute(
                select(Instance.state, func.count())
                .where(Instance.flow == FOLLOW_UP)
                .group_by(Instance.state)
            ).all()
        )
        results: Counter[str] = Counter()
        for (context,) in session.execute(select(Instance.context).where(Instance.flow == FLOW_NAME)):
            results.update(str(r.get("name") or r.get("code")) for r in context.get("results", {}).values())
    drawn = sum(states.values())
    verdict = "ok" if checked["ok"] else f"DIFFERS: {'; '.join(checked['differences'])}"
    lines = [
        f"Joint inspection (双随机联合抽查) — plan {plan_id}, draw #{draw_id}",
        f"  candidates {counts['objects']:,} (excluded {counts['excluded']:,}: inspected within 12 months, "
        f"no problem), officers {counts['officers']}",
        f"  drawn {drawn} objects into 5 groups; verify: {verdict}; snapshot {plan.snapshot_hash[:16]}…",
        f"  replaced: {replaced or 'nobody'}",
        "  inspections: " + ", ".join(f"{state} {n}" for state, n in sorted(states.items())),
        "  results: " + ", ".join(f"{name} {n}" for name, n in results.most_common()),
        "  follow-up cases: " + (", ".join(f"{state} {n}" for state, n in sorted(cases.items())) or "none"),
        f"  public record: {states.get('published', 0)} published; "
        f"GET /inspections/plans/{plan_id}/publication",
    ]
    return "\n".join(lines)
