"""What the broker still holds: the outbox's recovery asks before it re-sends, and drains dead letters.

- ``held(rows)``: which of these outbox rows the broker still holds (queued, delayed, being processed
  or dead-lettered), or ``None`` when it cannot tell (then recovery re-sends on a timetable with
  backoff). Redis can tell: ``TraceableIds`` makes every Redis-side message key start with the
  Dramatiq message id (our outbox id), so one ``HKEYS`` per queue answers without decoding a message.
  The embedded broker lives in this process: it holds everything it was sent until a consumer is
  done with it (a crash loses it all, and start-up re-dispatches every unfinished row), so recovery
  never re-sends a sent row there.
  RabbitMQ cannot: a queue is read only by taking its messages, so recovery re-sends there on the
  timetable (RabbitMQ keeps what it confirmed: durable queues, persistent messages).
- ``dead()``: messages the broker dead-lettered, with when; ``forget(dead)`` drops them from the
  broker once they are recorded in the ``dead_letters`` table. RabbitMQ: taken from ``<queue>.XQ``
  unacked, acked by ``forget``; what an earlier pass took and did not forget goes back first.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import dramatiq
import pika
import pika.exceptions
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name, xq_name
from dramatiq.errors import DecodeError

from workflows.store.rows import Pending

#: separates the message id from Dramatiq's own unique suffix in a Redis-side message key
_SEP = "|"


@dataclass(frozen=True)
class BrokerDead:
    """A message the broker dead-lettered."""

    message: dramatiq.Message[Any]
    failed_at: datetime
    handle: Any  # what ``forget`` needs to drop it


class BrokerView(Protocol):
    #: whether ``held`` can tell (else recovery re-sends sent rows on a timetable)
    tells_held: bool
    #: the broker lives in this process: what it was sent it holds until done (or the process died)
    in_process: bool

    def held(self, rows: Sequence[Pending]) -> set[str] | None: ...

    def dead(self, now: datetime) -> list[BrokerDead]: ...

    def forget(self, dead: Sequence[BrokerDead]) -> None: ...

    def forget_ids(self, ids: Sequence[str]) -> None:
        """Drop the dead-lettered copies of these messages (they are being requeued)."""

    def dead_count(self) -> int: ...

    def dead_since(self, now: datetime) -> list[datetime]:
        """When each dead letter in the broker died, leaving them where they are."""
        ...


class TraceableIds(dramatiq.Middleware):
    """Prefix each Redis-side message key with the message id (Dramatiq gives every enqueue a fresh
    uuid as key, unique across retries; the prefix keeps it unique and makes it findable)."""

    def before_enqueue(self, broker: dramatiq.Broker, message: Any, delay: int | None) -> None:
        key = message.options.get("redis_message_id")
        if key is not None and not str(key).startswith(f"{message.message_id}{_SEP}"):
            message.options["redis_message_id"] = f"{message.message_id}{_SEP}{key}"


class RedisView:
    tells_held = True
    in_process = False

    def __init__(self, broker: RedisBroker) -> None:
        self.broker = broker

    def _key(self, queue: str) -> str:
        return f"{self.broker.namespace}:{queue}"

    def held(self, rows: Sequence[Pending]) -> set[str]:
        client = self.broker.client
        pipe = client.pipeline(transaction=False)
        for queue in sorted({row.queue for row in rows}):
            for name in (queue, dq_name(queue), xq_name(queue)):
                pipe.hkeys(f"{self._key(name)}.msgs")
        ids = {_message_id(key) for keys in pipe.execute() for key in keys}
        return {row.id for row in rows if row.id in ids}

    def _queues(self) -> list[str]:
        return sorted(q for q in self.broker.get_declared_queues() if not q.endswith(".DQ"))

    def dead(self, now: datetime) -> list[BrokerDead]:
        client = self.broker.client
        found: list[BrokerDead] = []
        for queue in self._queues():
            xq = self._key(xq_name(queue))
            entries = cast(list[tuple[bytes, float]], client.zrange(xq, 0, -1, withscores=True))
            if not entries:
                continue
            keys = [key for key, _ in entries]
            for (key, score), data in zip(entries, client.hmget(f"{xq}.msgs", keys), strict=True):
                if data is None:
                    continue
                message = dramatiq.Message.decode(data)
                failed = datetime.fromtimestamp(score / 1000, UTC)
                found.append(BrokerDead(message, failed, (xq, key)))
        return found

    def forget(self, dead: Sequence[BrokerDead]) -> None:
        pipe = self.broker.client.pipeline(transaction=False)
        for item in dead:
            xq, key = item.handle
            pipe.zrem(xq, key)
            pipe.hdel(f"{xq}.msgs", key)
        pipe.execute()

    def forget_ids(self, ids: Sequence[str]) -> None:
        wanted = set(ids)
        client = self.broker.client
        for queue in self._queues():
            xq = self._key(xq_name(queue))
            keys = [k for k in client.hkeys(f"{xq}.msgs") if _message_id(k) in wanted]
            if keys:
                client.zrem(xq, *keys)
                client.hdel(f"{xq}.msgs", *keys)

    def dead_count(self) -> int:
        pipe = self.broker.client.pipeline(transaction=False)
        for queue in self._queues():
            pipe.zcard(self._key(xq_name(queue)))
        return int(sum(pipe.execute()))

    def dead_since(self, now: datetime) -> list[datetime]:
        return [d.failed_at for d in self.dead(now)]


class RabbitmqView:
    """RabbitMQ's dead-letter queues, read through a connection of the view's own (one thread at a
    time; open from ``dead`` to ``forget``, and closed by the broker's ``close`` too): ``dead``
    takes messages unacked, ``forget`` acks them; a new channel (after an error, or the next
    ``dead``) makes older handles void, their messages having gone back to the queue."""

    tells_held = False
    in_process = False
    #: dead letters taken per pass at most (the rest wait for the next pass)
    page = 1000

    def __init__(self, broker: RabbitmqBroker) -> None:
        self.broker = broker
        self._lock = threading.Lock()
        self._connection: Any = None
        self._channel: Any = None
        self._generation = 0

    def held(self, rows: Sequence[Pending]) -> None:
        return None

    def _queues(self) -> list[str]:
        return sorted(self.broker.get_declared_queues())

    def _open(self) -> Any:
        if self._channel is None or not self._channel.is_open:
            self._reset()
            self._connection = pika.BlockingConnection(self.broker.parameters)
            self.broker.connections.add(self._connection)  # closed by the broker's close() too
            self._channel = self._connection.channel()
            self._generation += 1
        return self._channel

    def _reset(self) -> None:
        """Drop the channel: the messages it took and did not ack go back to their queues."""
        connection, self._connection, self._channel = self._connection, None, None
        self.broker.connections.discard(connection)
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except pika.exceptions.AMQPError:
                pass

    def _take(self, wanted: Any) -> list[tuple[int, dramatiq.Message[Any], Any]]:
        """Take the dead letters ``wanted(message)`` accepts, unacked, on a fresh channel (what an
        earlier pass took and did not forget goes back first); the others go back at once."""
        self._reset()
        channel = self._open()
        taken: list[tuple[int, dramatiq.Message[Any], Any]] = []
        back: list[int] = []
        try:
            for queue in self._queues():
                self.broker.declare_queue(queue, ensure=True)  # the XQ exists from here on
                while len(taken) < self.page:
                    method, properties, body = channel.basic_get(xq_name(queue), auto_ack=False)
                    if method is None:
                        break
                    try:
                        message = dramatiq.Message.decode(body)
                    except DecodeError:
                        back.append(method.delivery_tag)  # not ours to record
                        continue
                    if wanted(message):
                        taken.append((method.delivery_tag, message, properties))
                    else:
                        back.append(method.delivery_tag)
            for tag in back:
                channel.basic_nack(tag, requeue=True)
        except pika.exceptions.AMQPError:
            self._reset()  # everything taken goes back
            raise
        if not taken:
            self._reset()
        return taken

    def dead(self, now: datetime) -> list[BrokerDead]:
        with self._lock:
            taken = self._take(lambda message: True)
            return [
                BrokerDead(message, _died_at(properties, now), (self._generation, tag))
                for tag, message, properties in taken
            ]

    def forget(self, dead: Sequence[BrokerDead]) -> None:
        with self._lock:
            if self._channel is None or not self._channel.is_open:
                return  # they went back to the queue: the next pass finds them again
            try:
                for item in dead:
                    generation, tag = item.handle
                    if generation == self._generation:
                        self._channel.basic_ack(tag)
            finally:
                self._reset()  # acks are sent before the connection closes

    def forget_ids(self, ids: Sequence[str]) -> None:
        wanted = set(ids)
        with self._lock:
            taken = self._take(lambda message: message.message_id in wanted)
            try:
                for tag, _, _ in taken:
                    self._channel.basic_ack(tag)
            finally:
                self._reset()

    def dead_count(self) -> int:
        try:
            return sum(int(self.broker.get_queue_message_counts(q)[2]) for q in self._queues())
        except pika.exceptions.AMQPError:
            del self.broker.connection  # this thread's next call opens a fresh one
            raise

    def dead_since(self, now: datetime) -> list[datetime]:
        with self._lock:
            taken = self._take(lambda message: True)
            self._reset()  # looked at, given back at once: a drain elsewhere finds them
            return [_died_at(properties, now) for _, _, properties in taken]


def _died_at(properties: Any, default: datetime) -> datetime:
    """When RabbitMQ dead-lettered it (the ``x-death`` header), else ``default``."""
    deaths = (getattr(properties, "headers", None) or {}).get("x-death") or []
    when = deaths[0].get("time") if deaths and isinstance(deaths[0], dict) else None
    if isinstance(when, datetime):
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return default


class StubView:
    """The embedded broker: messages live in this process until a consumer is done with them."""

    tells_held = False
    in_process = True

    def __init__(self, broker: StubBroker) -> None:
        self.broker = broker

    def held(self, rows: Sequence[Pending]) -> None:
        return None

    def dead(self, now: datetime) -> list[BrokerDead]:
        return [
            BrokerDead(proxy._message, now, (queue, proxy))
            for queue, proxies in list(self.broker.dead_letters_by_queue.items())
            for proxy in list(proxies)
        ]

    def forget(self, dead: Sequence[BrokerDead]) -> None:
        for item in dead:
            queue, proxy = item.handle
            proxies = self.broker.dead_letters_by_queue[queue]
            if proxy in proxies:  # removed in place: the consumers hold this very list
                proxies.remove(proxy)

    def forget_ids(self, ids: Sequence[str]) -> None:
        wanted = set(ids)
        for proxies in self.broker.dead_letters_by_queue.values():
            for proxy in [p for p in proxies if p.message_id in wanted]:
                proxies.remove(proxy)

    def dead_count(self) -> int:
        return len(self.broker.dead_letters)

    def dead_since(self, now: datetime) -> list[datetime]:
        return [d.failed_at for d in self.dead(now)]


class BlindView:
    """A broker this module cannot look into: nothing held is known, nothing dead is found."""

    tells_held = False
    in_process = False

    def held(self, rows: Sequence[Pending]) -> None:
        return None

    def dead(self, now: datetime) -> list[BrokerDead]:
        return []

    def forget(self, dead: Sequence[BrokerDead]) -> None:
        return None

    def forget_ids(self, ids: Sequence[str]) -> None:
        return None

    def dead_count(self) -> int:
        return 0

    def dead_since(self, now: datetime) -> list[datetime]:
        return []


def _message_id(key: bytes | str) -> str:
    text = key.decode() if isinstance(key, bytes) else str(key)
    return text.split(_SEP, 1)[0]


def view_of(broker: dramatiq.Broker) -> BrokerView:
    if isinstance(broker, RedisBroker):
        return RedisView(broker)
    if isinstance(broker, StubBroker):
        return StubView(broker)
    if isinstance(broker, RabbitmqBroker):
        return RabbitmqView(broker)
    return BlindView()


def prepare(broker: dramatiq.Broker, *, heartbeat_ms: int, maintenance_chance: int) -> BrokerView:
    """Make ``broker`` answer ``held`` (Redis: traceable keys) and notice dead workers soon (Redis:
    a worker silent for ``heartbeat_ms`` is dead; ``maintenance_chance`` commands per million look
    for such workers' unacked messages and give them back). Returns the broker's view."""
    if isinstance(broker, RedisBroker):
        if not any(isinstance(m, TraceableIds) for m in broker.middleware):
            broker.add_middleware(TraceableIds())
        broker.heartbeat_timeout = heartbeat_ms
        broker.maintenance_chance = maintenance_chance
    return view_of(broker)
