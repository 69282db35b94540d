"""Push latency of dual notification: ``POST /events`` (``license.issued``) → the department's delivery
record, at a sustained rate; and a district's whole stock of licenses through matching and push.

Stacks: embedded (``yunshang serve``: SQLite, in-process worker, API in one process) and production
(``yunshang api`` + ``python worker.py --processes 2`` on PostgreSQL + Redis). Latency is the time from
just before the POST to the ``created_at`` of the notice's first ``notice`` delivery row (both read
from this machine's system clock).

    .venv/bin/python -m bench.push_bench --rate 100 --seconds 60 --stock 75000
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.common import (
    REPO,
    ensure_pg_database,
    flush_redis,
    log,
    machine_info,
    pg_url,
    redis_url,
    summary_ms,
    truncate_all,
    wait_for,
    write_result,
)
from tests.webhook_receiver import receiver
from workflows.flows.dual_notification.demo_data import KINDS, make_uscc
from workflows.store.db import Database
from workflows.store.migrate import upgrade
from workflows.store.models import Delivery, Instance

TOKEN = "ys_bench_push_token_0123456789abcdef"
BATCH = "application/cloudevents-batch+json"
TARGETS = {"p99_ms_at_100_per_s": 1000, "stock_75000_seconds": 120}


def license_event(i: int, rng: random.Random, tag: str) -> tuple[str, dict[str, Any]]:
    code = make_uscc(rng)
    suffix, permits = KINDS[i % 11]  # the first eleven kinds all need a permit
    data = {
        "uscc": code,
        "name": f"青岛崂山{i}{suffix}",
        "business_scope": "；".join(["日用百货销售", *permits]),
        "address": "山东省青岛市崂山区香港东路1号",
        "street": "ZHONGHAN",
        "grid": "ZH-001",
        "legal_representative": "王伟",
        "issued_at": datetime.now(UTC).isoformat(),
    }
    return code, {
        "specversion": "1.0",
        "id": f"{tag}-{i}",
        "source": "/bench/registration",
        "type": "license.issued",
        "data": data,
    }


class Stack:
    def __init__(
        self,
        kind: str,
        workdir: Path,
        pg: str,
        redis: str,
        port: int,
        extra_env: dict[str, str] | None = None,
        processes: int = 2,
    ) -> None:
        self.kind, self.workdir, self.port = kind, workdir, port
        self.processes = processes  # worker processes of the production stack
        self.url = f"sqlite:///{workdir}/push.db" if kind == "embedded" else pg
        self.env = {
            **os.environ,
            "YUNSHANG_API_PORT": str(port),
            "YUNSHANG_LOG_LEVEL": "WARNING",
            "YUNSHANG_DATABASE_URL": self.url,
            "YUNSHANG_RULES_POLL_INTERVAL": "0",
            "YUNSHANG_API_TOKENS": f'[{{"name": "bench", "token": "{TOKEN}", "kind": "admin"}}]',
            "YUNSHANG_BROKER": "embedded" if kind == "embedded" else redis,
            **(extra_env or {}),
        }
        self.procs: list[subprocess.Popen[bytes]] = []
        self.db = Database(self.url)
        if kind == "production":
            ensure_pg_database(pg)
            upgrade(self.db)
            truncate_all(self.db)
            flush_redis(redis)

    def start(self) -> None:
        bin_dir = Path(sys.executable).parent
        commands = (
            [[str(bin_dir / "yunshang"), "serve", "--threads", "4"]]
            if self.kind == "embedded"
            else [
                [str(bin_dir / "yunshang"), "api"],
                [
                    sys.executable,
                    str(REPO / "worker.py"),
                    "--processes",
                    str(self.processes),
                    "--threads",
                    "8",
                ],
            ]
        )
        for i, command in enumerate(commands):
            with (self.workdir / f"proc-{i}.log").open("wb") as out:
                self.procs.append(
                    subprocess.Popen(
                        command, env=self.env, cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT
                    )
                )
        wait_for(self._healthy, 90, "the API", pause=0.2)

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
        self.db.dispose()

    def first_pushes(self, sent: bool = False) -> dict[str, datetime]:
        """uscc → when its first department delivery record was created (``sent``: was sent)."""
        column = Delivery.sent_at if sent else Delivery.created_at
        with self.db.read() as s:
            rows = s.execute(
                select(Instance.subject, func.min(column))
                .join(Instance, Instance.id == Delivery.instance_id)
                .where(Delivery.kind == "notice", column.is_not(None))
                .group_by(Instance.subject)
            ).all()
        out: dict[str, datetime] = {}
        for subject, at in rows:
            if at is None:
                continue
            moment = datetime.fromisoformat(at) if isinstance(at, str) else at
            out[str(subject)] = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return out


def sustained(stack: Stack, rate: float, seconds: float) -> dict[str, Any]:
    rng = random.Random(1)
    sent: dict[str, float] = {}
    errors = 0
    interval = 1.0 / rate
    n = int(rate * seconds)
    lock = threading.Lock()
    events = [license_event(i, rng, "rate") for i in range(n)]
    t0 = time.perf_counter()

    def post(i: int, client: httpx.Client) -> None:
        nonlocal errors
        code, event = events[i]
        event["data"]["issued_at"] = datetime.now(UTC).isoformat()
        with lock:
            sent[code] = time.time()
        r = client.post("/events", json=event)
        if r.status_code != 202:
            with lock:
                errors += 1

    def sender(offset: int, step: int) -> None:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{stack.port}",
            timeout=30,
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as client:
            for i in range(offset, n, step):
                due = t0 + i * interval
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                post(i, client)

    senders = [threading.Thread(target=sender, args=(k, 8)) for k in range(8)]
    for s in senders:
        s.start()
    for s in senders:
        s.join()
    achieved = n / (time.perf_counter() - t0)
    wait_for(
        lambda: len(stack.first_pushes(True)) >= n - errors, 300, "every license's first push", pause=0.5
    )
    pushes, delivered = stack.first_pushes(), stack.first_pushes(True)
    latencies = [pushes[c].timestamp() - sent[c] for c in sent if c in pushes]
    return {
        "rate_asked": rate,
        "rate_achieved": round(achieved, 1),
        "licenses": n,
        "post_errors": errors,
        "push_latency_ms": summary_ms(latencies),
        "sent_latency_ms": summary_ms([delivered[c].timestamp() - sent[c] for c in sent if c in delivered]),
    }


def stock(stack: Stack, count: int) -> dict[str, Any]:
    rng = random.Random(2)
    events = [license_event(i, rng, "stock")[1] for i in range(count)]
    t0 = time.perf_counter()
    with httpx.Client(
        base_url=f"http://127.0.0.1:{stack.port}",
        timeout=120,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": BATCH},
    ) as client:
        for i in range(0, count, 100):
            r = client.post("/events", json=events[i : i + 100])
            r.raise_for_status()
    accepted = time.perf_counter() - t0
    log(f"{stack.kind}: {count} licenses accepted in {accepted:.1f} s; waiting for the pushes")
    wait_for(lambda: len(stack.first_pushes(True)) >= count, 3600, "every license's first push", pause=2)
    total = time.perf_counter() - t0
    return {
        "licenses": count,
        "accepted_seconds": round(accepted, 1),
        "total_seconds": round(total, 1),
        "licenses_per_s": round(count / total, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--stock", type=int, default=75000)
    parser.add_argument("--stock-embedded", type=int, default=5000)
    parser.add_argument("--stacks", nargs="+", default=["embedded", "production"])
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--port", type=int, default=18431)
    parser.add_argument(
        "--channel",
        choices=["log", "webhook"],
        default="log",
        help="webhook: POSTed to a local receiver by the deliveries.push actor (push_webhook.json)",
    )
    parser.add_argument("--phases", default="sustained,stock", help="comma list of sustained, stock")
    args = parser.parse_args()
    pg = pg_url(args.pg_url, "yunshang_bench")
    redis = redis_url(args.redis_url, 14)
    result: dict[str, Any] = {
        "benchmark": "push",
        "channel": args.channel,
        "machine": machine_info(pg, redis),
        "targets": TARGETS,
        "runs": {},
    }
    with ExitStack() as hooks:
        extra: dict[str, str] = {}
        if args.channel == "webhook":  # the officers' apps, played by a local receiver that answers 200
            hook = hooks.enter_context(receiver(failures=0))
            extra = {"YUNSHANG_WEBHOOK_URL": hook.url, "YUNSHANG_WEBHOOK_SECRET": "bench-secret"}
        for kind in args.stacks:
            result["runs"][kind] = run_stack(kind, args, pg, redis, extra)
    path = write_result("push" if args.channel == "log" else "push_webhook", result)
    print(path.relative_to(REPO))


def run_stack(
    kind: str, args: argparse.Namespace, pg: str, redis: str, extra: dict[str, str]
) -> dict[str, Any]:
    runs: dict[str, Any] = {}
    for phase in args.phases.split(","):
        with tempfile.TemporaryDirectory(prefix="yunshang-push-") as tmp:
            stack = Stack(kind, Path(tmp), pg, redis, args.port, extra)
            stack.start()
            try:
                if phase == "sustained":
                    runs[phase] = sustained(stack, args.rate, args.seconds)
                else:
                    runs[phase] = stock(stack, args.stock if kind == "production" else args.stock_embedded)
            finally:
                stack.stop()
            log(f"{kind} {phase}: {runs[phase]}")
    return runs


if __name__ == "__main__":
    main()
