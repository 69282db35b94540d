"""The ``deliveries.push`` actor (queue ``deliveries``): a thin adapter onto the runtime's deliveries.

A failed webhook attempt raises ``dramatiq.Retry`` with the delivery's own backoff; the number of
attempts lives in the delivery row, so a dead delivery is decided by the database, not by the broker.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from state_machines.base import PUSH_ACTOR
from workflows.messaging.retry import transient_retry
from workflows.runtime import Runtime

log = logging.getLogger("yunshang.actors")

QUEUE = "deliveries"


def declare_deliveries(runtime: Runtime) -> None:
    """Register ``deliveries.push`` on the runtime's broker (once; a second call changes nothing)."""
    broker = runtime.broker
    if PUSH_ACTOR in broker.actors:
        return
    service = runtime.deliveries
    transient = transient_retry(runtime.settings.max_retries)

    def retry_when(retries: int, exc: BaseException) -> bool:
        # our own Retry is bounded by the delivery's attempts; anything else only if transient
        return isinstance(exc, dramatiq.Retry) or transient(retries, exc)

    def push(body: dict[str, Any], outbox_id: str | None = None) -> None:
        if outbox_id is None:
            current = CurrentMessage.get_current_message()
            outbox_id = str(current.message_id) if current is not None else ""
        outcome = service.push(body, outbox_id)
        log.debug("push %s: %s", outbox_id, outcome.status)
        if outcome.status == "retry":
            raise dramatiq.Retry(outcome.error or "delivery failed", delay=outcome.retry_in_ms)

    push.__name__ = push.__qualname__ = "deliveries_push"
    dramatiq.Actor(
        push,
        broker=broker,
        actor_name=PUSH_ACTOR,
        queue_name=QUEUE,
        priority=0,
        options=dict(
            max_retries=runtime.settings.max_retries,
            min_backoff=runtime.settings.min_backoff_ms,
            max_backoff=runtime.settings.max_backoff_ms,
            retry_when=retry_when,
        ),
    )
