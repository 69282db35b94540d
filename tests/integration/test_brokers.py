"""The server brokers on real servers: reachability, purging, RabbitMQ giving a killed worker's
unacked message to another worker as soon as the dead one's connection drops, and RabbitMQ's dead
letters read by the recovery's view."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dramatiq
import pika.exceptions
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from tests.support import AMQP_URL, REDIS_URL, wait_until
from workflows.messaging.broker_view import view_of
from workflows.messaging.brokers import build_broker, ping, purge
from workflows.settings import Settings
from workflows.time.clock import monotonic

ROOT = Path(__file__).resolve().parents[2]
URLS = [
    pytest.param(REDIS_URL, marks=pytest.mark.production, id="redis"),
    pytest.param(AMQP_URL, marks=pytest.mark.rabbitmq, id="rabbitmq"),
]

#: a worker process holding one message without acking it, until it is killed
HOLDER = """
import sys, threading
import dramatiq
from workflows.messaging.brokers import build_broker
from workflows.settings import Settings

broker = build_broker(Settings(broker=sys.argv[1]))

@dramatiq.actor(broker=broker, queue_name=sys.argv[2], actor_name="hold", max_retries=0)
def hold(n: int) -> None:
    print("holding", n, flush=True)
    threading.Event().wait()

dramatiq.Worker(broker, worker_threads=1, worker_timeout=100).start()
threading.Event().wait()
"""


def rabbitmq() -> RabbitmqBroker:
    broker = build_broker(Settings(broker=AMQP_URL))
    assert isinstance(broker, RabbitmqBroker)
    return broker


@pytest.fixture
def queue(request: pytest.FixtureRequest) -> Iterator[str]:
    """A queue of this test's own (a virtual host may be shared), deleted from RabbitMQ afterwards."""
    name = f"yunshang_test_{uuid.uuid4().hex[:12]}"
    yield name
    if request.node.get_closest_marker("rabbitmq"):
        connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        try:
            channel = connection.channel()
            for suffix in ("", ".DQ", ".XQ"):
                channel.queue_delete(name + suffix)
        finally:
            connection.close()


@pytest.mark.parametrize("url", URLS)
def test_ping_answers_and_purge_drops_every_declared_queue(url: str, queue: str) -> None:
    broker = build_broker(Settings(broker=url))
    try:

        @dramatiq.actor(broker=broker, queue_name=queue, actor_name="noop")
        def noop() -> None:
            pass

        ping(broker)
        for _ in range(3):
            noop.send()
        noop.send_with_options(delay=60_000)
        if isinstance(broker, RabbitmqBroker):
            assert broker.get_queue_message_counts(queue) == (3, 1, 0)
        purge(broker)
        if isinstance(broker, RabbitmqBroker):
            assert broker.get_queue_message_counts(queue) == (0, 0, 0)
        else:
            assert isinstance(broker, RedisBroker)
            assert broker.client.dbsize() == 0
        ping(broker)
    finally:
        broker.close()
        if isinstance(broker, RedisBroker):
            broker.client.close()  # RedisBroker.close() leaves its connection pool open


def test_ping_fails_on_a_rabbitmq_that_does_not_answer() -> None:
    broker = build_broker(Settings(broker="amqp://guest:guest@127.0.0.1:1/%2F"))
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        ping(broker)
    broker.close()


@pytest.mark.rabbitmq
def test_an_enqueue_after_the_connection_was_closed_reconnects(queue: str) -> None:
    broker = rabbitmq()
    try:

        @dramatiq.actor(broker=broker, queue_name=queue, actor_name="noop")
        def noop() -> None:
            pass

        noop.send()
        broker.connection.close()  # as if RabbitMQ had dropped this thread's connection
        noop.send()
        assert broker.get_queue_message_counts(queue)[0] == 2
    finally:
        broker.close()


@pytest.mark.rabbitmq
def test_a_killed_workers_unacked_message_goes_to_another_worker_at_once(queue: str, tmp_path: Path) -> None:
    broker = rabbitmq()
    ran = threading.Event()

    @dramatiq.actor(broker=broker, queue_name=queue, actor_name="hold", max_retries=0)
    def hold(n: int) -> None:
        ran.set()

    hold.send(1)
    log = tmp_path / "holder.log"
    with log.open("wb") as out:
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, AMQP_URL, queue],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    try:
        wait_until(lambda: "holding 1" in log.read_text(), timeout=30, what="the holder to take the message")
        assert broker.get_queue_message_counts(queue)[0] == 0  # delivered, unacked: nothing ready
        worker.start()
        os.killpg(holder.pid, signal.SIGKILL)  # no AMQP close: the TCP connection just drops
        holder.wait()
        killed = monotonic()
        wait_until(ran.is_set, timeout=10, what="the message to come back (heartbeat timeout: 60 s)")
        print(f"redelivered {monotonic() - killed:.3f} s after the kill")
    finally:
        if holder.poll() is None:
            os.killpg(holder.pid, signal.SIGKILL)
            holder.wait()
        worker.stop()
        broker.close()


@pytest.mark.rabbitmq
def test_rabbitmq_dead_letters_are_taken_given_back_unless_forgotten(queue: str) -> None:
    broker = rabbitmq()
    try:

        @dramatiq.actor(broker=broker, queue_name=queue, actor_name="doomed")
        def doomed(n: int) -> None:
            pass

        sent = [doomed.send(n).message_id for n in range(3)]
        consumer = broker.consume(queue, prefetch=3, timeout=100)
        for _ in sent:  # a worker gives up on each: RabbitMQ moves it to <queue>.XQ
            delivered = next(consumer)
            assert delivered is not None
            consumer.nack(delivered)
        consumer.close()
        view = view_of(broker)
        wait_until(lambda: view.dead_count() == 3, what="three dead letters in the XQ")
        now = datetime.now(UTC)

        dead = view.dead(now)
        assert sorted(d.message.message_id for d in dead) == sorted(sent)
        assert all(d.failed_at.tzinfo is not None for d in dead)
        assert all(abs((d.failed_at - now).total_seconds()) < 60 for d in dead)  # RabbitMQ's x-death time
        again = view.dead(now)  # not forgotten: the first take went back to the queue
        assert sorted(d.message.message_id for d in again) == sorted(sent)
        view.forget(again[:1])
        assert view.dead_count() == 2
        view.forget(dead)  # handles of a channel gone: nothing happens
        assert view.dead_count() == 2
        view.forget_ids([again[1].message.message_id])
        assert view.dead_count() == 1
        (last,) = view.dead(now)
        assert last.message.message_id == again[2].message.message_id
        # left taken (as when recording it failed): the broker's close() closes the view's connection
    finally:
        broker.close()
