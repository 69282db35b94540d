"""The claim flow, yunshang against DBOS (issue 17): start a notice, record its push, arm a durable
48-hour claim deadline, then apply a claim that cancels it — K notices at a time, both engines on the
same PostgreSQL server, A/B interleaved (round r: yunshang then DBOS at each K; r+1: DBOS first).

Per run: notices/s to start and push (first start sent → every notice pushed and its deadline armed),
claims/s (first claim sent → every notice claimed, every deadline gone), CPU ms per notice over both
phases summed over the engine's processes, its PostgreSQL backends and (yunshang) its Redis, and the
engine processes' peak resident memory. Writes ``bench/results/peers_claim.json``, prints the table.

    .venv/bin/python -m bench.peers.claim_bench --k 2000 10000 --rounds 3
    .venv/bin/python -m bench.peers.claim_bench --k 200 --rounds 1          # smoke run
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    RESULTS,
    CpuMeter,
    ensure_pg_database,
    log,
    machine_info,
    pg_url,
    wait_for,
    write_result,
)
from bench.peers.measure import PeakRss, PrivateRedis, pg_backends
from bench.peers.sides import WARMUP, Dbos, Yunshang
from bench.peers.table import table

YUNSHANG_DB, DBOS_DB = "yunshang_bench_peers", "dbos_bench_peers"
ENGINE_GROUPS = ("api", "workers", "dbos", "postgresql", "redis")


def run_one(
    side: Yunshang | Dbos,
    k: int,
    pg: str,
    redis: PrivateRedis | None,
    databases: list[str] | None = None,
) -> dict[str, Any]:
    """One run: set up (warm-up included), then start k notices and claim them, measured; the
    PostgreSQL backends counted are those of ``databases`` (default: the two of this benchmark)."""
    try:
        side.setup()
    except BaseException:
        side.close()
        raise
    groups = {**side.cpu_groups(), "postgresql": pg_backends(pg, databases or [YUNSHANG_DB, DBOS_DB])}
    if redis is not None and isinstance(side, Yunshang):
        pid = redis.proc.pid
        groups["redis"] = lambda: {pid}
    groups["harness"] = lambda: {__import__("os").getpid()}
    meter = CpuMeter(groups)
    memory = PeakRss(side.engine_pids).start()
    out: dict[str, Any] = {"side": side.name, "k": k, **side.describe()}
    try:
        meter.start()
        t0 = time.perf_counter()
        side.start(k)
        sent = time.perf_counter()
        wait_for(side.started, 3600, f"{side.name}: {k} notices pushed and armed", pause=0.25)
        t1 = time.perf_counter()
        start_cpu = meter.stop()
        meter.start()
        side.claim()
        claims_sent = time.perf_counter()
        wait_for(side.claimed, 3600, f"{side.name}: {k} claims applied", pause=0.25)
        t2 = time.perf_counter()
        claim_cpu = meter.stop()
    finally:
        out["memory"] = memory.stop()
        side.close()
    engine_cpu = sum(start_cpu.get(g, 0.0) + claim_cpu.get(g, 0.0) for g in ENGINE_GROUPS)
    walls = start_cpu["wall"] + claim_cpu["wall"]
    out |= {
        "start": {"seconds": round(t1 - t0, 3), "sent_seconds": round(sent - t0, 3), "cpu_s": start_cpu},
        "claim": {
            "seconds": round(t2 - t1, 3),
            "sent_seconds": round(claims_sent - t1, 3),
            "cpu_s": claim_cpu,
        },
        "notices_per_s": round(k / (t1 - t0), 1),
        "claims_per_s": round(k / (t2 - t1), 1),
        "cpu_ms_per_notice": round(engine_cpu * 1000 / k, 3),
        "peak_rss_mb": out["memory"]["peak_rss_mb"],
        "other_load_cores": round((start_cpu["other"] + claim_cpu["other"]) / walls, 2),
    }
    log(
        f"{side.name} k={k}: {out['notices_per_s']} notices/s, {out['claims_per_s']} claims/s, "
        f"{out['cpu_ms_per_notice']} CPU ms/notice, {out['peak_rss_mb']} MB, other load "
        f"{out['other_load_cores']} cores"
    )
    return out


def summarize(runs: list[dict[str, Any]], ks: list[int]) -> dict[str, Any]:
    """Per K: each side's min / median / max of each figure, and each yunshang side's ratios to DBOS
    (``ratios``: the first yunshang side's, ``ratios_by_side``: every one's)."""
    figures = ("notices_per_s", "claims_per_s", "cpu_ms_per_notice", "peak_rss_mb", "other_load_cores")
    names = list(dict.fromkeys(r["side"] for r in runs))
    out: dict[str, Any] = {}
    for k in ks:
        per: dict[str, Any] = {}
        for side in names if "dbos" in names else [*names, "dbos"]:
            mine = [r for r in runs if r["k"] == k and r["side"] == side]
            per[side] = {
                f: {"min": min(v), "median": statistics.median(v), "max": max(v), "n": len(v)}
                for f in figures
                if (v := [float(r[f]) for r in mine])
            }
        d = per["dbos"]
        by_side = {name: _ratios(per[name], d) for name in names if name != "dbos" and per[name] and d}
        if by_side:
            per["ratios"] = next(iter(by_side.values()))
            per["ratios_by_side"] = by_side
        out[str(k)] = per
    return out


def _ratios(y: dict[str, Any], d: dict[str, Any]) -> dict[str, float]:
    return {
        "notices_per_s": round(y["notices_per_s"]["median"] / d["notices_per_s"]["median"], 2),
        "claims_per_s": round(y["claims_per_s"]["median"] / d["claims_per_s"]["median"], 2),
        "cpu_per_notice_dbos_over_yunshang": round(
            d["cpu_ms_per_notice"]["median"] / y["cpu_ms_per_notice"]["median"], 2
        ),
        "peak_rss_dbos_over_yunshang": round(d["peak_rss_mb"]["median"] / y["peak_rss_mb"]["median"], 2),
    }


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.peers.claim_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--k", type=int, nargs="+", default=[2000, 10000], help="notices per run")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--only", choices=["both", "yunshang", "dbos"], default="both")
    p.add_argument("--pg-url", default=None, help="default $YUNSHANG_TEST_PG_URL")
    p.add_argument("--port", type=int, default=18477, help="yunshang's API port")
    p.add_argument("--redis-port", type=int, default=16407, help="the private Redis server's port")
    p.add_argument("--batch", type=int, default=100, help="yunshang: CloudEvents per POST")
    p.add_argument("--senders", type=int, default=2, help="yunshang: threads POSTing")
    p.add_argument(
        "--flows",
        nargs="+",
        default=["all"],
        help="yunshang sides, each run every round: 'all' (every plug-in, as in production) or a "
        "YUNSHANG_FLOWS list (e.g. dual_notification: the claim flow alone, like for like with the peer)",
    )
    g = p.add_argument_group("DBOS tuning (bench/peers/dbos_app.py)")
    g.add_argument(
        "--dbos-mode",
        nargs="+",
        choices=["sync", "async", "queue"],
        default=["sync"],
        help="one mode for every K, or one per --k value (in the same order)",
    )
    g.add_argument("--dbos-drivers", type=int, default=4, help="threads starting workflows / sending")
    g.add_argument("--dbos-batch", type=int, default=100, help="claims per send_bulk, enqueues per tx")
    g.add_argument("--dbos-pool", type=int, default=20, help="sys_db_pool_size")
    g.add_argument("--dbos-workers", type=int, default=2, help="queue mode: worker processes")
    g.add_argument("--dbos-poll", type=float, default=0.1, help="queue mode: polling_interval_sec")
    g.add_argument("--dbos-max-threads", type=int, default=0, help="max_executor_threads (0: default)")
    p.add_argument("--out", type=Path, default=RESULTS / "peers_claim.json")
    return p.parse_args()


def main() -> None:
    a = parse_args()
    pg = pg_url(a.pg_url, YUNSHANG_DB)
    ensure_pg_database(pg)
    if len(a.dbos_mode) not in (1, len(a.k)):
        raise SystemExit("--dbos-mode: give one mode, or one per --k value")
    modes = dict(zip(a.k, a.dbos_mode * len(a.k) if len(a.dbos_mode) == 1 else a.dbos_mode, strict=True))
    dbos_options = {
        "mode": {str(k): m for k, m in modes.items()},
        "drivers": a.dbos_drivers,
        "batch": a.dbos_batch,
        "pool": a.dbos_pool,
        "workers": a.dbos_workers,
        "poll": a.dbos_poll,
        "max_threads": a.dbos_max_threads,
    }
    redis = PrivateRedis(a.redis_port)
    import dbos

    result: dict[str, Any] = {
        "benchmark": "peers_claim",
        "machine": machine_info(pg, redis.url) | {"dbos": getattr(dbos, "__version__", _version("dbos"))},
        "parameters": {
            "k": a.k,
            "rounds": a.rounds,
            "warmup": WARMUP,
            "batch": a.batch,
            "senders": a.senders,
            "flows": a.flows,
        },
        "dbos_options": dbos_options,
        "runs": [],
    }
    variants = ["" if f == "all" else f for f in a.flows]
    sides = [*(f"yunshang{f' [{f}]' if f else ''}" for f in variants)] if a.only != "dbos" else []
    sides += ["dbos"] if a.only != "yunshang" else []
    flows_of = dict(zip(sides, variants, strict=False))
    logdir = Path(tempfile.mkdtemp(prefix="peers-logs-"))
    log(f"logs in {logdir}")
    try:
        for rnd in range(1, a.rounds + 1):
            for k in a.k:
                for name in sides if rnd % 2 else sides[::-1]:
                    log(f"round {rnd}, k={k}: {name}")
                    workdir = Path(tempfile.mkdtemp(prefix=f"peers-{name.split()[0]}-", dir=logdir))
                    side: Yunshang | Dbos = (
                        Yunshang(workdir, pg, redis.url, a.port, a.batch, a.senders, flows=flows_of[name])
                        if name != "dbos"
                        else Dbos(pg, DBOS_DB, {**dbos_options, "mode": modes[k]}, workdir)
                    )
                    run = run_one(side, k, pg, redis)
                    result["runs"].append({"round": rnd, **run})
                    result["summary"] = summarize(result["runs"], a.k)
                    write_result("peers_claim", result, a.out)
                    time.sleep(3)
    finally:
        redis.close()
    print(table(result))
    print(f"wrote {a.out}")


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    main()
