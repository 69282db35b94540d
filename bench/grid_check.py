"""Grid first check (网格首检) at the seed's scale (issue 12): 73,000 tasks pushed to the grid workers of
the synthetic Laoshan directory (654 grids, 735 workers) and each driven through acknowledgement and
first check, 0.3 % found unlicensed and taken on by the street office and the department; then the
push latency at 100 tasks/s sustained for 60 s.

PostgreSQL + Redis, one API process (``--apis N``: N of them, the clients sharing them out),
``python worker.py --processes 2 --threads 8`` (``bench.grid_stack``).
Everything goes through ``POST /events`` as the upstream systems, the grid workers' app, the street
offices and the departments send it (``bench.grid_events``):

* **throughput** — the start events in batches of 100 as fast as the API takes them; *push* = first
  POST → the last task's ``task`` push row (written by the ``dispatch`` transition that puts the task in
  ``assigned``, in the same transaction). Then the acknowledgements and the first checks, batches of
  100; a follower posts each unlicensed task's street hand-over once it is in ``street_enforcement``
  and the department's case report once it is in ``department_case``; *drive* = first acknowledgement
  POST → the last task closed. *total* = first start POST → the last task closed.
* **sustained** — lone start events at ``--rate`` for ``--seconds`` from 8 sender threads; latency =
  just before the POST → the task's ``task`` push row (``created_at``, same machine clock).

    .venv/bin/python -m bench.grid_check                       # 73,000 tasks, then 100/s for 60 s
    .venv/bin/python -m bench.grid_check --tasks 2000 --seconds 10 --out /tmp/grid.json
"""

from __future__ import annotations

import argparse
import random
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import (
    REPO,
    CpuMeter,
    log,
    machine_info,
    pg_url,
    redis_url,
    summary_ms,
    wait_for,
    write_result,
)
from bench.grid_checks import Follower, cpu_ms_per_task, drive_times, end_state
from bench.grid_events import (
    Posted,
    Poster,
    ack_event,
    check_event,
    post_all,
    start_event,
)
from bench.grid_events import unique_usccs as usccs
from bench.grid_stack import TOKEN, GridStack
from bench.report import update_readme

TARGETS = {"tasks_73000_total_seconds": 120, "push_p99_ms_at_100_per_s": 1000}


def throughput(stack: GridStack, args: argparse.Namespace) -> dict[str, Any]:
    n, tag = args.tasks, f"tp-{uuid.uuid4().hex[:6]}"
    places = stack.places
    codes = usccs(n, 12)
    events = [start_event(args.start, i, places[i % len(places)], codes[i], tag) for i in range(n)]
    timeout = max(600.0, n / 20)
    meter = CpuMeter(stack.cpu_groups())
    meter.start()
    t0 = time.time()
    starts = post_all(stack.ports, TOKEN, events, args.batch, args.clients)
    accepted = time.time() - t0
    log(f"{n} start events accepted in {accepted:.1f} s ({starts.refused} refused); waiting for the pushes")
    wait_for(lambda: stack.states().get("assigned", 0) >= starts.accepted, timeout, "every push", pause=0.5)
    push_cpu = meter.stop()
    pushed = stack.last("SELECT extract(epoch FROM max(created_at)) FROM deliveries WHERE kind = 'task'")
    push_s = (pushed or time.time()) - t0
    log(f"pushed {n} tasks in {push_s:.1f} s ({n / push_s:.0f}/s)")

    tasks = stack.tasks()
    rng = random.Random(3)
    unlicensed = set(rng.sample(range(len(tasks)), round(len(tasks) * args.unlicensed)))
    bad = [t for k, t in enumerate(tasks) if k in unlicensed]
    acks = [ack_event(t.id, t.worker, tag) for t in tasks]
    checks = [
        check_event(t.id, t.worker, "unlicensed" if k in unlicensed else "ok", tag)
        for k, t in enumerate(tasks)
    ]
    follower = Follower(stack, bad, tag, timeout)
    meter.start()
    t1 = time.time()
    follower.start()
    posted = post_all(stack.ports, TOKEN, acks, args.batch, args.clients)
    ack_accepted = time.time() - t1
    posted.add(post_all(stack.ports, TOKEN, checks, args.batch, args.clients))
    drive_accepted = time.time() - t1
    log(f"{len(acks)} acknowledgements and {len(checks)} checks accepted in {drive_accepted:.1f} s")
    final = ("verified", "case_closed")
    wait_for(lambda: sum(stack.states().get(s, 0) for s in final) >= n, timeout, "every task closed", 0.5)
    follower.join(timeout)
    drive_cpu = meter.stop()
    if follower.error is not None:
        raise RuntimeError(f"the unlicensed chain failed: {follower.error}") from follower.error
    times = drive_times(stack, t1, {t.id for t in bad})
    drive_s = float(times["last_closed_after_s"])
    total_s = t1 + drive_s - t0
    log(f"drove {n} tasks in {drive_s:.1f} s ({n / drive_s:.0f}/s); total {total_s:.1f} s")
    return {
        "tasks": n,
        "start_event": args.start,
        "unlicensed": len(bad),
        "batch": args.batch,
        "clients": args.clients,
        "push": {
            "accepted_seconds": round(accepted, 2),
            "seconds": round(push_s, 2),
            "tasks_per_s": round(n / push_s, 1),
            "post_refused": starts.refused,
            "refused_examples": starts.examples,
            "batch_round_trip_ms": summary_ms(starts.round_trips),
            "cpu_seconds": push_cpu,
            "cpu_ms_per_task": cpu_ms_per_task(push_cpu, n),
        },
        "drive": {
            "acks_accepted_seconds": round(ack_accepted, 2),
            "accepted_seconds": round(drive_accepted, 2),
            "seconds": round(drive_s, 2),
            "tasks_per_s": round(n / drive_s, 1),
            "post_refused": posted.refused + follower.posted.refused,
            "refused_examples": (posted.examples + follower.posted.examples)[:5],
            "batch_round_trip_ms": summary_ms(posted.round_trips),
            **times,
            "cpu_seconds": drive_cpu,
            "cpu_ms_per_task": cpu_ms_per_task(drive_cpu, n),
        },
        "total_seconds": round(total_s, 2),
        "tasks_per_s_overall": round(n / total_s, 1),
        "checks": end_state(stack, n, len(bad), args.start),
    }


def sustained(stack: GridStack, args: argparse.Namespace) -> dict[str, Any]:
    n, tag, interval = int(args.rate * args.seconds), f"rate-{uuid.uuid4().hex[:6]}", 1.0 / args.rate
    codes = usccs(n, 21)
    events = [
        start_event(args.start, i, stack.places[i % len(stack.places)], codes[i], tag) for i in range(n)
    ]
    sent: dict[str, float] = {}
    results = [Posted() for _ in range(args.senders)]
    meter = CpuMeter(stack.cpu_groups())
    t0 = time.perf_counter()

    def sender(k: int) -> None:
        poster = Poster(stack.ports[k % len(stack.ports)], TOKEN)
        try:
            for i in range(k, n, args.senders):
                delay = t0 + i * interval - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                sent[codes[i]] = time.time()
                poster.one(events[i], results[k])
        finally:
            poster.close()

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(args.senders)]
    meter.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    achieved = n / (time.perf_counter() - t0)
    cpu = meter.stop()
    posted = Posted()
    for r in results:
        posted.add(r)
    wait_for(lambda: stack.states().get("assigned", 0) >= posted.accepted, 300, "every push", pause=0.5)
    pushes = stack.first_push_times()
    latencies = [pushes[c] - sent[c] for c in sent if c in pushes]
    return {
        "rate_asked": args.rate,
        "rate_achieved": round(achieved, 1),
        "seconds": args.seconds,
        "tasks": n,
        "senders": args.senders,
        "post_refused": posted.refused,
        "refused_examples": posted.examples,
        "push_latency_ms": summary_ms(latencies),
        "post_round_trip_ms": summary_ms(posted.round_trips),
        "cpu_cores_used": {
            k: round(v / cpu["wall"], 3) for k, v in cpu.items() if k not in ("wall", "cores_available")
        },
        "pushes_missing": n - len(latencies),
    }


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=73000, help="tasks of the throughput run")
    parser.add_argument("--unlicensed", type=float, default=0.003, help="share found unlicensed")
    parser.add_argument("--rate", type=float, default=100, help="tasks/s of the sustained run")
    parser.add_argument("--seconds", type=float, default=60, help="length of the sustained run")
    parser.add_argument("--senders", type=int, default=8, help="sender threads of the sustained run")
    parser.add_argument("--batch", type=int, default=100, help="events per POST in the throughput run")
    parser.add_argument("--clients", type=int, default=1, help="concurrent batch posters (throughput)")
    parser.add_argument(
        "--apis", type=int, default=1, help="API processes (ports --port, --port + 1, …; clients share them)"
    )
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=0,
        help="ANALYZE the hot tables every S seconds (a stand-in for autovacuum, which this server lacks)",
    )
    parser.add_argument("--start", choices=["license", "complaint"], default="license")
    parser.add_argument("--phases", default="throughput,sustained", help="comma list")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--scheduler", action="store_true", help="run `yunshang scheduler` too")
    parser.add_argument("--pg-url", default=None, help="server (the database is --database)")
    parser.add_argument("--database", default="yunshang_bench_grid")
    parser.add_argument("--redis-url", default=None, help="server (the db number is --redis-db)")
    parser.add_argument("--redis-db", type=int, default=10)
    parser.add_argument("--port", type=int, default=18451)
    parser.add_argument("--name", default="grid_check", help="result file bench/results/NAME.json")
    parser.add_argument("--out", type=Path, default=None, help="write the result here instead (no README)")
    args = parser.parse_args()
    pg, redis = pg_url(args.pg_url, args.database), redis_url(args.redis_url, args.redis_db)
    result: dict[str, Any] = {
        "benchmark": "grid_check",
        # the server's own database: the bench's is created by the stack, after this
        "machine": machine_info(pg_url(args.pg_url, "postgres"), redis),
        "targets": TARGETS,
        "parameters": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "stack": f"PostgreSQL + Redis, {args.apis} API process{'es' if args.apis > 1 else ''}, "
        f"worker.py {args.processes}×{args.threads}" + (", scheduler" if args.scheduler else ""),
        "uptime_before": _uptime(),
        "runs": {},
    }
    for phase in args.phases.split(","):
        with tempfile.TemporaryDirectory(prefix="yunshang-grid-") as tmp:
            stack = GridStack(
                Path(tmp),
                pg,
                redis,
                args.port,
                args.processes,
                args.threads,
                args.scheduler,
                args.analyze_every,
                args.apis,
            )
            result["directory"] = stack.directory
            result["machine"]["postgresql_settings"] = stack.settings
            stack.start()
            try:
                result["runs"][phase] = (
                    throughput(stack, args) if phase == "throughput" else sustained(stack, args)
                )
            except BaseException:
                log(f"workers:\n{stack.log_tail('workers')}\napi:\n{stack.log_tail('api')}")
                raise
            finally:
                stack.stop()
            if stack.analyzer is not None:
                result["runs"][phase]["analyze"] = stack.analyzer.summary()
            log(f"{phase}: {result['runs'][phase]}")
    result["uptime_after"] = _uptime()
    path = write_result(args.name, result, args.out)
    if args.out is None:
        update_readme()
    print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


if __name__ == "__main__":
    main()
