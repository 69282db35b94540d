"""Scaling with worker processes (issue 17 part 3): 1, 2 and 4 ``worker.py`` processes on one stack.

Per process count N, on PostgreSQL + a private Redis (``bench.peers.measure.PrivateRedis``: its CPU
is this run's alone), rounds interleaved (1, 2, 4, 1, 2, 4, …):

* *engine* — ``bench.engine_stacks.ServerStack`` with N processes × ``--threads``; the no-op actor
  (``--noop`` messages), then the toy flow's ``decide`` + ``archive`` waves of ``bench.engine_driver``:
  one message per command (``--k-message`` instances) and messages of 50 commands (``--k-batch``);
* *claim* — the claim flow of ``bench.peers`` (``yunshang api`` + ``worker.py --processes N``: start,
  push, three claim timers armed, then the claims), ``--k-claim`` notices.

Each measured window records the CPU of the driver (this process), the workers, the API (claim), the
PostgreSQL backends of this run's database and Redis, and *other* = the rest of the machine; the
machine has 2 cores, which all of these share. ``python -m bench.scaling`` → ``results/scaling.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import CpuMeter, analyze, ensure_pg_database, log, machine_info, pg_url, write_result
from bench.engine_driver import Driver
from bench.engine_stacks import ServerStack, worker_py_usable
from bench.peers.claim_bench import run_one
from bench.peers.measure import PrivateRedis, pg_backends
from bench.peers.sides import Yunshang

SKIP = {"wall", "cores_available"}


def _cores(cpu: dict[str, float]) -> dict[str, float]:
    """CPU seconds of each group ÷ the window: cores used on average."""
    wall = cpu["wall"] or 1.0
    return {k: round(v / wall, 2) for k, v in cpu.items() if k not in SKIP}


def _per_unit_ms(cpu: dict[str, float], units: int) -> dict[str, float]:
    return {k: round(v * 1000 / max(1, units), 3) for k, v in cpu.items() if k not in SKIP}


def _waves(driver: Driver, ids: list[int], meter: CpuMeter, timeout: float) -> dict[str, Any]:
    decide = driver.commands(ids, "decide", {"decision": "approve"})
    archive = driver.commands(ids, "archive", None)
    meter.start()
    d = driver.wave("decide", decide, None, timeout)
    a = driver.wave("archive", archive, None, timeout)
    cpu = meter.stop()
    applied, seconds = d.applied + a.applied, d.seconds_db + a.seconds_db
    return {
        "transitions": applied,
        "rejected": d.rejected + a.rejected,
        "seconds": round(seconds, 3),
        "transitions_per_s": round(applied / seconds, 1),
        "cpu_seconds": cpu,
        "cores": _cores(cpu),
        "cpu_ms_per_transition": _per_unit_ms(cpu, applied),
        "load_avg": list(os.getloadavg()),
    }


def engine_run(processes: int, args: argparse.Namespace, redis: str, workdir: Path) -> dict[str, Any]:
    stack = ServerStack(args.pg_engine, redis, processes, args.threads, args.entry, workdir)
    try:
        groups = stack.cpu_groups()
        groups["postgresql"] = pg_backends(args.pg_engine, [args.engine_db])
        meter = CpuMeter(groups)
        out: dict[str, Any] = {"part": "engine", **stack.describe(), "load_avg_start": list(os.getloadavg())}
        stack.noop_rate(500)
        meter.start()
        noop = stack.noop_rate(args.noop)
        cpu = meter.stop()
        out["noop"] = {"msgs_per_s": round(noop["msgs_per_s"], 1), "cores": _cores(cpu)}
        log(f"{processes}p: no-op {noop['msgs_per_s']:.0f} msgs/s")
        for mode, batch, k in (("message", 1, args.k_message), ("batched", 50, args.k_batch)):
            driver = Driver(stack.runtime, uuid.uuid4().hex[:8], batch=batch)
            warm, _ = driver.start_instances(100, f"warm-{mode}")
            _waves(driver, warm, meter, 300)
            ids, _ = driver.start_instances(k, mode)
            analyze(stack.runtime.db)  # as autovacuum would (off on this machine's shared server)
            result = _waves(driver, ids, meter, max(300.0, k / 20))
            result["checks_ok"] = bool(driver.verify()["ok"])
            out[mode] = result
            rate = result["transitions_per_s"]
            log(f"{processes}p {mode}: {rate:.0f} transitions/s, cores {result['cores']}")
        return out
    finally:
        stack.close()


def claim_run(processes: int, args: argparse.Namespace, redis: PrivateRedis, workdir: Path) -> dict[str, Any]:
    side = Yunshang(workdir, args.pg_claim, redis.url, args.port, 100, 2, processes=processes)
    t0 = os.getloadavg()
    run = run_one(side, args.k_claim, args.pg_claim, redis, databases=[args.claim_db])
    wall = run["start"]["cpu_s"]["wall"] + run["claim"]["cpu_s"]["wall"]
    both = {
        g: run["start"]["cpu_s"].get(g, 0.0) + run["claim"]["cpu_s"].get(g, 0.0)
        for g in run["start"]["cpu_s"]
        if g not in SKIP
    }
    return {
        **run,
        "part": "claim",
        "processes": processes,
        "side_processes": run["processes"],
        "load_avg_start": list(t0),
        "cores": {g: round(v / wall, 2) for g, v in both.items()},
        "cpu_ms_per_notice_by_group": _per_unit_ms(both, args.k_claim),
    }


PATHS = {
    "noop_msgs_per_s": ("engine", "noop", "msgs_per_s"),
    "message_transitions_per_s": ("engine", "message", "transitions_per_s"),
    "batched_transitions_per_s": ("engine", "batched", "transitions_per_s"),
    "claim_notices_per_s": ("claim", "notices_per_s", ""),
    "claim_claims_per_s": ("claim", "claims_per_s", ""),
}


def _figure(run: dict[str, Any], path: tuple[str, str, str]) -> float | None:
    part, key, sub = path
    if run["part"] != part:
        return None
    value = run[key][sub] if sub else run[key]
    return float(value)


def summarize(runs: list[dict[str, Any]], counts: list[int]) -> dict[str, Any]:
    """min / median / max of each figure per process count, and the medians' ratios to 1 process."""
    out: dict[str, Any] = {}
    for name, path in PATHS.items():
        per: dict[str, Any] = {}
        for n in counts:
            values = [v for r in runs if r["processes"] == n and (v := _figure(r, path)) is not None]
            if values:
                per[str(n)] = {"min": min(values), "median": statistics.median(values), "max": max(values)}
        if "1" in per:
            base = per["1"]["median"]
            per["ratios_to_1"] = {n: round(per[n]["median"] / base, 2) for n in per if n != "1"}
        out[name] = per
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__.split("\n\n")[0])
    p.add_argument("--processes", default="1,2,4", help="worker process counts (1,2,4)")
    p.add_argument("--rounds", type=int, default=2, help="rounds of every count (2)")
    p.add_argument("--threads", type=int, default=8, help="threads per worker process (8)")
    p.add_argument("--k-message", type=int, default=2000, help="toy instances, one message per command")
    p.add_argument("--k-batch", type=int, default=10000, help="toy instances, messages of 50 commands")
    p.add_argument("--k-claim", type=int, default=2000, help="notices of the claim flow")
    p.add_argument("--noop", type=int, default=5000, help="no-op messages")
    p.add_argument("--parts", default="engine,claim", help="comma list of engine, claim")
    p.add_argument("--pg-url", default=None, help="PostgreSQL URL (default $YUNSHANG_TEST_PG_URL)")
    p.add_argument("--engine-db", default="yunshang_bench_scaling", help="the engine part's database")
    p.add_argument("--claim-db", default="yunshang_bench_scaling_claim", help="the claim part's database")
    p.add_argument("--port", type=int, default=18493, help="the claim part's API port")
    p.add_argument("--redis-port", type=int, default=16417, help="the private Redis server's port")
    p.add_argument("--out", type=Path, default=None, help="result file (bench/results/scaling.json)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    counts = [int(n) for n in args.processes.split(",")]
    parts = [s for s in args.parts.split(",") if s]
    args.pg_engine = pg_url(args.pg_url, args.engine_db)
    args.pg_claim = pg_url(args.pg_url, args.claim_db)
    for url in (args.pg_engine, args.pg_claim):
        ensure_pg_database(url)
    usable, why = worker_py_usable()
    args.entry = "worker" if usable else "bench"
    redis = PrivateRedis(args.redis_port)
    result: dict[str, Any] = {
        "benchmark": "scaling",
        "machine": machine_info(args.pg_engine, redis.url),
        "parameters": {k: v for k, v in vars(args).items() if k not in {"out", "pg_url"}},
        "notes": [why],
        "runs": [],
    }
    workdir = Path(tempfile.mkdtemp(prefix="yunshang-scaling-"))
    try:
        for rnd in range(1, args.rounds + 1):
            for n in counts:
                if "engine" in parts:
                    log(f"round {rnd}: engine, {n} worker process(es)")
                    run = engine_run(n, args, redis.url, workdir)
                    result["runs"].append({"round": rnd, **run})
                if "claim" in parts:
                    log(f"round {rnd}: claim flow, {n} worker process(es)")
                    run = claim_run(n, args, redis, Path(tempfile.mkdtemp(dir=workdir)))
                    result["runs"].append({"round": rnd, **run})
                result["summary"] = summarize(result["runs"], counts)
                result["load_avg_end"] = list(os.getloadavg())
                write_result("scaling", result, args.out)
                time.sleep(2)
    finally:
        redis.close()
    ok = all(
        r.get("message", {}).get("checks_ok", True) and r.get("batched", {}).get("checks_ok", True)
        for r in result["runs"]
    )
    log(f"summary {result['summary']}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
