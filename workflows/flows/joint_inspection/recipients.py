"""Who receives a joint inspection push, by its ``kind``: ``inspection`` — the officer's app;
``follow_up`` — the department; ``warning`` / ``overdue`` / ``supervision`` — the ladder's step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules import RuleSet
from workflows.delivery.recipients import NoRecipient, Recipient, department_role, ladder_recipient

TITLES = {
    "inspection": "双随机联合抽查任务: {name} {uscc}",
    "follow_up": "抽查发现问题, 请后续处置: {uscc}",
    "warning": "黄色预警: 抽查任务即将超时 {uscc}",
    "overdue": "超时: 抽查任务 {uscc}",
    "supervision": "督办: 抽查结果公示超时 {uscc}",
}


def resolve(ruleset: RuleSet, flow: str, payload: Mapping[str, Any]) -> Recipient:
    kind = str(payload.get("kind", ""))
    if kind == "inspection":
        return Recipient("officer", str(payload["officer"]))
    if kind == "follow_up":
        return department_role(ruleset, str(payload["department"]), "case_handler")
    if kind in ("warning", "overdue", "supervision"):
        return ladder_recipient(ruleset, flow, payload)
    raise NoRecipient(f"unknown push kind {kind!r}")
