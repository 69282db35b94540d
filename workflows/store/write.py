"""A transition's writes in one round trip on PostgreSQL: data-modifying CTEs.

A transition writes a history row, moves the instance, may cancel the old state's timers, arm the new
state's, write outbox rows and mark the message it consumed as done. On SQLite each is a statement of
its own (in-process, a statement costs microseconds). On PostgreSQL every statement is a network round
trip, so the writes go out as ONE statement: ``WITH h AS (INSERT history …), c AS (UPDATE timers …),
t0 AS (INSERT timers …), o0 AS (INSERT outbox …), d AS (UPDATE outbox …) UPDATE instances …``. Starting
an instance likewise: ``WITH started AS (INSERT instances … ON CONFLICT DO NOTHING RETURNING id),
h AS (INSERT history SELECT started.id, …), t0 AS (…) SELECT id FROM started``.

All sub-statements of one statement see the same snapshot, and none sees another's rows: the UPDATE
that cancels armed timers cannot touch the timers armed beside it, which is what a transition wants.
Statements are built once per shape (how many timers, outbox rows, …) and cached; parameters are bound
by name with the columns' own types, so JSON and aware datetimes are handled as everywhere else.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, String, Table, bindparam, insert, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.expression import CTE

from workflows.store.bulk import json_rows
from workflows.store.models import UtcDateTime
from workflows.store.sql import (
    ARM,
    CANCEL,
    DONE,
    HISTORY,
    HISTORY_TABLE,
    INSTANCES,
    MOVE,
    OUTBOX,
    OUTBOX_TABLE,
    START,
    TIMERS_TABLE,
)

HISTORY_COLUMNS = (
    "instance_id",
    "from_state",
    "to_state",
    "trigger",
    "outcome",
    "reason",
    "cause_kind",
    "cause_id",
    "operator",
    "payload",
    "at",
    "dedupe_key",
)
TIMER_COLUMNS = ("instance_id", "name", "trigger", "state", "due_at", "provisional", "status", "created_at")
OUTBOX_COLUMNS = ("id", "queue", "actor", "message", "created_at", "sends")
INSTANCE_COLUMNS = (
    "flow",
    "flow_version",
    "business_key",
    "subject",
    "state",
    "context",
    "rules_version",
    "version",
    "created_at",
    "updated_at",
)


@dataclass
class Writes:
    """What one transition writes (values keyed by column name)."""

    history: dict[str, Any]
    move: dict[str, Any]
    cancel: bool = False
    timers: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    done: str | None = None  # the outbox id of the message being consumed


def _params(table: Table, prefix: str, columns: tuple[str, ...]) -> dict[str, Any]:
    return {name: bindparam(prefix + name, type_=table.c[name].type) for name in columns}


def _insert_cte(table: Table, prefix: str, columns: tuple[str, ...]) -> CTE:
    return insert(table).values(_params(table, prefix, columns)).cte(prefix.rstrip("_"))


#: CANCEL with every value a named parameter (literals inside a CTE are not safely re-bound from the
#: statement cache)
_CANCEL_CTE = (
    TIMERS_TABLE.update()
    .where(TIMERS_TABLE.c.instance_id == bindparam("iid"), TIMERS_TABLE.c.status == bindparam("c_armed"))
    .values(status=bindparam("c_cancelled"), fired_at=bindparam("now"))
    .cte("c")
)
_CANCEL_PARAMS = {"c_armed": "armed", "c_cancelled": "cancelled"}


@lru_cache(maxsize=64)
def _transition_statement(cancel: bool, timers: int, outbox: int, done: bool) -> Any:
    ctes = [_insert_cte(HISTORY_TABLE, "h_", HISTORY_COLUMNS)]
    if cancel:
        ctes.append(_CANCEL_CTE)
    ctes += [
        insert(TIMERS_TABLE)
        .values(instance_id=bindparam("iid"), **_params(TIMERS_TABLE, f"t{i}_", TIMER_COLUMNS[1:]))
        .cte(f"t{i}")
        for i in range(timers)
    ]
    ctes += [_insert_cte(OUTBOX_TABLE, f"o{i}_", OUTBOX_COLUMNS) for i in range(outbox)]
    if done:
        ctes.append(DONE.cte("d"))
    return MOVE.add_cte(*ctes)


def _flat(prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    return {prefix + key: value for key, value in values.items()}


def write_transition(conn: Connection, dialect: str, writes: Writes) -> None:
    """Persist a transition's writes: one statement on PostgreSQL, one per table otherwise."""
    move = writes.move
    if dialect != "postgresql":
        if writes.done is not None:
            conn.execute(DONE, {"oid": writes.done, "now": move["now"]})
        conn.execute(HISTORY, writes.history)
        conn.execute(MOVE, move)
        if writes.cancel:
            conn.execute(CANCEL, {"iid": move["iid"], "now": move["now"]})
        if writes.timers:
            conn.execute(ARM, [{**timer, "instance_id": move["iid"]} for timer in writes.timers])
        for row in writes.outbox:
            conn.execute(OUTBOX, row)
        return
    params: dict[str, Any] = {**move, **_flat("h_", writes.history), **_CANCEL_PARAMS}
    for i, timer in enumerate(writes.timers):
        params.update(_flat(f"t{i}_", timer))
    for i, row in enumerate(writes.outbox):
        params.update(_flat(f"o{i}_", row))
    if writes.done is not None:
        params["oid"] = writes.done
    statement = _transition_statement(
        writes.cancel, len(writes.timers), len(writes.outbox), writes.done is not None
    )
    conn.execute(statement, params)


@lru_cache(maxsize=16)
def _start_statement(timers: int) -> Any:
    started = (
        postgresql.insert(INSTANCES)
        .values(_params(INSTANCES, "i_", INSTANCE_COLUMNS))
        .on_conflict_do_nothing(index_elements=["flow", "business_key"])
        .returning(INSTANCES.c.id)
        .cte("started")
    )

    def child(table: Table, prefix: str, columns: tuple[str, ...]) -> CTE:
        values = _params(table, prefix, columns[1:])
        source = select(started.c.id, *(values[name] for name in columns[1:]))
        return insert(table).from_select(list(columns), source).cte(prefix.rstrip("_"))

    ctes = [child(HISTORY_TABLE, "h_", HISTORY_COLUMNS)]
    ctes += [child(TIMERS_TABLE, f"t{i}_", TIMER_COLUMNS) for i in range(timers)]
    return select(started.c.id).add_cte(*ctes)


def write_start(
    conn: Connection,
    dialect: str,
    instance: dict[str, Any],
    history: dict[str, Any],
    timers: list[dict[str, Any]],
) -> int | None:
    """Insert an instance with its start history row and timers unless its business key exists.

    ``history`` and ``timers`` carry no ``instance_id``: it is the new row's. Returns the new id, or
    None when an instance with that business key was there already (then nothing is written).
    """
    if dialect != "postgresql":
        inserted: int | None = conn.execute(START[dialect], instance).scalar()
        if inserted is not None:
            conn.execute(HISTORY, {**history, "instance_id": inserted})
            if timers:
                conn.execute(ARM, [{**t, "instance_id": inserted} for t in timers])
        return inserted
    params = {**_flat("i_", instance), **_flat("h_", history)}
    for i, timer in enumerate(timers):
        params.update(_flat(f"t{i}_", timer))
    found: int | None = conn.execute(_start_statement(len(timers)), params).scalar()
    return found


#: a batch's writes in one statement (PostgreSQL): every row travels in a JSON array parameter, so the
#: statement is the same for any batch and is prepared once
_BATCH = text(
    """
WITH m AS (
  SELECT * FROM json_to_recordset(CAST(:moves AS json))
    AS m(iid bigint, dest varchar, ver integer, ctx json, closed timestamptz)
), h AS (
  INSERT INTO history (instance_id, from_state, to_state, "trigger", outcome, reason, cause_kind,
                       cause_id, "operator", payload, "at", dedupe_key)
  SELECT instance_id, from_state, to_state, "trigger", outcome, reason, cause_kind,
         cause_id, "operator", payload, "at", dedupe_key
  FROM json_to_recordset(CAST(:history AS json))
    AS x(instance_id bigint, from_state varchar, to_state varchar, "trigger" varchar, outcome varchar,
         reason text, cause_kind varchar, cause_id varchar, "operator" varchar, payload json,
         "at" timestamptz, dedupe_key varchar)
), c AS (
  UPDATE timers SET status = 'cancelled', fired_at = :now
  WHERE status = 'armed'
    AND instance_id IN (SELECT CAST(value AS bigint) FROM json_array_elements_text(CAST(:cancel AS json)))
), t AS (
  INSERT INTO timers (instance_id, "name", "trigger", state, due_at, provisional, status, created_at)
  SELECT instance_id, "name", "trigger", state, due_at, provisional, status, created_at
  FROM json_to_recordset(CAST(:timers AS json))
    AS x(instance_id bigint, "name" varchar, "trigger" varchar, state varchar, due_at timestamptz,
         provisional boolean, status varchar, created_at timestamptz)
), o AS (
  INSERT INTO outbox (id, queue, actor, message, created_at, sends)
  SELECT id, queue, actor, message, created_at, sends
  FROM json_to_recordset(CAST(:outbox AS json))
    AS x(id varchar, queue varchar, actor varchar, message json, created_at timestamptz, sends integer)
), d AS (
  UPDATE outbox SET done_at = :now WHERE id = :oid AND done_at IS NULL
)
UPDATE instances AS i
SET state = m.dest, context = m.ctx, version = m.ver, updated_at = :now,
    closed_at = COALESCE(m.closed, i.closed_at)
FROM m WHERE i.id = m.iid
"""
).bindparams(bindparam("now", type_=UtcDateTime()), bindparam("oid", type_=String()))


def _rows(rows: list[dict[str, Any]]) -> str:
    return json_rows(rows)


def write_batch(
    conn: Connection,
    dialect: str,
    writes: Sequence[Writes],
    rejected: Sequence[dict[str, Any]],
    done: str | None,
    now: datetime,
) -> None:
    """Persist several transitions (on distinct instances) and rejected attempts' history rows, and
    mark the consumed message done: one statement on PostgreSQL, one per row elsewhere."""
    if dialect != "postgresql":
        if done is not None:
            conn.execute(DONE, {"oid": done, "now": now})
        for row in rejected:
            conn.execute(HISTORY, row)
        for each in writes:
            write_transition(conn, dialect, each)
        return
    if not writes and not rejected and done is None:
        return
    params = {
        "now": now,
        "oid": done,
        "history": _rows([w.history for w in writes] + list(rejected)),
        "moves": _rows([w.move for w in writes]),
        "cancel": json.dumps([w.move["iid"] for w in writes if w.cancel]),
        "timers": _rows([{**t, "instance_id": w.move["iid"]} for w in writes for t in w.timers]),
        "outbox": _rows([row for w in writes for row in w.outbox]),
    }
    conn.execute(_BATCH, params)


#: many starts of one flow in one statement (PostgreSQL): instances unless their business key exists,
#: with their start history rows and their initial state's timers; returns the new (id, business key)
_STARTS = text(
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
                       cause_id, "operator", payload, "at", dedupe_key)
  SELECT s.id, r.h_from_state, r.h_to_state, r.h_trigger, r.h_outcome, r.h_reason, r.h_cause_kind,
         r.h_cause_id, r.h_operator, r.h_payload, r.h_at, r.h_dedupe_key
  FROM started s JOIN r ON r.business_key = s.business_key
), t AS (
  INSERT INTO timers (instance_id, "name", "trigger", state, due_at, provisional, status, created_at)
  SELECT s.id, x."name", x."trigger", x.state, x.due_at, x.provisional, x.status, x.created_at
  FROM started s CROSS JOIN json_to_recordset(CAST(:timers AS json))
    AS x("name" varchar, "trigger" varchar, state varchar, due_at timestamptz, provisional boolean,
         status varchar, created_at timestamptz)
)
SELECT id, business_key FROM started
"""
)


def write_starts(
    conn: Connection,
    dialect: str,
    starts: Sequence[tuple[dict[str, Any], dict[str, Any]]],
    timers: list[dict[str, Any]],
) -> dict[str, int]:
    """Start instances of one flow — (instance values, start history row) pairs, distinct business
    keys — each with ``timers``, unless its business key exists. Returns the new ids by business key
    (a key that existed is absent, and nothing of it was written)."""
    if not starts:
        return {}
    if dialect != "postgresql":
        started: dict[str, int] = {}
        for values, history in starts:
            new = write_start(conn, dialect, values, history, timers)
            if new is not None:
                started[values["business_key"]] = new
        return started
    rows = [{"n": n, **values, **_flat("h_", history)} for n, (values, history) in enumerate(starts)]
    found = conn.execute(_STARTS, {"rows": _rows(rows), "timers": _rows(timers)})
    return {key: iid for iid, key in found}
