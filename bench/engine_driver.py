"""The engine benchmark's driver: it plays the API, enqueueing commands in waves and timing them."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from bench.common import (
    wait_for,
)
from workflows.engine.commands import Cause, Command
from workflows.runtime import Runtime
from workflows.store.models import DeadLetter, History, Instance, Outbox, TimerRow


@dataclass
class WaveResult:
    trigger: str
    sent: int
    applied: int
    rejected: int
    seconds_db: float  # first outbox row created → last history row written
    seconds_wall: float  # first enqueue → driver saw every outbox row done
    seconds_send: float = 0.0  # first outbox row created → last one created (the driver's part)
    latencies: list[float] = field(default_factory=list)  # created → History.at
    waits: list[float] = field(default_factory=list)  # created → done_at (picked up by a worker)


class Driver:
    """Starts instances and sends commands through the outbox, as an API or intake process would."""

    def __init__(self, runtime: Runtime, run_id: str, batch: int = 1, together: bool = False) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.run_id = run_id
        #: commands per message (1: one ``toy.advance`` message each; more: ``toy.advance_many``)
        self.batch = batch
        #: one message per command written in one outbox INSERT per transaction (``enqueue_many``),
        #: instead of an INSERT per command (``enqueue``, what a lone event's request does)
        self.together = together

    def start_instances(self, count: int, label: str, batch: int = 200) -> tuple[list[int], float]:
        ids: list[int] = []
        t0 = time.perf_counter()
        for first in range(0, count, batch):
            with self.runtime.transaction() as session:
                for i in range(first, min(count, first + batch)):
                    outcome = self.engine.start(
                        session,
                        "toy",
                        f"{self.run_id}-{label}-{i}",
                        subject=None,
                        context={},
                        cause=Cause(kind="system"),
                    )
                    ids.append(outcome.instance_id)
        return ids, time.perf_counter() - t0

    def commands(self, ids: Sequence[int], trigger: str, payload: dict[str, Any] | None) -> list[Command]:
        return [
            self.engine.command(
                "toy",
                trigger,
                cause=Cause(kind="event", id=f"{self.run_id}:{iid}:{trigger}"),
                dedupe_key=f"{self.run_id}:{iid}:{trigger}",
                payload=payload,
                instance_id=iid,
            )
            for iid in ids
        ]

    def _send(self, commands: Sequence[Command]) -> list[str]:
        with self.runtime.transaction() as session:
            if self.batch > 1 or self.together:
                return self.engine.enqueue_many(session, commands, self.batch)
            return [self.engine.enqueue(session, c) for c in commands]

    def send_backlog(self, commands: Sequence[Command], batch: int = 200) -> list[str]:
        sent: list[str] = []
        for first in range(0, len(commands), batch):
            sent += self._send(commands[first : first + batch])
        return sent

    def send_paced(self, commands: Sequence[Command], rate: float, tick: float = 0.01) -> list[str]:
        per_tick = max(1, round(rate * tick))
        step = per_tick / rate
        sent: list[str] = []
        due = time.perf_counter()
        for first in range(0, len(commands), per_tick):
            sent += self._send(commands[first : first + per_tick])
            due += step
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        return sent

    def undone(self) -> int:
        with self.runtime.db.transaction() as s:
            return int(
                s.execute(
                    select(func.count()).select_from(Outbox).where(Outbox.done_at.is_(None))
                ).scalar_one()
            )

    def left(self, ids: Sequence[str]) -> set[str]:
        """Those of the outbox rows ``ids`` not done yet."""
        found: set[str] = set()
        with self.runtime.db.read() as s:
            for chunk in _chunks(ids, 1000):
                # done or not read from the rows, not as ``done_at IS NULL``: planned from statistics
                # that saw few undone rows, that condition read the partial index of every undone row
                query = select(Outbox.id, Outbox.done_at).where(Outbox.id.in_(chunk))
                found.update(oid for oid, done in s.execute(query) if done is None)
        return found

    def wave(
        self, trigger: str, commands: Sequence[Command], rate: float | None, timeout: float
    ) -> WaveResult:
        t0 = time.perf_counter()
        ids = self.send_paced(commands, rate) if rate else self.send_backlog(commands)
        remaining = list(dict.fromkeys(ids))

        def finished() -> bool:
            # the wave's own rows, the last sent first (consumed about last): each poll costs the
            # database a few index probes, not a scan of every undone row (a table never vacuumed
            # keeps every row once undone in that partial index: 9-24 ms a poll at 12,000 rows)
            nonlocal remaining
            if self.left(remaining[-50:]):
                return False
            left = self.left(remaining)
            remaining = [oid for oid in remaining if oid in left]
            return not remaining

        t1 = wait_for(finished, timeout, f"{len(ids)} {trigger} commands", pause=0.02)
        return self._measure(trigger, commands, ids, t1 - t0)

    def _measure(
        self, trigger: str, commands: Sequence[Command], outbox_ids: list[str], wall: float
    ) -> WaveResult:
        created: dict[str, tuple[datetime, datetime | None]] = {}
        applied: dict[str, datetime] = {}
        rejected = 0
        keys: dict[str, list[str]] = {}  # a message of a batch carries several commands
        for oid, c in zip(outbox_ids, commands, strict=True):
            keys.setdefault(oid, []).append(c.dedupe_key)
        instance_ids = [c.instance_id for c in commands if c.instance_id is not None]
        with self.runtime.db.transaction() as s:
            for chunk in _chunks(list(keys), 1000):
                for row in s.execute(
                    select(Outbox.id, Outbox.created_at, Outbox.done_at).where(Outbox.id.in_(chunk))
                ):
                    for key in keys[row.id]:
                        created[key] = (row.created_at, row.done_at)
            for ichunk in _chunks(instance_ids, 1000):
                for h in s.execute(
                    select(History.dedupe_key, History.at, History.outcome).where(
                        History.instance_id.in_(ichunk), History.trigger == trigger
                    )
                ):
                    if h.outcome == "applied":
                        applied[h.dedupe_key] = h.at
                    else:
                        rejected += 1
        latencies = [(at - created[k][0]).total_seconds() for k, at in applied.items() if k in created]
        waits = [(d - c).total_seconds() for c, d in created.values() if d is not None]
        first = min(c for c, _ in created.values())
        last = max(applied.values()) if applied else first
        return WaveResult(
            trigger=trigger,
            sent=len(outbox_ids),
            applied=len(applied),
            rejected=rejected,
            seconds_db=max((last - first).total_seconds(), 1e-9),
            seconds_wall=wall,
            seconds_send=(max(c for c, _ in created.values()) - first).total_seconds(),
            latencies=latencies,
            waits=waits,
        )

    def verify(self) -> dict[str, Any]:
        """Every instance archived, every timer cancelled, nothing rejected or dead-lettered."""
        with self.runtime.db.transaction() as s:
            states = dict(s.execute(select(Instance.state, func.count()).group_by(Instance.state)).all())
            timers = dict(s.execute(select(TimerRow.status, func.count()).group_by(TimerRow.status)).all())
            outcomes = dict(s.execute(select(History.outcome, func.count()).group_by(History.outcome)).all())
            dead = s.execute(select(func.count()).select_from(DeadLetter)).scalar_one()
        total = sum(states.values())
        ok = (
            states.get("archived", 0) == total
            and timers.get("cancelled", 0) == total
            and outcomes.get("applied", 0) == 3 * total
            and not outcomes.get("rejected")
            and dead == 0
        )
        return {
            "ok": ok,
            "instances_by_state": states,
            "timers_by_status": timers,
            "history_by_outcome": outcomes,
            "dead_letters": dead,
        }


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


# ====================================================================== stacks
