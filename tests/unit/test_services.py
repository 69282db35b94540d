"""The scheduler's jobs are paced: the next run starts an interval after the last one ends, so a slow
run neither overlaps the next nor makes APScheduler warn that it skipped one."""

from __future__ import annotations

import logging
import threading

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from workflows.services import paced


def test_a_run_longer_than_its_interval_never_overlaps_and_logs_no_skipped_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="apscheduler")
    running, overlaps, runs = threading.Lock(), [], []
    enough = threading.Event()

    def slow() -> None:
        if not running.acquire(blocking=False):
            overlaps.append(1)
            return
        try:
            runs.append(1)
            enough.wait(0.05)  # five times the interval
            if len(runs) >= 4:
                enough.set()
        finally:
            running.release()

    scheduler = BackgroundScheduler(timezone="UTC")
    paced(scheduler, slow, 0.01, "slow job")
    scheduler.start()
    try:
        assert enough.wait(10), "the job did not run four times"
    finally:
        scheduler.shutdown(wait=True)
    assert overlaps == []
    assert not [r for r in caplog.records if "maximum number of running instances" in r.getMessage()]
