"""The processes of a chaos run: the production stack (API, worker supervisor, scheduler) over
PostgreSQL and a Redis (or a RabbitMQ) of the run's own, started, killed and restarted for real."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support import ensure_pg_database, reset_pg
from worker import compose
from workflows.messaging.brokers import purge
from workflows.settings import Settings
from workflows.store.db import Database
from workflows.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "chaos-source-token"
SOURCE = "/chaos"


#: where free ports are sought: below the kernel's ephemeral range (``ip_local_port_range``, 32768 up
#: by default), so that a server killed and restarted on its port never finds it taken meanwhile as the
#: local port of some process's outgoing connection (a RabbitMQ restart failed so: ``eaddrinuse``)
PORTS = range(20000, 32768)


def ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port nobody listens on, outside the ephemeral range (``PORTS``)."""
    top = min(PORTS.stop, ephemeral_low())
    for port in random.sample(range(PORTS.start, top), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {PORTS.start}–{top - 1}")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def wait_for(predicate: Any, timeout: float, what: str) -> float:
    """Poll until ``predicate()``; returns the seconds it took."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - start


class RedisServer:
    """A Redis of this run's own, without persistence, that can be killed and started again."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self.workdir)]
        with (self.workdir / "redis.log").open("ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        wait_for(self._answers, 20, "redis-server to answer")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class ChaosRun:
    """``broker``: ``redis`` or ``rabbitmq`` (a server of the run's own, which the broker fault
    kills), or a broker URL (purged at the start)."""

    def __init__(self, workdir: Path, pg_url: str, *, broker: str = "redis") -> None:
        from tests.chaos.rabbitmq import RabbitServer  # it uses this module's helpers

        self.workdir = workdir
        self.pg_url = pg_url
        self.redis = RedisServer(workdir) if broker == "redis" else None
        self.rabbitmq = RabbitServer(workdir) if broker == "rabbitmq" else None
        self.broker_url = None if broker in ("redis", "rabbitmq") else broker
        self.api_port = free_port()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def broker(self) -> str:
        """The broker URL the processes use."""
        server = self.redis or self.rabbitmq
        if self.broker_url is not None or server is None:
            return self.broker_url or ""
        return server.url

    @property
    def env(self) -> dict[str, str]:
        tokens = [
            {
                "name": "chaos",
                "token": TOKEN,
                "kind": "source",
                "event_types": ["toy.submitted", "toy.decided"],
                "sources": ["*"],
            }
        ]
        env = dict(os.environ)
        env.update(
            YUNSHANG_DATABASE_URL=self.pg_url,
            YUNSHANG_BROKER=self.broker,
            YUNSHANG_API_PORT=str(self.api_port),
            YUNSHANG_API_TOKENS=json.dumps(tokens),
            YUNSHANG_LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
        )
        return env

    def start(self) -> None:
        ensure_pg_database(self.pg_url)
        db = Database(self.pg_url)
        upgrade(db)
        db.dispose()
        reset_pg(self.pg_url)
        if self.redis is not None:
            self.redis.start()
        if self.rabbitmq is not None:
            self.rabbitmq.start()
        if self.broker_url is not None:  # a shared broker: nothing of an earlier run may be queued
            runtime = compose(Settings(database_url=self.pg_url, broker=self.broker_url))
            purge(runtime.broker)
            runtime.close()
        for part in ("api", "workers", "scheduler"):
            self.launch(part)
        wait_for(self._api_ready, 60, "the API to answer")
        wait_for(lambda: len(children_of(self.procs["workers"].pid)) == 2, 60, "two workers")

    def _command(self, part: str) -> list[str]:
        yunshang = [sys.executable, "-c", "import worker; worker.main()"]
        return {
            "api": [*yunshang, "api"],
            "scheduler": [*yunshang, "scheduler"],
            "workers": [sys.executable, str(ROOT / "worker.py"), "--processes", "2", "--threads", "4"],
        }[part]

    def launch(self, part: str) -> None:
        with (self.workdir / f"{part}.log").open("ab") as out:
            self.procs[part] = subprocess.Popen(
                self._command(part), env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )

    def _api_ready(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.api_port}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self, part: str) -> None:
        proc = self.procs[part]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.redis is not None:
            self.redis.stop()
        if self.rabbitmq is not None:
            self.rabbitmq.stop()

    def log(self, part: str, lines: int = 40) -> str:
        path = self.workdir / f"{part}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    @contextmanager
    def database_down(self) -> Iterator[None]:
        """Refuse connections to this run's database and end its sessions (to every process the
        database is down), until the block ends."""
        name = make_url(self.pg_url).database
        admin = create_engine(make_url(self.pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                conn.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                    {"n": name},
                )
            yield
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            admin.dispose()
