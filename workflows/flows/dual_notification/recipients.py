"""Who receives a dual-notification push, by its ``kind``:

* ``notice`` / ``requested`` (another flow found the permit needed) — the department's notice
  handlers (``notice_handler``), else the department itself;
* ``warning`` / ``overdue`` / ``supervision`` — the escalation ladder's step for the timer that passed;
* ``returned`` / ``routing_failed`` — the platform office, which routes by hand;
* ``reminder`` — the enterprise itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules import RuleSet
from workflows.delivery.recipients import (
    NoRecipient,
    Recipient,
    department_role,
    enterprise,
    ladder_recipient,
    office,
)

NOTICE_ROLE = "notice_handler"
OFFICE_KINDS = frozenset({"returned", "routing_failed"})
ENTERPRISE_KINDS = frozenset({"reminder"})
LADDER_KINDS = frozenset({"warning", "overdue", "supervision"})

TITLES = {
    "notice": "双告知: {name} 需办理「{permit_name}」, 请认领",
    "warning": "黄色预警: {name}「{permit_name}」告知即将超时未认领",
    "overdue": "超时未认领: {name}「{permit_name}」",
    "supervision": "督办: {name}「{permit_name}」告知超时未认领",
    "returned": "告知被退回, 请重新指派: {name}「{permit_name}」",
    "routing_failed": "经营范围需人工指派: {name}",
    "reminder": "{name}: 请办理后置许可",
    "requested": "网格核查发现需办理「{permit_name}」: {name}, 请跟进告知",
}


def resolve(ruleset: RuleSet, flow: str, payload: Mapping[str, Any]) -> Recipient:
    """The recipient of one push; raises ``NoRecipient`` with the reason when there is none."""
    kind = str(payload.get("kind", ""))
    if kind in ENTERPRISE_KINDS:
        return enterprise(payload)
    if kind in OFFICE_KINDS:
        return office(ruleset, payload)
    if kind in ("notice", "requested"):
        return department_role(ruleset, str(payload["department"]), NOTICE_ROLE)
    if kind in LADDER_KINDS:
        return ladder_recipient(ruleset, flow, payload)
    raise NoRecipient(f"unknown push kind {kind!r}")
