"""One worker process under the supervisor: a Dramatiq ``Worker`` that stops cleanly on SIGTERM and
never outlives its supervisor.

Its logs go straight to the stderr it inherited (nothing is piped through the supervisor), so a dead
supervisor can never leave a thread blocked on a full pipe while it holds a database transaction.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable

import dramatiq

from workflows.workers.signals import SignalPipe

log = logging.getLogger("yunshang.workers")

#: prctl(2) option: the signal the kernel sends this process when its parent dies
PR_SET_PDEATHSIG = 1
#: how often the fallback watchdog (no prctl) looks at the parent pid
WATCHDOG_INTERVAL = 0.5
#: a stop waits this long for running messages; the supervisor kills -9 a little later
STOP_TIMEOUT_MS = 25_000
#: signals that stop the worker. SIGHUP too: a hang-up stops it, and the supervisor starts another
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def die_with_parent(parent: int) -> None:
    """Make the kernel SIGKILL this process when ``parent`` dies (Linux), or else poll for it.

    The parent may already be gone by the time this runs (the process is re-parented to PID 1 or a
    sub-reaper): after arming, a parent pid other than ``parent`` ends the process at once.
    """
    armed = _set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent:
        _orphaned(parent)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), name="parent-watchdog", daemon=True).start()


def _set_parent_death_signal(signum: signal.Signals) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    stop = threading.Event()
    while not stop.wait(WATCHDOG_INTERVAL):
        if os.getppid() != parent:
            _orphaned(parent)


def _orphaned(parent: int) -> None:
    log.error("worker %d: its supervisor %d is gone; exiting", os.getpid(), parent)
    os._exit(1)


def serve(
    broker: dramatiq.Broker,
    *,
    threads: int,
    queues: set[str] | None = None,
    worker_timeout: int = 100,
    close: Callable[[], None] | None = None,
) -> int:
    """Run a Dramatiq worker on ``broker`` until SIGTERM, SIGINT or SIGHUP, then stop it (running
    messages finish, prefetched ones go back to the broker), call ``close`` and return 0.
    Call from the main thread."""
    with SignalPipe(STOP_SIGNALS) as signals:
        broker.emit_after("process_boot")
        worker = dramatiq.Worker(broker, queues=queues, worker_threads=threads, worker_timeout=worker_timeout)
        # what start-up built lives as long as the process: out of the collector's way, as the API does
        gc.freeze()
        worker.start()
        names = ", ".join(sorted(queues)) if queues else "all"
        log.info("worker %d ready for action: %d threads, queues %s", os.getpid(), threads, names)
        received = signals.wait(None)
        while not received:
            received = signals.wait(None)
        log.info("worker %d stopping (%s)", os.getpid(), received[0].name)
        worker.stop(timeout=STOP_TIMEOUT_MS)  # a repeated signal is ignored: the stop is under way
        if close is not None:
            close()
    log.info("worker %d stopped", os.getpid())
    return 0
