"""The outbox relay: messages committed with a transition reach the broker after commit.

Every outbox row's id is its Dramatiq message id. A process that hands a transaction's rows to the
broker right after the commit (``Runtime.transaction``, the sweeper) writes them already stamped sent
(``sent_at``, one of ``sends``: ``store.rows.stamped``), so a row is written twice in its life — created
and done — not three times; a send that fails un-stamps the rows it could not send. Any other send (a
re-send, a requeued dead letter) stamps its rows after it, in one UPDATE per ``stamp_interval``.
``recovery.Recovery`` re-sends rows never stamped and rows sent that the broker no longer holds — which
is also what a crash between a commit and its send leaves; on the embedded stack, whose broker lives in
the process, rows not yet ``done`` are re-dispatched at start-up. Consumers dedupe, so sending twice is
harmless; losing is not.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dramatiq
from dramatiq.common import current_millis
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflows.messaging.brokers import enqueue_all
from workflows.store.db import Database
from workflows.store.models import DeadLetter, Outbox
from workflows.store.rows import Pending, pending, will_send
from workflows.store.sql import DONE
from workflows.time.clock import Clock

log = logging.getLogger("yunshang.outbox")


def to_message(row: Pending) -> dramatiq.Message[Any]:
    return dramatiq.Message(
        queue_name=row.queue,
        actor_name=row.actor,
        args=(row.message,),
        kwargs={"outbox_id": row.id},
        options={},
        message_id=row.id,
        message_timestamp=current_millis(),
    )


class Relay:
    def __init__(self, db: Database, broker: dramatiq.Broker, clock: Clock, *, dispatch: bool = True) -> None:
        self.db = db
        self.broker = broker
        self.clock = clock
        #: False in a process whose broker nobody consumes (an embedded-stack CLI command): rows are
        #: left unsent for the serving process's re-send pass instead of vanishing in a local stub
        self.dispatch = dispatch
        self._held: set[str] = set()
        #: ids handed to the broker, stamped ``sent_at`` in one UPDATE per ``stamp_interval`` by a
        #: background thread (a crash before the stamp only means a harmless re-send)
        self.stamp_interval = 0.1
        self._unstamped: list[str] = []
        self._stamp_lock = threading.Lock()
        self._stamper: threading.Thread | None = None
        self._closing = threading.Event()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A transaction whose outbox rows (``pending``) are handed to the broker once it has
        committed — and so are written stamped sent (``store.rows.stamped``)."""
        with self.db.transaction() as session:
            will_send(session, self.sends)
            yield session
            rows = list(pending(session))
        if rows:
            self.send(rows, stamped=True)

    def sends(self, actor: str) -> bool:
        """Whether ``send`` hands ``actor``'s messages to the broker (not: this process does not
        dispatch, or no such actor is declared here, so the rows wait for another's re-send pass)."""
        return self.dispatch and actor in self.broker.actors

    def send(self, rows: Sequence[Pending], *, stamped: bool = False) -> int:
        """Hand rows to the broker and stamp them sent; rows written ``stamped`` already (those
        ``sends`` accepts, ``store.rows.stamped``) are un-stamped if they could not be sent. A failure
        leaves them for the re-send pass."""
        if not self.dispatch:
            return 0
        ready: list[Pending] = []
        for row in rows:
            if not self.sends(row.actor):  # e.g. a referral to a flow not deployed yet: held, not lost
                self._hold(row)
            else:
                ready.append(row)
        sent = enqueue_all(self.broker, [to_message(row) for row in ready])
        if stamped:
            if len(sent) < len(ready):
                went = set(sent)
                self._unstamp([row.id for row in ready if row.id not in went])
            return len(sent)
        if sent:
            with self._stamp_lock:
                self._unstamped.extend(sent)
                if self._stamper is None:
                    self._stamper = threading.Thread(
                        target=self._stamp_loop, name="yunshang-outbox-stamp", daemon=True
                    )
                    self._stamper.start()
        return len(sent)

    def flush(self) -> None:
        """Stamp every row handed to the broker so far as sent."""
        with self._stamp_lock:
            ids, self._unstamped = self._unstamped, []
        if ids:
            try:
                self._stamp(ids)
            except Exception:
                log.exception("could not stamp %d outbox rows as sent; they may be sent again", len(ids))

    def _stamp_loop(self) -> None:
        while not self._closing.wait(self.stamp_interval):
            self.flush()

    def close(self) -> None:
        self._closing.set()
        if self._stamper is not None:
            self._stamper.join(timeout=10)
        self.flush()

    def _hold(self, row: Pending) -> None:
        if row.actor not in self._held:
            self._held.add(row.actor)
            log.warning("holding outbox messages for %s: no such actor is declared here yet", row.actor)

    def _stamp(self, ids: list[str], sent: bool = True) -> None:
        """Stamp ``ids`` sent (or, ``sent=False``, take back the stamp they were written with), locking
        their rows in id order first: a worker's group commit marks several rows done in one
        transaction, in id order too, so the two never deadlock."""
        values = {"sent_at": self.clock.now(), "sends": Outbox.sends + 1}
        if not sent:
            values = {"sent_at": None, "sends": Outbox.sends - 1}
        with self.db.transaction() as session:
            for chunk in _chunks(sorted(set(ids)), 500):
                if self.db.is_postgres:  # in Python's order of the ids (bytewise), whatever the collation
                    locked = select(Outbox.id).where(Outbox.id.in_(chunk)).order_by(Outbox.id.collate("C"))
                    session.execute(locked.with_for_update())
                session.execute(update(Outbox).where(Outbox.id.in_(chunk)).values(**values))

    def _unstamp(self, ids: list[str]) -> None:
        """Rows written stamped sent that the broker did not take: unsent again, for the re-send pass
        (if even this fails they look sent, and the pass re-sends them as lost by the broker)."""
        try:
            self._stamp(ids, sent=False)
        except Exception:
            log.exception("could not un-stamp %d outbox rows the broker did not take", len(ids))

    def mark_done(self, outbox_id: str) -> None:
        """A side-effect consumer finished the message: the row needs no more re-sends."""
        with self.db.transaction() as session:
            session.connection().execute(DONE, {"oid": outbox_id, "now": self.clock.now()})

    def redispatch_undone(self, limit: int = 1000) -> int:
        """Embedded start-up: re-send every row no consumer has finished (not dead-lettered ones)."""
        total = 0
        after = ""
        while True:
            rows = self._select(Outbox.done_at.is_(None), Outbox.id > after, limit=limit, dead_too=False)
            if not rows:
                break
            total += self.send(rows)
            after = rows[-1].id
        if total:
            log.info("re-dispatched %d unfinished outbox messages", total)
        return total

    def _select(self, *where: Any, limit: int, dead_too: bool = True) -> list[Pending]:
        known = sorted(self.broker.get_declared_actors())
        query = select(Outbox.id, Outbox.queue, Outbox.actor, Outbox.message).where(
            *where, Outbox.actor.in_(known)
        )
        if not dead_too:
            dead = select(DeadLetter.message_id).where(DeadLetter.requeued_at.is_(None))
            query = query.where(Outbox.id.not_in(dead))
        query = query.order_by(Outbox.id).limit(limit)
        with self.db.read() as session:
            return [Pending(r.id, r.queue, r.actor, r.message) for r in session.execute(query)]


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
