"""Reconciliation an operator can see: what was accepted or committed and has not had its effect yet.

- **Events without their effect**: accepted events (kept in the inbox) of the last ``window`` whose
  cause appears in no history row yet — the command they queued has not been applied (nor
  rejected by its flow). An event that started nothing because its instance existed already
  (``existing``) expects no effect.
- **Outbox rows unsent** (committed, never handed to the broker) and **unfinished** (sent, no
  consumer done with them, not dead-lettered).
- **Dead letters**: recorded ones, and those still only in the broker's dead-letter queue (the
  database was unreachable when they died; recovery drains them).

Each backlog is counted by age; ``stale(threshold)`` names the ones whose oldest item is older than
``threshold`` seconds (``/readyz`` reports degraded then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, select
from sqlalchemy.orm import Session

from workflows.messaging.broker_view import BrokerView
from workflows.store.db import Database
from workflows.store.models import DeadLetter, History, InboxEvent, Outbox

#: age buckets: (label, upper bound in seconds)
BUCKETS: tuple[tuple[str, float | None], ...] = (("under_1m", 60), ("1m_to_10m", 600), ("over_10m", None))
#: route results that expect no effect
NO_EFFECT = ("existing",)


@dataclass
class Backlog:
    count: int = 0
    oldest_seconds: float = 0.0
    by_age: dict[str, int] = field(default_factory=lambda: {label: 0 for label, _ in BUCKETS})

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "oldest_seconds": round(self.oldest_seconds, 1), "by_age": self.by_age}


@dataclass
class Reconciliation:
    events_without_effect: Backlog
    outbox_unsent: Backlog
    outbox_unfinished: Backlog
    dead_letters: int
    #: dead letters only in the broker (None: the broker did not answer)
    dead_in_broker: int | None
    dead_in_broker_oldest_seconds: float = 0.0

    def stale(self, threshold: float) -> list[str]:
        named = {
            "events_without_effect": self.events_without_effect.oldest_seconds,
            "outbox_unsent": self.outbox_unsent.oldest_seconds,
            "outbox_unfinished": self.outbox_unfinished.oldest_seconds,
            "dead_letters_in_broker": self.dead_in_broker_oldest_seconds,
        }
        return [name for name, age in named.items() if age > threshold]

    def as_json(self) -> dict[str, Any]:
        return {
            "events_without_effect": self.events_without_effect.as_json(),
            "outbox_unsent": self.outbox_unsent.as_json(),
            "outbox_unfinished": self.outbox_unfinished.as_json(),
            "dead_letters": self.dead_letters,
            "dead_letters_in_broker": self.dead_in_broker,
        }


def reconcile(db: Database, view: BrokerView, now: datetime, *, window: float = 86_400.0) -> Reconciliation:
    since = now - timedelta(seconds=window)
    effect = exists().where(
        History.cause_kind == "event",
        History.cause_id == InboxEvent.source + literal("#") + InboxEvent.event_id,
    )
    events = and_(InboxEvent.received_at >= since, InboxEvent.status.not_in(NO_EFFECT), ~effect)
    dead = select(DeadLetter.message_id).where(DeadLetter.requeued_at.is_(None))
    undone = and_(Outbox.done_at.is_(None), Outbox.id.not_in(dead))
    with db.read() as session:
        report = Reconciliation(
            events_without_effect=_backlog(session, InboxEvent.received_at, events, now),
            outbox_unsent=_backlog(session, Outbox.created_at, and_(undone, Outbox.sent_at.is_(None)), now),
            outbox_unfinished=_backlog(
                session, Outbox.sent_at, and_(undone, Outbox.sent_at.is_not(None)), now
            ),
            dead_letters=int(
                session.execute(
                    select(func.count()).select_from(DeadLetter).where(DeadLetter.requeued_at.is_(None))
                ).scalar_one()
            ),
            dead_in_broker=None,
        )
    try:
        in_broker = view.dead_since(now)
    except Exception:  # the broker is down: say so instead of failing the whole report
        return report
    report.dead_in_broker = len(in_broker)
    if in_broker:
        report.dead_in_broker_oldest_seconds = max((now - died).total_seconds() for died in in_broker)
    return report


def _backlog(session: Session, at: Any, where: Any, now: datetime) -> Backlog:
    """Count the rows of ``where`` by the age of their ``at`` column, in one query."""
    minute, ten = now - timedelta(seconds=60), now - timedelta(seconds=600)
    tests = (at > minute, and_(at <= minute, at > ten), at <= ten)
    buckets = [func.sum(case((test, 1), else_=0)) for test in tests]
    row = session.execute(select(func.count(), func.min(at), *buckets).where(where)).one()
    oldest = row[1]
    if isinstance(oldest, str):  # SQLite's aggregate loses the column type
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    backlog = Backlog(int(row[0]), max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)
    backlog.by_age = {label: int(n or 0) for (label, _), n in zip(BUCKETS, row[2:], strict=True)}
    return backlog
