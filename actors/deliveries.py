"""The ``deliveries.push`` actor (queue ``deliveries``): a thin adapter onto ``workflows.delivery.service``.

A failed webhook attempt raises ``dramatiq.Retry`` with the delivery's own backoff; the number of
attempts lives in the delivery row, so a dead delivery is decided by the database, not by the broker.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from workflows.delivery.service import Deliveries, Policy, RulesInForce, build_channel
from workflows.messaging.retry import transient_retry
from workflows.runtime import Runtime

log = logging.getLogger("yunshang.actors")

ACTOR = "deliveries.push"
QUEUE = "deliveries"


def build_deliveries(runtime: Runtime) -> Deliveries:
    settings = runtime.settings
    policy = Policy(
        max_attempts=settings.webhook_max_attempts,
        min_backoff_ms=settings.webhook_min_backoff_ms,
        max_backoff_ms=settings.webhook_max_backoff_ms,
    )
    rules = RulesInForce(lambda: runtime.engine.deadlines, settings)
    return Deliveries(runtime.db, runtime.clock, rules, build_channel(settings), policy)


def declare_deliveries(runtime: Runtime) -> None:
    """Register ``deliveries.push`` on the runtime's broker (once; a second call changes nothing)."""
    broker = runtime.broker
    if ACTOR in broker.actors:
        return
    service = build_deliveries(runtime)
    if getattr(service.channel, "local", False):  # nothing leaves the process: no message needed
        runtime.engine.local_effects[ACTOR] = service.record_local
    else:  # the row is recorded with the transition; the actor sends it
        runtime.engine.message_companions[ACTOR] = service.record_pending
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
        actor_name=ACTOR,
        queue_name=QUEUE,
        priority=0,
        options=dict(
            max_retries=runtime.settings.max_retries,
            min_backoff=runtime.settings.min_backoff_ms,
            max_backoff=runtime.settings.max_backoff_ms,
            retry_when=retry_when,
        ),
    )
