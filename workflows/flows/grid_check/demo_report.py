"""The lines under the grid scorecard in the demo: how far the tasks escalated, where the unlicensed
operators went, and who held the tasks."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from state_machines.grid_check import FLOW_NAME, S
from workflows.flows.grid_check.scorecard import LEVEL_OF_TIMER, LEVELS
from workflows.store.db import Database
from workflows.store.models import Instance

WITH_DEPARTMENT = (S.department_case, S.case_closed)


def highest_level(context: dict[str, Any]) -> str | None:
    """The highest level any escalation of the task reached (street, department, district), if any."""
    reached = [
        LEVEL_OF_TIMER[s["timer"]] for s in context.get("escalations", []) if s.get("timer") in LEVEL_OF_TIMER
    ]
    return max(reached, key=LEVELS.index) if reached else None


def summary(db: Database) -> list[str]:
    with db.read() as session:
        rows = session.execute(
            select(Instance.state, Instance.context).where(Instance.flow == FLOW_NAME)
        ).all()
    levels: Counter[str] = Counter()
    holders: Counter[str] = Counter()
    unlicensed = handed_over = referred = returns = 0
    for state, context in rows:
        level = highest_level(context)
        if level is not None:
            levels[level] += 1
        holders[str(context.get("level"))] += 1
        returns += len(context.get("returns", []))
        referred += state == S.permit_referred
        if context.get("outcome") == "unlicensed":
            unlicensed += 1
            handed_over += state in WITH_DEPARTMENT
    return [
        f"escalated (the highest level each task reached): {levels['street']} to the street office, "
        f"{levels['department']} to a department, {levels['district']} to the district; "
        f"unlicensed: {unlicensed} found, {handed_over} went on to departments (§5–7)",
        f"permit needed: {referred} task referred to dual notification (its notices opened); "
        f"returns: {returns}; held by a backup worker (primary inactive): {holders['backup']}, "
        f"by a street office: {holders['street']}",
    ]
