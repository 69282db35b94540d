"""Operator actions on one instance: a trigger fired with the operator as its cause (audited).

An action sent with an ``Idempotency-Key`` header is applied at most once per (instance, trigger,
key): its dedupe key is ``operator:<instance>:<trigger>:<key>``, so a retry answers as the first
attempt did — ``duplicate`` with the current state, or the same 409 — and has no second effect.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header
from sqlalchemy import select

from workflows.engine.commands import Cause
from workflows.errors import BadInput, Rejected
from workflows.intake.tokens import Principal
from workflows.queries.instances import instance_detail
from workflows.runtime import Runtime
from workflows.store.models import History, Instance

HEADER = "Idempotency-Key"
MAX_KEY = 200
#: the length of ``Command.dedupe_key`` and of the history's column
MAX_DEDUPE = 250

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description=(
            f"1–{MAX_KEY} printable ASCII characters naming this action; a retry with the same key "
            "has no second effect and answers `duplicate` with the current state (or the same 409)"
        ),
    ),
]


def dedupe_key(instance_id: int, trigger: str, idempotency_key: str | None) -> str:
    """The action's dedupe key: from the header, or random without one. Raises BadInput."""
    if idempotency_key is None:
        return f"operator:{uuid.uuid4()}"
    if not 1 <= len(idempotency_key) <= MAX_KEY or not all(" " <= c <= "~" for c in idempotency_key):
        raise BadInput(
            f"{HEADER} header: give 1–{MAX_KEY} printable ASCII characters (got "
            f"{len(idempotency_key)}{'' if idempotency_key.isascii() else ', not all ASCII'}); "
            "send the same key when you retry the action"
        )
    key = f"operator:{instance_id}:{trigger}:{idempotency_key}"
    if len(key) <= MAX_DEDUPE:
        return key
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return f"operator:{instance_id}:{trigger}:sha256:{digest}"


def act(
    runtime: Runtime,
    instance_id: int,
    trigger: str,
    payload: dict[str, Any] | Callable[[], dict[str, Any]],
    who: Principal,
    reason: str,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Fire ``trigger`` as the operator ``who``. ``payload`` may be a function: it is called only when
    the action is not a retry. Raises InstanceNotFound, BadInput, Rejected."""
    key = dedupe_key(instance_id, trigger, idempotency_key)
    flow = instance_detail(runtime.db, instance_id)["flow"]
    if idempotency_key is not None and (earlier := _replay(runtime, instance_id, trigger, key)):
        return earlier
    command = runtime.engine.command(
        flow,
        trigger,
        cause=Cause(kind="operator", operator=who.name, reason=reason),
        dedupe_key=key,
        payload=payload() if callable(payload) else payload,
        instance_id=instance_id,
    )
    outcome = runtime.execute(command)
    if outcome.status == "duplicate":  # a retry that raced the first attempt
        return _replay(runtime, instance_id, trigger, key) or {"status": "duplicate", "state": outcome.state}
    if outcome.status == "rejected":
        raise Rejected(instance_id, trigger, outcome.reason or "refused by the flow")
    return {"status": outcome.status, "state": outcome.state}


def _replay(runtime: Runtime, instance_id: int, trigger: str, key: str) -> dict[str, Any] | None:
    """The answer to a retry of an action already recorded under ``key`` (None: not recorded)."""
    with runtime.db.read() as session:
        earlier = session.execute(
            select(History.outcome, History.reason).where(
                History.instance_id == instance_id, History.dedupe_key == key
            )
        ).first()
        state = session.execute(select(Instance.state).where(Instance.id == instance_id)).scalar_one()
    if earlier is None:
        return None
    if earlier.outcome == "rejected":
        raise Rejected(instance_id, trigger, earlier.reason or "refused by the flow")
    return {"status": "duplicate", "state": state}
