"""The timer sweep with a city's armed timers in the table (issue 17 part 4): 10 M armed, not yet due.

Two phases in one sitting, on one database (PostgreSQL + Redis, ``bench.sweep_bench``'s sweepers):

* *small* — only the due timers in the table: ``--due`` instances, each with one armed timer due an
  hour ago; 1 and 2 sweeper processes fire them; then the empty poll with ``--due`` future timers;
* *large* — ``--armed`` armed timers due from an hour to 30 days ahead (``--per-instance`` of them per
  instance, as a notice carries three claim timers and its grid check one), written by ``INSERT …
  SELECT generate_series`` in chunks; the empty poll before and after ``VACUUM ANALYZE`` (this server
  runs with autovacuum off); then ``--due`` more timers due an hour ago, fired by 1 and 2 sweepers,
  re-armed in between (same rows, outbox and Redis emptied).

The sizes of the tables and their indexes are recorded; the database is dropped at the end unless
``--keep``. ``python -m bench.sweep_10m --armed 10000000`` → ``bench/results/sweep_10m.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text

from bench.common import (
    drop_pg_database,
    ensure_pg_database,
    log,
    machine_info,
    pg_url,
    redis_url,
    write_result,
)
from bench.sweep_bench import check_sweep, empty_polls, run_sweepers, sweep_plan
from bench.sweep_setup import bench_runtime, reset
from workflows.runtime import Runtime
from workflows.store.models import UtcDateTime

INSTANCES = """
INSERT INTO instances (flow, flow_version, business_key, state, context, rules_version, version,
                       created_at, updated_at)
SELECT 'toy', 1, CAST(:tag AS text) || g, 'awaiting_review', '{}'::json, 'bench', 1, :now, :now
FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g
"""
# ``per`` timers per instance of the chunk, due ``due`` + (0 … spread seconds)
TIMERS = """
INSERT INTO timers (instance_id, name, trigger, state, due_at, provisional, status, created_at)
SELECT i.id, 'review_deadline', 'review_deadline_passed', 'awaiting_review',
       :due + ((i.id * 7919 + k * 104729) % CAST(:spread AS bigint)) * interval '1 second',
       false, 'armed', :now
FROM instances AS i, generate_series(1, CAST(:per AS int)) AS k
WHERE i.id > CAST(:after AS bigint)
"""


SECONDARY = """
SELECT i.relname, pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relname IN ('instances', 'timers') AND t.relnamespace = 'public'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
"""


def fill(
    runtime: Runtime, instances: int, per: int, due: datetime, spread_s: int, tag: str, bulk: bool = False
) -> float:
    """``instances`` toy instances with ``per`` armed timers each, in chunks of 250,000 instances.

    ``bulk``: as a bulk load is done — the secondary indexes of both tables dropped first and built
    again at the end, the foreign-key triggers off (``session_replication_role = replica``)."""
    now = runtime.clock.now()
    types = [bindparam("now", type_=UtcDateTime()), bindparam("due", type_=UtcDateTime())]
    t0 = time.perf_counter()
    chunk = 250_000
    indexes: list[tuple[str, str]] = []
    if bulk:
        with runtime.db.engine.begin() as conn:
            indexes = [(str(n), str(d)) for n, d in conn.execute(text(SECONDARY))]
            for name, _ in indexes:
                conn.execute(text(f'DROP INDEX "{name}"'))
    for lo in range(1, instances + 1, chunk):
        hi = min(instances, lo + chunk - 1)
        with runtime.db.engine.begin() as conn:
            conn.execute(text("SET LOCAL statement_timeout = 0"))
            if bulk:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            after = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM instances")).scalar_one())
            conn.execute(text(INSTANCES).bindparams(types[0]), {"tag": tag, "lo": lo, "hi": hi, "now": now})
            conn.execute(
                text(TIMERS).bindparams(*types),
                {"due": due, "spread": max(1, spread_s), "per": per, "after": after, "now": now},
            )
        log(f"{tag}: {hi:,} instances, {hi * per:,} timers ({time.perf_counter() - t0:.0f} s)")
    if indexes:
        with runtime.db.engine.begin() as conn:
            conn.execute(text("SET LOCAL statement_timeout = 0"))
            conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
            for name, definition in indexes:
                conn.execute(text(definition))
                log(f"{tag}: index {name} built ({time.perf_counter() - t0:.0f} s)")
    return time.perf_counter() - t0


def vacuum_analyze(runtime: Runtime) -> float:
    t0 = time.perf_counter()
    with runtime.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SET statement_timeout = 0"))
        for table in ("instances", "timers"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    return time.perf_counter() - t0


def sizes(runtime: Runtime) -> dict[str, Any]:
    sql = """
    SELECT c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid), c.relkind
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') AND pg_relation_size(c.oid) > 1048576
    ORDER BY 2 DESC
    """
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(text(sql)).all()
        database = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    mb = 1024 * 1024
    return {
        "database_mb": round(database / mb),
        "relations_mb": {
            str(name): round((total if kind == "r" else own) / mb) for name, total, own, kind in rows
        },
    }


def sweeps(
    runtime: Runtime, url: str, redis: str, counts: list[int], due: int, batch: int
) -> list[dict[str, Any]]:
    """Fire the ``due`` past-due timers with each sweeper count, re-arming them in between."""
    out = []
    for i, processes in enumerate(counts):
        if i:
            with runtime.db.engine.begin() as conn:
                rearm = "UPDATE timers SET status = 'armed', fired_at = NULL WHERE status = 'fired'"
                conn.execute(text(rearm))
                conn.execute(text("DELETE FROM outbox"))
            with runtime.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("SET statement_timeout = 0"))
                conn.execute(text("VACUUM ANALYZE timers"))
            reset_redis(redis)
        result = run_sweepers(runtime, url, redis, processes, batch, redis)
        result["checks"] = check_sweep(runtime, due)
        result["sweepers"] = processes
        log(
            f"{processes} sweeper(s): {result['timers_per_s']:.0f} timers/s, "
            f"duplicates {result['checks']['duplicates']}, checks {result['checks']['ok']}"
        )
        out.append(result)
    return out


def reset_redis(redis: str) -> None:
    from bench.common import flush_redis

    flush_redis(redis)


def phase(runtime: Runtime, url: str, redis: str, args: argparse.Namespace, armed: int) -> dict[str, Any]:
    reset(runtime, redis)
    now = runtime.clock.now()
    out: dict[str, Any] = {"armed_future_timers": armed}
    if armed:
        per = args.per_instance
        seconds = fill(runtime, armed // per, per, now + timedelta(hours=1), 30 * 86400, "f-", bulk=True)
        out["fill_seconds"] = round(seconds, 1)
    else:  # the small phase's empty poll: as many future timers as there are due ones
        out["fill_seconds"] = round(fill(runtime, args.due, 1, now + timedelta(hours=1), 86400, "f-"), 1)
    out["empty_poll_before_analyze"] = empty_polls(runtime, args.polls)
    out["vacuum_analyze_seconds"] = round(vacuum_analyze(runtime), 1)
    out["empty_poll"] = empty_polls(runtime, args.polls)
    out["empty_poll_plan"] = sweep_plan(runtime)
    log(
        f"{armed:,} armed: empty poll {out['empty_poll_before_analyze']['median_ms']} ms "
        f"(after VACUUM ANALYZE {out['empty_poll']['median_ms']} ms)"
    )
    if not armed:  # the future timers out again: the small phase sweeps the due ones alone
        with runtime.db.engine.begin() as conn:
            conn.execute(text("TRUNCATE timers, instances RESTART IDENTITY CASCADE"))
    fill(runtime, args.due, 1, now - timedelta(hours=1), 1, "d-")
    vacuum_analyze(runtime)
    out["sizes"] = sizes(runtime)
    counts = [int(n) for n in args.sweepers.split(",")]
    out["sweeps"] = sweeps(runtime, url, redis, counts, args.due, args.batch)
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.sweep_10m", description=__doc__.split("\n\n")[0])
    p.add_argument("--armed", type=int, default=10_000_000, help="armed future timers (10,000,000)")
    p.add_argument("--per-instance", type=int, default=4, help="armed timers per instance (4)")
    p.add_argument("--due", type=int, default=100_000, help="past-due timers fired per sweep run (100,000)")
    p.add_argument("--sweepers", default="1,2", help="sweeper process counts (1,2)")
    p.add_argument("--batch", type=int, default=500, help="Sweeper batch size (the engine's 500)")
    p.add_argument("--polls", type=int, default=50, help="empty polls per measurement (50)")
    p.add_argument("--pg-url", default=None, help="PostgreSQL URL (default $YUNSHANG_TEST_PG_URL)")
    p.add_argument("--pg-database", default="yunshang_bench_sweep10m", help="database (created, dropped)")
    p.add_argument("--redis-url", default=None, help="Redis URL (default $YUNSHANG_TEST_REDIS_URL)")
    p.add_argument("--redis-db", type=int, default=13, help="Redis database number (flushed; 13)")
    p.add_argument("--keep", action="store_true", help="keep the database")
    p.add_argument("--out", type=Path, default=None, help="result file (bench/results/sweep_10m.json)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    url = pg_url(args.pg_url, args.pg_database)
    redis = redis_url(args.redis_url, args.redis_db)
    ensure_pg_database(url)
    machine = machine_info(url, redis)
    runtime = bench_runtime(url, redis, migrate=True, batch=args.batch)
    try:
        small = phase(runtime, url, redis, args, 0)
        large = phase(runtime, url, redis, args, args.armed)
    finally:
        runtime.close()
        if not args.keep:
            drop_pg_database(url)
    ok = all(s["checks"]["ok"] for p in (small, large) for s in p["sweeps"])
    result = {
        "benchmark": "sweep_10m",
        "machine": machine,
        "parameters": {k: v for k, v in vars(args).items() if k not in {"out", "pg_url", "redis_url"}},
        "phases": {"small": small, "large": large},
        "checks_ok": ok,
    }
    path = write_result("sweep_10m", result, args.out)
    log(f"wrote {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
