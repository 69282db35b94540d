"""The supervisor's restart delay and how it names an exit (the processes: tests/e2e)."""

from __future__ import annotations

import pytest

from workflows.workers.supervisor import Backoff, Supervisor, describe


def test_a_worker_dying_right_after_its_start_waits_longer_each_time_up_to_the_limit() -> None:
    backoff = Backoff(first=0.5, limit=30.0, stable_after=10.0)
    delays, delay = [], 0.0
    for _ in range(9):
        delay = backoff.next(delay, lived=0.1)
        delays.append(delay)
    assert delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]


def test_a_worker_that_ran_for_a_while_is_replaced_at_once() -> None:
    assert Backoff(stable_after=10.0).next(16.0, lived=11.0) == 0.0


def test_an_exit_is_named_by_its_signal_or_its_code() -> None:
    assert describe(-9) == "signal SIGKILL"
    assert describe(-15) == "signal SIGTERM"
    assert describe(3) == "code 3"
    assert describe(0) == "code 0"


def test_a_supervisor_of_no_process_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Supervisor(["true"], 0)
