"""Dramatiq actors: thin adapters from a message to a call into ``workflows``.

``declare(runtime)`` registers, on the runtime's broker, one ``<flow>.advance`` actor per flow on a
queue named after the flow (and ``<flow>.advance_many`` for a message of many commands), and the
side-effect actors. Names are stable: they are in Redis keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import dramatiq

from actors.deliveries import declare_deliveries
from workflows.engine.commands import parse_command
from workflows.engine.rows import advance_actor, batch_actor
from workflows.messaging.retry import is_transient, transient_retry
from workflows.runtime import Runtime

log = logging.getLogger("yunshang.actors")


def declare(runtime: Runtime) -> None:
    broker = runtime.broker
    options: dict[str, Any] = dict(
        max_retries=runtime.settings.max_retries,
        min_backoff=runtime.settings.min_backoff_ms,
        max_backoff=runtime.settings.max_backoff_ms,
        retry_when=transient_retry(runtime.settings.max_retries),
    )
    for flow in runtime.engine.flows:
        _declare_advance(runtime, flow, options)
    _register(broker, _log_notify(runtime), "log.notify", "log", options)
    declare_deliveries(runtime)


def _declare_advance(runtime: Runtime, flow: str, options: dict[str, Any]) -> None:
    def advance(command: dict[str, Any], outbox_id: str | None = None) -> None:
        outcome = runtime.submit(parse_command(command), outbox_id)
        log.debug("%s %s on #%s: %s", flow, command.get("trigger"), outcome.instance_id, outcome.status)

    advance.__name__ = advance.__qualname__ = f"{flow}_advance"
    _register(runtime.broker, advance, advance_actor(flow), flow, options)

    def advance_many(body: dict[str, Any], outbox_id: str | None = None) -> None:
        raw: list[dict[str, Any]] = body["commands"]
        try:
            outcomes = runtime.execute_many([parse_command(c) for c in raw], outbox_id)
        except Exception as exc:
            if is_transient(exc) or len(raw) == 1:
                raise
            log.warning(
                "%s: a batch of %d commands failed (%s: %s); re-sent as single messages",
                flow,
                len(raw),
                type(exc).__name__,
                exc,
            )
            runtime.split(flow, raw, outbox_id)
            return
        log.debug("%s: batch of %d: %s", flow, len(raw), [o.status for o in outcomes])

    advance_many.__name__ = advance_many.__qualname__ = f"{flow}_advance_many"
    _register(runtime.broker, advance_many, batch_actor(flow), flow, options)


def _register(
    broker: dramatiq.Broker, fn: Callable[..., Any], name: str, queue: str, options: dict[str, Any]
) -> None:
    dramatiq.Actor(fn, broker=broker, actor_name=name, queue_name=queue, priority=0, options=options)


def _log_notify(runtime: Runtime) -> Any:
    def notify(body: dict[str, Any], outbox_id: str | None = None) -> None:
        """The ``log`` channel: write the notification to the log and acknowledge the outbox row."""
        log.info("notify %s#%s: %s", body.get("flow"), body.get("instance_id"), body.get("payload"))
        if outbox_id is not None:
            runtime.relay.mark_done(outbox_id)

    return notify
