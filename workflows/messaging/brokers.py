"""The Dramatiq broker the settings name: the in-process StubBroker, Redis or RabbitMQ.

Built by the runtime (never at import: a default broker would silently point at a server). What each
broker does on a failure, and which to choose, is in the README ("Choosing the broker").

RabbitMQ is used with publisher confirms (``confirm_delivery=True``): an ``enqueue`` that returns has
been accepted by RabbitMQ (and an unroutable message raises instead of vanishing), so the outbox
stamps a row ``sent`` only once the broker holds it. ``RabbitmqBroker`` keeps one publishing
connection per thread (``threading.local``), opened on the thread's first enqueue and closed by
``close()``; a connection RabbitMQ dropped (e.g. heartbeats missed while the thread was idle) is
replaced on the next enqueue, which Dramatiq retries up to six times before raising
``dramatiq.errors.ConnectionClosed``.

On Redis the relay hands a transaction's messages over in one pipeline (``enqueue_all``): one round
trip for all of them instead of one each, each message as ``RedisBroker.enqueue`` would send it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from uuid import uuid4

import dramatiq
import pika.exceptions
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import current_millis

from workflows.settings import Settings

log = logging.getLogger("yunshang.outbox")


class PipelinedRedisBroker(RedisBroker):
    """Dramatiq's Redis broker, able to enqueue many messages in one pipeline (``enqueue_many``)."""

    def enqueue_many(self, messages: Sequence[dramatiq.Message[Any]]) -> list[str]:
        """Enqueue ``messages`` (none delayed) in one round trip, each as ``enqueue`` does: its own
        Redis message id, the ``enqueue`` middleware hooks before and after. Returns the ids of
        those Redis accepted; a connection error raises, having sent none or some (the outbox's
        re-send pass covers both: consumers dedupe)."""
        prepared = [m.copy(options={"redis_message_id": str(uuid4())}) for m in messages]
        for message in prepared:
            self.emit_before("enqueue", message, None)
        dispatch = self.scripts["dispatch"]
        with self.client.pipeline(transaction=False) as pipe:
            for message in prepared:
                # the arguments of ``RedisBroker._dispatch``'s ``do_dispatch`` for "enqueue"
                args = [
                    "enqueue",
                    current_millis(),
                    message.queue_name,
                    self.broker_id,
                    self.heartbeat_timeout,
                    self.dead_message_ttl,
                    self._should_do_maintenance("enqueue"),
                    self._max_unpack_size(),  # type: ignore[no-untyped-call]
                    message.options["redis_message_id"],
                    message.encode(),
                ]
                dispatch(keys=[self.namespace], args=args, client=pipe)
            results = pipe.execute(raise_on_error=False)
        sent: list[str] = []
        for message, result in zip(prepared, results, strict=True):
            if isinstance(result, Exception):
                log.error("Redis refused outbox message %s (%s); re-sent later", message.message_id, result)
                continue
            self.emit_after("enqueue", message, None)
            sent.append(message.message_id)
        return sent


def enqueue_all(broker: dramatiq.Broker, messages: Sequence[dramatiq.Message[Any]]) -> list[str]:
    """Hand ``messages`` to ``broker``: on Redis in one pipeline, elsewhere one by one. Returns the
    ids of those sent; one that could not be sent is logged and left out (the outbox re-sends it)."""
    if isinstance(broker, PipelinedRedisBroker) and len(messages) > 1:
        try:
            return broker.enqueue_many(messages)
        except Exception:
            log.exception("could not send %d outbox messages to Redis; they will be re-sent", len(messages))
            return []
    sent: list[str] = []
    for message in messages:
        try:
            broker.enqueue(message)
        except Exception:
            oid, actor = message.message_id, message.actor_name
            log.exception("could not send outbox message %s to %s; it will be re-sent", oid, actor)
            continue
        sent.append(message.message_id)
    return sent


def build_broker(settings: Settings) -> dramatiq.Broker:
    """The broker of ``settings.broker``, with Dramatiq's default middleware (the runtime adds ours)."""
    kind = settings.broker_kind
    if kind == "embedded":
        return StubBroker()
    if kind == "rabbitmq":
        return RabbitmqBroker(url=settings.broker, confirm_delivery=True)
    return PipelinedRedisBroker(url=settings.broker)  # type: ignore[no-untyped-call]


def ping(broker: dramatiq.Broker) -> None:
    """Raise unless ``broker``'s server answers (the StubBroker always does)."""
    if isinstance(broker, RedisBroker):
        broker.client.ping()
    elif isinstance(broker, RabbitmqBroker):  # round trips on this thread's connection
        try:
            broker.connection.channel().close()
        except pika.exceptions.AMQPError:
            del broker.connection  # the next call (and the next enqueue) opens a fresh one
            raise


def purge(broker: dramatiq.Broker) -> None:
    """Drop every message of every queue ``broker`` declared (delay and dead-letter queues too).

    For tests and benchmarks: Redis flushes its whole database, RabbitMQ purges the declared
    queues (``<queue>``, ``<queue>.DQ``, ``<queue>.XQ``) of its virtual host."""
    if isinstance(broker, RedisBroker):
        broker.client.flushdb()
    else:
        broker.flush_all()
