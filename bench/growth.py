"""Cost growth (issue 17 part 3): per-license time and CPU as the stock grows, push p99 as the table of
instances grows.

The production stack of ``bench.push_bench`` (``yunshang api`` + ``python worker.py --processes 2
--threads 8``, PostgreSQL + a private Redis), a fresh stack per run:

* *stock* — ``push_bench.stock``: ``--stocks`` licenses (default 10,000 and 75,000, in the order
  A B B A) posted in batches of 100, until every license's first department push is sent; time and
  CPU per license (the API, the workers, this database's PostgreSQL backends, Redis);
* *table* — before the stack starts, ``bench.ui_data.generate`` fills the instances table to each of
  ``--sizes`` (0, 100,000, 1,000,000 and 0 again; a fifth open with a timer each, then ``VACUUM
  ANALYZE``; its sample deliveries removed), then ``--warmup`` licences pushed (and their deliveries
  removed), then ``push_bench.sustained``: lone licenses at
  ``--rate`` for ``--seconds``, push latency p50 / p99.

``python -m bench.growth`` → ``bench/results/growth.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.common import CpuMeter, descendants, log, machine_info, pg_url, write_result
from bench.peers.measure import PrivateRedis, pg_backends
from bench.push_bench import Stack, stock, sustained
from bench.ui_data import generate

SKIP = {"wall", "cores_available"}


def _groups(stack: Stack, pg: str, database: str, redis: PrivateRedis) -> dict[str, Callable[[], set[int]]]:
    api, workers = (p.pid for p in stack.procs)
    pid = redis.proc.pid
    return {
        "api": lambda: descendants(api),
        "workers": lambda: descendants(workers),
        "postgresql": pg_backends(pg, [database]),
        "redis": lambda: {pid},
        "driver": lambda: {os.getpid()},
    }


def _cpu(cpu: dict[str, float], units: int) -> dict[str, Any]:
    wall = cpu["wall"] or 1.0
    own = sum(v for k, v in cpu.items() if k not in SKIP | {"other", "driver"})
    return {
        "cpu_seconds": cpu,
        "cores": {k: round(v / wall, 2) for k, v in cpu.items() if k not in SKIP},
        "cpu_ms_per_license": {k: round(v * 1000 / units, 3) for k, v in cpu.items() if k not in SKIP},
        "own_cpu_ms_per_license": round(own * 1000 / units, 3),
    }


def prefill(stack: Stack, size: int) -> dict[str, Any]:
    """The instances table at ``size`` rows (``ui_data.generate``), its sample deliveries removed so
    that every push the run waits for is its own."""
    if not size:
        return {"instances": 0, "seconds": 0.0}
    from worker import compose
    from workflows.settings import Settings

    settings = Settings(database_url=stack.url, broker=stack.env["YUNSHANG_BROKER"], rules_poll_interval=0)
    runtime = compose(settings)
    try:
        t0 = time.perf_counter()
        made = generate(stack.db, size, runtime.clock.now(), runtime.registry.flows)
        with stack.db.engine.begin() as conn:
            conn.execute(text("DELETE FROM deliveries WHERE dedupe_key LIKE 'bench:%'"))
        made["seconds"] = round(time.perf_counter() - t0, 1)
    finally:
        runtime.close()
    log(f"prefilled {made}")
    return made


def run(
    kind: str, value: int, args: argparse.Namespace, redis: PrivateRedis, workdir: Path
) -> dict[str, Any]:
    stack = Stack("production", workdir, args.pg, redis.url, args.port, processes=args.workers)
    out: dict[str, Any] = {"part": kind, "load_avg_start": list(os.getloadavg())}
    if kind == "table":
        out["instances_before"] = prefill(stack, value)
    stack.start()
    try:
        if kind == "table" and args.warmup:  # the workers up and warm before the clock starts
            out["warmup"] = stock(stack, args.warmup)
            with stack.db.engine.begin() as conn:
                conn.execute(text("DELETE FROM deliveries"))
        meter = CpuMeter(_groups(stack, args.pg, args.database, redis))
        meter.start()
        if kind == "stock":
            out |= stock(stack, value)
            cpu = meter.stop()
            out["seconds_per_1000_licenses"] = round(out["total_seconds"] * 1000 / value, 2)
            out |= _cpu(cpu, value)
        else:
            out |= sustained(stack, args.rate, args.seconds)
            cpu = meter.stop()
            out |= _cpu(cpu, out["licenses"])
    finally:
        stack.stop()
    out["load_avg_end"] = list(os.getloadavg())
    log(f"{kind} {value:,}: { ({k: v for k, v in out.items() if k not in {'cpu_seconds', 'cores'}}) }")
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__.split("\n\n")[0])
    p.add_argument("--parts", default="stock,table", help="comma list of stock, table")
    p.add_argument("--stocks", default="10000,75000,75000,10000", help="stock sizes, in run order")
    p.add_argument("--sizes", default="0,100000,1000000,0", help="instances pre-filled, in run order")
    p.add_argument("--rate", type=float, default=100, help="licenses/s of the table runs (100)")
    p.add_argument("--seconds", type=float, default=40, help="seconds of each table run (40)")
    p.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    p.add_argument("--warmup", type=int, default=100, help="table runs: licences pushed before (100)")
    p.add_argument("--pg-url", default=None, help="PostgreSQL URL (default $YUNSHANG_TEST_PG_URL)")
    p.add_argument("--database", default="yunshang_bench_growth", help="database (emptied per run)")
    p.add_argument("--port", type=int, default=18499, help="the API's port")
    p.add_argument("--redis-port", type=int, default=16427, help="the private Redis server's port")
    p.add_argument("--out", type=Path, default=None, help="result file (bench/results/growth.json)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.pg = pg_url(args.pg_url, args.database)
    redis = PrivateRedis(args.redis_port)
    result: dict[str, Any] = {
        "benchmark": "growth",
        "machine": machine_info(args.pg, redis.url),
        "parameters": {k: v for k, v in vars(args).items() if k not in {"out", "pg_url"}},
        "runs": [],
    }
    plan = []
    if "stock" in args.parts:
        plan += [("stock", int(n)) for n in args.stocks.split(",")]
    if "table" in args.parts:
        plan += [("table", int(n)) for n in args.sizes.split(",")]
    try:
        for kind, value in plan:
            with tempfile.TemporaryDirectory(prefix="yunshang-growth-") as tmp:
                result["runs"].append({"value": value, **run(kind, value, args, redis, Path(tmp))})
            result["load_avg_end"] = list(os.getloadavg())
            write_result("growth", result, args.out)
    finally:
        redis.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
