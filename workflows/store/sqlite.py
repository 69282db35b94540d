"""SQLite's statements (the embedded stack): one statement per table, ``executemany`` over the rows.

In-process a statement costs microseconds, so a batch's writes go table by table; ``BEGIN IMMEDIATE``
already holds the database, so the lock is a plain read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Insert, Table, bindparam, insert
from sqlalchemy.dialects import sqlite

from workflows.store.dialect import Claim, Statements
from workflows.store.rows import HistoryRow, NewInstance, NewTimer, Transition
from workflows.store.sql import (
    ARM,
    CANCEL,
    DONE,
    HISTORY,
    HISTORY_TABLE,
    INSTANCES,
    LOCK,
    MOVE,
    OUTBOX,
    SEEN,
    TIMERS,
    TIMERS_TABLE,
)

_START = (
    sqlite.insert(INSTANCES)
    .on_conflict_do_nothing(index_elements=["flow", "business_key"])
    .returning(INSTANCES.c.id)
)


class Sqlite(Statements):
    name = "sqlite"
    LOCK = LOCK.where(
        INSTANCES.c.flow == bindparam("flow"),
        INSTANCES.c.id.in_(bindparam("ids", expanding=True))
        | INSTANCES.c.business_key.in_(bindparam("keys", expanding=True)),
    )
    SEEN = SEEN.where(
        HISTORY_TABLE.c.instance_id.in_(bindparam("ids", expanding=True)),
        HISTORY_TABLE.c.dedupe_key.in_(bindparam("dkeys", expanding=True)),
    )
    TIMERS = TIMERS.where(TIMERS_TABLE.c.id.in_(bindparam("tids", expanding=True)))

    def write(
        self,
        conn: Connection,
        applied: Sequence[Transition],
        rejected: Sequence[HistoryRow],
        done: Sequence[str],
        now: datetime,
    ) -> None:
        if done:
            conn.execute(DONE, [{"oid": oid, "now": now} for oid in done])
        history = [w.history.values() for w in applied] + [r.values() for r in rejected]
        if history:
            conn.execute(HISTORY, history)
        if not applied:
            return
        conn.execute(MOVE, [{**w.move.values(), "now": now} for w in applied])
        cancel = [{"iid": w.move.iid, "now": now} for w in applied if w.move.cancel]
        if cancel:  # before the new state's timers are armed: those stay armed
            conn.execute(CANCEL, cancel)
        timers = [t.values(w.move.iid) for w in applied for t in w.timers]
        if timers:
            conn.execute(ARM, timers)
        outbox = [o.values() for w in applied for o in w.outbox]
        if outbox:
            conn.execute(OUTBOX, outbox)

    def start(
        self, conn: Connection, starts: Sequence[NewInstance], timers: Sequence[NewTimer]
    ) -> dict[str, int]:
        started: dict[str, int] = {}
        for start in starts:
            new: int | None = conn.execute(_START, start.values()).scalar()
            if new is None:
                continue
            started[start.business_key] = new
            conn.execute(HISTORY, {**start.history.values(), "instance_id": new})
            if timers:
                conn.execute(ARM, [t.values(new) for t in timers])
        return started

    def insert_rows(
        self,
        conn: Connection,
        table: Table,
        rows: Sequence[dict[str, Any]],
        *,
        skip_conflicts_on: tuple[str, ...] = (),
        returning: str = "",
    ) -> list[Any]:
        if not rows:
            return []
        statement: Any = insert(table)
        if skip_conflicts_on:
            statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
        if returning:
            return list(conn.execute(statement.returning(table.c[returning]), list(rows)).scalars())
        conn.execute(statement, list(rows))
        return []

    def insert_ignoring(self, table: Table, conflict: tuple[str, ...], returning: str) -> Insert:
        return _insert_ignoring(table, conflict, returning)

    def claim(self, query: Claim, of: Any) -> Claim:
        return query  # BEGIN IMMEDIATE serialises the claimers


@lru_cache(maxsize=16)
def _insert_ignoring(table: Table, conflict: tuple[str, ...], returning: str) -> Insert:
    return (
        sqlite.insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(table.c[returning])
    )
