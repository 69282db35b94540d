"""Read-only summaries for operators: instances per flow × state, timers, dead letters, and the
reconciliation of what was accepted against what took effect (``reconcile``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from workflows.messaging.broker_view import BrokerView
from workflows.messaging.timers import next_due
from workflows.queries.reconcile import Reconciliation, reconcile
from workflows.store.db import Database
from workflows.store.models import DeadLetter, Instance, Outbox


@dataclass
class StatusReport:
    states: dict[str, dict[str, int]] = field(default_factory=dict)
    open_timers: int = 0
    next_due: datetime | None = None
    dead_letters: int = 0
    outbox_unsent: int = 0
    reconciliation: Reconciliation | None = None

    def as_json(self) -> dict[str, object]:
        extra = {} if self.reconciliation is None else {"reconciliation": self.reconciliation.as_json()}
        return {
            "instances": self.states,
            "open_timers": self.open_timers,
            "next_due": self.next_due.isoformat() if self.next_due else None,
            "dead_letters": self.dead_letters,
            "outbox_unsent": self.outbox_unsent,
            **extra,
        }


def status(db: Database, view: BrokerView | None = None, now: datetime | None = None) -> StatusReport:
    """The summary; with the broker's ``view`` and the time, the reconciliation too."""
    report = StatusReport()
    with db.read() as session:
        rows = session.execute(
            select(Instance.flow, Instance.state, func.count()).group_by(Instance.flow, Instance.state)
        ).all()
        for flow, state, count in rows:
            report.states.setdefault(flow, {})[state] = int(count)
        report.dead_letters = int(
            session.execute(
                select(func.count()).select_from(DeadLetter).where(DeadLetter.requeued_at.is_(None))
            ).scalar_one()
        )
        report.outbox_unsent = int(
            session.execute(
                select(func.count()).select_from(Outbox).where(Outbox.sent_at.is_(None))
            ).scalar_one()
        )
    report.open_timers, report.next_due = next_due(db)
    if view is not None and now is not None:
        report.reconciliation = reconcile(db, view, now)
    return report
