"""The hot path's statements behind one interface, chosen once per database (``Database.statements``).

The reads are one implementation each, here — the row lock (ids and/or business keys, in id order), the
dedupe read that follows it as a statement of its own, the stale-timer read — over the statement each
dialect module prebuilds. The writes — one batch of transitions and rejected attempts, one batch of
starts, many rows into a table — differ in shape: PostgreSQL sends every row of a batch in JSON array
parameters to one statement (``store/postgres.py``), SQLite runs a statement per table over the rows
(``store/sqlite.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Connection, Insert, Select, Table, select, tuple_

from workflows.store.models import InboxEvent, table
from workflows.store.rows import HistoryRow, LockedRow, NewInstance, NewTimer, TimerState, Transition

_INBOX = table(InboxEvent)

#: a SELECT (of any columns) the timer sweep claims rows with
Claim = TypeVar("Claim", bound=Select[*tuple[Any, ...]])


class Statements(ABC):
    """What the engine, the timer sweep and the intake run, for one SQL dialect."""

    name: ClassVar[str]
    #: instances of ``flow`` by ``ids`` or business ``keys``, ordered by id (locked on PostgreSQL)
    LOCK: ClassVar[Select[Any]]
    #: (instance id, dedupe key) of history rows among ``ids`` × ``dkeys``
    SEEN: ClassVar[Select[Any]]
    #: (id, status, state) of the timers ``tids``
    TIMERS: ClassVar[Select[Any]]

    def lock(self, conn: Connection, flow: str, ids: Sequence[int], keys: Sequence[str]) -> list[LockedRow]:
        """Lock the instances of ``flow`` named by id or business key, in id order."""
        found = conn.execute(self.LOCK, {"flow": flow, "ids": list(ids), "keys": list(keys)})
        return [LockedRow(r.id, r.state, r.context, r.version, r.business_key) for r in found]

    def seen(self, conn: Connection, pairs: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which (instance id, dedupe key) pairs were applied already. Run it AFTER the lock, as a
        statement of its own: on PostgreSQL a statement that waited for a row lock still reads through
        the snapshot it took before the wait, and would miss the history committed meanwhile."""
        if not pairs:
            return set()
        params = {"ids": sorted({i for i, _ in pairs}), "dkeys": sorted({k for _, k in pairs})}
        wanted = set(pairs)
        return {(r.instance_id, r.dedupe_key) for r in conn.execute(self.SEEN, params)} & wanted

    def stored_events(self, conn: Connection, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (source, event id) pairs the inbox holds already (the intake's duplicates of a batch)."""
        if not keys:
            return set()
        found = conn.execute(
            select(_INBOX.c.source, _INBOX.c.event_id).where(
                tuple_(_INBOX.c.source, _INBOX.c.event_id).in_(list(keys))
            )
        )
        return {(source, event_id) for source, event_id in found}

    def timers(self, conn: Connection, ids: Sequence[int]) -> dict[int, TimerState]:
        """The timers ``ids`` as the stale-timer check reads them (a missing one is absent)."""
        if not ids:
            return {}
        return {r.id: TimerState(r.status, r.state) for r in conn.execute(self.TIMERS, {"tids": list(ids)})}

    @abstractmethod
    def write(
        self,
        conn: Connection,
        applied: Sequence[Transition],
        rejected: Sequence[HistoryRow],
        done: Sequence[str],
        now: datetime,
    ) -> None:
        """Persist transitions (on distinct instances) and rejected attempts, and mark the consumed
        outbox messages ``done`` (in id order: see ``Relay._stamp``)."""

    @abstractmethod
    def start(
        self, conn: Connection, starts: Sequence[NewInstance], timers: Sequence[NewTimer]
    ) -> dict[str, int]:
        """Insert instances of one flow (distinct business keys) with their start history rows and
        ``timers``, unless their business key exists. The new ids by business key (a key that existed
        is absent, and nothing of it was written)."""

    @abstractmethod
    def insert_rows(
        self,
        conn: Connection,
        table: Table,
        rows: Sequence[dict[str, Any]],
        *,
        skip_conflicts_on: tuple[str, ...] = (),
        returning: str = "",
    ) -> list[Any]:
        """Insert ``rows`` (dicts with the same keys) in one go; rows colliding on the
        ``skip_conflicts_on`` columns are skipped. The ``returning`` column of the rows inserted."""

    @abstractmethod
    def insert_ignoring(self, table: Table, conflict: tuple[str, ...], returning: str) -> Insert:
        """One row's INSERT that does nothing when the ``conflict`` columns collide, returning
        ``returning`` (None when nothing was inserted). Build it once and keep it."""

    @abstractmethod
    def claim(self, query: Claim, of: Any) -> Claim:
        """``query`` made to claim its rows of ``of`` (a table or entity) so that concurrent claimers
        skip them (the timer sweep)."""
