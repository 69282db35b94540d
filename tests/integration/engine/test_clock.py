"""The clock: simulated time is shared through the database; the system clock cannot be moved."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.support import Stack, running_stack, wait_until
from workflows.errors import BadInput, ClockNotSimulated
from workflows.store.db import Database
from workflows.time.clock import SimulatedClock, SystemClock, parse_span


def test_simulated_clock_is_shared_by_every_process(stack: Stack) -> None:
    db = Database(stack.runtime.db.url)  # another process's connection
    try:
        other = SimulatedClock(db, ttl=0)
        before = other.now()
        stack.clock.advance(timedelta(hours=49))
        seen = other.now()
        assert timedelta(hours=49) <= seen - before < timedelta(hours=49, minutes=5)
        assert other.offset(fresh=True) == stack.clock.offset(fresh=True)
    finally:
        db.dispose()


def test_simulated_clock_only_moves_forward(stack: Stack) -> None:
    with pytest.raises(BadInput, match="only moves forward"):
        stack.clock.advance(timedelta(hours=-1))
    assert stack.clock.offset(fresh=True) == timedelta(0)


def test_system_clock_refuses_to_advance() -> None:
    with pytest.raises(ClockNotSimulated, match="YUNSHANG_CLOCK=simulated"):
        SystemClock().advance(timedelta(hours=1))
    assert SystemClock().now().tzinfo is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("49h", timedelta(hours=49)),
        ("2d", timedelta(days=2)),
        ("1d 3h", timedelta(days=1, hours=3)),
        ("90m", timedelta(minutes=90)),
    ],
)
def test_parse_span(text: str, expected: timedelta) -> None:
    assert parse_span(text) == expected


@pytest.mark.parametrize("text", ["", "49", "49 hours", "-1h", "h"])
def test_parse_span_refuses_what_it_cannot_read(text: str, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="is not a time span: write it like 49h"):
        parse_span(text)


@pytest.mark.production
def test_reading_the_simulated_clock_never_waits_for_the_pool(tmp_path: Path) -> None:
    """A transaction that holds a row lock reads the clock while every other pooled connection is in
    a transaction waiting for that lock: the read must not wait for them (they wait for it)."""
    with running_stack("production", tmp_path) as stack:
        iid = stack.start_toy("clock-under-lock")
        url = stack.runtime.db.url
    db = Database(url, pool_size=1, lock_timeout=3.0)  # 2 connections in all
    watch = Database(url)  # sees the waiter blocked
    clock = SimulatedClock(db, ttl=0)
    locked, errors = threading.Event(), []

    def waiter_blocked() -> bool:
        with watch.read() as s:
            waiting = s.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar_one()
        return int(waiting) > 0

    def holder() -> None:
        with db.transaction() as s:
            s.execute(text("SELECT id FROM instances WHERE id = :i FOR UPDATE"), {"i": iid})
            locked.set()
            # the waiter now holds the pool's second connection, blocked on this row
            wait_until(waiter_blocked, timeout=5, what="the waiter to block on the row")
            clock.now()

    def waiter() -> None:
        locked.wait()
        try:
            with db.transaction() as s:
                s.execute(text("SELECT id FROM instances WHERE id = :i FOR UPDATE"), {"i": iid})
        except Exception as exc:  # a lock timeout: the holder waited for a connection
            errors.append(exc)

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    started = time.monotonic()
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        db.dispose()
        watch.dispose()
    assert errors == []
    assert time.monotonic() - started < 3.0
