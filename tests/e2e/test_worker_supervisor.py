"""The worker supervisor with real processes: a killed worker is replaced and the work still gets done,
a killed supervisor leaves no worker behind, SIGTERM stops everything with exit code 0, and a worker
that cannot boot is restarted with a growing delay."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Set
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import PG_URL, REDIS_URL, ensure_pg_database, reset_pg, wait_until
from worker import compose
from workflows.engine.commands import Cause
from workflows.runtime import Runtime
from workflows.settings import Settings
from workflows.store.models import Instance

ROOT = Path(__file__).resolve().parents[2]
YUNSHANG = str(Path(sys.executable).parent / "yunshang")
READY = re.compile(r"worker (\d+) ready for action")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    state, ppid = text.rsplit(")", 1)[1].split()[:2]  # the name in parentheses may hold spaces
    return state, int(ppid)


def alive(pid: int) -> bool:
    """Running, not a zombie (an orphan's zombie waits for PID 1, which may never reap it)."""
    found = _stat(pid)
    return found is not None and found[0] != "Z"


def children(parent: int) -> set[int]:
    """Live child processes of ``parent``, from /proc (no psutil)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == parent and stat[0] != "Z":
                found.add(int(entry.name))
    return found


@dataclass
class Supervised:
    proc: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def ready(self) -> set[int]:
        return {int(pid) for pid in READY.findall(self.text())}

    def wait_for_workers(self, count: int, without: Set[int] = frozenset(), timeout: float = 60) -> set[int]:
        """Wait until ``count`` children, none of ``without``, are ready for action; their pids."""
        found: set[int] = set()

        def up() -> bool:
            nonlocal found
            assert self.proc.poll() is None, self.text()
            found = children(self.proc.pid)
            return len(found) == count and not found & without and found <= self.ready()

        wait_until(up, timeout, f"{count} worker processes ready:\n{self.text()}")
        return found


@contextmanager
def supervisor(tmp_path: Path, command: list[str]) -> Iterator[Supervised]:
    env = {
        **os.environ,
        "YUNSHANG_DATABASE_URL": PG_URL,
        "YUNSHANG_BROKER": REDIS_URL,
        "YUNSHANG_CLOCK": "simulated",
        "YUNSHANG_LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "supervisor.log"
    with log.open("wb") as out:  # the processes keep their own descriptor
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield Supervised(proc, log)
    finally:
        try:  # its own session and process group: the supervisor and any worker left behind
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    ensure_pg_database(PG_URL)
    rt = compose(Settings(database_url=PG_URL, broker=REDIS_URL, clock="simulated"))
    reset_pg(PG_URL)
    rt.broker.client.flushdb()  # type: ignore[attr-defined]
    try:
        yield rt
    finally:
        rt.close()


def workers(processes: int = 2) -> list[str]:
    return [sys.executable, "worker.py", "--processes", str(processes), "--threads", "2"]


def decide(rt: Runtime, key: str) -> int:
    """Start a toy review here and send its decision through the outbox to the workers."""
    with rt.transaction() as session:
        instance_id = rt.engine.start(
            session, "toy", key, subject=None, context={}, cause=Cause(kind="system")
        ).instance_id
    command = rt.engine.command(
        "toy",
        "decide",
        cause=Cause(kind="event", id=f"{key}-decide"),
        dedupe_key=f"{key}-decide",
        payload={"decision": "approve"},
        instance_id=instance_id,
    )
    with rt.transaction() as session:
        rt.engine.enqueue(session, command)
    return instance_id


def state(rt: Runtime, instance_id: int) -> str:
    with rt.db.read() as s:
        row = s.get(Instance, instance_id)
        assert row is not None
        return row.state


@pytest.mark.production
def test_a_killed_worker_is_replaced_and_work_still_gets_done(runtime: Runtime, tmp_path: Path) -> None:
    with supervisor(tmp_path, workers()) as sup:
        first, second = sorted(sup.wait_for_workers(2))
        os.kill(first, signal.SIGKILL)
        replaced = sup.wait_for_workers(2, without={first})
        assert second in replaced
        assert f"worker {first} exited with signal SIGKILL" in sup.text()
        os.kill(second, signal.SIGKILL)  # now only replacements are left to do the work
        sup.wait_for_workers(2, without={first, second})
        assert re.search(
            rf"worker {second} exited with signal SIGKILL .*; starting a replacement", sup.text()
        )

        instance_id = decide(runtime, "after-kills")
        wait_until(lambda: state(runtime, instance_id) == "decided", 30, "the decision applied by a worker")


@pytest.mark.production
def test_a_killed_supervisor_leaves_no_worker_behind(runtime: Runtime, tmp_path: Path) -> None:
    with supervisor(tmp_path, workers()) as sup:
        pids = sup.wait_for_workers(2)
        os.kill(sup.proc.pid, signal.SIGKILL)
        sup.proc.wait()
        wait_until(lambda: not any(alive(pid) for pid in pids), 5, f"workers {pids} to die with it")


@pytest.mark.production
def test_sigterm_stops_the_supervisor_and_its_workers_with_exit_code_0(
    runtime: Runtime, tmp_path: Path
) -> None:
    command = [YUNSHANG, "worker", "--processes", "2", "--threads", "2"]  # the CLI becomes the supervisor
    with supervisor(tmp_path, command) as sup:
        pids = sup.wait_for_workers(2)
        sup.proc.send_signal(signal.SIGTERM)
        assert sup.proc.wait(timeout=30) == 0, sup.text()
        for pid in pids:
            assert f"worker {pid} stopped (code 0)" in sup.text()
            assert not alive(pid)
        assert "WARNING" not in sup.text()


@pytest.mark.production
def test_sighup_replaces_every_worker_without_a_warning(runtime: Runtime, tmp_path: Path) -> None:
    with supervisor(tmp_path, workers()) as sup:
        before = sup.wait_for_workers(2)
        sup.proc.send_signal(signal.SIGHUP)
        sup.wait_for_workers(2, without=before)
        for pid in before:
            assert f"worker {pid} stopped (code 0) for a restart" in sup.text()
        assert "WARNING" not in sup.text()


def test_a_worker_that_cannot_boot_is_restarted_with_a_growing_delay(tmp_path: Path) -> None:
    failing = [sys.executable, "-c", "raise SystemExit(3)"]
    program = (
        "import logging, sys\n"
        "from workflows.workers.supervisor import Supervisor\n"
        "logging.basicConfig(level=logging.INFO)\n"
        f"sys.exit(Supervisor({failing!r}, 1).run())\n"
    )
    with supervisor(tmp_path, [sys.executable, "-c", program]) as sup:
        delays = re.compile(r"exited with code 3 after [\d.]+s; starting a replacement in ([\d.]+)s")
        wait_until(lambda: len(delays.findall(sup.text())) >= 3, 30, f"three restarts:\n{sup.text()}")
        sup.proc.send_signal(signal.SIGTERM)
        assert sup.proc.wait(timeout=30) == 0, sup.text()
    assert [float(d) for d in delays.findall(sup.text())[:3]] == [0.5, 1.0, 2.0]
