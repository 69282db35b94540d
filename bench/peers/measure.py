"""What the peer benchmark measures besides wall time: CPU of the processes that do the work (the
engine's own processes, this benchmark's PostgreSQL backends, a private Redis) and their peak memory.

The PostgreSQL server is shared with other sessions on this machine, so only the backends connected
to the benchmark's databases are counted (``pg_stat_activity``), not the server's shared background
processes (WAL writer, checkpointer, autovacuum) that serve every database at once.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.common import wait_for


def pg_backends(url: str, databases: list[str]) -> Callable[[], set[int]]:
    """The pids of the PostgreSQL backends connected to ``databases`` (at each call)."""
    engine = create_engine(make_url(url).set(database="postgres"), pool_size=1)

    def pids() -> set[int]:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = ANY(:names)"), {"names": databases}
            )
            return {int(r[0]) for r in rows}

    return pids


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class PeakRss:
    """The largest total resident memory of a group of processes, sampled every ``every`` seconds,
    and the sum of each process's own high-water mark (``VmHWM``) as the kernel keeps it."""

    def __init__(self, pids: Callable[[], set[int]], every: float = 0.2) -> None:
        self.pids, self.every = pids, every
        self.peak_kb = 0
        self.hwm_kb: dict[int, int] = {}
        self._stop = False
        import threading

        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> PeakRss:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop:
            self.sample()
            time.sleep(self.every)

    def sample(self) -> None:
        pids = self.pids()
        self.peak_kb = max(self.peak_kb, sum(_status_kb(p, "VmRSS") for p in pids))
        for p in pids:
            self.hwm_kb[p] = max(self.hwm_kb.get(p, 0), _status_kb(p, "VmHWM"))

    def stop(self) -> dict[str, float]:
        self._stop = True
        self._thread.join(5)
        return {
            "peak_rss_mb": round(self.peak_kb / 1024, 1),
            "sum_vmhwm_mb": round(sum(self.hwm_kb.values()) / 1024, 1),
            "processes": len(self.hwm_kb),
        }


class PrivateRedis:
    """A Redis server of this benchmark's own (no persistence), so its CPU is the yunshang run's alone
    (the shared one on 6379 serves the other sessions too)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="peers-redis-"))
        binary = shutil.which("redis-server") or "redis-server"
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            [*args, "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        import redis

        client = redis.Redis(port=port)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_for(up, 20, "the private Redis", pause=0.1)
        client.close()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/7"

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
