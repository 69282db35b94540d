"""A group commit marks several messages' outbox rows done in one transaction while the relay stamps
rows sent in another: both lock the rows in id order, so they never deadlock (before, a group marked
them in the order its threads arrived, and under load the relay's stamp and a group deadlocked and
one of them was cancelled after PostgreSQL's one-second deadlock timeout). PostgreSQL: the rows are
locked (SQLite writers take the one write lock)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import OperationalError

from tests.support import PG_URL, Stack, running_stack, wait_until
from workflows.engine.commands import Cause, Command
from workflows.store.rows import Pending


def _decide(stack: Stack, iid: int, key: str) -> Command:
    return stack.runtime.engine.command(
        "toy", "decide", cause=Cause(kind="event", id=key), dedupe_key=key,
        payload={"decision": "approve"}, instance_id=iid,
    )  # fmt: skip


@contextmanager
def _connection() -> Iterator[Connection]:
    engine = create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _lockable(conn: Connection, oid: str) -> bool:
    """Whether no other transaction holds outbox row ``oid`` now (asked without waiting)."""
    with conn.begin() as tx:
        try:
            conn.execute(text("SELECT id FROM outbox WHERE id = :o FOR UPDATE NOWAIT"), {"o": oid})
            return True
        except OperationalError:
            return False
        finally:
            tx.rollback()


def _blocked_behind(holder: Connection, work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """Run ``work`` in a thread until it waits for a lock ``holder`` holds."""
    done: list[object] = []
    thread = threading.Thread(target=lambda: done.append(work()))
    thread.start()
    pid = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND :pid = ANY("
        "pg_blocking_pids(pid))"
    )
    with _connection() as watcher:

        def waiting() -> bool:
            with watcher.begin():  # a fresh statistics snapshot each time
                return int(watcher.execute(query, {"pid": pid}).scalar_one()) > 0

        wait_until(waiting, 10, "a lock wait")
    return thread, done


@pytest.mark.production
def test_a_group_and_the_sent_stamp_lock_outbox_rows_in_id_order(tmp_path: Path) -> None:
    with running_stack("production", tmp_path) as stack:
        stack.worker.stop()  # the messages wait in Redis: this test applies them itself
        iids = [stack.start_toy(f"order-{i}") for i in range(2)]
        oids = [stack.send(iid, "decide", f"order-{iid}", {"decision": "approve"}) for iid in iids]
        stack.runtime.relay.flush()
        low, high = sorted(oids)
        first = oids.index(high)  # the group gets the highest id first, as its threads arrived
        commands = [_decide(stack, iids[i], f"order-{iids[i]}") for i in (first, 1 - first)]
        with _connection() as holder, _connection() as probe:
            # another transaction holds the lowest row: the group waits for it, holding nothing else
            tx = holder.begin()
            holder.execute(text("SELECT id FROM outbox WHERE id = :o FOR UPDATE"), {"o": low})
            group, outcomes = _blocked_behind(
                holder, lambda: stack.runtime.execute_group(commands, [high, low])
            )
            assert _lockable(probe, high), "the group marked the higher id done before the lower one"
            tx.rollback()
            group.join(30)
            assert [o.status for o in outcomes[0]] == ["applied", "applied"]  # type: ignore[attr-defined]

            # the sent-stamp, likewise: the lowest row held, it waits for it before touching the other
            tx = holder.begin()
            holder.execute(text("SELECT id FROM outbox WHERE id = :o FOR UPDATE"), {"o": low})
            rows = [Pending(oid, "toy", "toy.advance", {}) for oid in (high, low)]
            stamp, _ = _blocked_behind(holder, lambda: stack.runtime.relay.send(rows))
            assert _lockable(probe, high), "the stamp locked the higher id before the lower one"
            tx.rollback()
            stamp.join(30)
