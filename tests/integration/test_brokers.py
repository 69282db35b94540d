"""The server brokers on real servers: reachability, purging, and RabbitMQ giving a killed worker's
unacked message to another worker as soon as the dead one's connection drops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pika.exceptions
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from tests.support import AMQP_URL, REDIS_URL, wait_until
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
def test_a_killed_workers_unacked_message_goes_to_another_worker_at_once(
    queue: str, tmp_path: Path
) -> None:
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
