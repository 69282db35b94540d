"""Long-running parts: the APScheduler sweep/recovery/rules jobs and the embedded in-process worker."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

import dramatiq
from apscheduler.schedulers.background import BackgroundScheduler

from workflows.ruleset.adapter import RulesWatcher
from workflows.runtime import Runtime
from workflows.time.clock import SystemClock

log = logging.getLogger("yunshang.services")


def build_scheduler(runtime: Runtime) -> BackgroundScheduler:
    """The sweep of due timers, the outbox recovery (re-send what is lost, record the broker's dead
    letters) and the rules hot reload (when the runtime's deadlines come from the rules), as
    APScheduler interval jobs.

    Each job runs one at a time per process, the next run ``interval`` after the last ends; several
    scheduler processes are safe because the sweep claims timers with row locks and a rules
    activation is serialised in the database.
    """
    settings = runtime.settings
    scheduler = BackgroundScheduler(timezone="UTC")
    paced(scheduler, _guarded(runtime.sweeper.sweep, "timer sweep"), settings.sweep_interval, "timer sweep")
    paced(
        scheduler,
        _guarded(runtime.recovery.run, "outbox recovery"),
        settings.relay_interval,
        "outbox recovery",
    )
    if runtime.follower is not None:
        watcher = RulesWatcher(runtime.follower, settings.rules_dir)
        paced(scheduler, _guarded(watcher.poll, "rules reload"), settings.rules_poll_interval, "rules")
    return scheduler


def paced(scheduler: BackgroundScheduler, job: Callable[[], None], seconds: float, name: str) -> None:
    # ``name`` is the job's id too: ``sweep``, ``relay``, ``rules``
    """Run ``job`` now and then ``seconds`` after each run ends: a run never overlaps the next, so a
    long sweep (a burst of due timers) delays the next one instead of piling up skipped runs and
    APScheduler's "maximum number of running instances reached" warnings."""
    clock = SystemClock()  # APScheduler runs on real time, whatever clock the engine reads

    def run() -> None:
        try:
            job()
        finally:
            if scheduler.running:
                scheduler.add_job(
                    run,
                    "date",
                    run_date=clock.now() + timedelta(seconds=seconds),
                    id=name,
                    name=name,
                    replace_existing=True,
                    misfire_grace_time=None,
                )

    scheduler.add_job(run, "date", run_date=clock.now(), id=name, name=name, misfire_grace_time=None)


def _guarded(job: Callable[[], object], name: str) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("%s failed; it runs again at the next interval", name)

    return run


class EmbeddedStack:
    """Everything in one process: the Dramatiq worker on the StubBroker plus the scheduler jobs."""

    def __init__(self, runtime: Runtime, *, threads: int | None = None) -> None:
        self.runtime = runtime
        self.worker = dramatiq.Worker(
            runtime.broker, worker_threads=threads or runtime.settings.worker_threads, worker_timeout=100
        )
        self.scheduler = build_scheduler(runtime)
        self.stopped = threading.Event()

    def start(self) -> None:
        self.worker.start()
        self.runtime.relay.redispatch_undone()
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.shutdown(wait=True)
        self.worker.stop()
        self.stopped.set()

    def join(self, timeout_ms: int = 60_000) -> None:
        """Wait until every queue (and delay queue) is empty and the workers are idle."""
        broker = self.runtime.broker
        for _ in range(3):  # a message may enqueue another on a queue already joined
            for queue in sorted(broker.get_declared_queues() | broker.get_declared_delay_queues()):
                broker.join(queue, timeout=timeout_ms)
            self.worker.join()
