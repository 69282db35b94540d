"""The dashboard's pages at a million instances (issue 15): server time p50/p99 and the plans.

``python -m bench.ui_bench [--instances 1000000] [--rounds 40] [--keep]`` fills the bench database
``yunshang_bench_ui`` (PostgreSQL) with ``bench.ui_data`` (kept between runs when the count matches
and ``--keep`` is given), serves the real app under uvicorn in this process, logs in with an operator
token and a department-scoped one, and requests each page ``--rounds`` times, the pages interleaved
(a round asks each page once). The time is the request's round trip on loopback from one client: the
server's time plus the HTTP exchange. Then each page is asked once more with the SQL it runs captured
(``before_cursor_execute``), and each statement is ``EXPLAIN (ANALYZE, BUFFERS)``-ed: the plans go in
the result, with any sequential scan of ``instances`` or ``timers`` named.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import event, text

from bench.common import ensure_pg_database, log, machine_info, percentile, pg_url, redis_url, write_result
from bench.ui_data import generate

#: the pages measured: (name, path, which token)
PAGES = (
    ("overview", "/ui/", "district"),
    ("overview counts (live fragment)", "/ui/overview/counts", "district"),
    ("list, all", "/ui/instances", "district"),
    ("list, flow + state", "/ui/instances?flow=dual_notification&state=awaiting_claim", "district"),
    ("list, department", "/ui/instances?department=WJJ", "district"),
    ("list, overdue", "/ui/instances?overdue=true", "district"),
    ("list, by USCC", "/ui/instances?subject=91370212MA0004242X", "district"),
    ("list, by name (one enterprise)", "/ui/instances?subject=企业424242有限", "district"),
    ("list, by name (2 characters, every one)", "/ui/instances?subject=崂山", "district"),
    ("list, by name (2 characters, none)", "/ui/instances?subject=海鲜", "district"),
    ("overview, scoped WJJ", "/ui/", "scoped"),
    ("list, scoped WJJ", "/ui/instances", "scoped"),
)
TARGET_MS = 300.0


class Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:
        pass


def _serve(app: Any, port: int) -> Server:
    server = Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    return server


def _explain(db: Any, statements: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    plans = []
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        for statement, params in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            with raw.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                plan = "\n".join(row[0] for row in cur.fetchall())
            seq = [t for t in ("instances", "timers") if f"Seq Scan on {t}" in plan]
            plans.append({"sql": " ".join(statement.split()), "plan": plan, "seq_scans": seq})
        raw.rollback()
    return plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="reuse the rows when the count matches")
    parser.add_argument("--port", type=int, default=18766)
    parser.add_argument("--database", default="yunshang_bench_ui", help="the PostgreSQL database filled")
    parser.add_argument("--redis-db", type=int, default=14, help="the Redis database of the broker view")
    parser.add_argument("--out", type=Path, default=None, help="result file (default results/ui.json)")
    args = parser.parse_args()

    from worker import compose
    from workflows.api.app import create_app
    from workflows.intake import tokens
    from workflows.settings import Settings
    from workflows.store.migrate import upgrade

    url = pg_url(None, args.database)
    ensure_pg_database(url)
    rt = compose(Settings(database_url=url, broker=redis_url(None, args.redis_db), rules_poll_interval=0))
    upgrade(rt.db)
    now = rt.clock.now()
    with rt.db.read() as s:
        have = int(s.execute(text("SELECT count(*) FROM instances")).scalar_one())
    generated: dict[str, Any] = {"reused": True, "instances": have}
    if not (args.keep and have == args.instances):
        log(f"generating {args.instances:,} instances")
        started = time.perf_counter()
        generated = generate(rt.db, args.instances, now, rt.registry.flows)
        generated["seconds"] = round(time.perf_counter() - started, 1)
        log(f"generated {generated}")
    with rt.db.transaction() as s:
        s.execute(text("DELETE FROM api_tokens WHERE name IN ('bench-ui', 'bench-ui-wjj')"))
    district = tokens.create(rt.db, rt.clock, "bench-ui", "operator")
    scoped = tokens.create(rt.db, rt.clock, "bench-ui-wjj", "operator", department="WJJ")
    server = _serve(create_app(rt), args.port)
    base = f"http://127.0.0.1:{args.port}"
    clients = {
        who: httpx.Client(base_url=base, cookies={"yunshang_session": token}, timeout=60)
        for who, token in (("district", district), ("scoped", scoped))
    }
    times: dict[str, list[float]] = {name: [] for name, _, _ in PAGES}
    try:
        for _name, path, who in PAGES:  # warm up: a first request per page, not counted
            answer = clients[who].get(path)
            if answer.status_code != 200:
                raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
        for round_no in range(args.rounds):
            for name, path, who in PAGES:
                started = time.perf_counter()
                answer = clients[who].get(path)
                times[name].append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, (path, answer.status_code)
            if round_no % 10 == 9:
                log(f"round {round_no + 1}/{args.rounds}")
        captured: list[tuple[str, Any]] = []

        def capture(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
            captured.append((statement, params))

        plans: dict[str, list[dict[str, Any]]] = {}
        for name, path, who in PAGES:
            captured.clear()
            event.listen(rt.db.engine, "before_cursor_execute", capture)
            try:
                clients[who].get(path)
            finally:
                event.remove(rt.db.engine, "before_cursor_execute", capture)
            plans[name] = _explain(rt.db, list(captured))
    finally:
        for c in clients.values():
            c.close()
        server.should_exit = True
    pages = []
    for name, path, who in PAGES:
        ms = times[name]
        p99 = percentile(ms, 99) or 0.0
        seq = sorted({t for p in plans[name] for t in p["seq_scans"]})
        pages.append(
            {
                "page": name,
                "path": path,
                "token": who,
                "p50_ms": round(statistics.median(ms), 1),
                "p99_ms": round(p99, 1),
                "max_ms": round(max(ms), 1),
                "under_target": p99 < TARGET_MS,
                "statements": len(plans[name]),
                "seq_scans": seq,
            }
        )
        log(f"{name:<36} p50 {statistics.median(ms):7.1f} ms  p99 {p99:7.1f} ms  seq scans: {seq or '-'}")
    result = {
        "benchmark": "ui",
        "machine": machine_info(pg=url),
        "instances": args.instances,
        "generated": generated,
        "rounds": args.rounds,
        "target_ms": TARGET_MS,
        "pages": pages,
        "plans": plans,
    }
    log(f"wrote {write_result('ui', result, args.out)}")


if __name__ == "__main__":
    main()
