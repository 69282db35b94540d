"""Group commit's gather: a new leader waits for the threads of the group just applied to come back with
their next command (under load), and for nobody after a group of one or once they are back."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from tests.support import wait_until
from workflows.engine.apply import Outcome
from workflows.engine.commands import Cause, Command
from workflows.engine.group import GroupCommit


def _command(n: int) -> Command:
    return Command(
        flow="toy", trigger="decide", instance_id=n, cause=Cause(kind="system"), dedupe_key=f"c{n}"
    )


class _Recorder:
    """The group function: records each group's instance ids; the first group waits for ``gate``."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.gate = threading.Event()
        self.lock = threading.Lock()

    def group(self, commands: Sequence[Command], outbox_ids: Sequence[str | None]) -> list[Outcome]:
        with self.lock:
            self.groups.append([c.instance_id or 0 for c in commands])
            first = len(self.groups) == 1
        if first:
            assert self.gate.wait(10)
        return [Outcome("applied", c.instance_id or 0, "decided") for c in commands]

    def one(self, command: Command, outbox_id: str | None) -> Outcome:
        raise AssertionError("no group fails here")


def _busy_then_back(gather: float, slow_return: float, first_back: bool) -> tuple[list[list[int]], float]:
    """Command 1 leads alone while 2 and 3 queue; 2 and 3 are applied together; then 2's thread comes
    back at once with 4, 3's after ``slow_return`` seconds with 5, and (``first_back``) 1's after as
    long with 6. Returns the groups and how long 4 took."""
    recorder = _Recorder()
    committer = GroupCommit(recorder.group, recorder.one, most=64, gather=gather)
    took: dict[str, float] = {}

    def first() -> None:
        committer.execute(_command(1))
        if first_back:
            time.sleep(slow_return)
            committer.execute(_command(6))

    def fast() -> None:
        committer.execute(_command(2))
        start = time.monotonic()
        committer.execute(_command(4))
        took["4"] = time.monotonic() - start

    def slow() -> None:
        committer.execute(_command(3))
        time.sleep(slow_return)
        committer.execute(_command(5))

    leader = threading.Thread(target=first)
    leader.start()
    wait_until(lambda: committer.leading("toy") and len(recorder.groups) == 1, 10, "the first group")
    others = [threading.Thread(target=fast), threading.Thread(target=slow)]
    for t in others:
        t.start()
    wait_until(lambda: committer.waiting("toy") == 2, 10, "2 and 3 to queue")
    recorder.gate.set()
    for t in [leader, *others]:
        t.join(30)
        assert not t.is_alive()
    return recorder.groups, took["4"]


def test_a_leader_waits_for_the_threads_of_the_last_groups_and_not_longer() -> None:
    groups, took = _busy_then_back(gather=5.0, slow_return=0.2, first_back=True)
    # the leader of 4 waited for the threads of 1 and 3 to bring 6 and 5
    assert [sorted(g) for g in groups] == [[1], [2, 3], [4, 5, 6]]
    assert took < 2.5  # it led as soon as the threads were back, not after the whole gather


def test_without_gather_the_first_thread_back_leads_alone() -> None:
    groups, _ = _busy_then_back(gather=0.0, slow_return=0.2, first_back=True)
    assert [sorted(g) for g in groups[:3]] == [[1], [2, 3], [4]]


@pytest.mark.parametrize("gather", [5.0])
def test_after_a_group_of_one_a_command_waits_for_nobody(gather: float) -> None:
    recorder = _Recorder()
    recorder.gate.set()
    committer = GroupCommit(recorder.group, recorder.one, most=64, gather=gather)
    other = threading.Thread(target=committer.execute, args=(_command(1),))
    other.start()
    other.join(10)
    start = time.monotonic()
    # light load: the last group was of one, so its thread (which never comes back) is not awaited
    committer.execute(_command(2))
    assert time.monotonic() - start < gather / 2
    assert recorder.groups == [[1], [2]]


def test_a_thread_that_does_not_come_back_delays_the_leader_by_the_gather_at_most() -> None:
    groups, took = _busy_then_back(gather=0.3, slow_return=3.0, first_back=False)
    assert [sorted(g) for g in groups] == [[1], [2, 3], [4], [5]]  # 4 gave up on the threads of 1 and 3
    assert 0.2 < took < 2.5
