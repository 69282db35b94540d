"""Hot reload: schedulers pick up edited files, every process converges on the active version, and a
reload under traffic never lets a transition see a mix of two rule sets."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import dramatiq
import pytest
from sqlalchemy import select

from rules import content_hash
from tests.integration.ruleset.conftest import MakeRuntime, copy_rules, replace_line, set_toy_deadline
from tests.support import Stack, wait_until
from workflows.engine.commands import Cause, StartSpec
from workflows.ruleset.adapter import RulesFollower, RulesWatcher
from workflows.ruleset.versions import RuleVersions, version_of
from workflows.runtime import Runtime
from workflows.services import build_scheduler
from workflows.store.models import Instance, TimerRow


def start_toy(runtime: Runtime, key: str) -> int:
    with runtime.transaction() as session:
        return runtime.engine.start(
            session, "toy", key, subject=None, context={}, cause=Cause(kind="system")
        ).instance_id


def review_window(stack: Stack, instance_id: int) -> float:
    (timer,) = stack.timers(instance_id)
    return (timer.due_at - timer.created_at).total_seconds()


def test_two_processes_converge_and_a_broken_edit_changes_nothing(
    stack: Stack, rules_dir: Path, runtimes: MakeRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler_process = runtimes(rules_dir)  # stores and activates the folder
    worker_process = runtimes(rules_dir)
    v1 = version_of(content_hash(rules_dir))
    assert scheduler_process.engine.deadlines.version == worker_process.engine.deadlines.version == v1

    scheduler = build_scheduler(scheduler_process)
    assert scheduler.get_job("rules") is not None
    worker = dramatiq.Worker(worker_process.broker, worker_threads=1)
    scheduler.start()
    worker.start()  # its FollowRules middleware polls the active version
    try:
        set_toy_deadline(rules_dir, "3h")
        v2 = version_of(content_hash(rules_dir))
        wait_until(lambda: scheduler_process.engine.deadlines.version == v2, what="the scheduler to reload")
        wait_until(lambda: worker_process.engine.deadlines.version == v2, what="the worker to follow")
        instance_id = start_toy(worker_process, "after-edit")
        assert review_window(stack, instance_id) == 3 * 3600
        assert stack.instance(instance_id).rules_version == v2

        replace_line(rules_dir, "deadlines.yaml", "      review_deadline:", "      review_deadline: 3 days")
        versions = RuleVersions(stack.runtime.db, stack.runtime.clock, stack.runtime.registry.flows)
        wait_until(lambda: any(v.status == "rejected" for v in versions.all()), what="the rejection")
        rejected = next(v for v in versions.all() if v.status == "rejected")
        assert rejected.lint_report is not None
        assert (
            "deadlines.yaml:46:7: error: flows.toy.awaiting_review.review_deadline: deadline '3 days' is not "
            "a duration: write 48h or 2 working days" in rejected.lint_report
        )
        wait_until(lambda: "rules reload rejected" in caplog.text, what="the lint report in the log")
        assert "review_deadline: deadline '3 days' is not a duration" in caplog.text
        active = versions.active()
        assert active is not None and active.version == v2
        assert scheduler_process.engine.deadlines.version == worker_process.engine.deadlines.version == v2
        assert review_window(stack, start_toy(scheduler_process, "after-broken-edit")) == 3 * 3600
    finally:
        scheduler.shutdown(wait=True)
        worker.stop()
    follower = worker_process.follower
    assert follower is not None and follower._thread is None  # stopped with the worker


def test_a_change_made_elsewhere_is_followed(stack: Stack, tmp_path: Path, runtimes: MakeRuntime) -> None:
    runtime = runtimes(copy_rules(tmp_path / "a", toy="2h"))
    follower = runtime.follower
    assert follower is not None
    assert follower.sync() is False
    other = RuleVersions(
        stack.runtime.db, stack.runtime.clock, stack.runtime.registry.flows
    )  # e.g. `yunshang rules reload`
    result = other.reload(copy_rules(tmp_path / "b", toy="4h"), note="from the CLI")
    assert runtime.engine.deadlines.version != result.version
    assert follower.sync() is True
    assert runtime.engine.deadlines.version == result.version
    assert runtime.engine.deadlines.deadline("toy", "awaiting_review", "review_deadline") == "4h"


def test_reload_under_traffic_never_mixes_rule_sets(stack: Stack, tmp_path: Path) -> None:
    runtime = stack.runtime
    two_hours, three_hours = copy_rules(tmp_path / "two", toy="2h"), copy_rules(tmp_path / "three", toy="3h")
    follower = RulesFollower(
        runtime.rules, RuleVersions(runtime.db, runtime.clock, runtime.registry.flows), 0.05
    )
    expected = {
        follower.reload(three_hours).version: 3 * 3600.0,
        follower.reload(two_hours).version: 2 * 3600.0,
    }
    started = [0]
    flips = [0]
    count = threading.Lock()
    errors: list[BaseException] = []
    done = threading.Event()

    def traffic(thread: int) -> None:
        i = 0
        try:
            while not done.is_set():
                i += 1
                command = runtime.engine.command(
                    "toy",
                    "note",
                    cause=Cause(kind="event", id=f"t{thread}-{i}"),
                    dedupe_key=f"note:{thread}:{i}",
                    payload={"text": "visited"},
                    business_key=f"mix-{thread}-{i}",
                    start=StartSpec(),
                )
                runtime.execute(command)
                with count:
                    started[0] += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            done.set()

    def more_traffic_than(seen: int) -> Callable[[], bool]:
        # at most 4 commands (one per thread) were in flight at the swap: the 5th began after it
        return lambda: started[0] >= seen + 5 or done.is_set()

    def reloads() -> None:
        try:
            for flip in range(8):
                follower.reload(three_hours if flip % 2 == 0 else two_hours)
                flips[0] += 1
                wait_until(more_traffic_than(started[0]), what="traffic under the new rules")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    threads = [threading.Thread(target=traffic, args=(n,)) for n in range(4)]
    threads.append(threading.Thread(target=reloads))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert flips[0] == 8

    with runtime.db.read() as session:
        rows = session.execute(
            select(Instance.id, Instance.rules_version, TimerRow.due_at, TimerRow.created_at)
            .join(TimerRow, TimerRow.instance_id == Instance.id)
            .where(Instance.business_key.startswith("mix-"))
        ).all()
        instances = session.execute(select(Instance.id).where(Instance.business_key.startswith("mix-"))).all()
    assert len(rows) == len(instances) == started[0]
    used: dict[str, int] = {}
    for _, version, due_at, created_at in rows:
        assert version in expected, version
        assert (due_at - created_at).total_seconds() == expected[version]
        used[version] = used.get(version, 0) + 1
    assert set(used) == set(expected), used  # both rule sets really served traffic


def test_the_watcher_waits_for_the_folder_to_hold_still(
    stack: Stack, rules_dir: Path, runtimes: MakeRuntime
) -> None:
    runtime = runtimes(rules_dir)
    assert runtime.follower is not None
    watcher = RulesWatcher(runtime.follower, runtime.settings.rules_dir)
    first = runtime.engine.deadlines.version
    assert watcher.poll() is None  # first look: remember the folder
    settled = watcher.poll()
    assert settled is not None and (settled.outcome, settled.version) == ("unchanged", first)
    assert watcher.poll() is None  # nothing changed: nothing to do

    set_toy_deadline(rules_dir, "90 hours")
    assert watcher.poll() is None  # just changed: maybe still being saved
    set_toy_deadline(rules_dir, "6h")
    assert watcher.poll() is None  # changed again
    result = watcher.poll()
    assert result is not None and result.outcome == "activated"
    assert runtime.engine.deadlines.deadline("toy", "awaiting_review", "review_deadline") == "6h"
    stored = RuleVersions(stack.runtime.db, stack.runtime.clock, stack.runtime.registry.flows).all()
    assert [(v.status, v.author) for v in stored] == [
        ("superseded", "yunshang"),
        ("active", "yunshang (file watcher)"),
    ]
    assert stored[1].note == f"hot reload of {rules_dir}"
