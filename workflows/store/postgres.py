"""PostgreSQL's statements: a batch's rows travel as JSON arrays, so one statement writes them all.

Every row of a batch — history rows, instance moves, timers, outbox rows, new instances — goes in ONE
JSON array parameter (``json_to_recordset``): the statement text is the same whatever the number of
rows, so it is parsed and prepared once, and a transition is one round trip however much it writes. A
multi-row ``VALUES`` list would be a new statement text for every batch size, parsed again on every
call. The lock and the reads take their ids as arrays (``= ANY``) for the same reason.

The reads of pairs — the history dedupe, the inbox duplicates of a batch — join the pairs, given as two
parallel arrays, from ``unnest``: a nested loop of probes of the two-column unique index whatever the
planner knows of the table. ``a = ANY(:as) AND b = ANY(:bs)`` (or a row ``IN`` list) is planned from
statistics: a table never analyzed got a sequential scan of ``history``, or a scan of every inbox row
of the source with the ids as a filter; and even with statistics it probes the cross product of the
arrays.

All sub-statements of one statement see the same snapshot, and none sees another's rows: the UPDATE
that cancels armed timers cannot touch the timers armed beside it, which is what a transition wants.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Insert,
    String,
    Table,
    TextClause,
    any_,
    bindparam,
    text,
)
from sqlalchemy.dialects import postgresql

from workflows.store.dialect import Claim, Statements
from workflows.store.jsontext import utf8_json
from workflows.store.models import UtcDateTime
from workflows.store.postgres_one import start_one, write_one
from workflows.store.rows import HistoryRow, LockedRow, NewInstance, NewTimer, Transition
from workflows.store.sql import HISTORY_TABLE, INSTANCES, LOCK, SEEN, TIMERS, TIMERS_TABLE

_LOCK, _SEEN = LOCK, SEEN

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]
_IDS = postgresql.ARRAY(BigInteger)
_KEYS = postgresql.ARRAY(String)


def _iso(value: Any) -> str:
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_rows(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as one JSON array (datetimes as ISO 8601 with their offset, dates as ``YYYY-MM-DD``)."""
    return utf8_json(list(rows), default=_iso)


#: the (instance id, dedupe key) pairs of ``:ids`` × ``:dkeys`` (parallel arrays) in the history
_SEEN_PAIRS = text(
    """
SELECT h.instance_id, h.dedupe_key
FROM unnest(CAST(:ids AS bigint[]), CAST(:dkeys AS varchar[])) AS p(iid, dkey)
JOIN history AS h ON h.instance_id = p.iid AND h.dedupe_key = p.dkey
"""
)
#: the (source, event id) pairs of ``:sources`` × ``:eids`` (parallel arrays) in the inbox
_STORED_EVENTS = text(
    """
SELECT e.source, e.event_id
FROM unnest(CAST(:sources AS varchar[]), CAST(:eids AS varchar[])) AS p(source, event_id)
JOIN inbox AS e ON e.source = p.source AND e.event_id = p.event_id
"""
)


#: the parts of a batch's write, each a data-modifying CTE over one JSON array parameter (``done``: the
#: consumed messages' outbox rows, by the primary key alone as ``sql.DONE``, locked in the relay's
#: order first, ``Relay._stamp``); a statement
#: holds the parts its batch needs (at most 2**6 shapes, each prepared once): a part over an empty
#: array still costs the server its JSON parsing and, for the UPDATEs, an index probe
_MOVES = """m AS (
  SELECT * FROM json_to_recordset(CAST(:moves AS json))
    AS m(iid bigint, dest varchar, ver integer, ctx json, closed timestamptz, reopen boolean)
)"""
_PARTS = {
    "history": """h AS (
  INSERT INTO history (instance_id, from_state, to_state, "trigger", outcome, reason, cause_kind,
                       cause_id, "operator", payload, "at", dedupe_key, rules_version)
  SELECT instance_id, from_state, to_state, "trigger", outcome, reason, cause_kind,
         cause_id, "operator", payload, "at", dedupe_key, rules_version
  FROM json_to_recordset(CAST(:history AS json))
    AS x(instance_id bigint, from_state varchar, to_state varchar, "trigger" varchar, outcome varchar,
         reason text, cause_kind varchar, cause_id varchar, "operator" varchar, payload json,
         "at" timestamptz, dedupe_key varchar, rules_version varchar)
)""",
    "cancel": """c AS (
  UPDATE timers SET status = 'cancelled', fired_at = :now
  WHERE status IN ('armed', 'suspended') AND instance_id = ANY(CAST(:cancel AS bigint[]))
)""",
    "timers": """t AS (
  INSERT INTO timers (instance_id, "name", "trigger", state, due_at, provisional, status, created_at)
  SELECT instance_id, "name", "trigger", state, due_at, provisional, status, created_at
  FROM json_to_recordset(CAST(:timers AS json))
    AS x(instance_id bigint, "name" varchar, "trigger" varchar, state varchar, due_at timestamptz,
         provisional boolean, status varchar, created_at timestamptz)
)""",
    "outbox": """o AS (
  INSERT INTO outbox (id, queue, actor, message, created_at, sends, sent_at)
  SELECT id, queue, actor, message, created_at, sends, sent_at
  FROM json_to_recordset(CAST(:outbox AS json))
    AS x(id varchar, queue varchar, actor varchar, message json, created_at timestamptz, sends integer,
         sent_at timestamptz)
)""",
    "done": """l AS (
  SELECT id FROM outbox WHERE id = ANY(CAST(:oids AS varchar[])) ORDER BY id COLLATE "C" FOR UPDATE
), d AS (
  UPDATE outbox AS o SET done_at = COALESCE(o.done_at, :now)
  FROM l WHERE o.id = l.id AND o.id = ANY(CAST(:oids AS varchar[]))
)""",
}
#: ``i.id = ANY(:moved)`` (the ids of ``m`` again, as an array) gives the planner an index condition on
#: ``instances``: joined from ``m`` alone (a function scan it guesses at 100 rows) a table never
#: analyzed was planned as a hash join over a sequential scan of every instance, in every write
_MOVE = """UPDATE instances AS i
SET state = m.dest, context = m.ctx, version = m.ver, updated_at = :now,
    closed_at = CASE WHEN m.reopen THEN NULL ELSE COALESCE(m.closed, i.closed_at) END
FROM m WHERE i.id = m.iid AND i.id = ANY(CAST(:moved AS bigint[]))"""


@lru_cache(maxsize=128)
def _write(moves: bool, parts: tuple[str, ...]) -> TextClause:
    """The write statement of one shape: the moves (if any) and the ``parts`` its batch has."""
    ctes = ([_MOVES] if moves else []) + [_PARTS[part] for part in parts]
    statement = text(f"WITH {', '.join(ctes)}\n{_MOVE if moves else 'SELECT 1'}")
    binds: list[Any] = []
    if moves or "cancel" in parts or "done" in parts:  # the parts that read ``:now``
        binds.append(bindparam("now", type_=UtcDateTime()))
    if "done" in parts:
        binds.append(bindparam("oids", type_=_KEYS))
    if "cancel" in parts:
        binds.append(bindparam("cancel", type_=_IDS))
    if moves:
        binds.append(bindparam("moved", type_=_IDS))
    return statement.bindparams(*binds)


#: many starts of one flow in one statement: instances unless their business key exists, with their
#: start history rows and their initial state's timers; returns the new (id, business key)
_START = text(
    """
WITH r AS (
  SELECT * FROM json_to_recordset(CAST(:rows AS json))
    AS r(n integer, flow varchar, flow_version integer, business_key varchar, subject varchar,
         state varchar, context json, rules_version varchar, version integer, created_at timestamptz,
         updated_at timestamptz, h_from_state varchar, h_to_state varchar, h_trigger varchar,
         h_outcome varchar, h_reason text, h_cause_kind varchar, h_cause_id varchar, h_operator varchar,
         h_payload json, h_at timestamptz, h_dedupe_key varchar)
), started AS (
  INSERT INTO instances (flow, flow_version, business_key, subject, state, context, rules_version,
                         version, created_at, updated_at)
  SELECT flow, flow_version, business_key, subject, state, context, rules_version, version,
         created_at, updated_at
  FROM r ORDER BY n
  ON CONFLICT (flow, business_key) DO NOTHING
  RETURNING id, business_key
), h AS (
  INSERT INTO history (instance_id, from_state, to_state, "trigger", outcome, reason, cause_kind,
                       cause_id, "operator", payload, "at", dedupe_key, rules_version)
  SELECT s.id, r.h_from_state, r.h_to_state, r.h_trigger, r.h_outcome, r.h_reason, r.h_cause_kind,
         r.h_cause_id, r.h_operator, r.h_payload, r.h_at, r.h_dedupe_key, r.rules_version
  FROM started s JOIN r ON r.business_key = s.business_key
), t AS (
  INSERT INTO timers (instance_id, "name", "trigger", state, due_at, provisional, status, created_at)
  SELECT s.id, x."name", x."trigger", x.state, x.due_at, x.provisional, x.status, x.created_at
  FROM started s CROSS JOIN json_to_recordset(CAST(:timers AS json))
    AS x(instance_id bigint, "name" varchar, "trigger" varchar, state varchar, due_at timestamptz,
         provisional boolean, status varchar, created_at timestamptz)
)
SELECT id, business_key FROM started
"""
)


@lru_cache(maxsize=64)
def _insert(table: Table, columns: tuple[str, ...], conflict: tuple[str, ...], returning: str) -> TextClause:
    names = ", ".join(f'"{c}"' for c in columns)
    types = ", ".join(f'"{c}" {table.c[c].type.compile(dialect=_PG)}' for c in columns)
    sql = (
        f'INSERT INTO "{table.name}" ({names}) '
        f"SELECT {names} FROM json_to_recordset(CAST(:rows AS json)) AS x({types})"
    )
    if conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    if returning:
        sql += f' RETURNING "{returning}"'
    return text(sql)


class Postgres(Statements):
    name = "postgresql"
    #: by ids and business keys (a batch naming both); the single-list shapes below are what nearly
    #: every lock uses: an OR of two ``= ANY`` conditions is planned as a filter over every row of the
    #: flow, not as two index probes
    LOCK = LOCK.where(
        INSTANCES.c.flow == bindparam("flow"),
        (INSTANCES.c.id == any_(bindparam("ids", type_=_IDS)))
        | (INSTANCES.c.business_key == any_(bindparam("keys", type_=_KEYS))),
    ).with_for_update(of=INSTANCES)
    #: by ids alone, the flow checked on the rows found (``lock``): with ``flow = :flow`` beside
    #: ``id = ANY(:ids)`` a table never analyzed was planned, generic plan or custom, as a scan of
    #: every instance of the flow (``ix_instances_flow_id`` on the flow, the ids a filter): a group
    #: commit's lock read 2,100 index entries for its 4 or 5 rows at 2,100 instances, and it grows
    #: with the table; the primary key is the only index that leads with the id
    LOCK_IDS = (
        _LOCK.add_columns(INSTANCES.c.flow)
        .where(INSTANCES.c.id == any_(bindparam("ids", type_=_IDS)))
        .with_for_update(of=INSTANCES)
    )
    LOCK_KEYS = _LOCK.where(
        INSTANCES.c.flow == bindparam("flow"),
        INSTANCES.c.business_key == any_(bindparam("keys", type_=_KEYS)),
    ).with_for_update(of=INSTANCES)
    #: (the dedupe read of many pairs is ``_SEEN_PAIRS``, not a condition on this select)
    SEEN = SEEN
    TIMERS = TIMERS.where(TIMERS_TABLE.c.id == any_(bindparam("tids", type_=_IDS)))
    #: one instance by id, one dedupe key: a lone command's lock and dedupe read, by equality (a
    #: prepared statement's generic plan of ``= ANY($1)`` cost a lone command a third more here)
    LOCK_ONE = _LOCK.where(
        INSTANCES.c.id == bindparam("iid"), INSTANCES.c.flow == bindparam("flow")
    ).with_for_update(of=INSTANCES)
    SEEN_ONE = _SEEN.where(
        HISTORY_TABLE.c.instance_id == bindparam("iid"), HISTORY_TABLE.c.dedupe_key == bindparam("dkey")
    )

    def lock(self, conn: Connection, flow: str, ids: Sequence[int], keys: Sequence[str]) -> list[LockedRow]:
        params = {"flow": flow, "ids": list(ids), "keys": list(keys)}
        if len(ids) == 1 and not keys:
            found = conn.execute(self.LOCK_ONE, {"flow": flow, "iid": ids[0]}).all()
        elif not keys:  # another flow's instance is not found (and its lock is harmless: the command
            # fails its transaction, which releases it)
            found = [r for r in conn.execute(self.LOCK_IDS, params) if r.flow == flow]
        else:
            found = conn.execute(self.LOCK if ids else self.LOCK_KEYS, params).all()
        return [LockedRow(r.id, r.state, r.context, r.version, r.business_key) for r in found]

    def seen(self, conn: Connection, pairs: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        if not pairs:
            return set()
        if len(pairs) == 1:
            ((iid, dkey),) = pairs
            return {(iid, dkey)} if conn.execute(self.SEEN_ONE, {"iid": iid, "dkey": dkey}).first() else set()
        wanted = sorted(set(pairs))
        params = {"ids": [i for i, _ in wanted], "dkeys": [k for _, k in wanted]}
        return {(int(i), str(k)) for i, k in conn.execute(_SEEN_PAIRS, params)}

    def stored_events(self, conn: Connection, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        if not keys:
            return set()
        wanted = sorted(set(keys))
        params = {"sources": [s for s, _ in wanted], "eids": [e for _, e in wanted]}
        return {(str(s), str(e)) for s, e in conn.execute(_STORED_EVENTS, params)}

    def write(
        self,
        conn: Connection,
        applied: Sequence[Transition],
        rejected: Sequence[HistoryRow],
        done: Sequence[str],
        now: datetime,
    ) -> None:
        if not applied and not rejected and not done:
            return
        if len(applied) == 1 and not rejected and len(done) <= 1:  # a lone transition: bound
            write_one(conn, applied[0], done[0] if done else None, now)  # parameters, not JSON
            return
        params: dict[str, Any] = {"now": now}
        history = [w.history.values() for w in applied] + [r.values() for r in rejected]
        if history:
            params["history"] = json_rows(history)
        if applied:
            params["moves"] = json_rows([w.move.values() for w in applied])
            params["moved"] = [w.move.iid for w in applied]
        cancel = [w.move.iid for w in applied if w.move.cancel]
        if cancel:
            params["cancel"] = cancel
        timers = [t.values(w.move.iid) for w in applied for t in w.timers]
        if timers:
            params["timers"] = json_rows(timers)
        outbox = [o.values() for w in applied for o in w.outbox]
        if outbox:
            params["outbox"] = json_rows(outbox)
        if done:
            params["oids"] = sorted(done)
        parts = tuple(part for part in ("history", "cancel", "timers", "outbox") if part in params)
        conn.execute(_write(bool(applied), parts + (("done",) if done else ())), params)

    def start(
        self, conn: Connection, starts: Sequence[NewInstance], timers: Sequence[NewTimer]
    ) -> dict[str, int]:
        if not starts:
            return {}
        if len(starts) == 1:  # one start (a route, a lone command): bound parameters, not JSON
            return start_one(conn, starts[0], timers)
        rows = []
        for n, start in enumerate(starts):
            history = {f"h_{k}": v for k, v in start.history.values().items() if k != "instance_id"}
            rows.append({"n": n, **start.values(), **history})
        params = {"rows": json_rows(rows), "timers": json_rows([t.values(0) for t in timers])}
        return {key: iid for iid, key in conn.execute(_START, params)}

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
        statement = _insert(table, tuple(rows[0]), skip_conflicts_on, returning)
        result = conn.execute(statement, {"rows": json_rows(rows)})
        return list(result.scalars()) if returning else []

    def insert_ignoring(self, table: Table, conflict: tuple[str, ...], returning: str) -> Insert:
        return _insert_ignoring(table, conflict, returning)

    def claim(self, query: Claim, of: Any) -> Claim:
        return query.with_for_update(skip_locked=True, of=of)


@lru_cache(maxsize=16)
def _insert_ignoring(table: Table, conflict: tuple[str, ...], returning: str) -> Insert:
    return (
        postgresql.insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(table.c[returning])
    )
