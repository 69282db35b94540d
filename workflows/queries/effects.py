"""What one accepted event did: the instances whose history it caused, and the instances those started
or moved in turn (a license's registration starts its notices in its own transaction)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from workflows.errors import InstanceNotFound
from workflows.store.db import Database
from workflows.store.models import History, InboxEvent, Instance


def event_effect(db: Database, source: str, event_id: str) -> dict[str, Any]:
    """The event's record and its effect so far: raises InstanceNotFound (404) for an unknown event."""
    with db.read() as session:
        record = session.execute(
            select(InboxEvent).where(InboxEvent.source == source, InboxEvent.event_id == event_id)
        ).scalar_one_or_none()
        if record is None:
            raise InstanceNotFound(f"no event {event_id!r} from source {source!r} was accepted")
        direct = _caused(session, "event", [f"{source}#{event_id}"])
        parents = [f"{row.flow}#{row.id}" for row in direct]
        children = [
            row for row in _caused(session, "message", parents) if row.id not in {d.id for d in direct}
        ]
    return {
        "event": {"source": source, "id": event_id, "type": record.type, "result": record.status},
        "instances": [_summary(row, "event") for row in direct]
        + [_summary(row, "started by") for row in children],
    }


def _caused(session: Any, kind: str, causes: list[str]) -> list[Instance]:
    if not causes:
        return []
    ids = select(History.instance_id).where(History.cause_kind == kind, History.cause_id.in_(causes))
    return list(session.execute(select(Instance).where(Instance.id.in_(ids)).order_by(Instance.id)).scalars())


def _summary(row: Instance, how: str) -> dict[str, Any]:
    return {"id": row.id, "flow": row.flow, "state": row.state, "business_key": row.business_key, "via": how}
