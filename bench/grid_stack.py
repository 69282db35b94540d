"""The stack of the grid first check benchmark and what the benchmark reads from its database.

PostgreSQL + Redis with the API (``yunshang api``, one process, or several on consecutive ports)
and ``python worker.py --processes 2 --threads 8`` as subprocesses, as ``push_bench`` runs them (no
scheduler unless asked: the tasks' deadlines are days away, and nothing is lost on a healthy stack,
so neither the sweep nor the recovery has work). The bench's database is dropped and created again
(a fresh deployment: no rows, no planner statistics), migrated and given the synthetic Laoshan
directory (654 grids, 735 workers) before the processes start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.common import (
    REPO,
    descendants,
    flush_redis,
    redis_server_pids,
    wait_for,
)
from bench.grid_events import Place, directory_places
from workflows.flows.grid_check.directory import parse_directory, replace_directory
from workflows.flows.grid_check.directory_synthetic import synthetic_path
from workflows.settings import Settings
from workflows.store.db import Database
from workflows.store.migrate import upgrade

TOKEN = "ys_bench_grid_token_0123456789abcdef"
FLOW = "grid_check"
#: the tables whose statistics the planner needs for the hot statements (inbox and history dedupe)
ANALYZED = ("inbox", "history", "instances", "outbox", "deliveries", "timers")
#: server settings that change the figures (the shared server runs without autovacuum)
SETTINGS = (
    "autovacuum",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "shared_buffers",
    "max_connections",
)


@dataclass(frozen=True)
class Task:
    id: int
    worker: str
    street: str


def import_directory(pg: str, redis: str) -> dict[str, Any]:
    """The synthetic directory imported the way ``yunshang directory import grids`` does it."""
    from worker import compose

    rt = compose(Settings(database_url=pg, broker=redis, rules_poll_interval=0))
    try:
        path = synthetic_path()
        streets = {s.code: s.name for s in rt.rules.ruleset("bench").organisation.streets}
        directory = parse_directory(path, streets)
        with rt.db.transaction() as session:
            report = replace_directory(session, directory, path.name, at=rt.clock.now())
        return {"file": path.name, "grids": report.counts.grids, "workers": report.counts.workers}
    finally:
        rt.close()


def recreate_database(url: str) -> None:
    """Drop and create the bench's own database: every run starts from a fresh deployment — no rows,
    and no planner statistics left by an earlier run (``TRUNCATE`` keeps them)."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


def server_settings(db: Database) -> dict[str, str]:
    with db.engine.connect() as conn:
        return {name: str(conn.execute(text(f"SHOW {name}")).scalar()) for name in SETTINGS}


class Analyzer(threading.Thread):
    """``ANALYZE`` of the engine's hot tables every ``every`` seconds: a stand-in for autovacuum's
    auto-analyze on a server that runs without it (``--analyze-every``; off by default)."""

    def __init__(self, db: Database, every: float) -> None:
        super().__init__(daemon=True)
        self.db, self.every = db, every
        self.stopping = threading.Event()
        self.runs: list[float] = []

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            began = time.perf_counter()
            with self.db.engine.connect() as conn:
                conn.execute(text(f"ANALYZE {', '.join(ANALYZED)}"))
                conn.commit()
            self.runs.append(time.perf_counter() - began)

    def summary(self) -> dict[str, Any]:
        return {"every_s": self.every, "runs": len(self.runs), "seconds": round(sum(self.runs), 2)}


class GridStack:
    def __init__(
        self,
        workdir: Path,
        pg: str,
        redis: str,
        port: int,
        processes: int,
        threads: int,
        scheduler: bool,
        analyze_every: float = 0,
        apis: int = 1,
    ) -> None:
        self.workdir, self.pg, self.port = workdir, pg, port
        #: one port per API process (``port``, ``port + 1``, …): the clients share them out, as a load
        #: balancer in front of several ``yunshang api`` would
        self.ports = [port + k for k in range(apis)]
        self.processes, self.threads, self.scheduler = processes, threads, scheduler
        self.env = {
            **os.environ,
            "YUNSHANG_API_PORT": str(port),
            "YUNSHANG_LOG_LEVEL": "WARNING",
            "YUNSHANG_DATABASE_URL": pg,
            "YUNSHANG_BROKER": redis,
            "YUNSHANG_CLOCK": "system",
            "YUNSHANG_RULES_POLL_INTERVAL": "0",
            "YUNSHANG_API_TOKENS": f'[{{"name": "bench", "token": "{TOKEN}", "kind": "admin"}}]',
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        recreate_database(pg)
        self.db = Database(pg)
        upgrade(self.db)
        flush_redis(redis)
        self.directory = import_directory(pg, redis)
        self.places: list[Place] = directory_places(synthetic_path())
        self._redis_pids = redis_server_pids(redis)
        self.settings = server_settings(self.db)
        self.analyzer = Analyzer(self.db, analyze_every) if analyze_every > 0 else None

    # ---------------------------------------------------------------- processes
    def start(self) -> None:
        yunshang = str(Path(sys.executable).parent / "yunshang")
        commands = {
            f"api-{k + 1}" if k else "api": [yunshang, "api", "--port", str(port)]
            for k, port in enumerate(self.ports)
        }
        commands["workers"] = [
            sys.executable,
            str(REPO / "worker.py"),
            "--processes",
            str(self.processes),
            "--threads",
            str(self.threads),
        ]
        if self.scheduler:
            commands["scheduler"] = [yunshang, "scheduler"]
        for name, command in commands.items():
            with (self.workdir / f"{name}.log").open("wb") as out:
                self.procs[name] = subprocess.Popen(
                    command, env=self.env, cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT
                )
        wait_for(self._healthy, 90, "the API", pause=0.2)
        wait_for(self._workers_ready, 90, "the worker processes", pause=0.2)
        if self.analyzer is not None:
            self.analyzer.start()

    def _healthy(self) -> bool:
        try:
            return all(
                httpx.get(f"http://127.0.0.1:{p}/healthz", timeout=1).status_code == 200 for p in self.ports
            )
        except httpx.HTTPError:
            return False

    def _workers_ready(self) -> bool:
        workers = self.procs["workers"]
        if workers.poll() is not None:
            raise RuntimeError(f"worker.py exited ({workers.returncode}):\n{self.log_tail('workers')}")
        log_text = (self.workdir / "workers.log").read_text(errors="replace")
        return log_text.count("ready for action") >= self.processes

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        if self.analyzer is not None:
            self.analyzer.stopping.set()
            self.analyzer.join(60)
        for p in self.procs.values():
            p.terminate()
        for p in self.procs.values():
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
        self.db.dispose()

    def cpu_groups(self) -> dict[str, Callable[[], set[int]]]:
        """The API, the workers (supervisor and children), this database's PostgreSQL backends (the
        server is shared with other databases: only the connections to ours count), Redis (shared
        too: its whole server), and this process (posting, polling)."""
        groups: dict[str, Callable[[], set[int]]] = {
            "bench": lambda: {os.getpid()},
            "api": self._apis,
            "workers": lambda: descendants(self.procs["workers"].pid),
            "postgresql": self._backends,
            "redis": self._redis_pids,
        }
        if self.scheduler:
            groups["scheduler"] = lambda: descendants(self.procs["scheduler"].pid)
        return groups

    def _apis(self) -> set[int]:
        return {pid for name, p in self.procs.items() if name.startswith("api") for pid in descendants(p.pid)}

    def _backends(self) -> set[int]:
        rows = self.rows("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return {int(pid) for (pid,) in rows}

    # ---------------------------------------------------------------- reads
    def rows(self, sql: str, **params: Any) -> Sequence[Any]:
        with self.db.engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    def value(self, sql: str, **params: Any) -> Any:
        with self.db.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def states(self, flow: str = FLOW) -> dict[str, int]:
        found = self.rows("SELECT state, count(*) FROM instances WHERE flow = :f GROUP BY state", f=flow)
        return {str(state): int(n) for state, n in found}

    def tasks(self) -> list[Task]:
        found = self.rows(
            "SELECT id, context->>'worker_id', context->>'street' FROM instances WHERE flow = :f ORDER BY id",
            f=FLOW,
        )
        # a task held by a street office has no worker: any id passes its holder check
        return [Task(int(i), str(w or f"STREET-{s}"), str(s)) for i, w, s in found]

    def states_of(self, ids: Sequence[int]) -> list[tuple[int, str, str | None]]:
        found = self.rows(
            "SELECT id, state, context->>'department' FROM instances WHERE id = ANY(:ids)", ids=list(ids)
        )
        return [(int(i), str(s), d) for i, s, d in found]

    def last(self, sql: str, **params: Any) -> float | None:
        """An epoch time the query returns (``extract(epoch FROM …)``), None for none."""
        found = self.value(sql, **params)
        return float(found) if found is not None else None

    def first_push_times(self) -> dict[str, float]:
        """subject (USCC) → when its task's first ``task`` push row was written."""
        found = self.rows(
            "SELECT i.subject, extract(epoch FROM min(d.created_at)) FROM deliveries d "
            "JOIN instances i ON i.id = d.instance_id WHERE i.flow = :f AND d.kind = 'task' "
            "GROUP BY i.subject",
            f=FLOW,
        )
        return {str(s): float(t) for s, t in found}
