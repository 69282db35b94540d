"""The typed rows of the hot path: what a transition reads (the locked instance) and writes (history,
the instance's move, timers, outbox rows, new instances).

Each row turns itself into a dict keyed by column name (``values``): PostgreSQL's statements send the
rows of a batch as one JSON array, SQLite's run ``executemany`` over the dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workflows.store.models import TimerStatus


@dataclass(frozen=True, slots=True)
class Pending:
    """An outbox message to hand to the broker after commit (its id is the Dramatiq message id)."""

    id: str
    queue: str
    actor: str
    message: dict[str, Any]


def pending(session: Session) -> list[Pending]:
    """The outbox rows written in this session's transaction, to send once it commits."""
    rows: list[Pending] = session.info.setdefault("outbox", [])
    return rows


#: ``session.info`` key: which actors' messages the process committing this transaction hands to the
#: broker right after the commit (``Runtime.transaction``, ``Relay.sends``)
SENDS = "outbox_sends"


def will_send(session: Session, sends: Callable[[str], bool]) -> None:
    """Declare that the messages of the actors ``sends`` accepts are handed to the broker as soon as
    this session's transaction commits: their outbox rows are written stamped sent (``stamped``)."""
    session.info[SENDS] = sends


@dataclass(frozen=True, slots=True)
class LockedRow:
    """An instance row as the hot path locks and reads it."""

    id: int
    state: str
    context: dict[str, Any]
    version: int
    business_key: str | None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One history row: an applied or rejected trigger, or a start (its instance id then 0 until the
    instance exists)."""

    instance_id: int
    from_state: str | None
    to_state: str | None
    trigger: str
    outcome: str
    reason: str | None
    cause_kind: str
    cause_id: str | None
    operator: str | None
    payload: dict[str, Any]
    at: datetime
    dedupe_key: str
    #: the rule version in force when it was written (``DeadlineSource.version``)
    rules_version: str | None = None

    def values(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "trigger": self.trigger,
            "outcome": self.outcome,
            "reason": self.reason,
            "cause_kind": self.cause_kind,
            "cause_id": self.cause_id,
            "operator": self.operator,
            "payload": self.payload,
            "at": self.at,
            "dedupe_key": self.dedupe_key,
            "rules_version": self.rules_version,
        }


@dataclass(frozen=True, slots=True)
class NewTimer:
    """A timer a state arms on entry (for the instance the write names)."""

    name: str
    trigger: str
    state: str
    due_at: datetime
    provisional: bool
    created_at: datetime
    status: TimerStatus = TimerStatus.ARMED

    def values(self, instance_id: int) -> dict[str, Any]:
        return {
            "instance_id": instance_id,
            "name": self.name,
            "trigger": self.trigger,
            "state": self.state,
            "due_at": self.due_at,
            "provisional": self.provisional,
            "status": self.status,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class TimerState:
    """What the stale-timer check reads of a timer."""

    status: str
    state: str

    def current(self, state: str) -> bool:
        """Whether the timer may still fire on an instance in ``state``."""
        return self.status not in (TimerStatus.CANCELLED, TimerStatus.SUSPENDED) and self.state == state


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A message written to the outbox in the transaction that decided it."""

    id: str
    queue: str
    actor: str
    message: dict[str, Any]
    created_at: datetime
    sends: int = 0
    #: written stamped sent: its process hands it to the broker right after the commit (``stamped``)
    sent_at: datetime | None = None

    @classmethod
    def of(cls, message: Pending, now: datetime) -> OutboxRow:
        return cls(message.id, message.queue, message.actor, message.message, now)

    def values(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "queue": self.queue,
            "actor": self.actor,
            "message": self.message,
            "created_at": self.created_at,
            "sends": self.sends,
            "sent_at": self.sent_at,
        }


def stamped(session: Session, rows: Sequence[OutboxRow]) -> list[OutboxRow]:
    """``rows`` as this session's transaction writes them: stamped sent (``sent_at`` = ``created_at``,
    one send) when the committing process hands them to the broker right after the commit
    (``will_send``), so no second write of each row follows the send. A process that dies between
    its commit and its send leaves rows that look sent and were not: recovery re-sends them as
    messages the broker lost (``Recovery``), and a send that fails un-stamps them (``Relay.send``)."""
    sends = session.info.get(SENDS)
    if sends is None:
        return list(rows)
    return [replace(r, sent_at=r.created_at, sends=r.sends + 1) if sends(r.actor) else r for r in rows]


@dataclass(frozen=True, slots=True)
class Move:
    """An instance's move to its next state (``cancel``: the timers of the state left are cancelled)."""

    iid: int
    dest: str
    ver: int
    ctx: dict[str, Any]
    closed: datetime | None
    cancel: bool
    #: a final state was left for an open one (a closed case reopened): ``closed_at`` is cleared
    reopen: bool = False

    def values(self) -> dict[str, Any]:
        return {
            "iid": self.iid,
            "dest": self.dest,
            "ver": self.ver,
            "ctx": self.ctx,
            "closed": self.closed,
            "reopen": self.reopen,
        }


@dataclass(frozen=True, slots=True)
class Transition:
    """Everything an applied trigger writes."""

    history: HistoryRow
    move: Move
    timers: list[NewTimer] = field(default_factory=list)
    outbox: list[OutboxRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NewInstance:
    """An instance to start, with its start history row (whose instance id is the new row's)."""

    flow: str
    flow_version: int
    business_key: str
    subject: str | None
    state: str
    context: dict[str, Any]
    rules_version: str | None
    created_at: datetime
    history: HistoryRow

    def values(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "flow_version": self.flow_version,
            "business_key": self.business_key,
            "subject": self.subject,
            "state": self.state,
            "context": self.context,
            "rules_version": self.rules_version,
            "version": 1,
            "created_at": self.created_at,
            "updated_at": self.created_at,
        }
