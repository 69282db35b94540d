"""Test helpers: stacks on real components, condition waits (never sleeps)."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dramatiq
import pytest
from sqlalchemy import Connection, create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from worker import PLUGINS, compose
from workflows.engine.commands import Cause, Command
from workflows.engine.deadlines import DeadlineSource, StaticDeadlines
from workflows.messaging.brokers import purge
from workflows.plugins import FlowPlugin
from workflows.runtime import Runtime
from workflows.services import EmbeddedStack
from workflows.settings import Settings
from workflows.store.models import Base, History, Instance, Outbox, TimerRow
from workflows.time.clock import SimulatedClock, monotonic

PG_URL = os.environ.get("YUNSHANG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/yunshang_test")
REDIS_URL = os.environ.get("YUNSHANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
AMQP_URL = os.environ.get("YUNSHANG_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")

#: every test that runs on a stack runs on both: the embedded one and PostgreSQL + Redis
PRODUCTION = pytest.param("production", marks=pytest.mark.production)
STACKS = ["embedded", PRODUCTION]
#: the engine suite (tests/integration/engine) runs on PostgreSQL + RabbitMQ as well, the second
#: production broker; the tiers above it run on the two stacks only
RABBITMQ = pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)
ENGINE_STACKS = [*STACKS, RABBITMQ]
#: the stacks with a server broker (PostgreSQL + Redis, PostgreSQL + RabbitMQ)
SERVER_STACKS = [PRODUCTION, RABBITMQ]

TOY_DEADLINES = {"toy.awaiting_review.review_deadline": "2h"}


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``predicate`` until true; fail with ``what`` after ``timeout`` seconds."""
    pause = threading.Event()
    deadline = monotonic() + timeout
    while not predicate():
        if monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        pause.wait(0.01)


def ensure_pg_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


def reset_pg(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@contextmanager
def executed(stack: Stack, starts: str) -> Iterator[list[tuple[str, Any]]]:
    """The (statement, parameters) the stack's database runs inside the block that begin with
    ``starts``, as the driver receives them (psycopg's ``%(name)s`` on PostgreSQL)."""
    engine, seen = stack.runtime.db.engine, []

    def record(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, many: bool) -> None:
        if sql.lstrip().startswith(starts):
            seen.append((sql, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def fill_toys(conn: Connection, count: int) -> None:
    """``count`` archived toy instances in one statement (a table of some size for a plan)."""
    conn.execute(
        text(
            "INSERT INTO instances (flow, flow_version, business_key, state, context, version, "
            "created_at, updated_at) SELECT 'toy', 1, 'filler-' || n, 'archived', '{}', 1, now(), "
            "now() FROM generate_series(1, :n) AS n"
        ),
        {"n": count},
    )


def toy_decides(stack: Stack, ids: Sequence[int], prefix: str) -> list[Command]:
    """An approving ``decide`` for each toy instance of ``ids`` (dedupe key ``<prefix>-<id>``)."""
    return [
        stack.runtime.engine.command(
            "toy", "decide", cause=Cause(kind="event", id=f"{prefix}-{iid}"), dedupe_key=f"{prefix}-{iid}",
            payload={"decision": "approve"}, instance_id=iid,
        )
        for iid in ids
    ]  # fmt: skip


@contextmanager
def statements(stack: Stack) -> Iterator[list[str]]:
    """The SQL statements the stack's database runs inside the block."""
    engine, seen = stack.runtime.db.engine, []

    def record(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@dataclass
class Stack:
    """A runtime plus a running Dramatiq worker: ``embedded`` (SQLite + StubBroker), ``production``
    (PostgreSQL + Redis) or ``rabbitmq`` (PostgreSQL + RabbitMQ)."""

    name: str
    runtime: Runtime
    worker: dramatiq.Worker
    _embedded: EmbeddedStack | None = None

    @property
    def clock(self) -> SimulatedClock:
        assert isinstance(self.runtime.clock, SimulatedClock)
        return self.runtime.clock

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every outbox message has been consumed and the worker is idle."""
        db = self.runtime.db

        def done() -> bool:
            with db.read() as s:
                left = s.execute(
                    select(func.count()).select_from(Outbox).where(Outbox.done_at.is_(None))
                ).scalar_one()
            return int(left) == 0

        wait_until(done, timeout, "every outbox message to be consumed")
        self.worker.join()

    def advance(self, hours: float) -> None:
        self.clock.advance(timedelta(hours=hours))

    def start_toy(self, key: str, subject: str | None = None) -> int:
        with self.runtime.transaction() as session:
            outcome = self.runtime.engine.start(
                session, "toy", key, subject=subject, context={}, cause=Cause(kind="system")
            )
        return outcome.instance_id

    def send(
        self,
        instance_id: int,
        trigger: str,
        dedupe_key: str,
        payload: dict[str, Any] | None = None,
        cause: Cause | None = None,
        flow: str = "toy",
    ) -> str:
        engine = self.runtime.engine
        command = engine.command(
            flow,
            trigger,
            cause=cause or Cause(kind="event", id=dedupe_key),
            dedupe_key=dedupe_key,
            payload=payload,
            instance_id=instance_id,
        )
        with self.runtime.transaction() as session:
            return engine.enqueue(session, command)

    def instance(self, instance_id: int) -> Instance:
        with self.runtime.db.read() as s:
            row = s.get(Instance, instance_id)
            assert row is not None
            return row

    def history(self, instance_id: int) -> list[History]:
        with self.runtime.db.read() as s:
            return list(
                s.execute(
                    select(History).where(History.instance_id == instance_id).order_by(History.id)
                ).scalars()
            )

    def timers(self, instance_id: int) -> list[TimerRow]:
        with self.runtime.db.read() as s:
            return list(
                s.execute(
                    select(TimerRow).where(TimerRow.instance_id == instance_id).order_by(TimerRow.id)
                ).scalars()
            )


def settings_for(kind: str, tmp_path: Any, **overrides: Any) -> Settings:
    base: dict[str, Any] = dict(
        clock="simulated",
        worker_threads=4,
        min_backoff_ms=20,
        max_backoff_ms=200,
        max_retries=3,
        relay_grace=0.0,
    )
    if kind == "embedded":
        base.update(database_url=f"sqlite:///{tmp_path}/engine.db", broker="embedded")
    elif kind == "rabbitmq":
        base.update(database_url=PG_URL, broker=AMQP_URL)
    else:
        base.update(database_url=PG_URL, broker=REDIS_URL)
    base.update(overrides)
    return Settings(**base)


@contextmanager
def running_stack(
    kind: str,
    tmp_path: Any,
    *,
    deadlines: DeadlineSource | None = None,
    plugins: Sequence[FlowPlugin] | None = None,
    reset: bool = True,
    **overrides: Any,
) -> Iterator[Stack]:
    """A stack with a running worker; ``deadlines`` default to the toy flow's (pass
    ``RuleDeadlines.load(RULES_DIR)`` for the business flows); ``plugins`` to ``worker.PLUGINS``;
    ``reset=False`` keeps what an earlier stack of this kind left (its database, its broker's queues)."""
    settings = settings_for(kind, tmp_path, **overrides)
    if kind != "embedded":
        ensure_pg_database(PG_URL)
    runtime = compose(
        settings,
        deadlines=deadlines or StaticDeadlines(TOY_DEADLINES, version="test"),
        plugins=plugins or PLUGINS,
    )
    if kind != "embedded" and reset:
        reset_pg(PG_URL)
        purge(runtime.broker)  # Redis: its database; RabbitMQ: the queues the actors declared
    if kind == "embedded":
        embedded = EmbeddedStack(runtime, threads=4)
        embedded.worker.start()
        stack = Stack(kind, runtime, embedded.worker, embedded)
    else:
        worker = dramatiq.Worker(runtime.broker, worker_threads=4, worker_timeout=100)
        worker.start()
        stack = Stack(kind, runtime, worker)
    try:
        yield stack
    finally:
        stack.worker.stop()
        runtime.close()


class TableLock:
    """Holds a lock from another connection until ``release``: on SQLite the whole database (``BEGIN
    IMMEDIATE``), on PostgreSQL ``table`` in ``mode`` — writers then fail on their lock timeout, as
    they would with the database away."""

    def __init__(self, stack: Stack, tmp_path: Any, table: str, mode: str = "EXCLUSIVE") -> None:
        self.kind = stack.name
        if self.kind == "embedded":
            self.conn: Any = sqlite3.connect(f"{tmp_path}/engine.db", isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.engine = create_engine(PG_URL)
            self.conn = self.engine.connect()
            self.tx = self.conn.begin()
            self.conn.execute(text(f"LOCK TABLE {table} IN {mode} MODE"))

    def release(self) -> None:
        if self.kind == "embedded":
            self.conn.execute("ROLLBACK")
            self.conn.close()
        else:
            self.tx.rollback()
            self.conn.close()
            self.engine.dispose()
