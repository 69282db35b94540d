"""The clock: simulated time is shared through the database; the system clock cannot be moved."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.support import Stack
from workflows.clock import SimulatedClock, SystemClock, parse_span
from workflows.db import Database
from workflows.errors import BadInput, ClockNotSimulated


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
