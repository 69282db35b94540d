"""Engine throughput and latency: the 4-state toy flow driven to the end, against a no-op actor.

For each stack — (a) embedded SQLite + StubBroker + an in-process Dramatiq ``Worker``, (b) PostgreSQL +
Redis with 1 and 2 real Dramatiq worker processes — the driver (this process):

1. measures the no-op actor: enqueues ``--noop-messages`` messages to a ``bench.noop`` actor on the
   same broker, consumed by the same worker processes/threads, until the queue is empty;
2. starts K toy instances (``start``: history row + the review timer armed), K = ``--instances``;
3. saturation: enqueues K ``decide`` commands through the outbox (each: lock, history, timer
   cancelled, outbox row done) and waits until all are applied, then K ``archive`` commands;
4. latency: the same on fresh instances, paced at a fixed rate (default half the saturation rate),
   then ``--sporadic`` lone messages each after ``--sporadic-gap`` idle seconds;
5. measures the no-op actor again, and checks every instance ended archived with its timer cancelled.

transitions/s counts the worker-applied ``decide`` + ``archive`` messages (2 per instance; the starts
are done by the driver and reported separately). Latency per message = ``History.at`` of the applied row
(taken inside the worker's transaction) − ``Outbox.created_at`` (taken inside the driver's enqueuing
transaction). See bench/README.md for the method and the latest figures.

    .venv/bin/python -m bench.engine_bench --help
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import func, select

from bench.common import (
    REPO,
    TOY_DEADLINES,
    CpuMeter,
    descendants,
    ensure_pg_database,
    flush_redis,
    log,
    machine_info,
    pg_server_pids,
    pg_url,
    redis_server_pids,
    redis_url,
    summary_ms,
    truncate_all,
    wait_for,
    write_result,
)
from bench.noop import NOOP_QUEUE, declare_noop, noop_message
from workflows.commands import Cause, Command
from workflows.deadlines import StaticDeadlines
from workflows.models import DeadLetter, History, Instance, Outbox, TimerRow
from workflows.runtime import Runtime
from workflows.settings import Settings

TARGETS = {
    "stack": "postgresql+redis, 2 worker processes",
    "transitions_per_s": 1000,
    "ratio_to_noop": 0.25,
}


# ====================================================================== the driver
@dataclass
class WaveResult:
    trigger: str
    sent: int
    applied: int
    rejected: int
    seconds_db: float  # first outbox row created → last history row written
    seconds_wall: float  # first enqueue → driver saw every outbox row done
    latencies: list[float] = field(default_factory=list)  # created → History.at
    waits: list[float] = field(default_factory=list)  # created → done_at (picked up by a worker)


class Driver:
    """Starts instances and sends commands through the outbox, as an API or intake process would."""

    def __init__(self, runtime: Runtime, run_id: str) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.run_id = run_id

    def start_instances(self, count: int, label: str, batch: int = 200) -> tuple[list[int], float]:
        ids: list[int] = []
        t0 = time.perf_counter()
        for first in range(0, count, batch):
            with self.runtime.transaction() as session:
                for i in range(first, min(count, first + batch)):
                    outcome = self.engine.start(
                        session,
                        "toy",
                        f"{self.run_id}-{label}-{i}",
                        subject=None,
                        context={},
                        cause=Cause(kind="system"),
                    )
                    ids.append(outcome.instance_id)
        return ids, time.perf_counter() - t0

    def commands(self, ids: Sequence[int], trigger: str, payload: dict[str, Any] | None) -> list[Command]:
        return [
            self.engine.command(
                "toy",
                trigger,
                cause=Cause(kind="event", id=f"{self.run_id}:{iid}:{trigger}"),
                dedupe_key=f"{self.run_id}:{iid}:{trigger}",
                payload=payload,
                instance_id=iid,
            )
            for iid in ids
        ]

    def _send(self, commands: Sequence[Command]) -> list[str]:
        with self.runtime.transaction() as session:
            return [self.engine.enqueue(session, c) for c in commands]

    def send_backlog(self, commands: Sequence[Command], batch: int = 200) -> list[str]:
        sent: list[str] = []
        for first in range(0, len(commands), batch):
            sent += self._send(commands[first : first + batch])
        return sent

    def send_paced(self, commands: Sequence[Command], rate: float, tick: float = 0.01) -> list[str]:
        per_tick = max(1, round(rate * tick))
        step = per_tick / rate
        sent: list[str] = []
        due = time.perf_counter()
        for first in range(0, len(commands), per_tick):
            sent += self._send(commands[first : first + per_tick])
            due += step
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        return sent

    def undone(self) -> int:
        with self.runtime.db.transaction() as s:
            return int(
                s.execute(
                    select(func.count()).select_from(Outbox).where(Outbox.done_at.is_(None))
                ).scalar_one()
            )

    def wave(
        self, trigger: str, commands: Sequence[Command], rate: float | None, timeout: float
    ) -> WaveResult:
        t0 = time.perf_counter()
        ids = self.send_paced(commands, rate) if rate else self.send_backlog(commands)
        t1 = wait_for(lambda: self.undone() == 0, timeout, f"{len(ids)} {trigger} commands", pause=0.02)
        return self._measure(trigger, commands, ids, t1 - t0)

    def _measure(
        self, trigger: str, commands: Sequence[Command], outbox_ids: list[str], wall: float
    ) -> WaveResult:
        created: dict[str, tuple[datetime, datetime | None]] = {}
        applied: dict[str, datetime] = {}
        rejected = 0
        keys = {oid: c.dedupe_key for oid, c in zip(outbox_ids, commands, strict=True)}
        instance_ids = [c.instance_id for c in commands if c.instance_id is not None]
        with self.runtime.db.transaction() as s:
            for chunk in _chunks(outbox_ids, 1000):
                for row in s.execute(
                    select(Outbox.id, Outbox.created_at, Outbox.done_at).where(Outbox.id.in_(chunk))
                ):
                    created[keys[row.id]] = (row.created_at, row.done_at)
            for ichunk in _chunks(instance_ids, 1000):
                for h in s.execute(
                    select(History.dedupe_key, History.at, History.outcome).where(
                        History.instance_id.in_(ichunk), History.trigger == trigger
                    )
                ):
                    if h.outcome == "applied":
                        applied[h.dedupe_key] = h.at
                    else:
                        rejected += 1
        latencies = [(at - created[k][0]).total_seconds() for k, at in applied.items() if k in created]
        waits = [(d - c).total_seconds() for c, d in created.values() if d is not None]
        first = min(c for c, _ in created.values())
        last = max(applied.values()) if applied else first
        return WaveResult(
            trigger=trigger,
            sent=len(outbox_ids),
            applied=len(applied),
            rejected=rejected,
            seconds_db=max((last - first).total_seconds(), 1e-9),
            seconds_wall=wall,
            latencies=latencies,
            waits=waits,
        )

    def verify(self) -> dict[str, Any]:
        """Every instance archived, every timer cancelled, nothing rejected or dead-lettered."""
        with self.runtime.db.transaction() as s:
            states = dict(s.execute(select(Instance.state, func.count()).group_by(Instance.state)).all())
            timers = dict(s.execute(select(TimerRow.status, func.count()).group_by(TimerRow.status)).all())
            outcomes = dict(s.execute(select(History.outcome, func.count()).group_by(History.outcome)).all())
            dead = s.execute(select(func.count()).select_from(DeadLetter)).scalar_one()
        total = sum(states.values())
        ok = (
            states.get("archived", 0) == total
            and timers.get("cancelled", 0) == total
            and outcomes.get("applied", 0) == 3 * total
            and not outcomes.get("rejected")
            and dead == 0
        )
        return {
            "ok": ok,
            "instances_by_state": states,
            "timers_by_status": timers,
            "history_by_outcome": outcomes,
            "dead_letters": dead,
        }


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


# ====================================================================== stacks
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


class RedisPgStack(Stack):
    """PostgreSQL + Redis; ``processes`` real Dramatiq worker processes of ``threads`` threads each."""

    def __init__(
        self,
        pg: str,
        redis: str,
        processes: int,
        threads: int,
        entry: str,
        logdir: Path,
        worker_timeout: int | None = None,
    ) -> None:
        self.name = "postgresql+redis"
        self.processes = processes
        self.threads = threads
        self.worker_timeout_ms = worker_timeout or int(os.environ.get("dramatiq_worker_timeout", 1000))
        self.pg, self.redis = pg, redis
        from worker import compose

        settings = _settings(pg, redis, threads)
        self.runtime = compose(settings, deadlines=StaticDeadlines(TOY_DEADLINES, version="bench"))
        declare_noop(self.runtime.broker)
        truncate_all(self.runtime.db)
        flush_redis(redis)
        env = {
            **os.environ,
            "YUNSHANG_DATABASE_URL": pg,
            "YUNSHANG_BROKER": redis,
            "YUNSHANG_CLOCK": "system",
            "YUNSHANG_WORKER_THREADS": str(threads),
            "YUNSHANG_LOG_LEVEL": "WARNING",
            **({"dramatiq_worker_timeout": str(worker_timeout)} if worker_timeout else {}),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
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
        self._redis_pids = redis_server_pids(redis)
        self.log_path = logdir / f"workers-{processes}p.log"
        self._log = self.log_path.open("wb")
        log(f"starting {processes} worker process(es): {' '.join(cmd[1:])}")
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
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
            "redis": self._redis_pids,
        }

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"worker processes exited ({self.proc.returncode}):\n{self.log_tail()}")
        text = self.log_path.read_text(errors="replace")
        return text.count("Worker process is ready for action.") >= self.processes

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def noop_rate(self, count: int) -> dict[str, float]:
        broker = self.runtime.broker
        assert isinstance(broker, RedisBroker)
        t0 = time.perf_counter()
        for _ in range(count):
            broker.enqueue(noop_message())
        enqueued = time.perf_counter()
        done = wait_for(lambda: int(broker.do_qsize(NOOP_QUEUE)) == 0, 300, "the no-op queue", 0.005)
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
def run_stack(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    try:
        return _run_stack(stack, args)
    except TimeoutError as exc:
        raise RuntimeError(f"{exc}; last worker log lines:\n{stack.log_tail()}") from exc


def _run_stack(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    driver = Driver(stack.runtime, run_id)
    k = args.instances
    label = f"{stack.name} {stack.processes}p×{stack.threads}t"
    timeout = max(120.0, k / 20)

    # warm-up: imports, connection pools, prepared caches, prefetch — not measured
    warm_ids, _ = driver.start_instances(args.warmup, "warm")
    driver.wave("decide", driver.commands(warm_ids, "decide", {"decision": "approve"}), None, timeout)
    driver.wave("archive", driver.commands(warm_ids, "archive", None), None, timeout)
    stack.noop_rate(min(1000, args.noop_messages))

    log(f"{label}: no-op actor, {args.noop_messages} messages")
    meter = CpuMeter(stack.cpu_groups())
    meter.start()
    noop_before = stack.noop_rate(args.noop_messages)
    noop_cpu = meter.stop()
    log(f"{label}: no-op {noop_before['msgs_per_s']:.0f} msgs/s")

    ids, start_seconds = driver.start_instances(k, "sat")
    log(f"{label}: started {k} instances in {start_seconds:.2f}s; saturation waves")
    decide_commands = driver.commands(ids, "decide", {"decision": "approve"})
    archive_commands = driver.commands(ids, "archive", None)
    meter.start()
    decide = driver.wave("decide", decide_commands, None, timeout)
    archive = driver.wave("archive", archive_commands, None, timeout)
    sat_cpu = meter.stop()
    applied = decide.applied + archive.applied
    seconds = decide.seconds_db + archive.seconds_db
    rate = applied / seconds
    log(
        f"{label}: {rate:.0f} transitions/s (decide {decide.applied / decide.seconds_db:.0f}/s, "
        f"archive {archive.applied / archive.seconds_db:.0f}/s)"
    )

    paced: dict[str, Any] | None = None
    if args.paced_fraction > 0:
        target = args.paced_rate or max(10.0, rate * args.paced_fraction)
        n = max(50, min(k, int(target * args.paced_seconds)))
        pids, _ = driver.start_instances(n, "paced")
        log(f"{label}: latency at a paced {target:.0f} msgs/s, {n} instances")
        pd = driver.wave("decide", driver.commands(pids, "decide", {"decision": "approve"}), target, timeout)
        pa = driver.wave("archive", driver.commands(pids, "archive", None), target, timeout)
        paced = {
            "offered_msgs_per_s": round(target, 1),
            "instances": n,
            "applied": pd.applied + pa.applied,
            "enqueue_to_commit_ms": summary_ms(pd.latencies + pa.latencies),
            "enqueue_to_pickup_ms": summary_ms(pd.waits + pa.waits),
        }

    sporadic: dict[str, Any] | None = None
    if args.sporadic > 0:
        # one message at a time after an idle gap: what a quiet system's users see
        sids, _ = driver.start_instances(args.sporadic, "sporadic")
        log(f"{label}: latency of {args.sporadic} lone messages, {args.sporadic_gap}s apart")
        lone: list[float] = []
        for iid in sids:
            time.sleep(args.sporadic_gap)
            one = driver.wave("decide", driver.commands([iid], "decide", {"decision": "approve"}), None, 60)
            lone += one.latencies
        driver.wave("archive", driver.commands(sids, "archive", None), None, timeout)
        sporadic = {"gap_seconds": args.sporadic_gap, "enqueue_to_commit_ms": summary_ms(lone)}

    log(f"{label}: no-op actor again")
    noop_after = stack.noop_rate(args.noop_messages)
    noop = (noop_before["msgs_per_s"] + noop_after["msgs_per_s"]) / 2
    checks = driver.verify()
    result: dict[str, Any] = {
        **stack.describe(),
        "transitions_per_s": round(rate, 1),
        "noop_msgs_per_s": round(noop, 1),
        "ratio_to_noop": round(rate / noop, 3),
        "saturation": {
            "instances": k,
            "transitions": applied,
            "rejected": decide.rejected + archive.rejected,
            "seconds": round(seconds, 3),
            "wall_seconds": round(decide.seconds_wall + archive.seconds_wall, 3),
            "decide_per_s": round(decide.applied / decide.seconds_db, 1),
            "archive_per_s": round(archive.applied / archive.seconds_db, 1),
            "enqueue_to_commit_ms_under_backlog": summary_ms(decide.latencies + archive.latencies),
        },
        "cpu_ms_per_transition": _per_unit(sat_cpu, applied),
        "own_cpu_ms_per_transition": round(
            sum(v for k, v in _per_unit(sat_cpu, applied).items() if k != "other"), 3
        ),
        "cpu_ms_per_noop_msg": _per_unit(noop_cpu, args.noop_messages),
        "cpu_seconds_saturation": sat_cpu,
        "latency_paced": paced,
        "latency_sporadic": sporadic,
        "driver_starts_per_s": round(k / start_seconds, 1),
        "noop": {
            "messages": args.noop_messages,
            "before_msgs_per_s": round(noop_before["msgs_per_s"], 1),
            "after_msgs_per_s": round(noop_after["msgs_per_s"], 1),
            "driver_enqueue_per_s": round(noop_before["enqueue_per_s"], 1),
        },
        "checks": checks,
    }
    print(
        f"{label:<32} {rate:8.0f} transitions/s  no-op {noop:8.0f} msgs/s  ratio {rate / noop:6.1%}  "
        f"p50/p99 {_fmt(paced)} (lone {_fmt(sporadic)})  checks {'ok' if checks['ok'] else 'FAILED'}",
        flush=True,
    )
    return result


def _per_unit(cpu: dict[str, float], units: int) -> dict[str, float]:
    skip = {"wall", "cores_available"}
    return {k: round(v / units * 1000, 3) for k, v in cpu.items() if k not in skip}


def _fmt(paced: dict[str, Any] | None) -> str:
    if not paced:
        return "-"
    lat = paced["enqueue_to_commit_ms"]
    return f"{lat['p50']}/{lat['p99']} ms"


@contextmanager
def _stack(kind: str, processes: int, args: argparse.Namespace, workdir: Path) -> Iterator[Stack]:
    stack: EmbeddedStack | RedisPgStack
    if kind == "sqlite":
        stack = EmbeddedStack(args.threads, workdir, args.experiment)
    else:
        stack = RedisPgStack(
            args.pg, args.redis, processes, args.threads, args.worker_entry, workdir, args.worker_timeout_ms
        )
    try:
        yield stack
    finally:
        stack.close()


# ====================================================================== main
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.engine_bench",
        description="Toy-flow transitions/s and enqueue→commit latency vs a no-op Dramatiq actor.",
    )
    p.add_argument("--instances", "-k", type=int, default=2000, help="instances per saturation run (2000)")
    p.add_argument("--stacks", default="sqlite,pg", help="comma list of sqlite, pg (default both)")
    p.add_argument("--processes", default="1,2", help="worker process counts for pg (default 1,2)")
    p.add_argument("--threads", type=int, default=8, help="worker threads per process (default 8)")
    p.add_argument("--noop-messages", type=int, default=10_000, help="no-op messages per measurement")
    p.add_argument("--warmup", type=int, default=100, help="warm-up instances per run (not measured)")
    p.add_argument(
        "--paced-fraction",
        type=float,
        default=0.5,
        help="latency run offered load as a fraction of the saturation rate (0 skips it; default 0.5)",
    )
    p.add_argument("--paced-rate", type=float, default=0.0, help="fixed latency-run rate (msgs/s) instead")
    p.add_argument("--paced-seconds", type=float, default=5.0, help="length of each paced wave (5 s)")
    p.add_argument("--sporadic", type=int, default=10, help="lone messages for the idle-latency run (10)")
    p.add_argument("--sporadic-gap", type=float, default=1.5, help="idle seconds before each lone message")
    p.add_argument("--pg-url", default=None, help="PostgreSQL URL (default $YUNSHANG_TEST_PG_URL)")
    p.add_argument("--pg-database", default="yunshang_bench", help="database used (created; wiped)")
    p.add_argument("--redis-url", default=None, help="Redis URL (default $YUNSHANG_TEST_REDIS_URL)")
    p.add_argument("--redis-db", type=int, default=13, help="Redis database number used (flushed; 13)")
    p.add_argument(
        "--worker-entry",
        choices=["auto", "worker", "bench"],
        default="auto",
        help="pg workers: 'worker' = python worker.py, 'bench' = bench.workers (StaticDeadlines), "
        "'auto' = worker.py when it can load rule deadlines for the toy flow",
    )
    p.add_argument(
        "--worker-timeout-ms",
        type=int,
        default=None,
        help="pg workers: Dramatiq's idle poll back-off cap (env dramatiq_worker_timeout; "
        "default: Dramatiq's own, 1000 ms)",
    )
    p.add_argument(
        "--experiment",
        choices=["core"],
        default=None,
        help="measure a prototype instead of the shipped engine: 'core' = bench/experiments/core_apply.py "
        "(results go to engine_bench_core.json)",
    )
    p.add_argument(
        "--worker-module",
        default=None,
        metavar="MODULE:broker",
        help="experiments: run pg workers as `python -m dramatiq MODULE:broker` instead (labelled as such)",
    )
    p.add_argument("--out", type=Path, default=None, help="result file (bench/results/engine_bench.json)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stacks = [s.strip() for s in args.stacks.split(",") if s.strip()]
    unknown = set(stacks) - {"sqlite", "pg"}
    if unknown:
        raise SystemExit(f"unknown stack(s) {sorted(unknown)}; use sqlite and/or pg")
    args.pg = pg_url(args.pg_url, args.pg_database)
    args.redis = redis_url(args.redis_url, args.redis_db)
    notes: list[str] = []
    if "pg" in stacks:
        usable, why = worker_py_usable()
        if args.experiment == "core":
            args.worker_module = args.worker_module or "bench.experiments.core_apply:broker"
        if args.worker_module:
            args.worker_entry = args.worker_module
        elif args.worker_entry == "auto":
            args.worker_entry = "worker" if usable else "bench"
        if usable:
            notes.append(f"worker.py builds its runtime from the rules: {why}")
        else:
            notes.append(
                f"worker.py cannot build its runtime for the toy flow ({why}); "
                f"worker processes run bench.workers (same compose(), StaticDeadlines)"
            )
            log(notes[-1])
        ensure_pg_database(args.pg)
    machine = machine_info(args.pg if "pg" in stacks else None, args.redis if "pg" in stacks else None)
    runs: list[dict[str, Any]] = []
    workdir = Path(tempfile.mkdtemp(prefix="yunshang-bench-"))
    try:
        for kind in stacks:
            counts = [1] if kind == "sqlite" else [int(n) for n in args.processes.split(",")]
            for processes in counts:
                with _stack(kind, processes, args, workdir) as stack:
                    runs.append(run_stack(stack, args))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result = {
        "benchmark": "engine_bench",
        "machine": machine,
        "parameters": {
            k: v for k, v in vars(args).items() if k not in {"out", "pg_url", "redis_url", "pg", "redis"}
        }
        | {"pg_database_url": args.pg if "pg" in stacks else None, "redis_url": args.redis},
        "targets": TARGETS,
        "runs": runs,
        "notes": notes,
    }
    name = "engine_bench"
    if args.experiment:
        name += f"_{args.experiment}"
    if args.worker_timeout_ms:
        name += f"_poll{args.worker_timeout_ms}"
    result["benchmark"] = name
    path = write_result(name, result, args.out)
    log(f"wrote {path}")
    if args.out is None:
        from bench.report import update_readme

        update_readme()
    return 0 if all(r["checks"]["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
