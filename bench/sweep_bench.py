"""Timer sweep: fire 100k due timers with 1 and 2 concurrent sweeper processes; cost of an empty poll.

Sweep: ``--timers`` instances, each with one armed timer due in the past, are written with bulk
``INSERT … SELECT`` statements; then 1 (and 2) sweeper processes — each a ``Sweeper`` of a runtime built
from the settings (PostgreSQL + a Redis broker; or SQLite + the embedded broker) — call ``sweep()``
until it finds nothing. Each fired timer becomes a command in an outbox message (committed with the
claim; the sweeper's default of up to 50 commands per message) sent to the broker; no worker consumes
them. Reported: timers/s (first ``sweep()`` call to the last sweeper's end) and duplicates = timers
with more than one command in the outbox (by the command's cause id).

Empty poll: with 1k and 1M armed timers all due in the future, the median time of ``sweep()`` (one
transaction, one query that finds nothing) over ``--polls`` calls, before and after ``ANALYZE``.

    .venv/bin/python -m bench.sweep_bench --help
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from bench.common import (
    REPO,
    CpuMeter,
    ensure_pg_database,
    log,
    machine_info,
    pg_server_pids,
    pg_url,
    redis_server_pids,
    redis_url,
    write_result,
)
from bench.sweep_setup import analyze, bench_runtime, insert_timers, reset
from workflows.engine.rows import commands_in
from workflows.runtime import Runtime
from workflows.store.models import Instance, Outbox, TimerRow

TARGETS = {"sweep_timers_per_s": 3000, "duplicates": 0, "empty_poll_ms_at_1M": 10}


# ====================================================================== the sweep
def run_sweepers(
    runtime: Runtime, database_url: str, broker: str, processes: int, batch: int, redis: str | None
) -> dict[str, Any]:
    """Start ``processes`` sweeper processes, let them go at once, collect what each fired."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    cmd = [
        sys.executable,
        "-m",
        "bench.sweep_bench",
        "--role",
        "sweeper",
        "--database-url",
        database_url,
        "--broker",
        broker,
        "--batch",
        str(batch),
    ]
    children = [
        subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"sweeper {child.pid} did not start (said {line!r})")
        groups: dict[str, Callable[[], set[int]]] = {
            "sweepers": lambda: {c.pid for c in children},
            "driver": lambda: {os.getpid()},
        }
        if runtime.db.is_postgres:
            groups["postgresql"] = pg_server_pids(database_url)
        if redis:
            groups["redis"] = redis_server_pids(redis)
        meter = CpuMeter(groups)
        meter.start()
        t0 = time.perf_counter()
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        reports = []
        for child in children:  # each reports, then waits: its (and its backend's) CPU is still countable
            assert child.stdout is not None
            line = child.stdout.readline()
            if not line:
                raise RuntimeError(f"sweeper {child.pid} failed with {child.wait()}")
            reports.append(json.loads(line))
        wall = time.perf_counter() - t0
        cpu = meter.stop()
        for child in children:
            child.communicate("exit\n", timeout=60)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    start = min(r["start"] for r in reports)
    end = max(r["end"] for r in reports)
    fired = sum(r["fired"] for r in reports)
    return {
        "fired_by_each": [r["fired"] for r in reports],
        "fired": fired,
        "seconds": round(end - start, 3),
        "wall_seconds_parent": round(wall, 3),
        "timers_per_s": round(fired / (end - start), 1),
        "cpu_seconds": cpu,
        "cpu_ms_per_timer": {
            k: round(v / max(1, fired) * 1000, 4)
            for k, v in cpu.items()
            if k not in {"wall", "cores_available"}
        },
    }


def check_sweep(runtime: Runtime, expected: int) -> dict[str, Any]:
    """Every timer fired exactly once: one command per timer id in the outbox, none left armed."""
    with runtime.db.transaction() as s:
        statuses = dict(s.execute(select(TimerRow.status, func.count()).group_by(TimerRow.status)).all())
        messages = s.execute(select(Outbox.message)).scalars().all()
        unsent = s.execute(
            select(func.count()).select_from(Outbox).where(Outbox.sent_at.is_(None))
        ).scalar_one()
    per_timer = Counter(c["cause"]["id"] for m in messages for c in commands_in(m))
    commands = sum(per_timer.values())
    duplicated = sum(1 for n in per_timer.values() if n > 1)
    ok = (
        statuses.get("fired", 0) == expected
        and len(per_timer) == expected
        and duplicated == 0
        and commands == expected
    )
    return {
        "ok": ok,
        "timers_by_status": statuses,
        "outbox_rows": len(messages),
        "commands": commands,
        "distinct_timer_ids": len(per_timer),
        "duplicates": duplicated,
        "outbox_unsent": unsent,
    }


# ====================================================================== empty polls
def empty_polls(runtime: Runtime, polls: int) -> dict[str, Any]:
    for _ in range(5):  # warm the pool and the statement caches
        runtime.sweeper.sweep()
    times = []
    for _ in range(polls):
        t0 = time.perf_counter()
        result = runtime.sweeper.sweep()
        times.append((time.perf_counter() - t0) * 1000)
        if result.fired:
            raise RuntimeError(f"an empty poll fired {result.fired} timers")
    return {
        "median_ms": round(statistics.median(times), 3),
        "p90_ms": round(sorted(times)[int(len(times) * 0.9) - 1], 3),
        "min_ms": round(min(times), 3),
        "max_ms": round(max(times), 3),
        "polls": polls,
    }


def sweep_plan(runtime: Runtime) -> str | None:
    """EXPLAIN ANALYZE of the sweep's claim query (mirrors ``Sweeper._sweep_batch``; PostgreSQL)."""
    if not runtime.db.is_postgres:
        return None
    query = (
        select(TimerRow.id, TimerRow.trigger, TimerRow.due_at, TimerRow.instance_id, Instance.flow)
        .join(Instance, Instance.id == TimerRow.instance_id)
        .where(TimerRow.status == "armed", TimerRow.due_at <= runtime.clock.now())
        .order_by(TimerRow.due_at)
        .limit(runtime.sweeper.batch)
        .with_for_update(skip_locked=True, of=TimerRow)
    )
    compiled = query.compile(runtime.db.engine, compile_kwargs={"literal_binds": True})
    with runtime.db.engine.begin() as conn:
        rows = conn.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {compiled}")).scalars().all()
    return "\n".join(str(r) for r in rows)


def poll_cost(runtime: Runtime, sizes: Sequence[int], polls: int, redis: str | None) -> list[dict[str, Any]]:
    out = []
    for size in sizes:
        reset(runtime, redis)
        seconds = insert_timers(runtime, size, runtime.clock.now() + timedelta(days=1), spread_ms=1000)
        log(f"{runtime.db.dialect}: {size} future timers inserted in {seconds:.1f}s; {polls} empty polls")
        fresh = empty_polls(runtime, polls)
        analyze(runtime)
        analyzed = empty_polls(runtime, polls)
        out.append(
            {
                "pending_timers": size,
                "insert_seconds": round(seconds, 2),
                "before_analyze": fresh,
                "after_analyze": analyzed,
                "plan": sweep_plan(runtime),
            }
        )
        log(
            f"{runtime.db.dialect}: empty poll at {size} timers: median {fresh['median_ms']} ms "
            f"(after ANALYZE {analyzed['median_ms']} ms)"
        )
    return out


# ====================================================================== per stack
def bench_stack(
    name: str, database_url: str, broker: str, redis: str | None, args: argparse.Namespace
) -> dict[str, Any]:
    runtime = bench_runtime(database_url, broker, migrate=True)
    try:
        sweeps = []
        for processes in [int(n) for n in args.sweepers.split(",")]:
            reset(runtime, redis)
            due = runtime.clock.now() - timedelta(hours=1)
            seconds = insert_timers(runtime, args.timers, due, spread_ms=1)
            analyze(runtime)
            log(f"{name}: {args.timers} due timers inserted in {seconds:.1f}s; {processes} sweeper(s)")
            result = run_sweepers(runtime, database_url, broker, processes, args.batch, redis)
            result["checks"] = check_sweep(runtime, args.timers)
            result["sweepers"] = processes
            sweeps.append(result)
            print(
                f"{name:<18} {processes} sweeper(s): {result['timers_per_s']:8.0f} timers/s  "
                f"duplicates {result['checks']['duplicates']}  checks "
                f"{'ok' if result['checks']['ok'] else 'FAILED'}",
                flush=True,
            )
        polls = poll_cost(runtime, [int(n) for n in args.poll_sizes.split(",") if n], args.polls, redis)
        for p in polls:
            print(
                f"{name:<18} empty poll, {p['pending_timers']:>8} future timers: "
                f"median {p['before_analyze']['median_ms']} ms (after ANALYZE "
                f"{p['after_analyze']['median_ms']} ms)",
                flush=True,
            )
        reset(runtime, redis)
        return {
            "stack": name,
            "timers": args.timers,
            "batch": args.batch,
            "sweeps": sweeps,
            "empty_poll": polls,
        }
    finally:
        runtime.close()


# ====================================================================== child
def sweeper_main(args: argparse.Namespace) -> int:
    runtime = bench_runtime(args.database_url, args.broker, migrate=False, batch=args.batch)
    with runtime.db.transaction() as session:  # open a connection before the clock starts
        session.execute(text("SELECT 1"))
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    fired = 0
    while True:
        result = runtime.sweeper.sweep()
        fired += result.fired
        if result.fired == 0:
            break
    end = time.perf_counter()
    print(json.dumps({"fired": fired, "start": start, "end": end, "cpu": time.process_time()}), flush=True)
    sys.stdin.readline()
    runtime.close()
    return 0


# ====================================================================== main
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.sweep_bench",
        description="Timer sweep throughput with 1 and 2 sweepers (duplicates must be 0); empty-poll cost.",
    )
    p.add_argument("--timers", type=int, default=100_000, help="due timers to fire per run (100000)")
    p.add_argument("--sweepers", default="1,2", help="sweeper process counts (default 1,2)")
    p.add_argument("--batch", type=int, default=500, help="Sweeper batch size (the engine's default 500)")
    p.add_argument("--stacks", default="pg,sqlite", help="comma list of pg, sqlite (default both)")
    p.add_argument("--poll-sizes", default="1000,1000000", help="future timers for the empty-poll runs")
    p.add_argument("--sqlite-poll-sizes", default="1000,1000000", help="the same on SQLite ('' skips)")
    p.add_argument("--polls", type=int, default=50, help="empty polls per measurement (50)")
    p.add_argument("--pg-url", default=None, help="PostgreSQL URL (default $YUNSHANG_TEST_PG_URL)")
    p.add_argument("--pg-database", default="yunshang_bench", help="database used (created; wiped)")
    p.add_argument("--redis-url", default=None, help="Redis URL (default $YUNSHANG_TEST_REDIS_URL)")
    p.add_argument("--redis-db", type=int, default=13, help="Redis database number used (flushed; 13)")
    p.add_argument("--out", type=Path, default=None, help="result file (bench/results/sweep_bench.json)")
    p.add_argument("--role", choices=["main", "sweeper"], default="main", help=argparse.SUPPRESS)
    p.add_argument("--database-url", help=argparse.SUPPRESS)
    p.add_argument("--broker", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.role == "sweeper":
        return sweeper_main(args)
    stacks = [s.strip() for s in args.stacks.split(",") if s.strip()]
    if set(stacks) - {"pg", "sqlite"}:
        raise SystemExit("--stacks takes pg and/or sqlite")
    pg = pg_url(args.pg_url, args.pg_database)
    redis = redis_url(args.redis_url, args.redis_db)
    machine = machine_info(pg if "pg" in stacks else None, redis if "pg" in stacks else None)
    results = []
    for kind in stacks:
        if kind == "pg":
            ensure_pg_database(pg)
            results.append(bench_stack("postgresql+redis", pg, redis, redis, args))
        else:
            with tempfile.TemporaryDirectory(prefix="yunshang-sweep-") as tmp:
                lite = argparse.Namespace(**{**vars(args), "poll_sizes": args.sqlite_poll_sizes})
                url = f"sqlite:///{tmp}/sweep.db"
                results.append(bench_stack("sqlite-embedded", url, "embedded", None, lite))
    ok = all(s["checks"]["ok"] for r in results for s in r["sweeps"])
    result = {
        "benchmark": "sweep_bench",
        "machine": machine,
        "parameters": {
            k: v
            for k, v in vars(args).items()
            if k not in {"out", "role", "database_url", "broker", "pg_url"}
        }
        | {"pg_database_url": pg if "pg" in stacks else None, "redis_url": redis if "pg" in stacks else None},
        "targets": TARGETS,
        "runs": results,
        "checks_ok": ok,
    }
    path = write_result("sweep_bench", result, args.out)
    log(f"wrote {path}")
    if args.out is None:
        from bench.report import update_readme

        update_readme()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
