"""The two sides of the peer benchmark, driven alike: ``setup`` (processes up, a warm-up of
``WARMUP`` notices claimed), ``start(k)`` (send the starts), ``started()`` (every notice pushed and its
claim deadline durably armed), ``claim()``, ``claimed()`` (every deadline cancelled, every notice
claimed), ``close``.

* ``Yunshang``: ``yunshang api`` + ``python worker.py --processes 2 --threads 8`` on PostgreSQL and a
  private Redis (``bench.push_bench.Stack``, the push benchmark's production stack); ``license.issued``
  and ``notice.claimed`` CloudEvents POSTed in batches of ``batch`` (``application/cloudevents-batch
  +json``) by ``senders`` threads; one notice per license (scope 餐饮服务: one permit, one department).
* ``Dbos``: ``bench/peers/dbos_app.py`` in its mode (see there), against its own system database on
  the same PostgreSQL server.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bench.common import REPO, descendants, drop_pg_database, ensure_pg_database, wait_for
from bench.push_bench import BATCH, TOKEN, Stack, license_event

WARMUP = 20


def _count(engine: Engine, sql: str, **params: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def _in_threads(items: list[Any], threads: int, work: Callable[[list[Any]], None]) -> None:
    runners = [threading.Thread(target=work, args=(items[i::threads],)) for i in range(threads)]
    for r in runners:
        r.start()
    for r in runners:
        r.join()


class Yunshang:
    name = "yunshang"

    def __init__(
        self,
        workdir: Path,
        pg: str,
        redis: str,
        port: int,
        batch: int,
        senders: int,
        processes: int = 2,
        flows: str = "",
    ) -> None:
        self.pg, self.batch, self.senders, self.processes, self.flows = pg, batch, senders, processes, flows
        self.name = f"yunshang [{flows}]" if flows else "yunshang"
        env = {"YUNSHANG_FLOWS": flows} if flows else None
        self.stack = Stack("production", workdir, pg, redis, port, extra_env=env, processes=processes)
        self.engine = create_engine(pg, pool_size=1)
        self.base = f"http://127.0.0.1:{port}"
        self.total = self.claimed_before = 0
        self.rng = random.Random(17)

    def describe(self) -> dict[str, Any]:
        return {
            "side": self.name,
            "processes": f"yunshang api + python worker.py --processes {self.processes} --threads 8 "
            "(PostgreSQL + Redis)",
            "intake": f"POST /events, {self.batch} CloudEvents a request, {self.senders} sender threads",
            "notice": "license.issued (scope 餐饮服务) → registration → 1 dual_notification notice → push "
            "(log channel, deliveries row) → awaiting_claim arms claim_warning, claim_deadline (48h), "
            "claim_supervision; notice.claimed → claimed, the three timers cancelled. "
            + (
                f"Only the plug-ins YUNSHANG_FLOWS={self.flows} names run (like for like with the peer)"
                if self.flows
                else "Also, as in production (worker.py's plug-ins): a grid_check instance per license with "
                "its acknowledge_deadline timer, the joint inspection's upsert of the license"
            ),
            "flows": self.flows or "all (worker.py's PLUGINS)",
        }

    def setup(self) -> None:
        self.stack.start()
        self._round(WARMUP, "warm")

    def _round(self, n: int, tag: str) -> None:
        self.start(n, tag)
        wait_for(self.started, 300, "the warm-up notices", pause=0.1)
        self.claim()
        wait_for(self.claimed, 300, "the warm-up claims", pause=0.1)

    def _post(self, events: list[dict[str, Any]]) -> None:
        chunks = [events[i : i + self.batch] for i in range(0, len(events), self.batch)]

        def send(part: list[list[dict[str, Any]]]) -> None:
            headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": BATCH}
            with httpx.Client(base_url=self.base, timeout=120, headers=headers) as client:
                for chunk in part:
                    client.post("/events", content=json.dumps(chunk)).raise_for_status()

        _in_threads(chunks, self.senders, send)

    def start(self, n: int, tag: str = "run") -> None:
        events = []
        for i in range(n):
            _, event = license_event(i, self.rng, f"{tag}-{self.total}")
            event["data"]["name"] = f"青岛崂山{self.total + i}餐饮管理有限公司"
            event["data"]["business_scope"] = "餐饮服务；日用百货销售"
            events.append(event)
        self.total += n
        self._post(events)

    def started(self) -> bool:
        armed = "SELECT count(*) FROM timers WHERE name = 'claim_deadline' AND status = 'armed'"
        sent = "SELECT count(*) FROM deliveries WHERE kind = 'notice' AND sent_at IS NOT NULL"
        waiting = self.total - self.claimed_before
        return _count(self.engine, armed) >= waiting and _count(self.engine, sent) >= self.total

    def claim(self) -> None:
        awaiting = "SELECT id FROM instances WHERE flow = 'dual_notification' AND state = 'awaiting_claim'"
        with self.engine.connect() as conn:
            ids = [int(r[0]) for r in conn.execute(text(awaiting))]
        now = datetime.now(UTC).isoformat()
        events = [
            {
                "specversion": "1.0",
                "id": f"claim-{i}",
                "source": "/departments/app",
                "type": "notice.claimed",
                "data": {"notice": i, "officer": "王伟", "claimed_at": now},
            }
            for i in ids
        ]
        self.claimed_before = self.total
        self._post(events)

    def claimed(self) -> bool:
        done = "SELECT count(*) FROM instances WHERE flow = 'dual_notification' AND state = 'claimed'"
        open_timers = "SELECT count(*) FROM timers WHERE status = 'armed' AND name LIKE 'claim%%'"
        return _count(self.engine, done) >= self.total and _count(self.engine, open_timers) == 0

    def cpu_groups(self) -> dict[str, Callable[[], set[int]]]:
        api, workers = (p.pid for p in self.stack.procs)
        return {"api": lambda: descendants(api), "workers": lambda: descendants(workers)}

    def engine_pids(self) -> set[int]:
        return set().union(*(descendants(p.pid) for p in self.stack.procs))

    def close(self) -> None:
        self.stack.stop()
        self.engine.dispose()


class Dbos:
    name = "dbos"

    def __init__(self, pg: str, database: str, options: dict[str, Any], logdir: Path) -> None:
        url = make_url(pg).set(database=database)
        self.url = url.render_as_string(hide_password=False)
        self.options, self.logdir = options, logdir
        _recreate(self.url)
        self.engine = create_engine(self.url, pool_size=1)
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.procs: list[subprocess.Popen[str]] = []
        self.total, self.ids, self.waiting_ids = 0, 0, list[str]()
        self.logs: list[IO[bytes]] = []

    def describe(self) -> dict[str, Any]:
        return {"side": self.name, "dbos_options": self.options}

    def _spawn(self, mode: str) -> subprocess.Popen[str]:
        o = self.options
        cmd = [sys.executable, "-m", "bench.peers.dbos_app", "--url", self.dsn, "--mode", mode]
        cmd += ["--drivers", str(o["drivers"]), "--batch", str(o["batch"]), "--pool", str(o["pool"])]
        cmd += ["--max-threads", str(o.get("max_threads", 0)), "--poll", str(o.get("poll", 0.1))]
        log = (self.logdir / f"dbos-{mode}-{len(self.procs)}.log").open("wb")
        self.logs.append(log)
        proc = subprocess.Popen(
            cmd, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
        )
        self.procs.append(proc)
        ready = json.loads(self._line(proc))
        assert ready.get("ready"), ready
        return proc

    def _line(self, proc: subprocess.Popen[str]) -> str:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the DBOS process exited ({proc.poll()}); see {self.logdir}")
        return line

    def setup(self) -> None:
        mode = self.options["mode"]
        if mode == "queue":
            for _ in range(self.options["workers"]):
                self._spawn("queue-worker")
        self.driver = self._spawn(mode)
        self.start(WARMUP)
        wait_for(self.started, 300, "the DBOS warm-up notices", pause=0.1)
        self.claim()
        wait_for(self.claimed, 300, "the DBOS warm-up claims", pause=0.1)

    def _command(self, op: str, ids: list[str]) -> None:
        assert self.driver.stdin is not None
        self.driver.stdin.write(json.dumps({"op": op, "ids": ids}) + "\n")
        self.driver.stdin.flush()
        json.loads(self._line(self.driver))

    def start(self, n: int) -> None:
        self.waiting_ids = [f"notice-{self.total + i}" for i in range(n)]
        self.total += n
        self._command("start", self.waiting_ids)

    def started(self) -> bool:
        armed = "SELECT count(*) FROM dbos.operation_outputs WHERE function_name = 'DBOS.sleep'"
        pushed = "SELECT count(*) FROM dbos.operation_outputs WHERE function_name LIKE '%%record_push%%'"
        return _count(self.engine, armed) >= self.total and _count(self.engine, pushed) >= self.total

    def claim(self) -> None:
        self._command("claim", self.waiting_ids)

    def claimed(self) -> bool:
        done = "SELECT count(*) FROM dbos.workflow_status WHERE status = 'SUCCESS'"
        return _count(self.engine, done) >= self.total

    def cpu_groups(self) -> dict[str, Callable[[], set[int]]]:
        return {"dbos": self.engine_pids}

    def engine_pids(self) -> set[int]:
        return set().union(*(descendants(p.pid) for p in self.procs if p.poll() is None))

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None and proc.stdin is not None:
                proc.stdin.write('{"op": "quit"}\n')
                proc.stdin.flush()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        for log in self.logs:
            log.close()
        self.engine.dispose()


def _recreate(url: str) -> None:
    """Drop and create the DBOS system database: every run starts empty, as the yunshang one does."""
    drop_pg_database(url)
    ensure_pg_database(url)
    time.sleep(0.1)
