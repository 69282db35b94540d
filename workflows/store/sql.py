"""The prebuilt Core statements of the engine's hot path (one transition: lock, history, move)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from workflows.store.models import History, Instance, Outbox, TimerRow, UtcDateTime, table


@dataclass(frozen=True)
class Locked:
    """The locked instance row as the hot path reads it."""

    id: int
    state: str
    context: dict[str, Any]
    version: int
    seen: bool  # the command's dedupe key was already applied


INSTANCES, OUTBOX_TABLE, TIMERS_TABLE = table(Instance), table(Outbox), table(TimerRow)
HISTORY_TABLE = table(History)
#: a consumer finished the message (kept as first marked: a redelivery changes nothing)
DONE = (
    OUTBOX_TABLE.update()
    .where(OUTBOX_TABLE.c.id == bindparam("oid"), OUTBOX_TABLE.c.done_at.is_(None))
    .values(done_at=bindparam("now"))
)
_SEEN = (
    select(HISTORY_TABLE.c.id)
    .where(HISTORY_TABLE.c.instance_id == INSTANCES.c.id, HISTORY_TABLE.c.dedupe_key == bindparam("dkey"))
    .exists()
    .label("seen")
)
LOCK_COLUMNS = (INSTANCES.c.id, INSTANCES.c.state, INSTANCES.c.context, INSTANCES.c.version)
_LOCK = select(*LOCK_COLUMNS, _SEEN)
SEEN_AFTER_LOCK = select(HISTORY_TABLE.c.id).where(
    HISTORY_TABLE.c.instance_id == bindparam("iid"), HISTORY_TABLE.c.dedupe_key == bindparam("dkey")
)
LOCK_BY_ID = _LOCK.where(INSTANCES.c.flow == bindparam("flow"), INSTANCES.c.id == bindparam("iid"))
LOCK_BY_KEY = _LOCK.where(
    INSTANCES.c.flow == bindparam("flow"), INSTANCES.c.business_key == bindparam("bkey")
)
#: PostgreSQL: the row lock alone; the dedupe check follows as its own statement (see ``Engine._lock``)
LOCK_BY_ID_PG = LOCK_BY_ID.with_only_columns(*LOCK_COLUMNS).with_for_update(of=INSTANCES)
LOCK_BY_KEY_PG = LOCK_BY_KEY.with_only_columns(*LOCK_COLUMNS).with_for_update(of=INSTANCES)
HISTORY = insert(HISTORY_TABLE)
MOVE = (
    INSTANCES.update()
    .where(INSTANCES.c.id == bindparam("iid"))
    .values(
        state=bindparam("dest"),
        context=bindparam("ctx"),
        version=bindparam("ver"),
        updated_at=bindparam("now"),
        closed_at=func.coalesce(bindparam("closed", type_=UtcDateTime), INSTANCES.c.closed_at),
    )
)
CANCEL = (
    TIMERS_TABLE.update()
    .where(TIMERS_TABLE.c.instance_id == bindparam("iid"), TIMERS_TABLE.c.status == "armed")
    .values(status="cancelled", fired_at=bindparam("now"))
)


def _start(dialect: Any) -> Any:
    return (
        dialect.insert(INSTANCES)
        .on_conflict_do_nothing(index_elements=["flow", "business_key"])
        .returning(INSTANCES.c.id)
    )


#: an instance started unless its business key exists (run with one dict of values: compiled once)
START = {"postgresql": _start(postgresql), "sqlite": _start(sqlite)}
ARM = insert(TIMERS_TABLE)
OUTBOX = insert(OUTBOX_TABLE)
