"""Recovery: no committed outbox row stays unfinished without being re-sent or dead-lettered.

One pass (the scheduler runs it every ``relay_interval``):

1. **Drain dead letters.** Messages the broker dead-lettered while the database was unreachable (so
   ``RecordDeadLetters`` could not write them) are recorded in ``dead_letters`` from the broker's
   dead-letter queue, then dropped from it.
2. **Re-send what is lost.** An unfinished row (``done_at`` empty, not dead) is re-sent, keeping its
   message id (consumers dedupe, so a re-send is harmless), when
   - it was never stamped sent and is older than ``unsent_grace``; or
   - it was sent at least ``redeliver_after`` seconds ago and the broker no longer holds it (Redis
     lost its data, say). A broker that cannot tell what it holds gets the row again on a timetable:
     ``redeliver_after`` × 2^(sends − 1), at most an hour apart.

   A row the broker still holds is left alone, and a row this process re-sent is not re-sent again
   before its backoff ends even when stamping it failed, so a failing stamp cannot become a storm.
   A row the broker lost ``max_sends`` times (it can tell: Redis) is dead-lettered with that reason;
   on a broker that cannot tell (RabbitMQ) a row may simply wait in a long backlog, so it is never
   dead-lettered this way and is sent again at most hourly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import dramatiq
from sqlalchemy import select, tuple_

from workflows.messaging.broker_view import BrokerView
from workflows.messaging.deadletters import record_dead
from workflows.messaging.outbox import Relay
from workflows.store.db import Database
from workflows.store.models import DeadLetter, Outbox
from workflows.store.rows import Pending
from workflows.time.clock import Clock

log = logging.getLogger("yunshang.recovery")

#: the longest wait between two re-sends of one row
MAX_BACKOFF = 3600.0


@dataclass(frozen=True)
class RecoveryResult:
    drained: int = 0
    resent: int = 0
    dead: int = 0


@dataclass(frozen=True)
class _Row:
    pending: Pending
    created_at: datetime
    sent_at: datetime | None
    sends: int


class Recovery:
    def __init__(
        self,
        db: Database,
        relay: Relay,
        view: BrokerView,
        clock: Clock,
        *,
        unsent_grace: float,
        redeliver_after: float,
        max_sends: int,
        page: int = 1000,
    ) -> None:
        self.db = db
        self.relay = relay
        self.view = view
        self.clock = clock
        self.unsent_grace = unsent_grace
        self.redeliver_after = redeliver_after
        self.max_sends = max_sends
        self.page = page
        #: rows this process re-sent: (times, when last) — their sent-stamp may have failed
        self._resent: dict[str, tuple[int, datetime]] = {}

    def run(self) -> RecoveryResult:
        drained = self.drain_dead()
        resent, dead = self.resend()
        if drained or resent or dead:
            log.warning(
                "recovery: %d dead letters drained from the broker, %d outbox rows re-sent, "
                "%d dead-lettered after %d sends",
                drained,
                resent,
                dead,
                self.max_sends,
            )
        return RecoveryResult(drained, resent, dead)

    def drain_dead(self) -> int:
        """Record the broker's dead letters in the database, then drop them from the broker."""
        found = self.view.dead(self.clock.now())
        if not found:
            return 0
        recorded = 0
        with self.db.transaction() as session:
            for item in found:
                message = item.message
                written = record_dead(
                    session,
                    message,
                    error="dead-lettered by the broker while the database was unreachable; "
                    "the last error was not recorded (see the worker log)",
                    attempts=int(message.options.get("retries", 0)),
                    failed_at=item.failed_at,
                    if_newer=True,
                )
                recorded += int(written)
        self.view.forget(found)
        return recorded

    def resend(self) -> tuple[int, int]:
        """Re-send the unfinished rows that are due; dead-letter those sent too often."""
        self.relay.flush()
        now = self.clock.now()
        horizon = now - timedelta(seconds=min(self.unsent_grace, self.redeliver_after))
        resent = dead = 0
        after: tuple[datetime, str] | None = None
        while True:
            rows = self._candidates(horizon, after)
            if not rows:
                break
            after = (rows[-1].created_at, rows[-1].pending.id)
            due = [row for row in rows if self._due(row, now)]
            if due:
                held = self.view.held([row.pending for row in due])
                if held:
                    due = [row for row in due if row.pending.id not in held]
                # lost max_sends times (a broker that tells); one that cannot tell may still hold
                # the row, and gets it again at most hourly instead
                limit = self.max_sends if self.view.tells_held else None
                spent = [row for row in due if limit is not None and row.sends >= limit]
                dead += self._dead_letter(spent, now)
                again = [row.pending for row in due if limit is None or row.sends < limit]
                resent += self.relay.send(again)
                for row in again:
                    times = self._resent.get(row.id, (0, now))[0]
                    self._resent[row.id] = (times + 1, now)
            if len(rows) < self.page:
                break
        self.relay.flush()
        self._forget_old(now)
        return resent, dead

    def _due(self, row: _Row, now: datetime) -> bool:
        times, last = self._resent.get(row.pending.id, (0, now))
        base = max(self.unsent_grace, self.redeliver_after, 1.0)
        if times and (now - last).total_seconds() < _backoff(base, times):
            return False  # re-sent by this process lately (its stamp may not have landed)
        if row.sent_at is None:
            return row.created_at <= now - timedelta(seconds=self.unsent_grace)
        if self.view.in_process:
            return False
        wait = self.redeliver_after
        if not self.view.tells_held:  # a timetable with backoff
            wait = _backoff(self.redeliver_after, row.sends)
        return row.sent_at <= now - timedelta(seconds=wait)

    def _candidates(self, horizon: datetime, after: tuple[datetime, str] | None) -> list[_Row]:
        known = sorted(self.relay.broker.get_declared_actors())
        dead = select(DeadLetter.message_id).where(DeadLetter.requeued_at.is_(None))
        query = select(
            Outbox.id,
            Outbox.queue,
            Outbox.actor,
            Outbox.message,
            Outbox.created_at,
            Outbox.sent_at,
            Outbox.sends,
        ).where(
            Outbox.done_at.is_(None),
            Outbox.created_at <= horizon,
            Outbox.actor.in_(known),
            Outbox.id.not_in(dead),
        )
        if after is not None:
            query = query.where(tuple_(Outbox.created_at, Outbox.id) > tuple_(*after))
        query = query.order_by(Outbox.created_at, Outbox.id).limit(self.page)
        with self.db.read() as session:
            return [
                _Row(Pending(r.id, r.queue, r.actor, r.message), r.created_at, r.sent_at, int(r.sends or 0))
                for r in session.execute(query)
            ]

    def _dead_letter(self, rows: list[_Row], now: datetime) -> int:
        if not rows:
            return 0
        with self.db.transaction() as session:
            for row in rows:
                message: dramatiq.Message[Any] = dramatiq.Message(
                    queue_name=row.pending.queue,
                    actor_name=row.pending.actor,
                    args=(row.pending.message,),
                    kwargs={"outbox_id": row.pending.id},
                    options={},
                    message_id=row.pending.id,
                )
                record_dead(
                    session,
                    message,
                    error=f"sent {row.sends} times and no consumer finished it",
                    attempts=row.sends,
                    failed_at=now,
                )
        for row in rows:
            log.error(
                "outbox message %s (%s) dead-lettered after %d sends",
                row.pending.id,
                row.pending.actor,
                row.sends,
            )
        return len(rows)

    def _forget_old(self, now: datetime) -> None:
        stale = [k for k, (_, last) in self._resent.items() if (now - last).total_seconds() > MAX_BACKOFF * 2]
        for key in stale:
            del self._resent[key]


def _backoff(base: float, times: int) -> float:
    return float(min(MAX_BACKOFF, base * 2 ** max(0, min(times - 1, 20))))
