"""Sustained ``POST /events`` acceptance with one API process: single events and batches of 100.

Each accepted ``toy.submitted`` event is stored in the inbox and starts an instance (state, history,
timer) in the same transaction. The API runs as its own process (``yunshang serve`` on the embedded
stack, ``yunshang api`` on PostgreSQL + Redis); client threads in this process post as fast as the API
answers for a fixed time.

    .venv/bin/python -m bench.events_bench --seconds 20
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    REPO,
    ensure_pg_database,
    flush_redis,
    log,
    machine_info,
    pg_url,
    redis_url,
    summary_ms,
    wait_for,
    write_result,
)

TOKEN = "ys_bench_token_0123456789abcdef"
BATCH = "application/cloudevents-batch+json"
TARGETS = {"production": {"batch_events_per_s": 1000, "single_events_per_s": 300}}


def start_api(stack: str, port: int, workdir: Path, pg: str, redis: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "YUNSHANG_API_PORT": str(port),
        "YUNSHANG_LOG_LEVEL": "WARNING",
        "YUNSHANG_API_TOKENS": f'[{{"name": "bench", "token": "{TOKEN}", "kind": "admin"}}]',
        "YUNSHANG_CLOCK": "simulated",
    }
    if stack == "embedded":
        env.update(YUNSHANG_DATABASE_URL=f"sqlite:///{workdir}/bench.db", YUNSHANG_BROKER="embedded")
        command = ["serve", "--threads", "2"]
    else:
        env.update(YUNSHANG_DATABASE_URL=pg, YUNSHANG_BROKER=redis)
        command = ["api"]
    yunshang = str(Path(sys.executable).parent / "yunshang")
    out = (workdir / f"api-{stack}.log").open("wb")
    proc = subprocess.Popen([yunshang, *command], env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    wait_for(lambda: _healthy(port), 60, "the API to answer /healthz", pause=0.2)
    return proc


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def drive(port: int, seconds: float, threads: int, batch: int, tag: str) -> dict[str, Any]:
    counter = itertools.count()
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def loop() -> None:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as client:
            while time.perf_counter() < stop_at:
                events = [
                    {
                        "specversion": "1.0",
                        "id": f"{tag}-{n}",
                        "source": "/bench",
                        "type": "toy.submitted",
                        "data": {"case": f"{tag}-{n}"},
                    }
                    for n in (next(counter) for _ in range(batch))
                ]
                t0 = time.perf_counter()
                if batch == 1:
                    r = client.post("/events", json=events[0])
                    ok = r.status_code == 202 and r.json()["status"] == "accepted"
                else:
                    r = client.post("/events", json=events, headers={"Content-Type": BATCH})
                    ok = r.status_code == 202 and all(e["status"] == "accepted" for e in r.json())
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    if not ok:
                        failures.append(r.text[:200])

    started = time.perf_counter()
    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - started
    requests = len(latencies)
    return {
        "batch": batch,
        "client_threads": threads,
        "seconds": round(wall, 2),
        "requests": requests,
        "events": requests * batch,
        "events_per_s": round(requests * batch / wall, 1),
        "latency_ms": summary_ms(latencies),
        "failures": len(failures),
        "first_failure": failures[:1],
    }


WRK_LUA = """
local counter = 0
local tag = "%(tag)s"
local batch = %(batch)d
local token = "%(token)s"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local function event(n)
  return string.format('{"specversion":"1.0","id":"%%s-%%d-%%d","source":"/bench","type":"toy.submitted",'
    .. '"data":{"case":"%%s-%%d-%%d"}}', tag, tid, n, tag, tid, n)
end
function request()
  local body
  if batch == 1 then
    counter = counter + 1
    body = event(counter)
  else
    local parts = {}
    for i = 1, batch do
      counter = counter + 1
      parts[i] = event(counter)
    end
    body = "[" .. table.concat(parts, ",") .. "]"
  end
  local ctype = batch == 1 and "application/cloudevents+json" or "application/cloudevents-batch+json"
  local headers = {["Content-Type"] = ctype, ["Authorization"] = "Bearer " .. token}
  return wrk.format("POST", "/events", headers, body)
end
"""


def drive_wrk(
    port: int, seconds: float, connections: int, batch: int, tag: str, workdir: Path
) -> dict[str, Any]:
    """The same load from wrk (a C client in its own process), so the client costs little CPU."""
    import re

    script = workdir / f"{tag}.lua"
    script.write_text(WRK_LUA % {"tag": tag, "batch": batch, "token": TOKEN}, encoding="utf-8")
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "--latency",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/events",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def pct(p: str) -> float | None:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return None
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        return round(float(m.group(1)) * scale, 2)

    return {
        "client": "wrk",
        "batch": batch,
        "connections": connections,
        "seconds": seconds,
        "events_per_s": round(rps * batch, 1),
        "latency_ms": {"p50": pct("50"), "p90": pct("90"), "p99": pct("99")},
        "failures": int(non2xx.group(1)) if non2xx else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--stacks", nargs="+", default=["embedded", "production"])
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--port", type=int, default=18421)
    parser.add_argument(
        "--client",
        choices=["wrk", "python"],
        default="wrk" if shutil.which("wrk") else "python",
        help="load generator: wrk (C, its own process; apt-get install wrk) or Python threads",
    )
    args = parser.parse_args()
    pg = pg_url(args.pg_url, "yunshang_bench")
    redis = redis_url(args.redis_url, 14)
    results: dict[str, Any] = {"benchmark": "events", "machine": machine_info(pg, redis), "runs": {}}
    for stack in args.stacks:
        with tempfile.TemporaryDirectory(prefix="yunshang-events-") as tmp:
            if stack == "production":
                ensure_pg_database(pg)
                from workflows.store.db import Database
                from workflows.store.migrate import upgrade

                db = Database(pg)
                upgrade(db)
                from bench.common import truncate_all

                truncate_all(db)
                db.dispose()
                flush_redis(redis)
            proc = start_api(stack, args.port, Path(tmp), pg, redis)
            try:
                if args.client == "wrk":
                    single = drive_wrk(args.port, args.seconds, 8, 1, f"{stack}-s", Path(tmp))
                    batched = drive_wrk(args.port, args.seconds, 4, 100, f"{stack}-b", Path(tmp))
                    results["runs"][stack] = {"single": single, "batch_100": batched}
                    continue
                single = drive(args.port, args.seconds, 8, 1, f"{stack}-s")
                log(f"{stack} single: {single['events_per_s']} events/s p99 {single['latency_ms']['p99']} ms")
                batched = drive(args.port, args.seconds, 4, 100, f"{stack}-b")
                rate, p99 = batched["events_per_s"], batched["latency_ms"]["p99"]
                log(f"{stack} batch 100: {rate} events/s p99 {p99} ms")
            finally:
                proc.terminate()
                proc.wait(30)
            results["runs"][stack] = {"single": single, "batch_100": batched}
    results["targets"] = TARGETS
    path = write_result("events", results)
    print(path.relative_to(REPO))
    for stack, run in results["runs"].items():
        for kind, r in run.items():
            print(
                f"{stack:<11} {kind:<9} {r['events_per_s']:>9} events/s  p50 {r['latency_ms']['p50']} ms  "
                f"p99 {r['latency_ms']['p99']} ms  failures {r['failures']}"
            )


if __name__ == "__main__":
    main()
