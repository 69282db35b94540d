"""Keep N worker processes running: replace one that dies, stop them all on SIGTERM.

A child that exits while the supervisor is not stopping is replaced: at once when it had been running
for a while, after a growing delay (0.5 s doubling to 30 s) when it keeps dying right after its start,
so a worker that cannot boot (database down, broken rules) never turns into a busy loop. SIGTERM or
SIGINT forwards SIGTERM to every child, waits for them (SIGKILL after ``stop_timeout``) and returns 0;
a second SIGTERM/SIGINT kills them at once. SIGHUP replaces every child (new code, new settings)
without counting it as a failure.

Children are started from the main thread only: the parent-death signal a child arms
(``child.die_with_parent``) fires when the *thread* that forked it ends.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from workflows.workers.signals import SignalPipe

log = logging.getLogger("yunshang.workers")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True)
class Backoff:
    """Delay before replacing a child that died ``stable_after`` seconds or less after its start."""

    first: float = 0.5
    limit: float = 30.0
    stable_after: float = 10.0

    def next(self, delay: float, lived: float) -> float:
        if lived > self.stable_after:
            return 0.0
        return self.first if delay == 0 else min(delay * 2, self.limit)


@dataclass
class Slot:
    """One of the N places a child runs in, with the delay its next replacement waits."""

    index: int
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    delay: float = 0.0
    due: float | None = 0.0  # when to start the next child (None: one is running)
    retiring: bool = False  # asked to stop by SIGHUP: its exit is no failure


def describe(returncode: int) -> str:
    """``signal SIGKILL`` or ``code 3``."""
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"code {returncode}"


class Supervisor:
    """Run ``processes`` copies of ``command`` (each a worker process) until told to stop."""

    def __init__(
        self,
        command: Sequence[str],
        processes: int,
        *,
        env: Mapping[str, str] | None = None,
        backoff: Backoff | None = None,
        stop_timeout: float = 30.0,
    ) -> None:
        if processes < 1:
            raise ValueError(f"processes must be at least 1, not {processes}")
        self.command = list(command)
        self.env = dict(env) if env is not None else None
        self.backoff = backoff or Backoff()
        self.stop_timeout = stop_timeout
        self.slots = [Slot(i) for i in range(processes)]

    def run(self) -> int:
        """Supervise until SIGTERM or SIGINT; returns 0 once every child has exited."""
        wanted = (*STOP_SIGNALS, signal.SIGCHLD, signal.SIGHUP)
        with SignalPipe(wanted) as signals:
            log.info("supervisor %d starting %d worker processes", os.getpid(), len(self.slots))
            while True:
                self._start_due()
                received = signals.wait(self._timeout())
                stop = next((s for s in received if s in STOP_SIGNALS), None)
                if stop is not None:
                    log.info("supervisor %d stopping its workers (%s)", os.getpid(), stop.name)
                    self._stop(signals)
                    return 0
                self._reap()
                if signal.SIGHUP in received:
                    self._retire_all()

    def pids(self) -> list[int]:
        return [slot.proc.pid for slot in self.slots if slot.proc is not None]

    def _timeout(self) -> float:
        """Seconds until the next replacement is due, at most 1 s (a safety net for a lost SIGCHLD)."""
        dues = [slot.due for slot in self.slots if slot.due is not None]
        return max(0.0, min([1.0, *(due - time.monotonic() for due in dues)]))

    def _start_due(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if slot.proc is None and slot.due is not None and slot.due <= now:
                self._start(slot)

    def _start(self, slot: Slot) -> None:
        slot.started, slot.due, slot.retiring = time.monotonic(), None, False
        try:
            slot.proc = subprocess.Popen(self.command, env=self.env)  # stdout/stderr inherited
        except OSError:
            log.exception("could not start a worker process (%s)", self.command[0])
            slot.delay = self.backoff.next(slot.delay, 0.0)
            slot.due = time.monotonic() + slot.delay
            return
        log.info("worker %d started", slot.proc.pid)

    def _reap(self) -> None:
        for slot in self.slots:
            proc = slot.proc
            if proc is None or proc.poll() is None:
                continue
            slot.proc = None
            if slot.retiring:
                log.info(
                    "worker %d stopped (%s) for a restart; starting a new one",
                    proc.pid,
                    describe(proc.returncode),
                )
                slot.delay, slot.due = 0.0, time.monotonic()
                continue
            lived = time.monotonic() - slot.started
            slot.delay = self.backoff.next(slot.delay, lived)
            slot.due = time.monotonic() + slot.delay
            later = f" in {slot.delay:g}s" if slot.delay else ""
            log.warning(
                "worker %d exited with %s after %.1fs; starting a replacement%s",
                proc.pid,
                describe(proc.returncode),
                lived,
                later,
            )

    def _retire_all(self) -> None:
        log.info("supervisor %d restarting its workers (SIGHUP)", os.getpid())
        for slot in self.slots:
            if slot.proc is not None:
                slot.retiring = True
                _send(slot.proc, signal.SIGTERM)
            else:  # waiting out a backoff: start it now
                slot.delay, slot.due = 0.0, time.monotonic()

    def _stop(self, signals: SignalPipe) -> None:
        running = [slot.proc for slot in self.slots if slot.proc is not None]
        for proc in running:
            _send(proc, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while running and time.monotonic() < deadline:
            if any(s in STOP_SIGNALS for s in signals.wait(min(1.0, deadline - time.monotonic()))):
                log.warning("second stop signal: killing the workers now")
                break
            running = [proc for proc in running if not _exited(proc)]
        for proc in running:
            if proc.poll() is None:
                log.warning("worker %d did not stop in time; killing it", proc.pid)
                _send(proc, signal.SIGKILL)
            proc.wait()
            _exited(proc)
        for slot in self.slots:
            slot.proc = None


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is None:
        return False
    log.info("worker %d stopped (%s)", proc.pid, describe(proc.returncode))
    return True


def _send(proc: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    if proc.poll() is None:
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass
