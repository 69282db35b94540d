"""Engine throughput and latency: the 4-state toy flow driven to the end, against a no-op actor.

For each stack — (a) embedded SQLite + StubBroker + an in-process Dramatiq ``Worker``, (b) PostgreSQL +
Redis with 1 and 2 real Dramatiq worker processes, (c) on request (``--stacks pg-rabbitmq``) the same
on PostgreSQL + RabbitMQ — the driver (this process):

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
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import (
    CpuMeter,
    amqp_url,
    analyze,
    ensure_pg_database,
    log,
    machine_info,
    pg_url,
    redis_url,
    summary_ms,
    write_result,
)
from bench.engine_driver import Driver
from bench.engine_stacks import EmbeddedStack, ServerStack, Stack, worker_py_usable

TARGETS = {
    "stack": "postgresql+redis, 2 worker processes",
    "transitions_per_s": 1000,
    "ratio_to_noop": 0.25,
}


# ====================================================================== the driver
def run_stack(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    try:
        return _run_stack(stack, args)
    except TimeoutError as exc:
        raise RuntimeError(f"{exc}; last worker log lines:\n{stack.log_tail()}") from exc


def _run_stack(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    driver = Driver(stack.runtime, run_id, batch=args.batch, together=args.enqueue == "together")
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
    analyze(stack.runtime.db)
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
            # the driver's sending alone: when it is most of ``seconds``, the driver set the pace
            "send_seconds": round(decide.seconds_send + archive.seconds_send, 3),
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
    stack: EmbeddedStack | ServerStack
    if kind == "sqlite":
        stack = EmbeddedStack(args.threads, workdir, args.experiment)
    else:
        broker = args.amqp if kind == "pg-rabbitmq" else args.redis
        stack = ServerStack(
            args.pg, broker, processes, args.threads, args.worker_entry, workdir, args.worker_timeout_ms
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
    p.add_argument(
        "--stacks",
        default="sqlite,pg",
        help="comma list of sqlite, pg (PostgreSQL + Redis), pg-rabbitmq (PostgreSQL + RabbitMQ); "
        "default sqlite,pg",
    )
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
        "--amqp-url",
        default=None,
        help="RabbitMQ URL for pg-rabbitmq (default $YUNSHANG_TEST_AMQP_URL, else guest@127.0.0.1:5672, "
        "vhost /); the queues the engine declares there are purged",
    )
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
    p.add_argument(
        "--batch",
        type=int,
        default=1,
        help="commands per message (default 1: one toy.advance message per command; N > 1: the driver "
        "sends toy.advance_many messages of N commands, each applied in one worker transaction; "
        "results go to engine_bench_batchN.json)",
    )
    p.add_argument(
        "--enqueue",
        choices=["each", "together"],
        default="each",
        help="how the driver writes a transaction's 200 one-command messages to the outbox: 'each' = "
        "an INSERT per command (engine.enqueue, default), 'together' = one INSERT (engine.enqueue_many)",
    )
    p.add_argument("--out", type=Path, default=None, help="result file (bench/results/engine_bench.json)")
    return p.parse_args(argv)


def _worker_entry(args: argparse.Namespace) -> list[str]:
    """Choose how pg worker processes start (``args.worker_entry``); return notes for the result."""
    notes: list[str] = []
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
    return notes


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stacks = [s.strip() for s in args.stacks.split(",") if s.strip()]
    unknown = set(stacks) - {"sqlite", "pg", "pg-rabbitmq"}
    if unknown:
        raise SystemExit(f"unknown stack(s) {sorted(unknown)}; use sqlite, pg and/or pg-rabbitmq")
    args.pg = pg_url(args.pg_url, args.pg_database)
    args.redis = redis_url(args.redis_url, args.redis_db)
    args.amqp = amqp_url(args.amqp_url)
    servers = bool({"pg", "pg-rabbitmq"} & set(stacks))
    notes = _worker_entry(args) if servers else []
    machine = machine_info(
        args.pg if servers else None,
        args.redis if "pg" in stacks else None,
        args.amqp if "pg-rabbitmq" in stacks else None,
    )
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
            k: v
            for k, v in vars(args).items()
            if k not in {"out", "pg_url", "redis_url", "amqp_url", "pg", "redis", "amqp"}
        }
        | {
            "pg_database_url": args.pg if servers else None,
            "redis_url": args.redis,
            "amqp_url": args.amqp if "pg-rabbitmq" in stacks else None,
        },
        "targets": TARGETS,
        "runs": runs,
        "notes": notes,
    }
    name = "engine_bench"
    if args.experiment:
        name += f"_{args.experiment}"
    if args.worker_timeout_ms:
        name += f"_poll{args.worker_timeout_ms}"
    if args.batch > 1:
        name += f"_batch{args.batch}"
    if "pg-rabbitmq" in stacks:
        name += "_rabbitmq"
    result["benchmark"] = name
    path = write_result(name, result, args.out)
    log(f"wrote {path}")
    if args.out is None:
        from bench.report import update_readme

        update_readme()
    return 0 if all(r["checks"]["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
