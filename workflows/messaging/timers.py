"""The timer sweep: due timers are claimed, marked fired and turned into outbox messages.

Several scheduler processes may sweep at once: on PostgreSQL each claims rows with
``FOR UPDATE SKIP LOCKED``; on SQLite ``BEGIN IMMEDIATE`` serialises sweepers. A timer is fired at most
once by the sweep, and its message is committed with the claim, so it is delivered at least once; the
history's dedupe key (``timer:<id>``) makes the transition happen exactly once. The timers due at once
go out as messages of up to ``message_batch`` commands per flow, each applied in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from workflows.engine.commands import Cause, Command
from workflows.engine.rows import command_messages
from workflows.messaging.outbox import Relay
from workflows.store.db import Database
from workflows.store.models import Instance, Outbox, TimerRow, TimerStatus, table
from workflows.store.rows import OutboxRow, pending, stamped
from workflows.time.clock import Clock

log = logging.getLogger("yunshang.timers")


@dataclass(frozen=True)
class SweepResult:
    fired: int
    late_seconds_max: float


class Sweeper:
    def __init__(
        self, db: Database, clock: Clock, relay: Relay, batch: int = 500, message_batch: int = 50
    ) -> None:
        self.db = db
        self.clock = clock
        self.relay = relay
        self.batch = batch  # timers claimed per transaction
        #: commands per message: a worker applies the due timers of one message in one transaction
        self.message_batch = message_batch

    def sweep(self, max_batches: int | None = None) -> SweepResult:
        """Fire every timer due now; returns how many and the worst lateness."""
        fired = 0
        worst = 0.0
        batches = 0
        while max_batches is None or batches < max_batches:
            count, late = self._sweep_batch()
            batches += 1
            fired += count
            worst = max(worst, late)
            if count < self.batch:
                break
        return SweepResult(fired, worst)

    def _sweep_batch(self) -> tuple[int, float]:
        now = self.clock.now()
        query = (
            select(TimerRow.id, TimerRow.trigger, TimerRow.due_at, TimerRow.instance_id, Instance.flow)
            .join(Instance, Instance.id == TimerRow.instance_id)
            .where(TimerRow.status == TimerStatus.ARMED, TimerRow.due_at <= now)
            .order_by(TimerRow.due_at)
            .limit(self.batch)
        )
        query = self.db.statements.claim(query, of=TimerRow)
        worst = 0.0
        with self.relay.transaction() as session:
            due = session.execute(query).all()
            if not due:
                return 0, 0.0
            session.execute(
                update(TimerRow)
                .where(TimerRow.id.in_([t.id for t in due]))
                .values(status=TimerStatus.FIRED, fired_at=now)
            )
            commands = []
            for timer in due:
                worst = max(worst, (now - timer.due_at).total_seconds())
                commands.append(
                    Command(
                        flow=timer.flow,
                        trigger=timer.trigger,
                        instance_id=timer.instance_id,
                        cause=Cause(kind="timer", id=str(timer.id)),
                        dedupe_key=f"timer:{timer.id}",
                    )
                )
            rows = [message for message, _ in command_messages(commands, self.message_batch)]
            outbox = [row.values() for row in stamped(session, [OutboxRow.of(r, now) for r in rows])]
            self.db.statements.insert_rows(session.connection(), table(Outbox), outbox)
            pending(session).extend(rows)
        return len(due), worst


def next_due(db: Database) -> tuple[int, datetime | None]:
    """How many timers are armed, and when the next one falls due."""
    with db.read() as session:
        count, due = session.execute(
            select(func.count(), func.min(TimerRow.due_at)).where(TimerRow.status == TimerStatus.ARMED)
        ).one()
    if isinstance(due, str):  # SQLite aggregate loses the column type
        due = datetime.fromisoformat(due)
    if due is not None and due.tzinfo is None:
        from datetime import UTC

        due = due.replace(tzinfo=UTC)
    return int(count), due
