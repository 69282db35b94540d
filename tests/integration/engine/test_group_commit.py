"""Group commit: single commands that worker threads hold at the same time are applied in one
transaction, each with the outcome it would get alone; a group that fails is applied one by one, so
only its bad command fails. On every stack, with the real worker and real threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.support import Stack, running_stack, statements, wait_until
from workflows.engine.apply import Outcome
from workflows.engine.commands import Cause, Command
from workflows.errors import InstanceNotFound
from workflows.store.models import History, Outbox


def _decide(stack: Stack, iid: int, key: str) -> Command:
    return stack.runtime.engine.command(
        "toy",
        "decide",
        cause=Cause(kind="event", id=key),
        dedupe_key=key,
        payload={"decision": "approve"},
        instance_id=iid,
    )


@contextmanager
def _holding(stack: Stack, iid: int) -> Iterator[None]:
    """A transaction that holds instance ``iid`` (its row on PostgreSQL; SQLite's write lock)."""
    with stack.runtime.db.transaction() as session:
        if stack.runtime.db.is_postgres:
            session.execute(text("SELECT id FROM instances WHERE id = :i FOR UPDATE"), {"i": iid})
        yield


def _submit_all(stack: Stack, commands: list[Command], first_blocked: int) -> dict[int, Any]:
    """Submit ``commands[0]`` while ``first_blocked`` is held, so that it leads and waits; the others
    queue behind it; then let go. Returns each command's outcome or exception, by index."""
    results: dict[int, Any] = {}
    committer = stack.runtime.committer
    assert committer is not None

    def run(i: int) -> None:
        try:
            results[i] = stack.runtime.submit(commands[i])
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(commands))]
    with _holding(stack, first_blocked):
        threads[0].start()
        wait_until(lambda: committer.waiting("toy") == 0 and committer.leading("toy"), 10, "a leader")
        for t in threads[1:]:
            t.start()
        wait_until(lambda: committer.waiting("toy") == len(commands) - 1, 10, "the others to queue")
    for t in threads:
        t.join(30)
    return results


def test_waiting_commands_are_applied_in_one_group(stack_kind: str, tmp_path: Path) -> None:
    with running_stack(stack_kind, tmp_path) as stack:
        ids = [stack.start_toy(f"g{i}") for i in range(7)]
        committer = stack.runtime.committer
        assert committer is not None
        before = (committer.groups, committer.commands)
        commands = [_decide(stack, iid, f"decide-{iid}") for iid in ids]
        commands.append(_decide(stack, ids[3], f"decide-{ids[3]}"))  # a redelivery, in the same group
        results = _submit_all(stack, commands, ids[0])
        assert all(isinstance(r, Outcome) for r in results.values()), results
        assert [results[i].status for i in range(len(ids))] == ["applied"] * len(ids)
        assert results[len(ids)].status == "duplicate"
        # the first alone, the 7 that waited behind it together
        assert (committer.groups - before[0], committer.commands - before[1]) == (2, 8)
        for iid in ids:
            assert stack.instance(iid).state == "decided"
            assert [h.trigger for h in stack.history(iid)] == ["start", "decide"]


def test_a_group_with_a_bad_command_applies_the_others_one_by_one(stack_kind: str, tmp_path: Path) -> None:
    with running_stack(stack_kind, tmp_path) as stack:
        ids = [stack.start_toy(f"b{i}") for i in range(5)]
        committer = stack.runtime.committer
        assert committer is not None
        commands = [_decide(stack, iid, f"decide-{iid}") for iid in ids]
        commands.insert(2, _decide(stack, 999_999, "decide-missing"))
        results = _submit_all(stack, commands, ids[0])
        assert isinstance(results[2], InstanceNotFound)
        good = [r for i, r in results.items() if i != 2]
        assert [r.status for r in good] == ["applied"] * len(ids)
        with stack.runtime.db.read() as s:
            rows = s.execute(select(func.count()).select_from(History).where(History.trigger == "decide"))
            assert rows.scalar_one() == len(ids)  # each once: the failed group wrote nothing


@pytest.mark.parametrize("messages", [200])
def test_the_worker_groups_a_burst_and_marks_every_message_done(
    stack_kind: str, tmp_path: Path, messages: int
) -> None:
    with running_stack(stack_kind, tmp_path) as stack:
        ids = [stack.start_toy(f"w{i}") for i in range(messages)]
        committer = stack.runtime.committer
        assert committer is not None
        before = (committer.groups, committer.commands)
        engine = stack.runtime.engine
        with stack.runtime.transaction() as session:  # one message per command, sent at once
            for iid in ids:
                engine.enqueue(session, _decide(stack, iid, f"burst-{iid}"))
        stack.settle()
        groups, commands = committer.groups - before[0], committer.commands - before[1]
        assert commands == messages
        assert groups < messages  # some messages shared a transaction
        with stack.runtime.db.read() as s:
            undone = s.execute(select(func.count()).select_from(Outbox).where(Outbox.done_at.is_(None)))
            assert undone.scalar_one() == 0
        assert {stack.instance(iid).state for iid in ids} == {"decided"}


def test_a_group_marks_its_messages_done_in_its_write(stack_kind: str, tmp_path: Path) -> None:
    """Every message of a group is marked done by the group's one write (PostgreSQL: a part of its
    statement, the rows locked in id order first; before, one more statement marked the others)."""
    with running_stack(stack_kind, tmp_path) as stack:
        ids = [stack.start_toy(f"m{i}") for i in range(3)]
        oids = [f"group-done-{n}" for n in (2, 0, 1)]  # not in id order: the engine sorts them
        with stack.runtime.db.transaction() as session:  # rows of messages not sent to any worker
            for oid in oids:
                session.add(
                    Outbox(
                        id=oid,
                        queue="toy",
                        actor="toy.advance",
                        message={},
                        created_at=stack.runtime.clock.now(),
                    )
                )
        commands = [_decide(stack, iid, f"gd-{iid}") for iid in ids]
        with statements(stack) as seen:
            outcomes = stack.runtime.execute_group(commands, oids)
        assert [o.status for o in outcomes] == ["applied"] * 3
        touching = [s for s in seen if "outbox" in s.lower()]
        assert len(touching) == 1, touching
        with stack.runtime.db.read() as s:
            done = s.execute(select(Outbox.id).where(Outbox.id.in_(oids), Outbox.done_at.is_not(None)))
            assert sorted(done.scalars()) == sorted(oids)
