"""Operator actions on one instance: a trigger fired with the operator as its cause (audited)."""

from __future__ import annotations

import uuid
from typing import Any

from workflows.engine.commands import Cause
from workflows.errors import Rejected
from workflows.intake.tokens import Principal
from workflows.queries.instances import instance_detail
from workflows.runtime import Runtime


def act(
    runtime: Runtime, instance_id: int, trigger: str, payload: dict[str, Any], who: Principal, reason: str
) -> dict[str, Any]:
    flow = instance_detail(runtime.db, instance_id)["flow"]
    command = runtime.engine.command(
        flow,
        trigger,
        cause=Cause(kind="operator", operator=who.name, reason=reason),
        dedupe_key=f"operator:{uuid.uuid4()}",
        payload=payload,
        instance_id=instance_id,
    )
    outcome = runtime.execute(command)
    if outcome.status == "rejected":
        raise Rejected(instance_id, trigger, outcome.reason or "refused by the flow")
    return {"status": outcome.status, "state": outcome.state}
