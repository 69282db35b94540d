"""The stacks the engine benchmark drives: embedded (SQLite + in-process worker) and PostgreSQL +
Redis or RabbitMQ with real ``worker.py`` processes; their start-up, shutdown and CPU accounting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from bench.common import (
    REPO,
    TOY_DEADLINES,
    descendants,
    listening_pids,
    log,
    pg_server_pids,
    redis_server_pids,
    truncate_all,
    wait_for,
)
from bench.noop import NOOP_QUEUE, declare_noop, noop_message
from workflows.engine.deadlines import StaticDeadlines
from workflows.messaging.brokers import purge
from workflows.runtime import Runtime
from workflows.settings import Settings

#: where the worker processes run from (``bench.engine_group_ab`` points it at other checkouts)
WORKER_REPO: Path = REPO


class Stack:
    name: str
    processes: int
    threads: int
    runtime: Runtime
    worker_entry: str
    worker_timeout_ms: int

    def noop_rate(self, count: int) -> dict[str, float]:
        raise NotImplementedError

    def log_tail(self, lines: int = 30) -> str:
        return ""

    def cpu_groups(self) -> dict[str, Callable[[], set[int]]]:
        return {"bench_process": lambda: {os.getpid()}}

    def describe(self) -> dict[str, Any]:
        return {
            "stack": self.name,
            "processes": self.processes,
            "threads": self.threads,
            "worker_entry": self.worker_entry,
            "worker_timeout_ms": self.worker_timeout_ms,
        }


class EmbeddedStack(Stack):
    """SQLite file + StubBroker + one in-process Dramatiq Worker (the driver shares the process)."""

    def __init__(self, threads: int, workdir: Path, experiment: str | None = None) -> None:
        self.name = "sqlite-embedded"
        self.processes = 1
        self.threads = threads
        self.worker_entry = "in-process dramatiq.Worker on the StubBroker (compose + StaticDeadlines)"
        settings = _settings(f"sqlite:///{workdir}/bench.db", "embedded", threads)
        from worker import compose

        self.runtime = compose(settings, deadlines=StaticDeadlines(TOY_DEADLINES, version="bench"))
        declare_noop(self.runtime.broker)
        if experiment == "core":
            from bench.experiments import core_apply

            core_apply.install(self.runtime)
            self.worker_entry += " + EXPERIMENT bench.experiments.core_apply"
        self.worker_timeout_ms = 100  # as EmbeddedStack in workflows/services.py
        self.worker = dramatiq.Worker(
            self.runtime.broker, worker_threads=threads, worker_timeout=self.worker_timeout_ms
        )
        self.worker.start()

    def noop_rate(self, count: int) -> dict[str, float]:
        broker = self.runtime.broker
        t0 = time.perf_counter()
        for _ in range(count):
            broker.enqueue(noop_message())
        enqueued = time.perf_counter()
        broker.join(NOOP_QUEUE, timeout=300_000)
        self.worker.join()
        done = time.perf_counter()
        return {"msgs_per_s": count / (done - t0), "enqueue_per_s": count / (enqueued - t0)}

    def close(self) -> None:
        self.worker.stop()
        self.runtime.close()


class ServerStack(Stack):
    """PostgreSQL + Redis or RabbitMQ (``broker``: a redis:// or amqp:// URL); ``processes`` real
    Dramatiq worker processes of ``threads`` threads each."""

    def __init__(
        self,
        pg: str,
        broker: str,
        processes: int,
        threads: int,
        entry: str,
        logdir: Path,
        worker_timeout: int | None = None,
    ) -> None:
        settings = _settings(pg, broker, threads)
        self.broker_kind = settings.broker_kind
        self.name = f"postgresql+{self.broker_kind}"
        self.processes = processes
        self.threads = threads
        self.worker_timeout_ms = worker_timeout or int(os.environ.get("dramatiq_worker_timeout", 1000))
        self.pg, self.broker_url = pg, broker
        from worker import compose

        self.runtime = compose(settings, deadlines=StaticDeadlines(TOY_DEADLINES, version="bench"))
        declare_noop(self.runtime.broker)
        truncate_all(self.runtime.db)
        purge(self.runtime.broker)  # Redis: its database; RabbitMQ: the declared queues
        env = {
            **os.environ,
            "YUNSHANG_DATABASE_URL": pg,
            "YUNSHANG_BROKER": broker,
            "YUNSHANG_CLOCK": "system",
            "YUNSHANG_WORKER_THREADS": str(threads),
            "YUNSHANG_LOG_LEVEL": "WARNING",
            **({"dramatiq_worker_timeout": str(worker_timeout)} if worker_timeout else {}),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(WORKER_REPO), os.environ.get("PYTHONPATH")])),
        }
        args = ["--processes", str(processes), "--threads", str(threads)]
        if ":" in entry:  # an alternative entry point, e.g. a prototype of an engine patch
            cmd = [sys.executable, "-m", "dramatiq", entry, *args]
            self.worker_entry = f"python -m dramatiq {entry} (EXPERIMENT: not the shipped worker)"
        elif entry == "worker":
            cmd = [sys.executable, "worker.py", "bench.noop_actor", *args]
            self.worker_entry = "python worker.py bench.noop_actor (deadlines from the rules)"
        else:
            cmd = [sys.executable, "-m", "dramatiq", "bench.workers:broker", *args]
            self.worker_entry = (
                "python -m dramatiq bench.workers:broker (worker.py's compose() with StaticDeadlines: "
                "worker.py cannot load rule deadlines yet)"
            )
        self._pg_pids = pg_server_pids(pg)
        if self.broker_kind == "redis":
            self._broker_pids = redis_server_pids(broker)
        else:  # RabbitMQ's beam.smp
            self._broker_pids = listening_pids(urlsplit(broker).port or 5672)
        self.log_path = logdir / f"workers-{processes}p.log"
        self._log = self.log_path.open("wb")
        log(f"starting {processes} worker process(es): {' '.join(cmd[1:])}")
        self.proc = subprocess.Popen(
            cmd, cwd=WORKER_REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for(self._ready, 120, f"{processes} worker processes to be ready", pause=0.1)
        except BaseException:
            self.close()
            raise

    def cpu_groups(self) -> dict[str, Callable[[], set[int]]]:
        workers = self.proc.pid
        return {
            "driver": lambda: {os.getpid()},
            "workers": lambda: descendants(workers),
            "postgresql": self._pg_pids,
            self.broker_kind: self._broker_pids,
        }

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"worker processes exited ({self.proc.returncode}):\n{self.log_tail()}")
        text = self.log_path.read_text(errors="replace")
        return text.count("ready for action") >= self.processes  # worker.py and the Dramatiq CLI

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def noop_rate(self, count: int) -> dict[str, float]:
        broker = self.runtime.broker
        if isinstance(broker, RabbitmqBroker):
            # messages ready in the queue; the few delivered and not yet acked (≤ the prefetch of
            # 2 × threads per process) are not counted: RabbitMQ tells their number only to its
            # management plug-in
            def empty() -> bool:
                return int(broker.get_queue_message_counts(NOOP_QUEUE)[0]) == 0
        else:
            assert isinstance(broker, RedisBroker)

            def empty() -> bool:  # queued, delayed and unacked
                return int(broker.do_qsize(NOOP_QUEUE)) == 0

        t0 = time.perf_counter()
        for _ in range(count):
            broker.enqueue(noop_message())
        enqueued = time.perf_counter()
        done = wait_for(empty, 300, "the no-op queue", 0.005)
        return {"msgs_per_s": count / (done - t0), "enqueue_per_s": count / (enqueued - t0)}

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()
        self.runtime.close()


def _settings(database_url: str, broker: str, threads: int) -> Settings:
    return Settings(
        database_url=database_url,
        broker=broker,
        clock="system",
        worker_threads=threads,
        log_level="WARNING",
    )


def worker_py_usable() -> tuple[bool, str]:
    """Can ``python worker.py`` build its runtime (rule-based deadlines for the toy flow)?"""
    try:
        from workflows.runtime import default_deadlines

        source = default_deadlines(Settings())
        text = source.deadline("toy", "awaiting_review", "review_deadline")
        return True, f"rules give toy.awaiting_review.review_deadline = {text!r}"
    except Exception as exc:
        return False, f"{exc.__class__.__name__}: {exc}"


# ====================================================================== one run
