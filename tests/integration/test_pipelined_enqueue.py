"""The relay hands a transaction's messages to Redis in one pipeline (``PipelinedRedisBroker``): each
message arrives once, as ``RedisBroker.enqueue`` would have sent it — its own Redis message id, the
enqueue middleware hooks around it — in one round trip; a Redis that cannot be reached sends none
and raises nothing (the outbox re-sends them)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import dramatiq
import pytest
from dramatiq.middleware import CurrentMessage, Middleware

from tests.support import REDIS_URL, wait_until
from workflows.messaging.brokers import PipelinedRedisBroker, build_broker, enqueue_all, purge
from workflows.settings import Settings

pytestmark = pytest.mark.production


class _Hooks(Middleware):
    def __init__(self) -> None:
        self.before: list[str] = []
        self.after: list[str] = []

    def before_enqueue(
        self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int | None
    ) -> None:
        self.before.append(message.message_id)

    def after_enqueue(
        self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int | None
    ) -> None:
        self.after.append(message.message_id)


def _message(queue: str, n: int) -> dramatiq.Message[Any]:
    return dramatiq.Message(
        queue_name=queue, actor_name="take", args=(n,), kwargs={}, options={}, message_id=str(uuid.uuid4())
    )


def test_many_messages_go_in_one_round_trip_and_each_arrives_once() -> None:
    broker = build_broker(Settings(broker=REDIS_URL))
    assert isinstance(broker, PipelinedRedisBroker)
    purge(broker)
    hooks = _Hooks()
    broker.add_middleware(hooks)
    broker.add_middleware(CurrentMessage())
    queue = f"pipelined_{uuid.uuid4().hex[:8]}"
    got: list[tuple[int, str]] = []
    lock = threading.Lock()

    def take(n: int) -> None:
        message = CurrentMessage.get_current_message()
        assert message is not None
        with lock:
            got.append((n, message.options["redis_message_id"]))

    dramatiq.Actor(take, broker=broker, actor_name="take", queue_name=queue, priority=0, options={})
    messages = [_message(queue, n) for n in range(25)]
    executes: list[int] = []
    pipeline = broker.client.pipeline

    def counted(*args: Any, **kwargs: Any) -> Any:  # how many round trips the sends take
        pipe = pipeline(*args, **kwargs)
        execute = pipe.execute

        def counting(*a: Any, **k: Any) -> Any:
            executes.append(len(pipe.command_stack))
            return execute(*a, **k)

        pipe.execute = counting  # type: ignore[method-assign]
        return pipe

    broker.client.pipeline = counted  # type: ignore[method-assign]
    try:
        sent = enqueue_all(broker, messages)
    finally:
        broker.client.pipeline = pipeline  # type: ignore[method-assign]
    assert sent == [m.message_id for m in messages]
    assert executes == [25]  # one pipeline of the 25 sends
    assert hooks.before == hooks.after == sent
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        wait_until(lambda: len(got) >= 25, 30, "the 25 messages consumed")
        broker.join(queue, timeout=10_000)
    finally:
        worker.stop()
        broker.close()
    assert sorted(n for n, _ in got) == list(range(25))  # each once
    assert len({rid for _, rid in got}) == 25  # each its own Redis message id


def test_a_redis_that_cannot_be_reached_sends_none_and_raises_nothing() -> None:
    broker = build_broker(Settings(broker="redis://127.0.0.1:1/0"))  # nothing listens on port 1
    assert isinstance(broker, PipelinedRedisBroker)
    hooks = _Hooks()
    broker.add_middleware(hooks)
    try:
        assert enqueue_all(broker, [_message("nowhere", n) for n in range(3)]) == []
    finally:
        broker.close()
    assert hooks.after == []
