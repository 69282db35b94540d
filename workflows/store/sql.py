"""The tables and the Core statements every dialect shares (one transition's pieces, one row each)."""

from __future__ import annotations

from sqlalchemy import Boolean, bindparam, case, func, insert, or_, select

from workflows.store.models import (
    OPEN_TIMERS,
    History,
    Instance,
    Outbox,
    TimerRow,
    TimerStatus,
    UtcDateTime,
    table,
)

INSTANCES, OUTBOX_TABLE, TIMERS_TABLE = table(Instance), table(Outbox), table(TimerRow)
HISTORY_TABLE = table(History)
#: a consumer finished the message (kept as first marked: a redelivery changes nothing). By the
#: primary key alone: with ``AND done_at IS NULL`` PostgreSQL's plan, made when the statistics saw
#: few undone rows (as they normally are), read the partial index ``ix_outbox_undone`` instead —
#: every undone row, for each mark, which under a backlog of thousands grew with the backlog
DONE = (
    OUTBOX_TABLE.update()
    .where(OUTBOX_TABLE.c.id == bindparam("oid"))
    .values(done_at=func.coalesce(OUTBOX_TABLE.c.done_at, bindparam("now")))
)
#: what the lock reads of an instance
LOCK = select(
    INSTANCES.c.id, INSTANCES.c.state, INSTANCES.c.context, INSTANCES.c.version, INSTANCES.c.business_key
).order_by(INSTANCES.c.id)
SEEN = select(HISTORY_TABLE.c.instance_id, HISTORY_TABLE.c.dedupe_key)
TIMERS = select(TIMERS_TABLE.c.id, TIMERS_TABLE.c.status, TIMERS_TABLE.c.state)
HISTORY = insert(HISTORY_TABLE)
MOVE = (
    INSTANCES.update()
    .where(INSTANCES.c.id == bindparam("iid"))
    .values(
        state=bindparam("dest"),
        context=bindparam("ctx"),
        version=bindparam("ver"),
        updated_at=bindparam("now"),
        closed_at=case(
            (bindparam("reopen", type_=Boolean), None),
            else_=func.coalesce(bindparam("closed", type_=UtcDateTime), INSTANCES.c.closed_at),
        ),
    )
)
#: leaving a state cancels its open timers: armed or suspended
CANCEL = (
    TIMERS_TABLE.update()
    .where(
        TIMERS_TABLE.c.instance_id == bindparam("iid"),
        # not IN (…): SQLite runs this with executemany, which takes no expanding parameter
        or_(*(TIMERS_TABLE.c.status == status for status in OPEN_TIMERS)),
    )
    .values(status=TimerStatus.CANCELLED, fired_at=bindparam("now"))
)
ARM = insert(TIMERS_TABLE)
OUTBOX = insert(OUTBOX_TABLE)
