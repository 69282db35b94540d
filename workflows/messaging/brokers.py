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
"""

from __future__ import annotations

import dramatiq
import pika.exceptions
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from workflows.settings import Settings


def build_broker(settings: Settings) -> dramatiq.Broker:
    """The broker of ``settings.broker``, with Dramatiq's default middleware (the runtime adds ours)."""
    kind = settings.broker_kind
    if kind == "embedded":
        return StubBroker()
    if kind == "rabbitmq":
        return RabbitmqBroker(url=settings.broker, confirm_delivery=True)
    return RedisBroker(url=settings.broker)  # type: ignore[no-untyped-call]


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
