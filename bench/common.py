"""Shared pieces of the benchmarks: where the servers are, machine facts, result files, percentiles."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from workflows.store.db import Database
from workflows.store.models import Base

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/yunshang_test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
TOY_DEADLINES = {"toy.awaiting_review.review_deadline": "2h"}


# ------------------------------------------------------------------ servers
def pg_url(base: str | None, database: str) -> str:
    """``base`` (default ``$YUNSHANG_TEST_PG_URL``) pointed at the bench database ``database``."""
    url = base or os.environ.get("YUNSHANG_TEST_PG_URL") or DEFAULT_PG_URL
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def redis_url(base: str | None, db: int) -> str:
    """``base`` (default ``$YUNSHANG_TEST_REDIS_URL``) with its database number replaced by ``db``."""
    url = base or os.environ.get("YUNSHANG_TEST_REDIS_URL") or DEFAULT_REDIS_URL
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return urlunsplit(parts._replace(query=f"db={db}"))
    return urlunsplit(parts._replace(path=f"/{db}"))


def amqp_url(base: str | None) -> str:
    """``base``, else ``$YUNSHANG_TEST_AMQP_URL``, else the local RabbitMQ's default virtual host."""
    return base or os.environ.get("YUNSHANG_TEST_AMQP_URL") or DEFAULT_AMQP_URL


def drop_pg_database(url: str) -> None:
    """Drop the database of ``url`` (its connections closed first), if it exists."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def ensure_pg_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


def truncate_all(db: Database) -> None:
    """Empty every engine table (not ``alembic_version``)."""
    tables = [t.name for t in Base.metadata.sorted_tables]
    with db.engine.begin() as conn:
        if db.is_postgres:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(text(f"DELETE FROM {table}"))


def analyze(db: Database) -> None:
    """PostgreSQL: gather the tables' statistics, as autovacuum does after this many new rows. This
    machine's shared server runs with autovacuum off: without it the plans the workers' connections
    cached during the warm-up, on tables of a hundred rows (sequential scans of ``history``,
    ``outbox``), stayed in use as the tables grew (ANALYZE invalidates them)."""
    if db.is_postgres:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def pg_version(url: str) -> str | None:
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
        engine.dispose()
        return str(version)
    except Exception as exc:
        return f"unavailable: {exc.__class__.__name__}"


def redis_version(url: str) -> str | None:
    try:
        import redis

        client = redis.Redis.from_url(url)
        info = client.info("server")
        client.close()
        return str(info.get("redis_version"))
    except Exception as exc:
        return f"unavailable: {exc.__class__.__name__}"


# ------------------------------------------------------------------ facts
def rabbitmq_version(url: str) -> str | None:
    try:
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(url))
        version = connection._impl.server_properties.get("version", b"?")
        connection.close()
        return version.decode() if isinstance(version, bytes) else str(version)
    except Exception as exc:
        return f"unavailable: {exc.__class__.__name__}"


def machine_info(pg: str | None = None, redis: str | None = None, amqp: str | None = None) -> dict[str, Any]:
    import dramatiq
    import sqlalchemy

    info: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cores": os.cpu_count(),
        "load_avg_at_start": list(os.getloadavg()),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "dramatiq": dramatiq.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite": __import__("sqlite3").sqlite_version,
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--", "workflows", "actors", "state_machines")),
    }
    if pg:
        info["postgresql"] = pg_version(pg)
    if redis:
        info["redis"] = redis_version(redis)
    if amqp:
        info["rabbitmq"] = rabbitmq_version(amqp)
    return info


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
        return out.stdout.strip()
    except Exception:
        return ""


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    pick = {"p50": percentile(ms, 50), "p90": percentile(ms, 90), "p99": percentile(ms, 99)}
    out: dict[str, Any] = {k: round(v, 2) if v is not None else None for k, v in pick.items()}
    out["max"] = round(max(ms), 2) if ms else None
    out["n"] = len(ms)
    return out


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, pause: float = 0.01) -> float:
    """Poll until ``predicate()``; returns the perf_counter time it became true."""
    deadline = time.perf_counter() + timeout
    while True:
        if predicate():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(pause)


def write_result(name: str, data: dict[str, Any], path: Path | None = None) -> Path:
    target = path or RESULTS / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    data["load_avg_at_end"] = list(os.getloadavg())
    target.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return target


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ CPU accounting (Linux /proc)
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user+system CPU seconds) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def descendants(root: int) -> set[int]:
    """``root`` and every process below it."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None:
                parents[int(entry.name)] = st[0]
    found = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def machine_busy_seconds() -> float:
    """CPU seconds spent not idle, summed over every core, since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / _TICK


class CpuMeter:
    """CPU seconds used by named groups of processes between ``start()`` and ``stop()``.

    ``groups`` maps a name to a function returning the group's pids (evaluated at both ends, so
    processes that come and go are counted while they live). ``other`` is the rest of the machine:
    with other people's tests on the same cores, it tells how noisy the measurement was.
    """

    def __init__(self, groups: dict[str, Callable[[], set[int]]]) -> None:
        self.groups = groups
        self._start: dict[str, dict[int, float]] = {}
        self._busy = 0.0
        self._t0 = 0.0

    def _sample(self) -> dict[str, dict[int, float]]:
        out: dict[str, dict[int, float]] = {}
        for name, pids in self.groups.items():
            seen: dict[int, float] = {}
            for pid in pids():
                st = _stat(pid)
                if st is not None:
                    seen[pid] = st[1]
            out[name] = seen
        return out

    def start(self) -> None:
        self._start = self._sample()
        self._busy = machine_busy_seconds()
        self._t0 = time.perf_counter()

    def stop(self) -> dict[str, float]:
        end = self._sample()
        wall = time.perf_counter() - self._t0
        busy = machine_busy_seconds() - self._busy
        used: dict[str, float] = {}
        for name, after in end.items():
            before = self._start.get(name, {})
            used[name] = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
        used["other"] = max(0.0, busy - sum(used.values()))
        used["wall"] = wall
        used["cores_available"] = float(os.cpu_count() or 1)
        return {k: round(v, 3) for k, v in used.items()}


def pg_server_pids(url: str) -> Callable[[], set[int]]:
    """The PostgreSQL server's processes (postmaster and its children), found via its data directory."""
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            data_dir = str(conn.execute(text("SHOW data_directory")).scalar())
        engine.dispose()
        postmaster = int((Path(data_dir) / "postmaster.pid").read_text().split()[0])
    except Exception:
        return set
    return lambda: descendants(postmaster)


def listening_pids(port: int) -> Callable[[], set[int]]:
    """The processes holding a socket that listens on TCP ``port`` (e.g. RabbitMQ's ``beam.smp``),
    found via /proc (Linux; the same user or root); none where /proc cannot tell."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(fields[9])
    pids: set[int] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            sockets = {os.readlink(fd).removeprefix("socket:[").rstrip("]") for fd in (proc / "fd").iterdir()}
            if sockets & inodes:
                pids.add(int(proc.name))
        except OSError:
            continue
    return lambda: set(pids)


def redis_server_pids(url: str) -> Callable[[], set[int]]:
    try:
        import redis

        client = redis.Redis.from_url(url)
        pid = int(client.info("server")["process_id"])
        client.close()
    except Exception:
        return set
    return lambda: {pid}
