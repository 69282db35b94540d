"""Who receives a grid check push, by its ``kind``:

* ``task`` — the holder: the grid worker's app (its recipient id), the street office, or the platform
  office when the district holds it;
* ``district_review`` — the platform office, which makes the binding assignment (审定);
* ``enforcement`` — the street office's comprehensive enforcement team (``enforcement_officer``);
* ``department_case`` — the follow-up department;
* ``warning`` / ``overdue`` / ``supervision`` — the escalation ladder's step for the timer that passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules import RuleSet
from workflows.delivery.recipients import (
    NoRecipient,
    Recipient,
    department_role,
    ladder_recipient,
    office,
)

LADDER_KINDS = frozenset({"warning", "overdue", "supervision"})

TITLES = {
    "task": "网格任务: {name} {address}, 请接收并首检",
    "district_review": "网格任务多次退回, 请审定指派: {address}",
    "enforcement": "无证无照经营, 请街道综合执法: {name} {address}",
    "department_case": "网格首检移交部门处置: {name} {address}",
    "warning": "黄色预警: 网格任务即将超时 {address}",
    "overdue": "超时: 网格任务 {address}",
    "supervision": "督办: 网格任务超时 {address}",
}


def resolve(ruleset: RuleSet, flow: str, payload: Mapping[str, Any]) -> Recipient:
    """The recipient of one push; raises ``NoRecipient`` with the reason when there is none."""
    kind = str(payload.get("kind", ""))
    if kind == "task":
        return holder(ruleset, payload)
    if kind == "district_review":
        return office(ruleset, payload)
    if kind == "enforcement":
        street = str(payload.get("street", ""))
        if not street:
            raise NoRecipient("the task names no street for its enforcement")
        return Recipient("street", street, "enforcement_officer", str(payload.get("street_name", "")))
    if kind == "department_case":
        return department_role(ruleset, str(payload["department"]), "case_handler")
    if kind in LADDER_KINDS:
        return ladder_recipient(ruleset, flow, payload)
    raise NoRecipient(f"unknown push kind {kind!r}")


def holder(ruleset: RuleSet, payload: Mapping[str, Any]) -> Recipient:
    level = payload.get("level")
    if level in ("grid", "backup") and (payload.get("recipient") or payload.get("worker_id")):
        code = str(payload.get("recipient") or payload["worker_id"])
        return Recipient("grid_worker", code, None, str(payload.get("worker_name", "")))
    if level == "street" and payload.get("street"):
        return Recipient("street", str(payload["street"]), None, str(payload.get("street_name", "")))
    return office(ruleset, payload)
