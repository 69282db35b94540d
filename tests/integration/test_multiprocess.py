"""Two worker processes and two scheduler processes on PostgreSQL + Redis and on PostgreSQL + RabbitMQ:
every timer fires once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from sqlalchemy import func, select

from tests.support import AMQP_URL, PG_URL, REDIS_URL, ensure_pg_database, reset_pg, wait_until
from worker import compose
from workflows.engine.commands import Cause
from workflows.engine.rows import commands_in
from workflows.messaging.brokers import purge
from workflows.settings import Settings
from workflows.store.models import History, Instance, Outbox, TimerRow

ROOT = Path(__file__).resolve().parents[2]
N = 300

pytestmark = [pytest.mark.slow]
BROKERS = [
    pytest.param(REDIS_URL, marks=pytest.mark.production, id="redis"),
    pytest.param(AMQP_URL, marks=pytest.mark.rabbitmq, id="rabbitmq"),
]


@contextmanager
def processes(
    commands: list[list[str]], env: dict[str, str], logs: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs = []
    try:
        for i, command in enumerate(commands):
            with (logs / f"proc-{i}.log").open("wb") as out:  # the child keeps its own descriptor
                procs.append(
                    subprocess.Popen(
                        command,
                        env=env,
                        cwd=ROOT,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def queue_lengths(broker: dramatiq.Broker) -> dict[str, Any]:
    if isinstance(broker, RabbitmqBroker):  # (ready, delayed, dead) per queue
        return {q: broker.get_queue_message_counts(q) for q in sorted(broker.get_declared_queues())}
    client: Any = getattr(broker, "client")  # noqa: B009
    return {k.decode(): client.llen(k) for k in client.keys("dramatiq:*") if client.type(k) == b"list"}


@pytest.mark.parametrize("broker", BROKERS)
def test_timers_fire_exactly_once_with_two_workers_and_two_schedulers(broker: str, tmp_path: Path) -> None:
    ensure_pg_database(PG_URL)
    settings = Settings(database_url=PG_URL, broker=broker, clock="simulated")
    runtime = compose(settings)
    reset_pg(PG_URL)
    purge(runtime.broker)
    try:
        with runtime.transaction() as session:
            for i in range(N):
                runtime.engine.start(
                    session, "toy", f"mp-{i}", subject=None, context={}, cause=Cause(kind="system")
                )
        env = {
            **os.environ,
            "YUNSHANG_DATABASE_URL": PG_URL,
            "YUNSHANG_BROKER": broker,
            "YUNSHANG_CLOCK": "simulated",
            "YUNSHANG_SWEEP_INTERVAL": "0.1",
            "YUNSHANG_LOG_LEVEL": "WARNING",
        }
        yunshang = str(Path(sys.executable).parent / "yunshang")
        commands = [
            [sys.executable, "worker.py", "--processes", "2", "--threads", "4"],
            [yunshang, "scheduler"],
            [yunshang, "scheduler"],
        ]
        with processes(commands, env, tmp_path) as procs:
            runtime.clock.advance(timedelta(hours=3))

            def all_escalated() -> bool:
                assert all(p.poll() is None for p in procs), (tmp_path / "proc-0.log").read_text()
                with runtime.db.read() as s:
                    return (
                        s.execute(
                            select(func.count()).select_from(Instance).where(Instance.state == "escalated")
                        ).scalar_one()
                        == N
                    )

            def diagnosis() -> str:
                with runtime.db.read() as s:
                    timers = Counter(s.execute(select(TimerRow.status)).scalars())
                    outbox = s.execute(
                        select(func.count(Outbox.id), func.count(Outbox.sent_at), func.count(Outbox.done_at))
                    ).one()
                queues = queue_lengths(runtime.broker)
                return f"timers {dict(timers)}; outbox (all, sent, done) {tuple(outbox)}; queues {queues}"

            try:
                wait_until(all_escalated, timeout=120, what=f"{N} instances escalated by their timers")
            except AssertionError as exc:
                raise AssertionError(f"{exc}: {diagnosis()}") from None
        with runtime.db.read() as s:
            statuses = Counter(s.execute(select(TimerRow.status)).scalars())
            fired = Counter(  # the sweepers send the due timers in messages of many commands
                c["cause"]["id"]
                for m in s.execute(select(Outbox.message).where(Outbox.queue == "toy")).scalars()
                for c in commands_in(m)
                if c["cause"]["kind"] == "timer"
            )
            applied = Counter(
                s.execute(
                    select(History.instance_id).where(
                        History.trigger == "review_deadline_passed", History.outcome == "applied"
                    )
                ).scalars()
            )
        assert statuses == {"fired": N}
        assert len(fired) == N and set(fired.values()) == {1}  # each timer claimed by exactly one sweeper
        assert len(applied) == N and set(applied.values()) == {1}
    finally:
        runtime.close()
