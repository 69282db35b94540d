"""The one place that reads the wall clock.

``SystemClock`` is real time. ``SimulatedClock`` is real time plus an offset stored in the database,
so every process (API, workers, schedulers) agrees on the simulated now; ``advance`` moves it forward.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import select

from workflows.errors import BadInput, ClockNotSimulated
from workflows.store.db import Database
from workflows.store.models import ClockOffset


class Clock(Protocol):
    simulated: bool

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    simulated = False

    def now(self) -> datetime:
        return datetime.now(UTC)

    def advance(self, delta: timedelta) -> datetime:
        raise ClockNotSimulated()


def monotonic() -> float:
    """Seconds on a monotonic clock, for measuring durations (not a point in time)."""
    return time.monotonic()


class SimulatedClock:
    """Wall time plus a shared offset. The offset is cached for ``ttl`` seconds."""

    simulated = True

    def __init__(self, db: Database, ttl: float = 0.2) -> None:
        self._db = db
        self._ttl = ttl
        self._offset = timedelta(0)
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def offset(self, *, fresh: bool = False) -> timedelta:
        with self._lock:
            if fresh or time.monotonic() - self._read_at > self._ttl:
                # read on a connection of its own: ``now()`` is called inside transactions that may
                # hold locks other transactions of the main pool are waiting for
                with self._db.side().read() as session:
                    row = session.get(ClockOffset, 1)
                    self._offset = timedelta(seconds=row.offset_seconds if row else 0.0)
                self._read_at = time.monotonic()
            return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()

    def advance(self, delta: timedelta) -> datetime:
        """Move the shared clock forward by ``delta`` and return the new now."""
        if delta <= timedelta(0):
            raise BadInput(f"the clock only moves forward; got {delta}")
        with self._db.transaction() as session:
            row = session.execute(select(ClockOffset).where(ClockOffset.id == 1).with_for_update()).scalar()
            real_now = datetime.now(UTC)
            if row is None:
                row = ClockOffset(id=1, offset_seconds=0.0, updated_at=real_now)
                session.add(row)
            row.offset_seconds += delta.total_seconds()
            row.updated_at = real_now
            offset = row.offset_seconds
        with self._lock:
            self._offset = timedelta(seconds=offset)
            self._read_at = time.monotonic()
        return datetime.now(UTC) + self._offset


def build_clock(simulated: bool, db: Database) -> SystemClock | SimulatedClock:
    return SimulatedClock(db) if simulated else SystemClock()


_SPAN = re.compile(r"(\d+)\s*(d|h|m|s)")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_span(text: str) -> timedelta:
    """``49h``, ``2d``, ``1d 3h``, ``90m`` → timedelta; anything else is a clear error."""
    cleaned = text.strip().lower()
    parts = _SPAN.findall(cleaned)
    if not parts or _SPAN.sub("", cleaned).strip():
        raise BadInput(f"{text!r} is not a time span: write it like 49h, 2d, 90m or 1d 3h")
    return sum((timedelta(**{_UNITS[unit]: int(n)}) for n, unit in parts), timedelta(0))
