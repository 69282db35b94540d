"""Dead letters: messages that exhausted their retries, kept in the database with the error that killed
them, listed and requeued by operators (``yunshang deadletters list|requeue``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dramatiq
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflows.errors import DeadLetterNotFound
from workflows.messaging.broker_view import view_of
from workflows.messaging.outbox import Relay
from workflows.store.db import Database
from workflows.store.models import DeadLetter, Outbox
from workflows.store.rows import Pending
from workflows.time.clock import Clock

log = logging.getLogger("yunshang.deadletters")


class RecordDeadLetters(dramatiq.Middleware):
    """Writes a row when the Retries middleware gives up on a message.

    Add it *before* Retries: ``after_*`` hooks run in reverse order, so it then sees ``message.failed``.
    """

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None or not message.failed:
            return
        error = message.options.get("traceback") or f"{type(exception).__name__}: {exception}"
        log.error("message %s (%s) dead-lettered: %s", message.message_id, message.actor_name, exception)
        try:
            with self.db.transaction() as session:
                record_dead(
                    session,
                    message,
                    error=error,
                    attempts=int(message.options.get("retries", 0)),  # failed attempts
                    failed_at=self.clock.now(),
                )
        except Exception:
            log.exception(
                "could not record dead letter %s; it stays in the broker's dead-letter queue and is "
                "recorded from there once the database answers",
                message.message_id,
            )


def record_dead(
    session: Session,
    message: dramatiq.Message[Any] | Any,
    *,
    error: str,
    attempts: int,
    failed_at: datetime,
    if_newer: bool = False,
) -> bool:
    """Record (or re-record) ``message`` as dead. With ``if_newer`` (a copy drained from the
    broker), a row already there is left alone unless it was requeued: a requeue drops the broker's
    copies, so a copy found after one is a later death. Returns whether anything was written."""
    existing = session.execute(
        select(DeadLetter).where(DeadLetter.message_id == message.message_id)
    ).scalar_one_or_none()
    if existing is not None and if_newer and existing.requeued_at is None:
        return False
    if existing is None:
        existing = DeadLetter(message_id=message.message_id)
        session.add(existing)
    existing.queue = message.queue_name.removesuffix(".DQ")
    existing.actor = message.actor_name
    existing.message = {"args": list(message.args), "kwargs": dict(message.kwargs)}
    existing.error = error
    existing.attempts = attempts
    existing.failed_at = failed_at
    existing.requeued_at = None
    return True


@dataclass(frozen=True)
class DeadLetterView:
    id: int
    message_id: str
    actor: str
    queue: str
    error: str
    attempts: int
    failed_at: datetime
    message: dict[str, Any]
    requeued_at: datetime | None = None
    requeued_by: str | None = None
    requeue_reason: str | None = None

    @classmethod
    def of(cls, d: DeadLetter) -> DeadLetterView:
        return cls(
            d.id,
            d.message_id,
            d.actor,
            d.queue,
            d.error,
            d.attempts,
            d.failed_at,
            d.message,
            d.requeued_at,
            d.requeued_by,
            d.requeue_reason,
        )

    def as_json(self, full_error: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "message_id": self.message_id,
            "actor": self.actor,
            "attempts": self.attempts,
            "failed_at": self.failed_at.isoformat(),
            "error": self.error if full_error else self.error_line,
            "message": self.message,
        }
        if self.requeued_at is not None:
            out.update(
                requeued_at=self.requeued_at.isoformat(),
                requeued_by=self.requeued_by,
                requeue_reason=self.requeue_reason,
            )
        return out

    @property
    def error_line(self) -> str:
        lines = [line for line in self.error.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""


def list_dead(db: Database, include_requeued: bool = False) -> list[DeadLetterView]:
    query = select(DeadLetter).order_by(DeadLetter.id)
    if not include_requeued:
        query = query.where(DeadLetter.requeued_at.is_(None))
    with db.read() as session:
        return [DeadLetterView.of(d) for d in session.execute(query).scalars()]


def requeue(
    db: Database, relay: Relay, clock: Clock, dead_id: int, *, operator: str = "cli", reason: str = ""
) -> DeadLetterView:
    """Send a dead letter again through the outbox (same message id: consumers dedupe); mark it
    requeued, with who did it and why (kept on the row and logged)."""
    with db.transaction() as session:
        row = session.get(DeadLetter, dead_id)
        if row is None or row.requeued_at is not None:
            raise DeadLetterNotFound(f"no dead letter #{dead_id} waiting; see `yunshang deadletters list`")
        args = row.message.get("args", [])
        session.execute(update(Outbox).where(Outbox.id == row.message_id).values(sent_at=None, done_at=None))
        again = Pending(row.message_id, row.queue, row.actor, args[0] if args else {})
        row.requeued_at = clock.now()
        row.requeued_by = operator[:100]
        row.requeue_reason = reason or None
        session.flush()
        view = DeadLetterView.of(row)
        # the broker's dead-lettered copies go before the requeue commits: a copy found later is
        # a later death (see ``record_dead``)
        view_of(relay.broker).forget_ids([again.id])
    relay.send([again])
    log.warning(
        "dead letter #%s (%s) requeued by %s: %s", dead_id, view.actor, operator, reason or "no reason given"
    )
    return view
